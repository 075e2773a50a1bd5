#!/usr/bin/env bash
#
# tests/kernels/run.sh - the kernel matrix (`make test-kernels`): the
# kernel-dependent suite (suite.sh) on this machine's kernel and, under QEMU,
# on Debian's newest 6.1 and 6.12 kernels; one table of kernel x concern x
# hook with the measured agreement; exit status 1 if any row failed. One row
# tests the harness: a guest that panics must fail with the kernel's report.
#
#   tests/kernels/run.sh [--kernels "6.1 6.12"] [--no-host] [--no-guests]
#
# Guests: tests/kernels/fetch.sh downloads each kernel package once into
# $KG_KERNEL_CACHE (default ~/.cache/kernel-gossip/kernels) with apt-get
# download; vm.sh boots it with this machine's / shared read-only (the build
# tree and tests as they are), pure cgroup v2 and 2 CPUs, under KVM where the
# CPU has hardware virtualization and QEMU's emulation (TCG) otherwise: there
# a guest is several times slower, so the tests compare counts and ratios,
# never absolute times. A kernel that cannot be fetched or booted, a guest
# that panics or runs out of time, fails the run with the reason.
#
# Writes build/kernel-matrix/: results.tsv (all rows), table.md (the table),
# and per kernel the logs of each test and the guest's console.
#
# Environment: KG_KERNELS (series or packages, default "6.1 6.12"),
# KG_KERNEL_CACHE, KG_VM_ACCEL (kvm|tcg|auto), KG_VM_TIMEOUT (seconds per
# guest, default 480).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
kernels=${KG_KERNELS:-6.1 6.12}
host=1 guests=1
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernels) kernels=$2; shift 2 ;;
	--no-host) host=0; shift ;;
	--no-guests) guests=0; shift ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "test-kernels: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
out=$root/build/kernel-matrix
timeout_s=${KG_VM_TIMEOUT:-480}
t_start=$SECONDS

if [[ $(id -u) != 0 ]]; then
	echo "test-kernels: FAIL: run as root: the suite loads BPF programs, boots guests and starts containers" >&2
	exit 1
fi
[[ -x $root/build/kernel-gossip-agent && -f $root/build/kernel_gossip.bpf.o ]] || {
	echo "test-kernels: FAIL: build/kernel-gossip-agent missing: run make first" >&2
	exit 1
}
for tool in runc bpftrace bpftool jq stress-ng busybox nginx llvm-readelf; do
	command -v "$tool" >/dev/null || {
		echo "test-kernels: FAIL: $tool is missing: run scripts/install-deps.sh" >&2
		exit 1
	}
done
# one matrix at a time: two would share build/kernel-matrix and the 2 CPUs
mkdir -p "$root/build"
exec 9>"$root/build/.kernel-matrix.lock"
flock -n 9 || {
	echo "test-kernels: FAIL: another kernel matrix is running (lock $root/build/.kernel-matrix.lock)" >&2
	exit 1
}
rm -rf "$out"
mkdir -p "$out"
all=$out/results.tsv
: >"$all"

# fail_row KERNEL CONCERN REASON - a row for a kernel that produced none
fail_row() {
	printf '%s\t%s\t-\t-\tFAIL\t%s\n' "$1" "$2" "$3" >>"$all"
}

# ---- this machine's kernel, natively ----
if [[ $host == 1 ]]; then
	echo "==== host: $(uname -r), natively"
	t0=$SECONDS
	KG_KERNEL_LABEL="$(uname -r) (host)" bash "$here/suite.sh" "$out/host"
	[[ -s $out/host/results.tsv ]] || fail_row "$(uname -r) (host)" all "the suite wrote no results (see $out/host)"
	cat "$out/host/results.tsv" >>"$all" 2>/dev/null
	echo "==== host: $((SECONDS - t0)) s"
fi

# panic_selftest KVER KDIR - the harness, once: a guest kernel that panics
# must fail its run (exit 127) with the kernel's report, stacks included, on
# stderr, which is all a CI log keeps
panic_selftest() {
	local label="$1 (guest)" kdir=$2 err=$out/panic-selftest.stderr rc=0 lines traces
	echo "==== harness: a guest panic ($1, sysrq c)"
	bash "$here/vm.sh" --timeout 120 "$kdir" -- sh -c 'echo c >/proc/sysrq-trigger' \
		>/dev/null 2>"$err" || rc=$?
	lines=$(sed -n '/^vm: the kernel.s report:/,/^vm: last console lines:/p' "$err" | grep -c '^    \[')
	traces=$(grep -c 'Call Trace:' "$err")
	if [[ $rc == 127 ]] && grep -q '^vm: error: the guest kernel .* panicked' "$err" && ((traces > 0)); then
		printf '%s\tharness\t-\t-\tPASS\t%s\n' "$label" \
			"a kernel panic in the guest (sysrq c) fails the run with exit 127 and the kernel's report on stderr: $lines lines, $traces call traces" >>"$all"
	else
		fail_row "$label" harness \
			"a kernel panic in the guest (sysrq c) gave exit $rc and $traces call traces on stderr (want 127 and at least 1): see $err"
	fi
}

# ---- the guests ----
selftest_done=0
if [[ $guests == 1 ]]; then
	qemu_ok=1
	no_qemu="QEMU missing: qemu-system-x86_64 not found (scripts/install-deps.sh installs qemu-system-x86)"
	command -v qemu-system-x86_64 >/dev/null || {
		qemu_ok=0
		echo "test-kernels: FAIL: $no_qemu" >&2
	}
	for k in $kernels; do
		echo "==== guest: Debian $k"
		t0=$SECONDS
		label="Debian $k"
		if [[ $qemu_ok == 0 ]]; then
			fail_row "$label" all "$no_qemu"
			continue
		fi
		if ! line=$(bash "$here/fetch.sh" "$k" 2>"$out/fetch-$k.log"); then
			cat "$out/fetch-$k.log" >&2
			fail_row "$label" all "kernel not fetched: $(grep 'fetch:' "$out/fetch-$k.log" | tail -n 1)"
			continue
		fi
		grep -v '^fetch: downloading' "$out/fetch-$k.log" >&2 || true
		IFS=$'\t' read -r _ kver kdir <<<"$line"
		if [[ $selftest_done == 0 ]]; then
			selftest_done=1
			panic_selftest "$kver" "$kdir"
		fi
		label="$kver (guest)"
		run=$out/$kver
		mkdir -p "$run"
		# In the guest: Debian's kernels allow fentry; nothing else runs, so
		# the maps must be empty after the lifecycle test; births: a systemd
		# layout and nginx (the other layouts parse the same on every
		# kernel), settled 3 s after listen() because nginx's workers come up
		# slowly under emulation and bpftrace counts until they are idle; the
		# agent logs at debug level (kept only when a test fails)
		rc=0
		bash "$here/vm.sh" --run-dir "$run" --timeout "$timeout_s" --prefix "[$k] " \
			--env KG_KERNEL_LABEL="$label" --env KG_EXPECT_HOOK=fentry \
			--env KG_LIFECYCLE_STRICT=1 --env KG_BIRTH_READY_MS=3000 \
			--env KG_BIRTH_CASES="systemd-containerd nginx" --env KG_LOG_LEVEL=debug \
			"$kdir" -- bash "$here/suite.sh" /kg-vm 2> >(tee "$out/vm-$k.stderr" >&2) || rc=$?
		if [[ -s $run/results.tsv ]]; then
			cat "$run/results.tsv" >>"$all"
		fi
		# vm.sh says what went wrong: timeout (124), set-up or QEMU (125),
		# guest init (126), kernel panic or oops (127)
		why=$(grep -m1 '^vm: error: ' "$out/vm-$k.stderr" 2>/dev/null | cut -c12-300)
		case $rc in
		0 | 1)
			[[ -s $run/results.tsv ]] ||
				fail_row "$label" all "the suite wrote no results (exit $rc): see $run/console.log"
			;;
		124 | 125 | 126 | 127)
			fail_row "$label" all "${why:-vm.sh exited with status $rc} (see $run/console.log)" ;;
		*) fail_row "$label" all "the suite exited with status $rc: see $run/console.log" ;;
		esac
		echo "==== guest $kver: $((SECONDS - t0)) s (exit $rc)"
	done
fi

# ---- the table ----
{
	echo "| kernel | concern | hook | mode | result | measured agreement |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$all"
} >"$out/table.md"
echo
echo "==== kernel matrix ($((SECONDS - t_start)) s)"
cat "$out/table.md"
npass=$(grep -c '	PASS	' "$all")
nfail=$(grep -c '	FAIL	' "$all")
echo
if ((nfail > 0 || npass == 0)); then
	echo "test-kernels: FAILED: $nfail of $((npass + nfail)) rows (logs in $out)" >&2
	exit 1
fi
echo "test-kernels: all $npass rows passed"
