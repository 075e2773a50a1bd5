#!/usr/bin/env bash
#
# tests/kernels/vm.sh - boot a kernel under QEMU with this machine's root file
# system and run one command in it, as root, in the current directory.
#
#   tests/kernels/vm.sh [options] KDIR -- COMMAND [ARGS...]
#
# KDIR is a kernel extracted by fetch.sh (boot/vmlinuz-<version> and
# lib/modules/<version>/). The guest sees the host's / read-only with a tmpfs
# on top (guest-init): the build tree and the tests as they are on the host,
# nothing written back, except in the run directory, shared read-write at
# /kg-vm (KG_VM_OUT in the command's environment). The guest mounts pure
# cgroup v2 at /sys/fs/cgroup, bpffs, tracefs and debugfs; it has loopback
# networking only.
#
# Options:
#   --run-dir DIR  the run directory (default: a temporary one, removed
#                  afterwards): console.log, exitcode and whatever the
#                  command writes to /kg-vm stay there
#   --env NAME=VALUE  set in the command's environment (repeatable)
#   --timeout S    the whole run, boot included (default 600)
#   --mem SIZE     guest memory (default 2G); --cpus N (default 2)
#   --accel A      kvm, tcg or auto (default $KG_VM_ACCEL or auto: KVM when
#                  /dev/kvm is backed by VMX/SVM hardware, else QEMU's
#                  software emulation, TCG; the PVM /dev/kvm of some cloud
#                  machines cannot run stock kernels and is not used)
#   --prefix STR   prefix of the console lines streamed to stdout
#   --verbose      kernel messages on the console (loglevel 7), timings
#   --append ARGS  more kernel command-line arguments (debugging: say
#                  softlockup_all_cpu_backtrace=1)
#
# Exit status: the command's; 124 timeout; 125 set-up error on the host (QEMU
# missing, bad kernel directory); 126 the guest did not run the command (its
# init failed); 127 the guest kernel panicked or oopsed. Each says why on
# stderr, with the end of the console log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${KG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernel-gossip/kernels}
TIMEOUT=600 MEM=2G CPUS=2 ACCEL=${KG_VM_ACCEL:-auto} PREFIX='' VERBOSE=0 RUN='' KEEP=0 EXTRA_APPEND=''
ENVS=()

err() {
	echo "vm: error: $*" >&2
	exit 125
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--run-dir) RUN=$2 KEEP=1; shift 2 ;;
	--env) ENVS+=("$2"); shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--cpus) CPUS=$2; shift 2 ;;
	--accel) ACCEL=$2; shift 2 ;;
	--prefix) PREFIX=$2; shift 2 ;;
	--verbose) VERBOSE=1; shift ;;
	--append) EXTRA_APPEND+=" $2"; shift 2 ;;
	--) shift; break ;;
	-*) err "unknown option $1" ;;
	*) [[ -z ${KDIR:-} ]] || err "two kernel directories: $KDIR, $1"; KDIR=$1; shift ;;
	esac
done
[[ -n ${KDIR:-} && $# -gt 0 ]] || err "usage: vm.sh [options] KDIR -- COMMAND [ARGS...]"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || err "--timeout wants whole seconds"

# ---- the kernel ----
kdir=$(realpath -e "$KDIR" 2>/dev/null) || err "no kernel directory $KDIR"
KDIR=$kdir
VMLINUZ=$(compgen -G "$KDIR/boot/vmlinuz-*" | head -n 1) || true
[[ -n $VMLINUZ ]] || err "no boot/vmlinuz-* in $KDIR (extract kernels with tests/kernels/fetch.sh)"
KVER=${VMLINUZ##*/vmlinuz-}
[[ -f $KDIR/lib/modules/$KVER/modules.dep ]] || err "no lib/modules/$KVER/modules.dep in $KDIR (depmod)"

# ---- the host's tools ----
command -v qemu-system-x86_64 >/dev/null ||
	err "QEMU missing: qemu-system-x86_64 not found (scripts/install-deps.sh installs qemu-system-x86)"
BUSYBOX=''
for b in /bin/busybox /usr/bin/busybox; do
	[[ -x $b ]] && ! ldd "$b" >/dev/null 2>&1 && BUSYBOX=$b && break
done
[[ -n $BUSYBOX ]] || err "no static busybox (scripts/install-deps.sh installs busybox-static)"
for t in cpio modprobe xz zstd; do
	command -v "$t" >/dev/null || err "$t missing (scripts/install-deps.sh installs cpio kmod xz-utils zstd)"
done

case $ACCEL in
auto)
	# VMX/SVM-backed KVM only: a PVM /dev/kvm (kvm_pvm) runs only PVM guest kernels
	if [[ -r /dev/kvm && -w /dev/kvm ]] && [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]]; then
		ACCEL=kvm
	else
		ACCEL=tcg
	fi
	;;
kvm) [[ -r /dev/kvm && -w /dev/kvm ]] || err "--accel kvm: /dev/kvm is not usable" ;;
tcg) ;;
*) err "--accel must be kvm, tcg or auto" ;;
esac
if [[ $ACCEL == kvm ]]; then
	CPUARGS=(-accel kvm -cpu host)
else
	# shellcheck disable=SC2054 # QEMU option values, not array separators
	CPUARGS=(-accel tcg,thread=multi -cpu max)
fi

# ---- the initramfs: static busybox, guest-init, the guest kernel's 9p/overlay modules ----
mkdir -p "$CACHE/initramfs" || err "cannot create $CACHE/initramfs"
stamp=$(cat "$here/guest-init" "$BUSYBOX" | md5sum | cut -c1-12)
INITRD=$CACHE/initramfs/$KVER-$stamp.cpio.gz
if [[ ! -s $INITRD ]]; then
	stage=$(mktemp -d "$CACHE/initramfs/.stage.XXXXXX")
	# shellcheck disable=SC2064 # expand now: remove this very directory
	trap "rm -rf '$stage'" EXIT
	mkdir -p "$stage"/{bin,dev,proc,sys,modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	install -m 0755 "$here/guest-init" "$stage/init"
	mods=$(modprobe -d "$KDIR" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p overlay) ||
		err "modprobe --show-depends failed for $KVER"
	i=0
	: >"$stage/modules/order"
	while read -r ko; do
		i=$((i + 1))
		base=${ko##*/}
		out=$(printf '%02d-%s.ko' "$i" "${base%%.ko*}")
		case $ko in
		*.ko.xz) xz -dc "$ko" >"$stage/modules/$out" ;;
		*.ko.zst) zstd -qdc "$ko" >"$stage/modules/$out" ;;
		*.ko.gz) gzip -dc "$ko" >"$stage/modules/$out" ;;
		*.ko) cp "$ko" "$stage/modules/$out" ;;
		esac
		echo "$out" >>"$stage/modules/order"
	done < <(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<<"$mods")
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$stage"
	trap - EXIT
fi

# ---- the run directory ----
if [[ -z $RUN ]]; then
	RUN=$(mktemp -d /tmp/kg-vm.XXXXXX)
else
	mkdir -p "$RUN"
	RUN=$(realpath "$RUN")
	rm -f "$RUN/exitcode" "$RUN/console.log" "$RUN/cmd.sh"
fi
QPID=''
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	[[ -z $QPID ]] || kill "$QPID" 2>/dev/null || true
	[[ $KEEP == 1 ]] || rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "$KDIR" >"$RUN/kdir"
{
	echo "export KG_VM_OUT=/kg-vm"
	for e in ${ENVS[@]+"${ENVS[@]}"}; do
		printf 'export %q=%q\n' "${e%%=*}" "${e#*=}"
	done
	printf 'cd %q || exit 126\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$RUN/cmd.sh"

if [[ $VERBOSE == 1 ]]; then klog=loglevel=7; else klog="quiet loglevel=2"; fi
# panic_on_oops, softlockup_panic: an oops or a CPU stuck in the kernel is a
# failed run to end at once with the reason, not a detail to miss or a wait
# for the timeout; panic=-1 reboots at once and -no-reboot turns that into
# QEMU's exit. A panic turns the console verbose, and panic_print=0x60 then
# replays the kernel log (the soft lockup report and its registers, which
# "quiet" kept off the console) and prints every CPU's stack: what the
# failure report shows.
APPEND="console=ttyS0 rdinit=/init panic=-1 panic_on_oops=1 softlockup_panic=1"
APPEND+=" softlockup_all_cpu_backtrace=1 panic_print=0x60 mitigations=off $klog$EXTRA_APPEND"

t0=$SECONDS
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
	"${CPUARGS[@]}" -smp "$CPUS" -m "$MEM" \
	-nodefaults -no-user-config -display none -no-reboot \
	-chardev stdio,id=con,signal=off -serial chardev:con \
	-kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND" \
	-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap" \
	-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
	-fsdev "local,id=run,path=$RUN,security_model=none,multidevs=remap" \
	-device virtio-9p-pci,fsdev=run,mount_tag=kgvm \
	-device virtio-rng-pci \
	</dev/null 2>"$RUN/qemu.stderr" | tr -d '\r' | tee "$RUN/console.log" |
	sed -u -e '/^\[ *[0-9.]*\] reboot: Power down$/d' -e "s/^/$PREFIX/"
qrc=${PIPESTATUS[0]}
set -e
[[ $VERBOSE == 0 ]] || echo "vm: $KVER ($ACCEL): QEMU ran $((SECONDS - t0)) s, status $qrc" >&2

tail_console() {
	echo "vm: last console lines:" >&2
	{ grep -v '^$' "$RUN/console.log" || true; } | tail -n "${1:-15}" | sed 's/^/    /' >&2
}
if [[ $qrc == 124 || $qrc == 137 ]]; then
	echo "vm: error: timeout: the guest ($KVER) ran longer than ${TIMEOUT}s and was killed" >&2
	tail_console
	exit 124
fi
if [[ $qrc != 0 ]]; then
	echo "vm: error: QEMU failed (status $qrc) booting $KVER ($ACCEL):" >&2
	sed 's/^/    /' "$RUN/qemu.stderr" >&2
	exit 125
fi
panic_re='^\[ *[0-9]+\.[0-9]+\] (Kernel panic|BUG: |watchdog: BUG: |Oops|general protection fault)'
if grep -qE "$panic_re" "$RUN/console.log"; then
	echo "vm: error: the guest kernel $KVER panicked: $(grep -m1 -E "$panic_re" "$RUN/console.log")" >&2
	# the report with its stacks (CI keeps only what is printed): kernel
	# lines from the first report of the failure on, without the replay of
	# the earlier log
	echo "vm: the kernel's report:" >&2
	grep -E '^\[ *[0-9]+\.[0-9]+\] ' "$RUN/console.log" |
		awk -v re="$panic_re" '{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t); t += 0 }
			!on && $0 ~ re { on = 1; t0 = t } on && t >= t0' |
		head -n 400 | sed 's/^/    /' >&2
	tail_console 15
	exit 127
fi
if [[ ! -s $RUN/exitcode ]]; then
	echo "vm: error: the guest ($KVER) did not run the command to its end (init failure?)" >&2
	tail_console
	exit 126
fi
exit "$(cat "$RUN/exitcode")"
