# shellcheck shell=bash disable=SC2016
# (SC2016: the single-quoted jq and bpftrace programs expand nothing on purpose)
#
# tests/lib/containers.sh - real runc containers in kubelet-style cgroups, for
# kernel-gossip's integration tests, plus an independent syscall counter.
#
# Source it from a bash test (it is `set -euo pipefail` safe) and install the
# cleanup trap first thing:
#
#	. tests/lib/containers.sh
#	trap kg_cleanup_all EXIT
#
#	uid=$(kg_new_uid); cid=$(kg_new_cid)
#	cg=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
#	kg_pod_cgroup_create "${cg%/*}"          # what kubelet does first
#	kg_bundle_busybox "$(kg_tmpdir)/b1" sh -c 'echo hi; sleep 1'
#	kg_container_cgroup_precreate "$cg"      # only needed to count syscalls
#	kg_syscount_start "$cg" "$(kg_tmpdir)/count.txt"
#	kg_run c1 "$(kg_tmpdir)/b1" "$cg"
#	total=$(kg_syscount_stop "$(kg_tmpdir)/count.txt")
#
# Model:
#   - Containers run under a private runc state dir ($KG_TMP/runc), never the
#     system's /run/runc: tests cannot see or disturb other runc users.
#   - runc always uses its cgroupfs ("fs") driver with an absolute cgroupsPath,
#     also for systemd-style paths (there is no systemd here). runc then
#     creates that same relative path in every mounted hierarchy: each v1
#     controller, the named v1 "systemd" hierarchy and the v2 (unified) one.
#   - Every cgroup directory this library creates, or asks runc to create,
#     is recorded in $KG_TMP/cgroups; every container name in
#     $KG_TMP/containers; every counter in $KG_TMP/syscount. State lives in
#     files, not shell variables, so functions called from subshells
#     ("$(...)", pipelines) are cleaned up too.
#   - kg_cleanup_all deletes the containers, stops the counters and removes the
#     recorded cgroup directories, deepest first. It only ever rmdir()s: a
#     directory someone else still uses (children, tasks) is left alone.
#
# Functions (each documented where it is defined):
#   layout/paths  kg_cgroup_layout kg_cgpath_cgroupfs kg_cgpath_systemd
#                 kg_new_uid kg_new_cid kg_cgroup_id kg_cgroup_nprocs
#   cgroups       kg_cgroup_create kg_pod_cgroup_create
#                 kg_container_cgroup_precreate kg_cgroup_remove
#   bundles       kg_bundle_busybox kg_bundle_nginx
#   containers    kg_run kg_run_detached kg_kill kg_exec kg_pid kg_status
#                 kg_log_path kg_nginx_wait_listening kg_nginx_get
#   counting      kg_tracefs_ensure kg_syscount_start kg_syscount_stop
#                 kg_syscount_top kg_strace_count kg_run_straced
#   housekeeping  kg_tmpdir kg_cleanup_all
#
# Conventions: every function returns non-zero with a "kg: ..." message on
# stderr when it fails; results are printed on stdout. Cgroup paths are
# kubelet-style, absolute from the hierarchy root ("/kubepods/...").
#
# Environment:
#   KG_TMP       state/log directory (default: a fresh mktemp -d under /tmp).
#   KG_KEEP_TMP  if 1, kg_cleanup_all keeps $KG_TMP (logs) for post-mortems.
#   KG_RUNC, KG_BPFTRACE   binaries to use (default: runc, bpftrace).

[[ -n ${KG_CONTAINERS_SH_LOADED:-} ]] && return 0
KG_CONTAINERS_SH_LOADED=1

KG_RUNC=${KG_RUNC:-runc}
KG_BPFTRACE=${KG_BPFTRACE:-bpftrace}
KG_TMP=${KG_TMP:-$(mktemp -d /tmp/kg-harness.XXXXXX)}
export KG_TMP KG_RUNC KG_BPFTRACE

# Applets linked into the busybox rootfs (each costs a symlink, keep it lean).
KG_BUSYBOX_APPLETS=(sh ash echo cat ls sleep true false yes env id ps wget
	head tail wc grep sed awk hostname mkdir rmdir rm touch dd printf test
	uname date kill seq nc stat cp mv ln chmod sync pwd readlink find xargs
	tr cut sort uniq free mount umount usleep timeout nproc)

# ---------------------------------------------------------------------------
# Internal helpers
# ---------------------------------------------------------------------------

# _kg_err MSG... - print "kg: MSG" on stderr; always returns 1 so callers can
# write `_kg_err "..."; return 1` or `cond || { _kg_err ...; return 1; }`.
_kg_err() {
	printf 'kg: %s\n' "$*" >&2
	return 1
}

# _kg_state - make sure $KG_TMP and its sub-directories exist (again, after a
# kg_cleanup_all) and are private to root.
_kg_state() {
	mkdir -p "$KG_TMP/runc" "$KG_TMP/logs" || { _kg_err "cannot create $KG_TMP"; return 1; }
	chmod 700 "$KG_TMP"
	touch "$KG_TMP/containers" "$KG_TMP/cgroups" "$KG_TMP/syscount" "$KG_TMP/bundles"
}

# _kg_now_ms - monotonic-enough wall clock in milliseconds (bash 5 builtin,
# no fork). Used for timeouts only.
_kg_now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	printf '%s\n' $((10#$t / 1000))
}

# _kg_need CMD... - fail loudly unless every CMD is in $PATH.
_kg_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || {
			_kg_err "required command '$c' not found (scripts/install-deps.sh installs it)"
			return 1
		}
	done
}

# _kg_cg_rel PATH - normalise a cgroup path to "a/b/c" (no leading or
# trailing slash, no empty or ".." components). Prints it; fails on bad input.
_kg_cg_rel() {
	local p=$1 c out=''
	local -a parts
	IFS=/ read -r -a parts <<<"$p"
	for c in "${parts[@]}"; do
		[[ -z $c || $c == . ]] && continue
		[[ $c == .. ]] && { _kg_err "cgroup path '$p' contains '..'"; return 1; }
		out+=${out:+/}$c
	done
	[[ -n $out ]] || { _kg_err "empty cgroup path '$p'"; return 1; }
	printf '%s\n' "$out"
}

# _kg_need_layout - run kg_cgroup_layout unless this shell already did.
_kg_need_layout() {
	[[ -n ${KG_CG_MOUNTS:-} ]] || kg_cgroup_layout
}

# _kg_v2_dir PATH - the directory of a cgroup in the v2 hierarchy. PATH is
# either a kubelet-style cgroup path ("/kubepods/...") or already a directory
# under $KG_CG_V2. Prints it; fails if the machine has no cgroup v2 mount.
_kg_v2_dir() {
	local p=$1 rel
	_kg_need_layout || return 1
	[[ -n $KG_CG_V2 ]] || { _kg_err "no cgroup v2 hierarchy mounted: bpf cgroup ids need one"; return 1; }
	if [[ $p == "$KG_CG_V2" || $p == "$KG_CG_V2"/* ]]; then
		p=${p#"$KG_CG_V2"}
		[[ -z ${p//\//} ]] && { printf '%s\n' "$KG_CG_V2"; return 0; }
	fi
	rel=$(_kg_cg_rel "$p") || return 1
	printf '%s/%s\n' "$KG_CG_V2" "$rel"
}

# _kg_record FILE LINE - append LINE to a state file unless already there.
_kg_record() {
	_kg_state || return 1
	grep -qxF -- "$2" "$KG_TMP/$1" 2>/dev/null || printf '%s\n' "$2" >>"$KG_TMP/$1"
}

# _kg_v2_enable DIR - what kubelet (libcontainer's fs2 manager) does to every
# ancestor of a cgroup it creates on cgroup v2: enable in DIR's
# cgroup.subtree_control every controller DIR has (cgroup.controllers), so
# that its children get their own cpu.max, cpu.stat, memory.max... On pure v2
# nothing else enables the cpu controller (a fresh root has an empty
# subtree_control) and cpu.max does not even exist without it. Each
# controller is enabled alone, so one the kernel refuses (e.g. a threaded
# subtree) does not keep the others off; only cpu is required. The root's
# subtree_control stays as set: it is shared state, enabling is idempotent.
_kg_v2_enable() {
	local dir=$1 c have=' ' avail
	local -a have_a
	[[ -r $dir/cgroup.controllers ]] || return 0
	read -r avail <"$dir/cgroup.controllers" || true
	read -r -a have_a <"$dir/cgroup.subtree_control" || true
	have+="${have_a[*]} "
	for c in $avail; do
		[[ $have == *" $c "* ]] && continue
		echo "+$c" >"$dir/cgroup.subtree_control" 2>/dev/null && continue
		[[ $c == cpu ]] && { _kg_err "cannot enable the cpu controller in $dir/cgroup.subtree_control"; return 1; }
	done
	return 0
}

# _kg_cg_mkdir ROOT REL - create ROOT/REL component by component, recording
# each directory this call created. In a v1 cpuset hierarchy a new directory
# gets its parent's cpuset.cpus/mems (as kubelet and runc do), otherwise no
# task could ever join it. In the v2 hierarchy every ancestor delegates its
# controllers first (_kg_v2_enable), as kubelet does.
_kg_cg_mkdir() {
	local root=$1 rel=$2 dir=$1 c f
	local -a parts
	IFS=/ read -r -a parts <<<"$rel"
	for c in "${parts[@]}"; do
		if [[ $root == "${KG_CG_V2:-}" ]]; then
			_kg_v2_enable "$dir" || return 1
		fi
		dir+=/$c
		[[ -d $dir ]] && continue
		if mkdir "$dir" 2>/dev/null; then
			_kg_record cgroups "$dir" || return 1
		elif [[ ! -d $dir ]]; then
			_kg_err "mkdir $dir failed"
			return 1
		fi
		# (v2's cpuset.cpus is empty by design: "the parent's")
		[[ $root == "${KG_CG_V2:-}" ]] && continue
		for f in cpuset.cpus cpuset.mems; do
			[[ -f $dir/$f && -z $(<"$dir/$f") ]] || continue
			cat "${dir%/*}/$f" >"$dir/$f" || { _kg_err "cannot initialise $dir/$f"; return 1; }
		done
	done
}

# _kg_cg_register REL - record, in every hierarchy, the directories of REL that
# do not exist yet: runc is about to create them, kg_cleanup_all must remove
# them even if runc does not (crash, kill, a test's early exit).
_kg_cg_register() {
	local rel=$1 root dir c
	local -a parts
	_kg_need_layout || return 1
	IFS=/ read -r -a parts <<<"$rel"
	for root in $KG_CG_MOUNTS; do
		dir=$root
		for c in "${parts[@]}"; do
			dir+=/$c
			[[ -d $dir ]] || _kg_record cgroups "$dir" || return 1
		done
	done
}

# _kg_runc ARGS... - runc on this library's private state directory.
_kg_runc() {
	"$KG_RUNC" --root "$KG_TMP/runc" "$@"
}

# _kg_bundle_init DIR - create an empty bundle directory (recorded for
# cleanup if this call created it) with an empty rootfs and runc's default
# config.json. An existing bundle is rebuilt: never do that under a running
# container.
_kg_bundle_init() {
	local dir=$1
	[[ -n $dir ]] || { _kg_err "bundle directory missing"; return 1; }
	_kg_need "$KG_RUNC" jq || return 1
	_kg_state || return 1
	if [[ ! -d $dir ]]; then
		mkdir -p "$dir" || { _kg_err "cannot create bundle $dir"; return 1; }
		_kg_record bundles "$(cd "$dir" && pwd -P)" || return 1
	fi
	rm -rf "$dir/rootfs" "$dir/config.json"
	mkdir -p "$dir/rootfs"
	"$KG_RUNC" spec --bundle "$dir" || { _kg_err "runc spec failed in $dir"; return 1; }
}

# _kg_jq_edit FILE JQ-ARGS... - rewrite a JSON file in place with jq,
# atomically (tmp + rename) so runc never reads a half-written config.
_kg_jq_edit() {
	local f=$1
	shift
	jq "$@" <"$f" >"$f.tmp" || { rm -f "$f.tmp"; _kg_err "jq edit of $f failed"; return 1; }
	mv -f "$f.tmp" "$f"
}

# _kg_base_spec BUNDLE HOSTNAME ARGS... - the edits every bundle shares:
# process args, no terminal, cwd /, writable rootfs, hostname, and exactly the
# namespaces pid/ipc/uts/mount/network/cgroup (a new network namespace gets
# only loopback, which runc brings up).
_kg_base_spec() {
	local bundle=$1 host=$2 i=0 a
	local -a named=()
	shift 2
	# Arguments travel as --arg a0 .. aN: jq 1.6 would parse "-c" and the
	# like in a --args list as its own options.
	for a in "$@"; do
		named+=(--arg "a$i" "$a")
		i=$((i + 1))
	done
	_kg_jq_edit "$bundle/config.json" --arg host "$host" --argjson n "$i" "${named[@]}" '
		.process.args = [range(0; $n) as $i | $ARGS.named["a\($i)"]]
		| .process.terminal = false
		| .process.cwd = "/"
		| .root = {path: "rootfs", readonly: false}
		| .hostname = $host
		| .linux.namespaces = [{type: "pid"}, {type: "ipc"}, {type: "uts"},
			{type: "mount"}, {type: "network"}, {type: "cgroup"}]
		| del(.linux.cgroupsPath)'
}

# _kg_etc ROOTFS HOSTNAME - the minimal /etc a rootfs needs.
_kg_etc() {
	local r=$1 host=$2
	mkdir -p "$r/etc"
	printf '%s\n' "$host" >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost\n' "$host" >"$r/etc/hosts"
	: >"$r/etc/resolv.conf"
}

# ---------------------------------------------------------------------------
# Cgroup layout and kubelet-style paths
# ---------------------------------------------------------------------------

# kg_cgroup_layout - find the mounted cgroup hierarchies (from
# /proc/self/mountinfo, one mount per hierarchy) and export:
#   KG_CG_V2          v2 mount ("/sys/fs/cgroup/unified" on hybrid systems,
#                     "/sys/fs/cgroup" on pure v2), empty if none
#   KG_CG_V1_CPU      v1 hierarchy holding the cpu controller, or empty
#   KG_CG_V1_CPUACCT  v1 hierarchy holding cpuacct (== KG_CG_V1_CPU when
#                     co-mounted as "cpu,cpuacct"; separate mounts here)
#   KG_CG_MOUNTS      every hierarchy mount (v1 controllers, named v1
#                     hierarchies such as name=systemd, and v2),
#                     space-separated
# Fails if no cgroup hierarchy is mounted at all.
kg_cgroup_layout() {
	local v2='' cpu='' cpuacct='' mounts='' seen=' '
	local majmin root mnt rest fstype sopts opt
	local -a o
	while read -r _ _ majmin root mnt rest; do
		fstype=${rest#* - }
		read -r fstype _ sopts <<<"$fstype"
		[[ $fstype == cgroup || $fstype == cgroup2 ]] || continue
		# One hierarchy may be mounted several times (bind mounts): keep
		# the first full view of each superblock.
		[[ $root == / && $seen != *" $majmin "* ]] || continue
		seen+="$majmin "
		mnt=$(printf '%b' "${mnt//\\/\\\\0}") # mountinfo octal escapes
		mounts+=${mounts:+ }$mnt
		if [[ $fstype == cgroup2 ]]; then
			v2=$mnt
			continue
		fi
		IFS=, read -r -a o <<<"$sopts"
		for opt in "${o[@]}"; do
			[[ $opt == cpu ]] && cpu=$mnt
			[[ $opt == cpuacct ]] && cpuacct=$mnt
		done
	done </proc/self/mountinfo
	[[ -n $mounts ]] || { _kg_err "no cgroup hierarchy mounted"; return 1; }
	export KG_CG_V2=$v2 KG_CG_V1_CPU=$cpu KG_CG_V1_CPUACCT=$cpuacct KG_CG_MOUNTS=$mounts
}

# kg_cgpath_cgroupfs QOS UID CID - kubelet's cgroupfs-driver container path:
# /kubepods/<qos>/pod<uid>/<cid>, or /kubepods/pod<uid>/<cid> for the
# "guaranteed" QoS class (kubelet gives it no QoS level of its own).
# QOS is guaranteed, burstable or besteffort.
kg_cgpath_cgroupfs() {
	local qos=$1 uid=$2 cid=$3
	[[ -n $uid && -n $cid ]] || { _kg_err "usage: kg_cgpath_cgroupfs QOS UID CID"; return 1; }
	case $qos in
	guaranteed) printf '/kubepods/pod%s/%s\n' "$uid" "$cid" ;;
	burstable | besteffort) printf '/kubepods/%s/pod%s/%s\n' "$qos" "$uid" "$cid" ;;
	*) _kg_err "unknown QoS class '$qos' (guaranteed|burstable|besteffort)"; return 1 ;;
	esac
}

# kg_cgpath_systemd QOS UID CID [RUNTIME] - kubelet's systemd-driver path:
# /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/<prefix>-<cid>.scope
# (guaranteed: /kubepods.slice/kubepods-pod<uid_>.slice/<prefix>-<cid>.scope),
# where uid_ is the pod UID with '-' turned into '_' (systemd unit names use
# '-' as the hierarchy separator) and prefix is cri-containerd, crio or
# docker for RUNTIME containerd (the default), crio or docker.
kg_cgpath_systemd() {
	local qos=$1 uid=${2//-/_} cid=$3 rt=${4:-containerd} prefix
	[[ -n $uid && -n $cid ]] || { _kg_err "usage: kg_cgpath_systemd QOS UID CID RUNTIME"; return 1; }
	case $rt in
	containerd) prefix=cri-containerd ;;
	crio | cri-o) prefix=crio ;;
	docker) prefix=docker ;;
	*) _kg_err "unknown runtime '$rt' (containerd|crio|docker)"; return 1 ;;
	esac
	case $qos in
	guaranteed)
		printf '/kubepods.slice/kubepods-pod%s.slice/%s-%s.scope\n' "$uid" "$prefix" "$cid" ;;
	burstable | besteffort)
		printf '/kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice/%s-%s.scope\n' \
			"$qos" "$qos" "$uid" "$prefix" "$cid" ;;
	*) _kg_err "unknown QoS class '$qos' (guaranteed|burstable|besteffort)"; return 1 ;;
	esac
}

# kg_new_uid - a random RFC 4122 version-4 UUID, lowercase (a pod UID).
kg_new_uid() {
	local h v
	h=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	[[ ${#h} -eq 32 ]] || { _kg_err "cannot read /dev/urandom"; return 1; }
	printf -v v '%x' $(((16#${h:16:1} & 3) | 8)) # variant 10xx
	printf '%s-%s-4%s-%s%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" "$v" "${h:17:3}" "${h:20:12}"
}

# kg_new_cid - a random container id: 64 lowercase hex digits.
kg_new_cid() {
	local h
	h=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	[[ ${#h} -eq 64 ]] || { _kg_err "cannot read /dev/urandom"; return 1; }
	printf '%s\n' "$h"
}

# kg_cgroup_create PATH - create cgroup PATH (all missing ancestors included)
# in every mounted hierarchy, recording what it created for kg_cleanup_all.
# Existing directories are fine (shared QoS levels such as /kubepods).
kg_cgroup_create() {
	local rel root
	rel=$(_kg_cg_rel "$1") || return 1
	_kg_need_layout || return 1
	for root in $KG_CG_MOUNTS; do
		_kg_cg_mkdir "$root" "$rel" || return 1
	done
}

# kg_pod_cgroup_create PATH - what kubelet does before asking the runtime for
# a container: create the pod-level cgroup PATH (e.g. "${cgpath%/*}") in every
# hierarchy (v1 controllers and v2; just /sys/fs/cgroup on pure v2).
kg_pod_cgroup_create() {
	kg_cgroup_create "$1"
}

# kg_cgroup_remove PATH - what kubelet does when a pod goes: remove cgroup
# PATH from every hierarchy it exists in (its child cgroups must be gone
# already: remove the deepest first). Tasks still inside are killed first, as
# in kg_cleanup_all. Fails if a directory cannot be removed.
kg_cgroup_remove() {
	local rel root
	rel=$(_kg_cg_rel "$1") || return 1
	_kg_need_layout || return 1
	for root in $KG_CG_MOUNTS; do
		[[ -d $root/$rel ]] || continue
		compgen -G "$root/$rel/*/" >/dev/null && {
			_kg_err "cgroup $root/$rel still has child cgroups"
			return 1
		}
		_kg_cg_rmdir "$root/$rel" || return 1
	done
}

# kg_container_cgroup_precreate PATH - create the container's own cgroup
# PATH in the v2 hierarchy only (and its missing ancestors), before runc runs,
# so that its id exists for kg_syscount_start / the agent's filters. runc
# accepts an existing directory and creates the v1 ones itself.
kg_container_cgroup_precreate() {
	local rel
	rel=$(_kg_cg_rel "$1") || return 1
	_kg_need_layout || return 1
	[[ -n $KG_CG_V2 ]] || { _kg_err "no cgroup v2 hierarchy mounted"; return 1; }
	_kg_cg_mkdir "$KG_CG_V2" "$rel"
}

# kg_cgroup_id PATH - print the v2 cgroup id of PATH (kubelet-style path or a
# directory under $KG_CG_V2): the inode number of its directory, which is what
# bpf_get_current_cgroup_id() returns for a task inside it.
kg_cgroup_id() {
	local dir
	dir=$(_kg_v2_dir "$1") || return 1
	[[ -d $dir ]] || { _kg_err "cgroup $dir does not exist"; return 1; }
	stat -c %i "$dir"
}

# kg_cgroup_nprocs PATH - print how many processes are in cgroup PATH (v2).
kg_cgroup_nprocs() {
	local dir n=0 p
	dir=$(_kg_v2_dir "$1") || return 1
	[[ -r $dir/cgroup.procs ]] || { _kg_err "cgroup $dir does not exist"; return 1; }
	while read -r p; do n=$((n + 1)); done <"$dir/cgroup.procs"
	printf '%s\n' "$n"
}

# ---------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------

# kg_bundle_busybox DIR ARGS... - create OCI bundle DIR whose rootfs holds a
# copy of the static /bin/busybox (busybox-static), symlinks for the common
# applets (KG_BUSYBOX_APPLETS: sh, echo, cat, ls, sleep, true, yes, ...), a
# minimal /etc (hostname, hosts, passwd, group), and whose process is ARGS.
# config.json is `runc spec` edited by jq (see _kg_base_spec): default
# mounts (proc, /dev tmpfs, devpts, shm, mqueue, sysfs, cgroup), no terminal.
kg_bundle_busybox() {
	local dir=$1 bb='' r a
	shift
	[[ $# -gt 0 ]] || { _kg_err "usage: kg_bundle_busybox DIR ARGS..."; return 1; }
	# Only a static busybox (busybox-static) runs alone in a rootfs; ldd
	# fails on static executables.
	for bb in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)" ''; do
		[[ -x $bb ]] && ! ldd "$bb" >/dev/null 2>&1 && break
	done
	[[ -n $bb ]] || { _kg_err "no static busybox found (install busybox-static)"; return 1; }
	_kg_bundle_init "$dir" || return 1
	r=$dir/rootfs
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,root,run,var}
	chmod 1777 "$r/tmp"
	cp "$bb" "$r/bin/busybox"
	for a in "${KG_BUSYBOX_APPLETS[@]}"; do
		ln -s busybox "$r/bin/$a"
	done
	_kg_etc "$r" kg-busybox
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	_kg_base_spec "$dir" kg-busybox "$@" || return 1
	_kg_jq_edit "$dir/config.json" '.process.env = ["PATH=/bin", "HOME=/root"]'
}

# kg_bundle_nginx DIR - create OCI bundle DIR running the host's
# `/usr/sbin/nginx -g 'daemon off; error_log stderr;'` (Debian nginx-light,
# stock /etc/nginx config: listens on port 80, v4 and v6) in its own network
# namespace. The rootfs is a skeleton of mount points: host /usr, /lib*,
# /etc/nginx, /etc/{passwd,group,nsswitch.conf,ld.so.cache,...} and /var/www
# are bind-mounted read-only (merged-/usr symlinks such as /lib -> usr/lib
# are mirrored as symlinks); /var/lib/nginx, /var/log/nginx, /run and /tmp are
# writable tmpfs. Capabilities are Docker's default set (nginx needs
# SETUID/SETGID for its www-data workers and CHOWN for its temp dirs).
# "error_log stderr" only adds a second error log so start-up failures land
# in the container's log file (see kg_log_path).
kg_bundle_nginx() {
	local dir=$1 r p binds='' tmpfs
	[[ -n $dir ]] || { _kg_err "usage: kg_bundle_nginx DIR"; return 1; }
	[[ -x /usr/sbin/nginx && -d /etc/nginx ]] || { _kg_err "/usr/sbin/nginx missing (install nginx-light)"; return 1; }
	_kg_bundle_init "$dir" || return 1
	r=$dir/rootfs
	mkdir -p "$r"/{dev,proc,sys,tmp,run,root,etc,var/lib/nginx,var/log/nginx}
	for p in /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc/nginx /etc/passwd /etc/group \
		/etc/nsswitch.conf /etc/ld.so.cache /etc/ld.so.conf /etc/ld.so.conf.d /etc/localtime \
		/var/www; do
		if [[ -L $p && $p != /etc/* ]]; then
			ln -sfn "$(readlink "$p")" "$r$p" # merged /usr: /lib -> usr/lib
			continue
		fi
		[[ -e $p ]] || continue
		if [[ -d $p ]]; then
			mkdir -p "$r$p"
		else
			mkdir -p "$r${p%/*}"
			: >"$r$p"
		fi
		binds+=$p$'\n'
	done
	tmpfs=$'/var/lib/nginx\n/var/log/nginx\n/run\n/tmp:1777\n'
	_kg_etc "$r" kg-nginx
	_kg_base_spec "$dir" kg-nginx /usr/sbin/nginx -g 'daemon off; error_log stderr;' || return 1
	_kg_jq_edit "$dir/config.json" --arg binds "$binds" --arg tmpfs "$tmpfs" '
		def lines: split("\n") | map(select(length > 0));
		.mounts += [$binds | lines[] | {destination: ., type: "bind", source: .,
				options: ["rbind", "ro", "nosuid", "nodev"]}]
		| .mounts += [$tmpfs | lines[] | split(":") | {destination: .[0], type: "tmpfs",
				source: "tmpfs", options: ["nosuid", "nodev", "mode=\(.[1] // "755")", "size=16m"]}]
		| .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
		| ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		   "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"] as $caps
		| .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}'
}

# ---------------------------------------------------------------------------
# Running containers
# ---------------------------------------------------------------------------

# _kg_prepare NAME BUNDLE CGPATH - common part of kg_run*: check arguments,
# write CGPATH as the bundle's absolute cgroupsPath, record the container and
# the cgroup directories runc will create. Prints the log file path.
_kg_prepare() {
	local name=$1 bundle=$2 cg=$3 rel
	[[ -n $name && -f $bundle/config.json && -n $cg ]] || {
		_kg_err "usage: kg_run[_detached] NAME BUNDLE CGPATH (bundle needs config.json)"
		return 1
	}
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || { _kg_err "bad container name '$name'"; return 1; }
	_kg_need "$KG_RUNC" jq || return 1
	rel=$(_kg_cg_rel "$cg") || return 1
	_kg_state || return 1
	_kg_jq_edit "$bundle/config.json" --arg cg "/$rel" '.linux.cgroupsPath = $cg' || return 1
	_kg_cg_register "$rel" || return 1
	_kg_record containers "$name" || return 1
	printf '%s\n' "$KG_TMP/logs/$name.log"
}

# kg_run NAME BUNDLE CGPATH - run container NAME from BUNDLE in cgroup CGPATH
# in the foreground until it exits (stdin /dev/null; stdout and stderr of runc
# and of the container go to `kg_log_path NAME`). Returns the container's exit
# status; runc deletes the container (and its cgroup leaves) on exit.
kg_run() {
	local log rc=0
	log=$(_kg_prepare "$@") || return 1
	_kg_runc run --bundle "$2" "$1" </dev/null >"$log" 2>&1 || rc=$?
	return "$rc"
}

# kg_run_detached NAME BUNDLE CGPATH - start container NAME in the background
# (`runc run -d`, no terminal: the container inherits runc's stdio, i.e.
# /dev/null and the log file) and return once its process runs. Stop it with
# kg_kill. Fails, showing the log, if runc cannot start it.
kg_run_detached() {
	local log rc=0
	log=$(_kg_prepare "$@") || return 1
	_kg_runc run -d --bundle "$2" "$1" </dev/null >"$log" 2>&1 || rc=$?
	if [[ $rc -ne 0 ]]; then
		_kg_err "runc run -d $1 failed ($rc):"
		sed 's/^/    /' "$log" >&2
		return "$rc"
	fi
}

# kg_pid NAME - print the host pid of container NAME's init process.
kg_pid() {
	local pid
	pid=$(_kg_runc state "$1" 2>/dev/null | jq -r '.pid // empty') || true
	[[ -n $pid && $pid != 0 ]] || { _kg_err "container $1 has no process"; return 1; }
	printf '%s\n' "$pid"
}

# kg_status NAME - print container NAME's runc status (created, running,
# stopped, ...) or "absent".
kg_status() {
	local s
	s=$(_kg_runc state "$1" 2>/dev/null | jq -r '.status // empty') || true
	printf '%s\n' "${s:-absent}"
}

# kg_exec NAME ARGS... - run ARGS inside running container NAME (runc exec,
# no terminal, output to stdout/stderr). Note: the exec'd process joins the
# container's cgroup, so its syscalls count as the container's.
kg_exec() {
	local name=$1
	shift
	_kg_runc exec "$name" "$@" </dev/null
}

# kg_log_path NAME - print the file holding container NAME's output.
kg_log_path() {
	printf '%s\n' "$KG_TMP/logs/$1.log"
}

# kg_kill NAME [TIMEOUT_S] - stop container NAME: SIGTERM to its init, then
# after TIMEOUT_S whole seconds (default 3; 0 = at once) `runc delete --force`,
# which SIGKILLs what is left and removes its cgroup leaves. A pid-namespace
# init without a SIGTERM handler (busybox sleep) ignores SIGTERM: use 0.
# Succeeds if the container is gone.
kg_kill() {
	local name=$1 timeout=${2:-3} deadline
	[[ $(kg_status "$name") == absent ]] && return 0
	_kg_runc kill "$name" TERM 2>/dev/null || true
	deadline=$(($(_kg_now_ms) + timeout * 1000))
	while [[ $(kg_status "$name") == running && $(_kg_now_ms) -lt $deadline ]]; do
		sleep 0.05
	done
	_kg_runc delete --force "$name" >/dev/null 2>&1 || true
	[[ $(kg_status "$name") == absent ]] || { _kg_err "container $name survived kg_kill"; return 1; }
}

# kg_nginx_wait_listening NAME TIMEOUT_S - wait until container NAME (a
# kg_bundle_nginx container) has a TCP socket in LISTEN state on port 80 in
# its network namespace, read from /proc/<pid>/net/tcp{,6}. This generates
# no traffic, hence no syscall inside the container. Fails, with the log, if
# the container stops or TIMEOUT_S (whole seconds, default 10) passes.
kg_nginx_wait_listening() {
	local name=$1 timeout=${2:-10} deadline pid f local_addr st
	deadline=$(($(_kg_now_ms) + timeout * 1000))
	while :; do
		if pid=$(kg_pid "$name" 2>/dev/null) && [[ -d /proc/$pid ]]; then
			for f in /proc/"$pid"/net/tcp /proc/"$pid"/net/tcp6; do
				[[ -r $f ]] || continue
				while read -r _ local_addr _ st _; do
					[[ $local_addr == *:0050 && $st == 0A ]] && return 0
				done <"$f"
			done
		fi
		if [[ $(kg_status "$name") != running && $(kg_status "$name") != created ]]; then
			_kg_err "container $name is $(kg_status "$name"), not listening; log:"
			sed 's/^/    /' "$(kg_log_path "$name")" >&2
			return 1
		fi
		if [[ $(_kg_now_ms) -ge $deadline ]]; then
			_kg_err "container $name not listening on :80 after ${timeout}s; log:"
			sed 's/^/    /' "$(kg_log_path "$name")" >&2
			return 1
		fi
		sleep 0.02
	done
}

# kg_nginx_get NAME [URLPATH] - HTTP/1.0 GET http://127.0.0.1/URLPATH from
# inside container NAME's network namespace and print the whole response
# (status line, headers, body). The client is bash's /dev/tcp under nsenter:
# it stays in the host's cgroups, and busybox-static's wget segfaults here
# (static glibc resolver). Fails unless the status is 200.
kg_nginx_get() {
	local pid
	_kg_need nsenter || return 1
	pid=$(kg_pid "$1") || return 1
	nsenter --net="/proc/$pid/ns/net" timeout 5 bash -c '
		exec 3<>/dev/tcp/127.0.0.1/80 || exit 1
		printf "GET /%s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3
		resp=$(cat <&3) || exit 1
		printf "%s\n" "$resp"
		[[ $resp == "HTTP/1."?" 200 "* ]]' kg-http-get "${2:-}"
}

# ---------------------------------------------------------------------------
# Independent syscall counter (bpftrace)
# ---------------------------------------------------------------------------

# kg_tracefs_ensure - make sure tracefs is mounted at /sys/kernel/tracing
# (bpftrace's tracepoint: probes look the event ids up there; it is not
# mounted by default on this machine). Left mounted afterwards: it is shared
# system state other tools may be using.
kg_tracefs_ensure() {
	[[ -d /sys/kernel/tracing/events/raw_syscalls ]] && return 0
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	[[ -d /sys/kernel/tracing/events/raw_syscalls ]] || {
		_kg_err "tracefs unavailable: cannot mount it at /sys/kernel/tracing"
		return 1
	}
}

# kg_syscount_start CGPATH OUTFILE - count every syscall entered by tasks of
# v2 cgroup CGPATH (kubelet-style path or directory under $KG_CG_V2; it must
# exist already: see kg_container_cgroup_precreate), in total and per syscall
# number and per comm, with bpftrace on tracepoint:raw_syscalls:sys_enter
# filtered by `cgroup == cgroupid(...)`. Returns only once the probe is
# attached: the program prints a marker when it sees a syscall of this very
# shell, which proves the tracepoint program runs (bpftrace's BEGIN and its
# "Attaching N probes..." both come *before* the attach). bpftrace's output
# goes to OUTFILE. Fails loudly if bpftrace is missing or cannot attach.
kg_syscount_start() {
	local dir out=$2 me=$BASHPID prog pid deadline line
	[[ -n $out ]] || { _kg_err "usage: kg_syscount_start CGPATH OUTFILE"; return 1; }
	_kg_need "$KG_BPFTRACE" || return 1
	dir=$(_kg_v2_dir "$1") || return 1
	[[ -d $dir ]] || { _kg_err "cgroup $dir does not exist: create it before counting"; return 1; }
	[[ $dir =~ ^[A-Za-z0-9/._@:+-]+$ ]] || { _kg_err "unsupported characters in $dir"; return 1; }
	kg_tracefs_ensure || return 1
	_kg_state || return 1
	prog='tracepoint:raw_syscalls:sys_enter {
	if (cgroup == cgroupid("'$dir'")) {
		@total = count();
		@sys[args->id] = count();
		@comm[comm] = count();
	}
	if (pid == '$me' && @kg_armed == 0) {
		@kg_armed = 1;
		printf("kg-syscount: attached\n");
	}
}
END { printf("kg-syscount: end\n"); clear(@kg_armed); }'
	: >"$out"
	"$KG_BPFTRACE" -B none -e "$prog" >"$out" 2>&1 &
	pid=$!
	printf '%s %s\n' "$pid" "$out" >>"$KG_TMP/syscount"
	deadline=$(($(_kg_now_ms) + 30000))
	while :; do
		while IFS= read -r line; do
			[[ $line == "kg-syscount: attached" ]] && return 0
		done <"$out"
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			_kg_err "bpftrace failed to attach (cgroup $dir); its output:"
			sed 's/^/    /' "$out" >&2
			return 1
		fi
		if [[ $(_kg_now_ms) -ge $deadline ]]; then
			_kg_err "bpftrace not attached after 30 s; its output:"
			sed 's/^/    /' "$out" >&2
			kill -KILL "$pid" 2>/dev/null || true
			return 1
		fi
		sleep 0.01
	done
}

# _kg_stop_pid PID SIGNAL TIMEOUT_MS - send SIGNAL to PID and wait (polling,
# so that it also works for a process that is not this shell's child) until
# it is gone or a zombie; reap it if it is our child. Fails on timeout.
_kg_stop_pid() {
	local pid=$1 sig=$2 deadline state rest
	deadline=$(($(_kg_now_ms) + $3))
	kill -"$sig" "$pid" 2>/dev/null || true
	while [[ -r /proc/$pid/stat ]]; do
		read -r _ _ state rest <"/proc/$pid/stat" 2>/dev/null || break
		[[ $state == Z ]] && break
		[[ $(_kg_now_ms) -ge $deadline ]] && return 1
		sleep 0.02
	done
	wait "$pid" 2>/dev/null || true
}

# _kg_proc_where PID - each thread of PID: name, state, kernel wait channel
# and kernel stack (for a process that hangs: seen once with bpftrace under
# emulation, not reproduced since)
_kg_proc_where() {
	local t
	for t in /proc/"$1"/task/*; do
		[[ -d $t ]] || continue
		printf '    thread %s (%s) %s, waiting in %s\n' "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
			"$(awk '$1 == "State:" { print $2 $3 }' "$t/status" 2>/dev/null)" \
			"$(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/      /' "$t/stack" 2>/dev/null
	done
}

# kg_syscount_stop OUTFILE - stop the counter writing OUTFILE (SIGINT: bpftrace
# runs END and prints its maps) and print the total number of syscalls counted
# as a single integer (0 if the cgroup made none). Fails if the counter is
# unknown or did not exit cleanly.
kg_syscount_stop() {
	local out=$1 pid='' p o line total=0
	_kg_state || return 1
	while read -r p o; do
		[[ $o == "$out" ]] && pid=$p
	done <"$KG_TMP/syscount"
	[[ -n $pid ]] || { _kg_err "no syscall counter writes $out"; return 1; }
	# SIGINT again every second: under emulation bpftrace 0.17 was seen to
	# sleep on in epoll_wait after one (a signal that lands between its check
	# of the flag and the wait is missed until the next event)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		_kg_stop_pid "$pid" INT 1000 && break
	done
	if [[ -r /proc/$pid/stat ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat"; then
		_kg_err "bpftrace (pid $pid) ignored SIGINT for 10 s; where its threads are:"
		_kg_proc_where "$pid" >&2
		_kg_stop_pid "$pid" KILL 2000 || true
		return 1
	fi
	grep -v -F -x -- "$pid $out" "$KG_TMP/syscount" >"$KG_TMP/syscount.tmp" || true
	mv -f "$KG_TMP/syscount.tmp" "$KG_TMP/syscount"
	grep -qx 'kg-syscount: end' "$out" || {
		_kg_err "bpftrace did not finish cleanly; its output:"
		sed 's/^/    /' "$out" >&2
		return 1
	}
	while IFS= read -r line; do
		[[ $line =~ ^@total:\ ([0-9]+)$ ]] && total=${BASH_REMATCH[1]}
	done <"$out"
	printf '%s\n' "$total"
}

# kg_syscount_top OUTFILE [N] - print the N (default 10) most frequent
# syscalls of a finished counter as "count name" lines, names from the
# build toolchain's <sys/syscall.h> (numbers if no C compiler is found).
kg_syscount_top() {
	local out=$1 n=${2:-10} names
	names=$(printf '#include <sys/syscall.h>\n' | "${CC:-cc}" -E -dM - 2>/dev/null |
		awk '$1 == "#define" && $2 ~ /^__NR_/ && $3 ~ /^[0-9]+$/ { print $3, substr($2, 6) }') || true
	awk -v names="$names" '
		BEGIN { n = split(names, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); nm[f[1]] = f[2] } }
		match($0, /^@sys\[[0-9]+\]: [0-9]+$/) {
			id = $1; gsub(/[^0-9]/, "", id)
			print $2, (id in nm) ? nm[id] : "syscall_" id
		}' "$out" | sort -rn | head -n "$n"
}

# _kg_strace OUTFILE LOG CMD... - run CMD (stdin /dev/null, stdout and stderr
# to LOG) under `strace -f -c`, summary to OUTFILE; print the total number of
# syscalls strace saw and return CMD's status.
_kg_strace() {
	local out=$1 log=$2 rc=0 total
	shift 2
	_kg_need strace || return 1
	strace -f -c -qq -o "$out" "$@" </dev/null >"$log" 2>&1 || rc=$?
	# Summary's last line: "100.00 SECONDS USECS/CALL CALLS [ERRORS] total".
	total=$(awk '$NF == "total" { print $4 }' "$out" 2>/dev/null)
	[[ $total =~ ^[0-9]+$ ]] || { _kg_err "no strace summary in $out"; return 1; }
	printf '%s\n' "$total"
	return "$rc"
}

# kg_strace_count OUTFILE CMD... - second opinion: run CMD under
# `strace -f -c` (following every child; CMD's own output goes to stderr)
# and print the total number of syscalls strace saw; the per-syscall summary
# table goes to OUTFILE. This counts a process tree, not a cgroup (see
# kg_run_straced). Returns CMD's exit status.
kg_strace_count() {
	[[ -n ${1:-} && $# -gt 1 ]] || { _kg_err "usage: kg_strace_count OUTFILE CMD..."; return 1; }
	_kg_strace "$1" /dev/stderr "${@:2}"
}

# kg_run_straced OUTFILE NAME BUNDLE CGPATH - kg_run under strace -f -c:
# prints the syscalls of the whole `runc run` process tree (host-side
# runtime, runc init before and after it joins the cgroup, the workload),
# about 3x what the container's cgroup makes on this machine (~3000 vs
# ~1000 for busybox). ptrace slows the container down. Output goes to
# `kg_log_path NAME` as with kg_run; returns the container's exit status.
kg_run_straced() {
	local out=$1 log
	shift
	log=$(_kg_prepare "$@") || return 1
	_kg_strace "$out" "$log" "$KG_RUNC" --root "$KG_TMP/runc" run --bundle "$2" "$1"
}

# ---------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------

# kg_tmpdir - print this library's state directory (bundles, logs and counter
# outputs may go there; kg_cleanup_all removes it unless KG_KEEP_TMP=1).
kg_tmpdir() {
	_kg_state || return 1
	printf '%s\n' "$KG_TMP"
}

# _kg_cg_rmdir DIR - remove one recorded cgroup directory: kill whatever is
# still inside (only a crashed test leaves tasks in its own cgroup), then
# rmdir, retrying briefly (a cgroup stays busy until its last task is reaped).
# A directory that still has child cgroups belongs to someone else too: it is
# left alone without complaint. Fails if a childless one cannot be removed.
_kg_cg_rmdir() {
	local dir=$1 p i sub
	[[ -d $dir ]] || return 0
	for sub in "$dir"/*/; do
		[[ -d $sub ]] && return 0
	done
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		rmdir "$dir" 2>/dev/null && return 0
		[[ -d $dir ]] || return 0
		if [[ -r $dir/cgroup.procs ]]; then
			while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$dir/cgroup.procs"
		fi
		sleep 0.05
	done
	_kg_err "cannot remove cgroup $dir"
	return 1
}

# kg_cleanup_all - undo everything this library did (meant for `trap ... EXIT`,
# and safe to call twice): stop running syscall counters, kill and delete
# every container it started, remove the cgroup directories it created or had
# runc create (all hierarchies, deepest first), the bundles it created and the
# private runc state and temp directory. Returns non-zero, saying what
# is left, if something could not be removed.
kg_cleanup_all() {
	local rc=0 p o name dir
	[[ -d $KG_TMP ]] || return 0
	if [[ -f $KG_TMP/syscount ]]; then
		while read -r p o; do
			_kg_stop_pid "$p" INT 5000 || _kg_stop_pid "$p" KILL 2000 || true
		done <"$KG_TMP/syscount"
		: >"$KG_TMP/syscount"
	fi
	if [[ -f $KG_TMP/containers ]]; then
		while read -r name; do
			[[ -n $name ]] || continue
			_kg_runc delete --force "$name" >/dev/null 2>&1 || true
			if [[ $(kg_status "$name") != absent ]]; then
				_kg_err "container $name could not be deleted"
				rc=1
			fi
		done <"$KG_TMP/containers"
	fi
	if [[ -f $KG_TMP/cgroups ]]; then
		# Deepest first: sort by number of path components, descending.
		while read -r dir; do
			_kg_cg_rmdir "$dir" || rc=1
		done < <(awk -F/ '{ print NF "\t" $0 }' "$KG_TMP/cgroups" | sort -t "$(printf '\t')" -k1,1nr -k2r | cut -f2-)
	fi
	if [[ -f $KG_TMP/bundles ]]; then
		while read -r dir; do
			[[ -n $dir && $dir == /* && $dir != / ]] && rm -rf -- "$dir"
		done <"$KG_TMP/bundles"
	fi
	if [[ $rc -eq 0 && ${KG_KEEP_TMP:-0} != 1 ]]; then
		rm -rf -- "$KG_TMP"
	else
		rm -rf -- "$KG_TMP/runc"
		: >"$KG_TMP/containers"
		: >"$KG_TMP/cgroups"
		[[ $rc -eq 0 ]] || _kg_err "cleanup incomplete; state kept in $KG_TMP"
	fi
	return "$rc"
}

kg_cgroup_layout || true
