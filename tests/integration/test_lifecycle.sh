#!/usr/bin/env bash
#
# tests/integration/test_lifecycle.sh - containers and cgroups that come and go
# leave nothing behind in the agent's BPF maps.
#
# While the agent runs, pods come and go the ways a node sees them: a container
# that runs to its end, one stopped while it idles, one removed while its start
# is still being recorded (it never goes quiet), a container cgroup no task
# ever joins, and a container throttled by its CPU quota; then the pod cgroups
# are removed too, as kubelet does. Afterwards none of their cgroup ids may be
# left in any map the agent keeps per cgroup or per task:
#   kg_births    birth records (key: cgroup id)        settled or removed
#   kg_sched     scheduler facts (key: cgroup id)      dropped with the cgroup
#   kg_cfs       CFS-bandwidth counters (key: id in the cpu controller's
#                hierarchy)                            dropped once gone and idle
#   kg_sys_args  syscall arguments between entry and exit (value: cgroup id)
#   kg_episodes  open throttle episodes (value: cgroup id)
# With KG_LIFECYCLE_STRICT=1 (the kernel matrix's guests, where nothing else
# runs) the per-start and per-task maps must be empty outright: kg_births,
# kg_sys_args, kg_episodes, no throttled task still stamped (kg_tstamp, and
# its count kg_stamps_outstanding in .bss), and the syscall counters
# detached again (the agent keeps them attached for --birth-max-ms after a
# pod cgroup appears, for the containers that follow it: 15 s here).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"
trap 'kg_agent_kill; kg_cleanup_all' EXIT
KG_CONCERN=lifecycle

out=$(kg_tmpdir)/out
STRICT=${KG_LIFECYCLE_STRICT:-0}
ids=()		# identity-hierarchy (v2) ids of every cgroup the test created
cpu_ids=()	# ids in the cpu controller's hierarchy of the quota cgroup
pods=()		# pod cgroups, removed at the end

# remember the ids of PATH (it must exist) before it goes
remember() {
	ids+=("$(kg_cgroup_id "$1")")
}

# new_pod LAYOUT QOS RUNTIME - create a pod cgroup; sets uid and path (its
# container's cgroup path, not created). Not in a subshell: it records ids.
new_pod() {
	local cid
	uid=$(kg_new_uid)
	cid=$(kg_new_cid)
	if [[ $1 == systemd ]]; then
		path=$(kg_cgpath_systemd "$2" "$uid" "$cid" "$3")
	else
		path=$(kg_cgpath_cgroupfs "$2" "$uid" "$cid")
	fi
	kg_pod_cgroup_create "${path%/*}"
	remember "${path%/*}"
	pods+=("${path%/*}")
}

case_ran() {
	echo "lifecycle: a container runs to its end"
	new_pod systemd burstable containerd
	kg_container_cgroup_precreate "$path"
	remember "$path"
	kg_bundle_busybox "$(kg_tmpdir)/ran" sh -c 'echo hello; ls /; sleep 0.5'
	kg_run ran "$(kg_tmpdir)/ran" "$path" || kg_fail "the busybox container failed"
	kg_wait_file "$out/podbirthcertificates/pod-$uid-birth.json" 30
}

case_idle() {
	echo "lifecycle: a container stopped while it idles"
	new_pod systemd besteffort cri-o
	kg_container_cgroup_precreate "$path"
	remember "$path"
	kg_bundle_busybox "$(kg_tmpdir)/idle" sleep 60
	kg_run_detached idle "$(kg_tmpdir)/idle" "$path" || kg_fail "the idle container did not start"
	sleep 2	# quiet for 1 s: its start settles
	kg_kill idle 0 || kg_fail "the idle container could not be stopped"
}

case_busy() {
	echo "lifecycle: a container removed while its start is still being recorded"
	new_pod systemd guaranteed containerd
	kg_container_cgroup_precreate "$path"
	remember "$path"
	kg_bundle_busybox "$(kg_tmpdir)/busy" \
		sh -c 'while :; do cat /etc/hostname >/dev/null; sleep 0.1; done'
	kg_run_detached busy "$(kg_tmpdir)/busy" "$path" || kg_fail "the busy container did not start"
	sleep 2	# never quiet: an exec every 0.1 s
	kg_kill busy 0 || kg_fail "the busy container could not be stopped"
}

case_empty() {
	echo "lifecycle: a container cgroup no task ever joins"
	new_pod cgroupfs besteffort ""
	kg_container_cgroup_precreate "$path"
	remember "$path"
	sleep 0.5
	kg_cgroup_remove "$path" || kg_fail "cannot remove $path"
}

case_throttled() {
	echo "lifecycle: a throttled container"
	new_pod cgroupfs burstable ""
	kg_cgroup_create "$path"
	remember "$path"
	if [[ -n $KG_CG_V1_CPU ]]; then
		cpu_ids+=("$(stat -c %i "$KG_CG_V1_CPU$path")")
		echo 100000 >"$KG_CG_V1_CPU$path/cpu.cfs_period_us"
		echo 20000 >"$KG_CG_V1_CPU$path/cpu.cfs_quota_us"
	else
		cpu_ids+=("$(kg_cgroup_id "$path")")
		echo "20000 100000" >"$KG_CG_V2$path/cpu.max"
	fi
	(
		for m in $KG_CG_MOUNTS; do
			[[ -d $m$path ]] && echo "$BASHPID" >"$m$path/cgroup.procs"
		done
		exec stress-ng --cpu 2 --cpu-method fft -t 2 -q
	) || kg_fail "the throttled load failed"
	kg_cgroup_remove "$path" || kg_fail "cannot remove $path"
}

# KG_LIFECYCLE_CASES picks some (the kernel matrix repeats only the throttled
# one with the other throttle-episode hook: the rest does not depend on it)
cases=${KG_LIFECYCLE_CASES:-ran idle busy empty throttled}
kg_agent_start "$out" --birth-quiet-ms 1000 --birth-max-ms 15000 --sample-ms 500
for c in $cases; do
	case $c in
	ran | idle | busy | empty | throttled) "case_$c" ;;
	*) kg_fail "KG_LIFECYCLE_CASES: unknown case $c (ran idle busy empty throttled)" ;;
	esac
done

echo "lifecycle: the pods go"
for p in "${pods[@]}"; do
	for m in $KG_CG_MOUNTS; do	# runc leaves nothing behind; what it left is a failure
		[[ ! -d $m$p ]] || ! compgen -G "$m$p/*/" >/dev/null ||
			kg_fail "a container cgroup is left under $m$p"
	done
	kg_cgroup_remove "$p" || kg_fail "cannot remove $p"
done

# ids of ours still in the maps: "MAP=N ..." for the maps that still have some
ids_json=$(printf '%s\n' "${ids[@]}" | jq -cs .)
cpu_ids_json=$(printf '%s\n' "${cpu_ids[@]}" | jq -cs .)
leftovers() {
	local m n left=''
	for m in kg_births kg_sched kg_sys_args kg_episodes kg_cfs; do
		n=$(kg_agent_map_dump "$m" | jq --argjson ids "$ids_json" --argjson cpu "$cpu_ids_json" \
			--arg m "$m" '
			(if $m == "kg_cfs" then $cpu else $ids end) as $want
			| [.[] | (if ($m == "kg_sys_args" or $m == "kg_episodes") then .value.cgid
				  else .key end) | select(. as $k | $want | index($k))] | length')
		[[ $n == 0 ]] || left+="$m=$n "
	done
	echo "${left% }"
}
entries() {	# MAP -> number of entries
	kg_agent_map_dump "$1" | jq length
}
stamps() {	# stamped throttled tasks: "ENTRIES COUNTER" (kg_tstamp, kg_stamps_outstanding)
	echo "$(entries kg_tstamp)" "$(kg_agent_map_dump kernel_g.bss |
		jq '[.[0].value[".bss"][] | .kg_stamps_outstanding // empty] | first // 0')"
}

# births settle within --birth-quiet-ms of their removal; kg_cfs entries go
# once their cgroup is gone and its counters have not moved for 10 s
start=$SECONDS
deadline=$((SECONDS + 40))
while left=$(leftovers); [[ -n $left ]]; do
	((SECONDS < deadline)) ||
		kg_fail "after $((SECONDS - start)) s the agent's maps still hold ids of removed cgroups: $left"
	sleep 1
done
waited=$((SECONDS - start))
maps="kg_births, kg_sched, kg_cfs, kg_sys_args, kg_episodes"
kg_pass "no id of the ${#ids[@]} removed cgroups in $maps (after $waited s)"
summary="pods created and removed ($cases), ${#ids[@]} cgroups: none of their ids left in $maps"
summary+=" ${waited} s after removal"

n_births=$(entries kg_births)
n_args=$(entries kg_sys_args)
n_eps=$(entries kg_episodes)
n_stamps=$(stamps)
n_links=$(kg_agent_sys_links)
echo "  ==   entries left: kg_births $n_births, kg_sys_args $n_args, kg_episodes $n_eps;" \
	"stamped throttled tasks (entries, count) $n_stamps; syscall counter links $n_links"
if [[ $STRICT == 1 ]]; then
	deadline=$((SECONDS + 25))
	while [[ $n_births != 0 || $n_args != 0 || $n_eps != 0 || $n_stamps != "0 0" || $n_links != 0 ]]; do
		((SECONDS < deadline)) || break
		sleep 1
		n_births=$(entries kg_births) n_args=$(entries kg_sys_args) n_eps=$(entries kg_episodes)
		n_stamps=$(stamps) n_links=$(kg_agent_sys_links)
	done
	kg_check "kg_births is empty ($n_births)" [ "$n_births" = 0 ]
	kg_check "kg_sys_args is empty ($n_args)" [ "$n_args" = 0 ]
	kg_check "kg_episodes is empty ($n_eps)" [ "$n_eps" = 0 ]
	kg_check "no throttled task left stamped (kg_tstamp entries, count: $n_stamps)" [ "$n_stamps" = "0 0" ]
	kg_check "the syscall counters are detached ($n_links links)" [ "$n_links" = 0 ]
	summary+="; kg_births, kg_sys_args, kg_episodes empty, 0 stamped tasks, syscall counters detached"
fi
kg_result lifecycle PASS "$summary" "ids=${#ids[@]} waited_s=$waited strict=$STRICT"

kg_agent_stop
echo "lifecycle: all checks passed"
