#!/usr/bin/env bash
#
# demo-hidden-throttling.sh - "30 % of its CPU limit, throttled in 85 % of
# periods", measured.
#
# A container with a 500m CPU limit (50 ms per 100 ms period) runs bursty:
# every 5 s, 4 threads each burn 190 ms of CPU at the same instant, then
# sleep. On average that is about 30 % of the limit, which is what a metrics
# pipeline averaging over a window shows; the kernel throttles most of the
# periods in which it runs. The agent's KernelWhisper puts both views side by
# side with its recommendation. With --verify the same workload then runs
# again under the recommended limit. With --kubeconfig FILE the whispers go to
# that API server (kubectl get kw -n kernel-gossip-demo).
set -euo pipefail
# shellcheck source=lib/demo.sh
. "$(dirname "$0")/lib/demo.sh"
demo_args "$@"
verify=0
[[ " ${DEMO_REST[*]:-} " == *" --verify "* ]] && verify=1
demo_setup

out=${KG_DEMO_DIR:-/var/lib/kernel-gossip-demo}
window=${KG_DEMO_WINDOW_S:-20}
demo_agent_start "$out" --window-s "$window"

# run_bursty POD LIMIT_MILLICORES -> prints the whisper's path ("" when none)
run_bursty() {
	local pod=$1 limit=$2 uid cid path bundle quota
	uid=$(demo_new_pod "$pod" "${limit}m")
	cid=$(kg_new_cid)
	path=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
	kg_pod_cgroup_create "$(dirname "$path")"
	bundle=$(kg_tmpdir)/bursty-$uid
	kg_bundle_busybox "$bundle" /bursty --threads 4 --burst-ms 190 --interval-ms 5000 \
		--duration-s "$window" >&2
	cp "$KG_ROOT/build/bursty" "$bundle/rootfs/bursty"
	quota=$((limit * 100))	# per 100 ms period, in microseconds
	jq ".linux.resources.cpu = {\"quota\": $quota, \"period\": 100000}" \
		"$bundle/config.json" >"$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
	echo "running the bursty workload for ${window} s under a ${limit}m CPU limit" >&2
	kg_run "demo-bursty-${uid:0:8}" "$bundle" "$path" >&2 ||
		kg_fail "the workload's container failed"
	sed 's/^/  workload: /' "$(kg_log_path "demo-bursty-${uid:0:8}")" >&2
	sleep 2	# the agent samples once a second
	demo_resource kw -cpu-throttle "$pod" "$uid" "$out" 10 2>/dev/null || true
}

show() {
	local w=$1
	echo
	echo "                      metrics view               kernel view"
	printf '  average CPU use     %-26s throttled periods  %s of %s (%s %%)\n' \
		"$(demo_jq "$w" .status.metricsView.averageMillicores)m = $(demo_jq "$w" .status.metricsView.averageUtilizationPercent) % of limit" \
		"$(demo_jq "$w" .status.kernelTruth.throttledPeriods)" \
		"$(demo_jq "$w" .status.kernelTruth.periods)" \
		"$(demo_jq "$w" .status.kernelTruth.throttledPercent)"
	printf '  window              %-26s throttled time     %s ms\n' \
		"$(demo_jq "$w" .status.metricsView.windowSeconds) s" \
		"$(demo_jq "$w" '.status.kernelTruth.throttledTimeNs / 1e6 | floor')"
	printf '  CPU limit           %-26s run-queue delay    p99 <= %s ms\n' \
		"$(demo_jq "$w" .status.kernelTruth.cpuLimitMillicores)m" \
		"$(demo_jq "$w" '.status.scheduler.runQueueDelayP99NsAtMost / 1e6')"
	echo
	echo "insights:"
	demo_insights "$w"
	echo
	if [[ -n $DEMO_KUBECONFIG ]]; then
		echo "whisper: kubectl describe kw -n $DEMO_NS $(demo_jq "$w" .metadata.name)"
	else
		echo "whisper: $w"
	fi
}

whisper=$(run_bursty bursty 500)
[[ -s $whisper ]] || kg_fail "no whisper for the throttled workload"
show "$whisper"

if ((verify)); then
	rec=$(demo_jq "$whisper" '[.status.insights[0].evidence[] | select(.name == "demandP99")][0].value')
	node=$(( $(nproc) * 1000 ))
	limit=$(awk -v r="$rec" -v n="$node" 'BEGIN { l = int((r + 49) / 50) * 50; if (l > n) l = n; print l }')
	echo
	echo "verify: the same workload under the recommended ${limit}m limit"
	whisper2=$(run_bursty bursty-verify "$limit")
	if [[ -s $whisper2 ]]; then
		show "$whisper2"
	else
		echo "  no whisper: not throttled at all under ${limit}m"
	fi
fi
kg_agent_stop
