#!/usr/bin/env bash
#
# tests/integration/test_insights.sh - insights tell the truth.
#
# 1. Hidden throttling: a bursty two-thread container (each thread burns 60 ms
#    of CPU at the same instant every second) under a 500m limit. Its whisper
#    must say "hidden-throttling" with at least warning severity and recommend
#    a limit; the same workload re-run under that limit must be throttled in
#    well under the warning threshold (20 % of periods).
# 2. nginx: its certificate's insights cite numbers present in its facts.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"
trap 'kg_agent_kill; kg_cleanup_all' EXIT

out=$(kg_tmpdir)/out
report=${KG_REPORT:-/dev/null}
bursty=$KG_ROOT/build/bursty
[[ -x $bursty ]] || kg_fail "$bursty missing: run make"
kg_agent_start "$out" --window-s 30

# run_bursty LIMIT_MILLICORES -> prints "<whisper path> <cpu.stat periods> <throttled>"
run_bursty() {
	local limit=$1 uid cid path bundle cpustat
	uid=$(kg_new_uid)
	cid=$(kg_new_cid)
	path=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
	kg_pod_cgroup_create "$(dirname "$path")"
	bundle=$(kg_tmpdir)/bursty-$uid
	kg_bundle_busybox "$bundle" /bursty --threads 2 --burst-ms 60 --interval-ms 1000 \
		--duration-s 8 >&2
	cp "$bursty" "$bundle/rootfs/bursty"
	jq ".linux.resources.cpu = {\"quota\": $((limit * 100)), \"period\": 100000}" \
		"$bundle/config.json" >"$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
	# read cpu.stat from inside: the container's cgroup is gone once it exits
	cpustat=$(kg_tmpdir)/cpustat-$uid
	jq '.process.args = ["/bin/sh", "-c", "/bursty \"$@\" && { cat /sys/fs/cgroup/cpu/cpu.stat 2>/dev/null || cat /sys/fs/cgroup/cpu.stat; }", "sh"] + .process.args[1:]' \
		"$bundle/config.json" >"$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
	kg_run "ins-${uid:0:8}" "$bundle" "$path" >&2 || kg_fail "the bursty container failed"
	cp "$(kg_log_path "ins-${uid:0:8}")" "$cpustat"
	sleep 2	# the agent samples once a second
	echo "$out/kernelwhispers/pod-$uid-cpu-throttle.json" \
		"$(awk '$1 == "nr_periods" { print $2 }' "$cpustat")" \
		"$(awk '$1 == "nr_throttled" { print $2 }' "$cpustat")"
}

echo "insights: hidden throttling under a 500m limit"
read -r whisper periods throttled < <(run_bursty 500)
kg_wait_file "$whisper" 10
kg_check "rule hidden-throttling" [ "$(kg_jq "$whisper" '.status.insights[0].rule')" = hidden-throttling ]
sev=$(kg_jq "$whisper" '.status.insights[0].severity')
kg_check "severity warning or critical ($sev)" [ "$sev" = warning -o "$sev" = critical ]
kg_check "condition HiddenFromMetrics is True" \
	[ "$(kg_jq "$whisper" '.status.conditions[] | select(.type == "HiddenFromMetrics") | .status')" = True ]
share=$(kg_jq "$whisper" .status.kernelTruth.throttledPercent)
util=$(kg_jq "$whisper" .status.metricsView.averageUtilizationPercent)
rec=$(kg_jq "$whisper" '[.status.insights[0].evidence[] | select(.name == "demandP99")][0].value')
echo "  ==   throttled in $share % of periods, average use $util % of the limit; p99 demand ${rec}m"
# every number in the headline is one of the facts
headline=$(kg_jq "$whisper" '.status.insights[0].headline')
kg_check "headline cites the measured share and average ($headline)" \
	grep -q "Throttled in $(printf '%.0f' "$share")% .* only $(printf '%.0f' "$util")% of its 500m" <<<"$headline"
kg_check "a finite limit is recommended" awk -v r="$rec" 'BEGIN { exit !(r > 500 && r < 2000) }'
limit=$(awk -v r="$rec" 'BEGIN { print int((r + 49) / 50) * 50 }')
kg_check "the recommendation names ${limit}m" \
	grep -q "to ${limit}m" <<<"$(kg_jq "$whisper" '.status.insights[0].recommendation')"

echo "insights: the same workload under the recommended ${limit}m"
read -r whisper2 periods2 throttled2 < <(run_bursty "$limit")
share2=$(awk -v t="$throttled2" -v p="$periods2" 'BEGIN { printf "%.1f", p ? 100 * t / p : 0 }')
echo "  ==   under ${limit}m: cpu.stat $throttled2 of $periods2 periods throttled ($share2 %)"
printf '| recommended limit | 500m: %s %% throttled | %sm: %s %% throttled | |\n' \
	"$share" "$limit" "$share2" >>"$report"
kg_check "throttling under the recommended limit is well below 20 % ($share2 %)" \
	awk -v s="$share2" 'BEGIN { exit !(s < 10) }'

echo "insights: the nginx certificate cites its own facts"
uid=$(kg_new_uid)
cid=$(kg_new_cid)
path=$(kg_cgpath_cgroupfs besteffort "$uid" "$cid")
kg_pod_cgroup_create "$(dirname "$path")"
bundle=$(kg_tmpdir)/nginx
kg_bundle_nginx "$bundle"
kg_run_detached "ins-ng-${uid:0:8}" "$bundle" "$path"
kg_nginx_wait_listening "ins-ng-${uid:0:8}" 20 || kg_fail "nginx never listened"
cert=$out/podbirthcertificates/pod-$uid-birth.json
kg_wait_file "$cert" 20
kg_kill "ins-ng-${uid:0:8}"
total=$(kg_jq "$cert" .status.syscalls.total)
kg_check "headline: $total syscalls just to start nginx" \
	[ "$(kg_jq "$cert" '.status.insights[0].headline')" = "$total syscalls just to start nginx" ]
kg_check "evidence syscalls = status.syscalls.total" \
	[ "$(kg_jq "$cert" '.status.insights[0].evidence[] | select(.name == "syscalls") | .value')" = "$total" ]
kg_check "evidence files opened = status.files.opened" \
	[ "$(kg_jq "$cert" '.status.insights[0].evidence[] | select(.name == "filesOpened") | .value')" = "$(kg_jq "$cert" .status.files.opened)" ]
before=$(kg_jq "$cert" '.status.insights[0].evidence[] | select(.name == "syscallsBeforeEntrypoint") | .value')
kg_check "syscalls before the entrypoint ($before) < total ($total)" [ "$before" -lt "$total" ]
kg_check "settled condition" \
	[ "$(kg_jq "$cert" '.status.conditions[] | select(.type == "Settled") | .reason')" = Ready ]
ready=$(kg_jq "$cert" '[.status.insights[] | select(.rule == "files-before-ready")][0].evidence[0].value')
distinct=$(kg_jq "$cert" '.status.containers[0].files.distinctPaths')
kg_check "files before ready ($ready) <= distinct paths ($distinct)" [ "$ready" -le "$distinct" ]
kg_agent_stop
echo "insights: all checks passed"
