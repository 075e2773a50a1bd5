#!/usr/bin/env bash
#
# tests/kernels/suite.sh - the kernel-dependent suite, on the running kernel:
# natively for the host's row of the kernel matrix, or inside a guest booted
# by run.sh (vm.sh).
#
#   tests/kernels/suite.sh OUTDIR
#
# For each throttle-episode hook that runs on this kernel (the agent's own
# choice, then the other one forced with KG_EPISODE_HOOK), the tests that
# depend on the kernel run against a fresh agent:
#   load        tests/kernels/test_hooks.sh       (both hooks in one run)
#   throttling  tests/integration/test_throttle.sh  whisper vs cpu.stat
#   scheduler   (the same run)                      kg_sched vs the kernel's CPU time
#   lifecycle   tests/integration/test_lifecycle.sh  no map entries left behind
#               (with the forced hook only its throttled container: the
#               births do not depend on the hook)
#   birth       tests/integration/test_birth.sh      certificates vs bpftrace,
#               once, with the chosen hook (the episode hook plays no part
#               in a birth; KG_MATRIX_BIRTH_ALL_HOOKS=1 runs it with both)
# Where both hooks run, their throttling results must agree with each other.
#
# Writes OUTDIR/results.tsv, one row per kernel x concern x hook:
#   KERNEL  CONCERN  HOOK  MODE(auto|forced)  PASS|FAIL  AGREEMENT
# and each test's full log to OUTDIR/<test>-<mode>.log. A concern whose test
# stopped before reporting it gets a FAIL row saying so: nothing is left out
# silently. Exit status 0 when every row passed.
#
# Environment: KG_EXPECT_HOOK (see test_hooks.sh), KG_LIFECYCLE_STRICT,
# KG_KERNEL_LABEL (the kernel column; default uname -r), plus what the tests
# read (KG_BIRTH_READY_MS...).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
outdir=${1:?usage: suite.sh OUTDIR}
mkdir -p "$outdir"
results=$outdir/results.tsv
: >"$results"
kernel=${KG_KERNEL_LABEL:-$(uname -r)}
failed=0
export KG_ROOT=$root

say() { printf '%s\n' "$*"; }

# row CONCERN HOOK MODE RESULT AGREEMENT
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kernel" "$1" "$2" "$3" "$4" "$5" >>"$results"
	[[ $4 == PASS ]] || failed=1
}

# run_test NAME MODE CONCERNS SCRIPT [VAR=VALUE...] - run one test script with
# KG_RESULTS set; copy its rows (with MODE) and add a FAIL row for each of
# CONCERNS it did not report
run_test() {
	local name=$1 mode=$2 concerns=$3 script=$4 tmp log rc=0 c hook last
	shift 4
	tmp=$outdir/$name-$mode.tsv
	log=$outdir/$name-$mode.log
	: >"$tmp"
	say "---- $kernel: $name ($mode hook${KG_EPISODE_HOOK_FORCED:+: $KG_EPISODE_HOOK_FORCED})"
	local t0=$SECONDS tmpdir f
	# the test's state directory is kept, so that a failure leaves the
	# agent's own log (which kg_fail shows only the end of) next to the test's
	tmpdir=$(mktemp -d /tmp/kg-suite.XXXXXX)
	env KG_RESULTS="$tmp" KG_TMP="$tmpdir" KG_KEEP_TMP=1 "$@" bash "$script" >"$log" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		for f in "$tmpdir"/agent.*.log; do
			[[ -f $f ]] && cp "$f" "$outdir/$name-$mode.${f##*/}"
		done
	fi
	rm -rf -- "$tmpdir"
	# the measured figures and failures, not every "ok"
	grep -E '^(  ==|FAIL|kg:)' "$log" | sed 's/^/  /' | cut -c1-400
	say "  ($name: exit $rc, $((SECONDS - t0)) s)"
	local res agreement metrics m
	while IFS=$'\t' read -r c hook res agreement metrics; do
		[[ -n $c ]] || continue
		m=$mode
		[[ " $metrics " != *" forced=1 "* ]] || m=forced
		[[ $m != both ]] || m=auto
		row "$c" "$hook" "$m" "$res" "$agreement"
	done <"$tmp"
	last=$(grep -E '^FAIL' "$log" | tail -n 1 | cut -c1-300)
	[[ -n $last ]] || last=$(tail -n 3 "$log" | tr '\n' ' ' | cut -c1-300)
	for c in $concerns; do
		grep -q "^$c	" "$tmp" && continue
		row "$c" "${KG_EPISODE_HOOK_FORCED:-auto}" "$mode" FAIL \
			"no result: $(basename "$script") exited with status $rc before checking it: $last"
	done
	if [[ $rc != 0 ]] && ! grep -q '	FAIL	' "$tmp"; then
		row "${concerns##* }" "${KG_EPISODE_HOOK_FORCED:-auto}" "$mode" FAIL \
			"$(basename "$script") failed (status $rc) after its checks: $last"
	fi
	if [[ $rc != 0 ]]; then
		say "  last lines of $log:"
		tail -n 25 "$log" | grep -v 'event=libbpf' | sed 's/^/  | /' | cut -c1-300
	fi
	return 0
}

field() {	# CONCERN MODE KEY - a metric of a test row
	local tsv
	tsv=$(cat "$outdir"/*-"$2".tsv 2>/dev/null | awk -F'\t' -v c="$1" '$1 == c { print $5 }' | head -n 1)
	tr ' ' '\n' <<<"$tsv" | sed -n "s/^$3=//p"
}

cgroups=$(stat -fc %T /sys/fs/cgroup)
[[ ! -d /sys/fs/cgroup/unified ]] || cgroups+=" + v1 (hybrid)"
btf=no
[[ ! -r /sys/kernel/btf/vmlinux ]] || btf=yes
say "==== kernel $kernel: $(grep -c ^processor /proc/cpuinfo) CPUs, cgroup $cgroups, BTF $btf"

hooks_file=$outdir/hooks
: >"$hooks_file"
run_test hooks both load "$here/test_hooks.sh" KG_HOOKS_FILE="$hooks_file"
read -r -a hooks <"$hooks_file" || true
if ((${#hooks[@]} == 0)); then
	row throttling - auto FAIL "not run: the agent's hooks could not be established (see load)"
	row scheduler - auto FAIL "not run: the agent's hooks could not be established (see load)"
	row lifecycle - auto FAIL "not run: the agent's hooks could not be established (see load)"
	row birth - auto FAIL "not run: the agent's hooks could not be established (see load)"
	exit 1
fi
# hooks[0] is the agent's own choice (run without KG_EPISODE_HOOK), hooks[1]
# the other one, forced
for i in "${!hooks[@]}"; do
	if ((i == 0)); then
		mode=auto
		unset KG_EPISODE_HOOK_FORCED
		envs=()
	else
		mode=forced
		KG_EPISODE_HOOK_FORCED=${hooks[i]}
		envs=(KG_EPISODE_HOOK="${hooks[i]}")
	fi
	run_test throttle "$mode" "throttling scheduler" "$root/tests/integration/test_throttle.sh" \
		${envs[@]+"${envs[@]}"}
	# with the other hook only what it changes: throttle episodes, stamps
	lcases=()
	((i == 0)) || lcases=(KG_LIFECYCLE_CASES=throttled)
	run_test lifecycle "$mode" lifecycle "$root/tests/integration/test_lifecycle.sh" \
		${envs[@]+"${envs[@]}"} ${lcases[@]+"${lcases[@]}"}
	if ((i == 0)) || [[ ${KG_MATRIX_BIRTH_ALL_HOOKS:-0} == 1 ]]; then
		run_test birth "$mode" birth "$root/tests/integration/test_birth.sh" \
			${envs[@]+"${envs[@]}"}
	fi
done
unset KG_EPISODE_HOOK_FORCED

# the two paths must tell the same story where both ran
if ((${#hooks[@]} == 2)); then
	a=$(field throttling auto episode_pct)
	b=$(field throttling forced episode_pct)
	if [[ -n $a && -n $b ]]; then
		if awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 5) }'; then
			res=PASS
		else
			res=FAIL
		fi
		why="both equal cpu.stat (periods, throttled periods, time); episodes sum to"
		why+=" $a % (auto) and $b % (forced) of the throttled time: within 5 points"
		row throttling "${hooks[0]} vs ${hooks[1]}" both "$res" "$why"
	else
		why="cannot compare the two paths: a throttling run did not report"
		row throttling "${hooks[0]} vs ${hooks[1]}" both FAIL "$why (auto: '$a', forced: '$b')"
	fi
fi

npass=$(grep -c '	PASS	' "$results")
say "==== kernel $kernel: $npass passed, $(grep -c '	FAIL	' "$results") failed"
exit "$failed"
