#!/usr/bin/env bash
#
# tests/integration/harness_selftest.sh - prove tests/lib/containers.sh works
# on this machine before any agent test relies on it.
#
# Needs root, runc, bpftrace (tracepoint:raw_syscalls via tracefs), jq,
# busybox-static and nginx-light. It never skips: a missing tool, a container
# that does not start or a probe that does not attach is a failure (exit 1).
#
# What it does, printing what it measures:
#   1. detects the cgroup layout;
#   2. checks the kubelet path/id generators and a few error paths;
#   3. runs busybox `sh -c 'echo hello; cat /etc/hostname; ls /; sleep 1'`
#      under a cgroupfs-driver path, then under a systemd-driver path, each
#      with the independent bpftrace counter on the container's v2 cgroup;
#   4. as a second opinion, counts a busybox birth's whole process tree
#      with strace -f -c, and checks a detached container (systemd path, crio prefix) joins the
#      same relative path in every hierarchy;
#   5. starts nginx detached under a kubelet path, waits until it listens,
#      counts the syscalls of its start, fetches a page, stops it;
#   6. runs kg_cleanup_all and checks no cgroup directory, runc state or
#      temp directory is left behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/containers.sh
. "$here/../lib/containers.sh"
trap kg_cleanup_all EXIT

# Plausible bounds for one busybox birth (research notes: 1285-1323 on this
# machine kind; runc's init is ~90 % of it). Wide on purpose: they catch a
# counter that sees nothing or everything, not a few percent of drift.
BUSYBOX_MIN=500
BUSYBOX_MAX=4000
NGINX_MIN=500
NGINX_MAX=20000

t_start=$EPOCHREALTIME
uids=()
count_cgroupfs=0 count_systemd=0 count_nginx=0 count_strace=0

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

step() {
	printf '\n== %s\n' "$*"
}

# ms_between T0 T1 - milliseconds between two $EPOCHREALTIME readings.
ms_between() {
	local a=${1//[!0-9]/} b=${2//[!0-9]/}
	printf '%d' $(((10#$b - 10#$a) / 1000))
}

# elapsed - seconds since the selftest started, 0.01 s resolution.
elapsed() {
	local cs=$(($(ms_between "$t_start" "$EPOCHREALTIME") / 10))
	printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

# show_counts OUTFILE - per-comm and top syscalls of a finished counter.
show_counts() {
	printf '   by comm:'
	sed -n 's/^@comm\[\(.*\)\]: \([0-9]*\)$/ \1=\2/p' "$1" | tr -d '\n'
	printf '\n   top syscalls:'
	kg_syscount_top "$1" 6 | awk '{ printf " %s=%s", $2, $1 }'
	printf '\n'
}

# in_range NAME VALUE MIN MAX
in_range() {
	[[ $2 =~ ^[0-9]+$ ]] || fail "$1: '$2' is not a count"
	((($2 >= $3) && ($2 <= $4))) || fail "$1: $2 syscalls, expected $3..$4"
}

# check_membership NAME CGPATH - container NAME's init process must be in
# CGPATH in every mounted hierarchy (listed in its cgroup.procs), and the
# kernel must report that v2 path in /proc/<pid>/cgroup.
check_membership() {
	local name=$1 rel=${2#/} pid root n=0
	pid=$(kg_pid "$name") || fail "$name has no pid"
	for root in $KG_CG_MOUNTS; do
		[[ -d $root/$rel ]] || fail "$root/$rel missing while $name runs"
		grep -qx "$pid" "$root/$rel/cgroup.procs" || fail "$name (pid $pid) not in $root/$rel"
		n=$((n + 1))
	done
	# The kernel's own view of the v2 membership (what BPF sees).
	grep -qxF "0::/$rel" "/proc/$pid/cgroup" || fail "$name: /proc/$pid/cgroup lacks 0::/$rel"
	printf '   %s (pid %s) is in %s in every hierarchy (%d)\n' "$name" "$pid" "/$rel" "$n"
}

# run_busybox_counted LABEL CGPATH - the busybox birth with the counter on.
run_busybox_counted() {
	local label=$1 cg=$2 out total id
	out=$(kg_tmpdir)/count-$label.txt
	kg_pod_cgroup_create "${cg%/*}"
	kg_container_cgroup_precreate "$cg"
	id=$(kg_cgroup_id "$cg")
	[[ $id == "$(stat -c %i "$KG_CG_V2$cg")" ]] || fail "kg_cgroup_id mismatch for $cg"
	kg_syscount_start "$cg" "$out" || fail "$label: the independent counter did not attach"
	if ! kg_run "bb-$label" "$BB" "$cg"; then
		sed 's/^/   | /' "$(kg_log_path "bb-$label")" >&2
		fail "$label: busybox container failed"
	fi
	total=$(kg_syscount_stop "$out") || fail "$label: counter did not stop cleanly"
	grep -qx hello "$(kg_log_path "bb-$label")" || fail "$label: no 'hello' in the container's output"
	grep -qx kg-busybox "$(kg_log_path "bb-$label")" || fail "$label: /etc/hostname not read"
	printf '   path %s (v2 id %s)\n' "$cg" "$id"
	printf '   SYSCALLS %-9s %s\n' "$label:" "$total"
	show_counts "$out"
	in_range "busybox $label" "$total" $BUSYBOX_MIN $BUSYBOX_MAX
	for root in $KG_CG_MOUNTS; do
		[[ ! -d $root$cg ]] || fail "runc left $root$cg behind"
	done
	printf -v "count_$label" '%s' "$total"
}

# ---------------------------------------------------------------------------
step "prerequisites and cgroup layout"
[[ $(id -u) -eq 0 ]] || fail "must run as root (runc, cgroups, BPF)"
for c in "$KG_RUNC" "$KG_BPFTRACE" jq nsenter stat od; do
	command -v "$c" >/dev/null || fail "'$c' not found: run scripts/install-deps.sh"
done
[[ -x /usr/sbin/nginx ]] || fail "/usr/sbin/nginx not found (nginx-light)"
kg_cgroup_layout || fail "no cgroup hierarchy mounted"
printf '   KG_CG_V2=%s\n   KG_CG_V1_CPU=%s\n   KG_CG_V1_CPUACCT=%s\n   hierarchies: %s\n' \
	"$KG_CG_V2" "${KG_CG_V1_CPU:-(none)}" "${KG_CG_V1_CPUACCT:-(none)}" "$KG_CG_MOUNTS"
[[ -n $KG_CG_V2 ]] || fail "no cgroup v2 hierarchy: bpf_get_current_cgroup_id() would be useless"
printf '   %s, %s\n' "$("$KG_RUNC" --version | head -1)" "$("$KG_BPFTRACE" --version)"

# ---------------------------------------------------------------------------
step "path and id generators, error paths"
uid=$(kg_new_uid)
cid=$(kg_new_cid)
[[ $uid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "bad uid $uid"
[[ $cid =~ ^[0-9a-f]{64}$ ]] || fail "bad cid $cid"
u_=${uid//-/_}
[[ $(kg_cgpath_cgroupfs burstable "$uid" "$cid") == "/kubepods/burstable/pod$uid/$cid" ]] || fail "cgroupfs burstable"
[[ $(kg_cgpath_cgroupfs guaranteed "$uid" "$cid") == "/kubepods/pod$uid/$cid" ]] || fail "cgroupfs guaranteed"
[[ $(kg_cgpath_systemd besteffort "$uid" "$cid" crio) == \
	"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$u_.slice/crio-$cid.scope" ]] ||
	fail "systemd besteffort crio"
[[ $(kg_cgpath_systemd guaranteed "$uid" "$cid" docker) == \
	"/kubepods.slice/kubepods-pod$u_.slice/docker-$cid.scope" ]] || fail "systemd guaranteed docker"
! kg_cgpath_cgroupfs platinum "$uid" "$cid" 2>/dev/null || fail "unknown QoS accepted"
! kg_cgpath_systemd burstable "$uid" "$cid" rkt 2>/dev/null || fail "unknown runtime accepted"
! kg_syscount_start "/kubepods/no-such-pod/x" /dev/null 2>/dev/null || fail "counter started on a missing cgroup"
! KG_BPFTRACE=/nonexistent/bpftrace kg_syscount_start / /dev/null 2>/dev/null || fail "missing bpftrace not reported"
printf '   uid %s\n   cid %s\n   ok\n' "$uid" "$cid"

# ---------------------------------------------------------------------------
BB=$(kg_tmpdir)/bundle-busybox
kg_bundle_busybox "$BB" sh -c 'echo hello; cat /etc/hostname; ls /; sleep 1'

step "busybox under a cgroupfs-driver path (burstable)"
uid=$(kg_new_uid)
uids+=("$uid")
run_busybox_counted cgroupfs "$(kg_cgpath_cgroupfs burstable "$uid" "$(kg_new_cid)")"

step "busybox under a systemd-driver path (burstable, containerd)"
uid=$(kg_new_uid)
uids+=("$uid")
run_busybox_counted systemd "$(kg_cgpath_systemd burstable "$uid" "$(kg_new_cid)" containerd)"

step "second opinion: strace -f -c over the whole runc run tree (cgroupfs, guaranteed)"
uid=$(kg_new_uid)
uids+=("$uid")
cg=$(kg_cgpath_cgroupfs guaranteed "$uid" "$(kg_new_cid)")
kg_pod_cgroup_create "${cg%/*}"
count_strace=$(kg_run_straced "$(kg_tmpdir)/strace-busybox.txt" bb-strace "$BB" "$cg") ||
	fail "busybox under strace failed: $(cat "$(kg_log_path bb-strace)")"
grep -qx hello "$(kg_log_path bb-strace)" || fail "strace run: no 'hello' in the container's output"
printf '   SYSCALLS %-9s %s (process tree: runc host side + container)\n' "strace:" "$count_strace"
((count_strace > count_cgroupfs)) || fail "the process tree ($count_strace) should exceed the cgroup ($count_cgroupfs)"

# ---------------------------------------------------------------------------
step "detached busybox: same path in every hierarchy (guaranteed, crio)"
uid=$(kg_new_uid)
uids+=("$uid")
cg=$(kg_cgpath_systemd guaranteed "$uid" "$(kg_new_cid)" crio)
SLEEPER=$(kg_tmpdir)/bundle-sleeper
kg_bundle_busybox "$SLEEPER" sleep 30
kg_pod_cgroup_create "${cg%/*}"
kg_run_detached sleeper "$SLEEPER" "$cg" || fail "detached busybox did not start"
[[ $(kg_status sleeper) == running ]] || fail "sleeper is $(kg_status sleeper)"
check_membership sleeper "$cg"
kg_kill sleeper 0 || fail "kg_kill sleeper"
[[ $(kg_status sleeper) == absent ]] || fail "sleeper still exists"
[[ -d $KG_CG_V2${cg%/*} && ! -d $KG_CG_V2$cg ]] || fail "after kg_kill: pod cgroup should stay, container's go"

# ---------------------------------------------------------------------------
step "nginx detached under a cgroupfs-driver path (besteffort)"
uid=$(kg_new_uid)
uids+=("$uid")
cg=$(kg_cgpath_cgroupfs besteffort "$uid" "$(kg_new_cid)")
NG=$(kg_tmpdir)/bundle-nginx
kg_bundle_nginx "$NG"
kg_pod_cgroup_create "${cg%/*}"
kg_container_cgroup_precreate "$cg"
out=$(kg_tmpdir)/count-nginx.txt
kg_syscount_start "$cg" "$out" || fail "nginx: the independent counter did not attach"
t0=$EPOCHREALTIME
kg_run_detached nginx "$NG" "$cg" || fail "nginx container did not start"
kg_nginx_wait_listening nginx 10 || fail "nginx never listened on :80"
t1=$EPOCHREALTIME
# Its start is over once every worker (worker_processes auto) is up and idle.
want=$((1 + $(nproc)))
for _ in $(seq 100); do
	[[ $(kg_cgroup_nprocs "$cg") -ge $want ]] && break
	sleep 0.02
done
[[ $(kg_cgroup_nprocs "$cg") -ge $want ]] || fail "nginx: $(kg_cgroup_nprocs "$cg") processes, expected $want"
sleep 0.3
count_nginx=$(kg_syscount_stop "$out") || fail "nginx: counter did not stop cleanly"
printf '   path %s (v2 id %s)\n' "$cg" "$(kg_cgroup_id "$cg")"
printf '   listening %s ms after runc run -d; %s processes\n' \
	"$(ms_between "$t0" "$t1")" "$(kg_cgroup_nprocs "$cg")"
printf '   SYSCALLS %-9s %s\n' "nginx:" "$count_nginx"
show_counts "$out"
in_range nginx "$count_nginx" $NGINX_MIN $NGINX_MAX
check_membership nginx "$cg"
page=$(kg_nginx_get nginx) || fail "nginx did not answer GET /"
grep -qi '<title>Welcome to nginx' <<<"$page" || fail "nginx answered, but not its welcome page"
printf '   GET / -> %s\n' "$(head -1 <<<"$page" | tr -d '\r')"
kg_kill nginx || fail "kg_kill nginx"
[[ $(kg_status nginx) == absent ]] || fail "nginx still exists"

# ---------------------------------------------------------------------------
step "kg_cleanup_all leaves nothing behind"
tmp=$KG_TMP
kg_cleanup_all || fail "kg_cleanup_all reported leftovers"
for uid in "${uids[@]}"; do
	for root in $KG_CG_MOUNTS; do
		left=$(find "$root" -maxdepth 4 -type d \( -name "*$uid*" -o -name "*${uid//-/_}*" \) 2>/dev/null)
		[[ -z $left ]] || fail "cgroup directories left: $left"
	done
done
[[ ! -e $tmp ]] || fail "$tmp (runc state, logs) left behind"
printf '   no cgroup directory of the %d pods, no runc state (%s gone)\n' "${#uids[@]}" "$tmp"

printf '\nPASS harness selftest in %ss: syscalls busybox cgroupfs=%s systemd=%s (strace tree %s), nginx start=%s\n' \
	"$(elapsed)" "$count_cgroupfs" "$count_systemd" "$count_strace" "$count_nginx"
