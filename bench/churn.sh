#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/churn.sh N PARALLEL ROOT [IDS] - container churn for `make bench`: N short
# busybox containers (`true`), PARALLEL at a time, each the way kubelet and runc
# make one: a new pod cgroup ROOT/kubepods/besteffort/pod<uid> in every
# hierarchy, `runc run` of a container whose cgroupsPath is <pod>/<64-hex id>
# (runc creates and removes that), then the pod cgroup removed.
#
# The bundle, the cgroup layout and the cleanup come from tests/lib/containers.sh.
# The loop itself calls runc directly: the harness's per-container bookkeeping
# (jq edits, state files) costs ~150 ms, three times the container itself.
# The container's v2 cgroup is made just before `runc run` (as the integration
# tests do), so that its id - and its pod's - can be written to IDS, one a line:
# what the agent's maps must not hold afterwards.
# Prints "churn: N containers in S s, F failed".
set -euo pipefail

n=${1:?usage: churn.sh N PARALLEL ROOT [IDS]}
par=${2:?usage: churn.sh N PARALLEL ROOT [IDS]}
root=${3:?usage: churn.sh N PARALLEL ROOT [IDS]}
ids_out=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/containers.sh
. "$here/../tests/lib/containers.sh"

tmp=$(kg_tmpdir)
qos=$root/kubepods/besteffort

cleanup() {
	local m d
	# pod cgroups a killed worker left behind (runc removes its own)
	for m in $KG_CG_MOUNTS; do
		for d in "$m$qos"/pod*/*/ "$m$qos"/pod*/; do
			[[ -d $d ]] && rmdir "$d" 2>/dev/null || true
		done
	done
	kg_cleanup_all
}
trap cleanup EXIT

kg_cgroup_layout
kg_cgroup_create "$qos" # kubelet's root and QoS level, once

# one bundle per worker: runc reads config.json at `run`, so a worker rewrites
# its own before each container
for w in $(seq 1 "$par"); do
	kg_bundle_busybox "$tmp/w$w" true
	jq '.linux.cgroupsPath = "@CGPATH@"' "$tmp/w$w/config.json" >"$tmp/w$w/config.tmpl"
done

worker() {
	local w=$1 count=$2 i uid cid pod m failed=0
	for ((i = 0; i < count; i++)); do
		uid=$(cat /proc/sys/kernel/random/uuid)
		cid=$(cat /proc/sys/kernel/random/uuid /proc/sys/kernel/random/uuid | tr -d '\n-')
		pod=$qos/pod$uid
		for m in $KG_CG_MOUNTS; do
			mkdir "$m$pod"
		done
		mkdir "$KG_CG_V2$pod/$cid"
		stat -c %i "$KG_CG_V2$pod" "$KG_CG_V2$pod/$cid" >>"$tmp/w$w.ids"
		sed "s#@CGPATH@#$pod/$cid#" "$tmp/w$w/config.tmpl" >"$tmp/w$w/config.json"
		if ! "$KG_RUNC" --root "$KG_TMP/runc" run --bundle "$tmp/w$w" "c$w-$i" \
			</dev/null >"$tmp/w$w.log" 2>&1; then
			failed=$((failed + 1))
			"$KG_RUNC" --root "$KG_TMP/runc" delete --force "c$w-$i" >/dev/null 2>&1 || true
			sed 's/^/    /' "$tmp/w$w.log" >&2
		fi
		for m in $KG_CG_MOUNTS; do
			rmdir "$m$pod/$cid" 2>/dev/null || true
			# busy for a moment until the container's last task is reaped
			for _ in {1..200}; do
				rmdir "$m$pod" 2>/dev/null || [[ ! -d $m$pod ]] && break
				sleep 0.01
			done
		done
	done
	echo "$failed" >"$tmp/w$w.failed"
}

t0=$EPOCHREALTIME
pids=()
for w in $(seq 1 "$par"); do
	# the first workers take the remainder
	worker "$w" $((n / par + (w <= n % par ? 1 : 0))) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p"
done
t1=$EPOCHREALTIME
failed=0
for w in $(seq 1 "$par"); do
	failed=$((failed + $(cat "$tmp/w$w.failed")))
done
[[ -z $ids_out ]] || cat "$tmp"/w*.ids >"$ids_out"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
echo "churn: $n containers in $secs s, $failed failed"
