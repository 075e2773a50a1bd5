#!/usr/bin/env bash
#
# tests/integration/test_operability.sh - how an operator looks into a running
# agent, and that every way in is safe:
#
#   - configuration: the new flags and variables, each bad value exit 2 with
#     a message naming it; runtime conflicts (port taken, socket served by
#     another agent, a directory others can write, a file in the way) exit 1
#   - debug socket: 0700 directory, 0600 socket; the protocol (valid,
#     malformed, oversized, pipelined, half-closed); too many clients; a
#     watcher that never reads while events pour in (oldest dropped, counted,
#     announced; the agent keeps serving others); permission: a non-root
#     client is refused by the file mode, and by the peer-credential check
#     when it can get past the mode (CAP_DAC_OVERRIDE); repeated refusals are
#     rate-limited in the log
#   - kgctl: status names the hook of each concern and why; births, explain,
#     whispers and top after a busybox container starts and a pod is
#     throttled; watch streams the start; clear messages without an agent or
#     without root; --dir still reads the files
#   - HTTP: /metrics passes `promtool check metrics` and holds the expected
#     series (per-pod throttling and birth syscalls equal to the resources,
#     BPF run time with kernel.bpf_stats_enabled=1); /healthz, /readyz, 404, 405
#   - bpftool: named programs, and programs and maps pinned with --pin
#   - lifecycle: SIGTERM leaves no socket, no pins, no port, no program; after
#     SIGKILL the next start removes the stale socket and pins
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"

KGCTL=$KG_ROOT/build/kgctl
CLIENT="python3 $KG_ROOT/tests/lib/debug_client.py"
SOCK=/run/kernel-gossip/debug.sock	# the default, explicitly (agent.sh would pick a private one)
PIN_DIR=/sys/fs/bpf/kernel-gossip
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
flood_dir=

cleanup() {
	kg_agent_kill
	if [[ -n $flood_dir && -d $flood_dir ]]; then
		find "$flood_dir" -mindepth 1 -maxdepth 1 -type d -exec rmdir {} + 2>/dev/null || true
	fi
	sysctl -q -w kernel.bpf_stats_enabled="$stats_was" 2>/dev/null || true
	# a killed agent leaves its socket file and pins (which keep programs loaded)
	if ! "$KGCTL" --socket "$SOCK" status >/dev/null 2>&1; then
		rm -f "$SOCK"
		rm -rf "$PIN_DIR"
	fi
	kg_cleanup_all
}
trap cleanup EXIT

for tool in python3 promtool curl ss bpftool setpriv jq; do
	command -v "$tool" >/dev/null || kg_fail "$tool is missing: run scripts/install-deps.sh"
done
[[ -x $KGCTL ]] || kg_fail "$KGCTL missing: run make first"

tmp=$(kg_tmpdir)
out=$tmp/out

free_port() {
	local p
	for p in $(shuf -i 20000-29999 -n 50); do
		[[ -z $(ss -Hltn "( sport = :$p )") ]] && { echo "$p"; return; }
	done
	kg_fail "no free TCP port"
}

# wait_for DESC TIMEOUT_S CMD... : until CMD succeeds
wait_for() {
	local desc=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || kg_fail "timed out waiting for $desc"
		sleep 0.2
	done
}

metric() {	# metric SERIES: its value in the last scrape, or empty
	awk -v s="$1" '$1 == s { print $2 }' "$tmp/metrics"
}

scrape() {
	curl -sS -D "$tmp/headers" "http://127.0.0.1:$port/metrics" -o "$tmp/metrics" ||
		kg_fail "cannot scrape /metrics"
}

echo "operability: configuration (bad values exit 2 and say which)"
long=/$(printf 'x%.0s' {1..120})
kg_expect_exit 0 "KG_DEBUG_SOCKET]" "$KG_AGENT" --help
grep -qF -- "--metrics-addr IP:PORT" "$tmp/expect.stdout" && grep -qF "KG_METRICS_ADDR]" "$tmp/expect.stdout" &&
	grep -qF "KG_PIN]" "$tmp/expect.stdout" && grep -qF "(default /run/kernel-gossip/debug.sock" "$tmp/expect.stdout" &&
	grep -qF "(default 127.0.0.1:9090" "$tmp/expect.stdout" || kg_fail "--help does not document the new settings"
kg_pass "--help documents --debug-socket, --metrics-addr and --pin with their defaults"
kg_expect_exit 2 "invalid flag --debug-socket=debug.sock: expected an absolute path or off" \
	"$KG_AGENT" --debug-socket debug.sock
kg_expect_exit 2 "invalid flag --debug-socket=/run/kernel-gossip/: names a directory, not a socket" \
	"$KG_AGENT" --debug-socket /run/kernel-gossip/
kg_expect_exit 2 "invalid environment variable KG_DEBUG_SOCKET=$long: longer than 107 bytes" \
	env KG_DEBUG_SOCKET="$long" "$KG_AGENT"
kg_expect_exit 2 "flag --debug-socket needs a value (PATH)" "$KG_AGENT" --debug-socket
for bad in localhost:9090 127.0.0.1:0 127.0.0.1:65536 ::1:9090 9090 :9090 127.0.0.1 "1.2.3.4:90x"; do
	kg_expect_exit 2 "invalid flag --metrics-addr=$bad: expected IPv4:PORT, [IPv6]:PORT (port 1-65535) or off" \
		"$KG_AGENT" --metrics-addr "$bad"
done
kg_expect_exit 2 "invalid environment variable KG_METRICS_ADDR=abc: expected IPv4:PORT" \
	env KG_METRICS_ADDR=abc "$KG_AGENT"
kg_expect_exit 2 "invalid flag --pin=yes: expected true or false" "$KG_AGENT" --pin=yes
kg_expect_exit 2 "invalid environment variable KG_PIN=2: expected true or false" env KG_PIN=2 "$KG_AGENT"

echo "operability: the agent with its debug socket, /metrics and pins"
port=$(free_port)
run_dir_existed=0
[[ -d ${SOCK%/*} ]] && run_dir_existed=1
# a socket file or pins left by a killed agent are fine (the agent replaces them); a live one is not
if [[ -e $SOCK ]] && "$KGCTL" --socket "$SOCK" status >/dev/null 2>&1; then
	kg_fail "an agent is serving $SOCK: stop it first"
fi
kg_agent_start "$out" --debug-socket "$SOCK" --metrics-addr "127.0.0.1:$port" --pin \
	--birth-quiet-ms 500 --sample-ms 500 --max-births 4096
kg_check "socket directory is 0700" [ "$(stat -c %a "${SOCK%/*}")" = 700 ]
kg_check "socket is a socket, mode 0600, owned by root" \
	[ "$(stat -c '%F %a %u' "$SOCK")" = "socket 600 0" ]

echo "operability: socket protocol"
$CLIENT proto "$SOCK" | sed 's/^/  /' || kg_fail "protocol"
$CLIENT pipeline "$SOCK" 2000 | sed 's/^/  /' || kg_fail "pipelined requests"
$CLIENT many "$SOCK" 16 | sed 's/^/  /' || kg_fail "too many clients"

echo "operability: permission"
kg_expect_exit 1 "permission denied on $SOCK: the agent's debug socket is for root" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$KGCTL" status
# past the file mode (CAP_DAC_OVERRIDE), the peer-credential check still refuses
for i in $(seq 1 15); do
	kg_expect_exit 1 "the agent refused: permission denied: uid 65534 is not root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override \
		--ambient-caps=+dac_override "$KGCTL" status >/dev/null
done
kg_pass "15 non-root clients past the file mode refused by SO_PEERCRED"
refused=$("$KGCTL" -o json status | jq .debugSocket.dropped.permission)
kg_check "status counts the refusals ($refused)" [ "$refused" = 15 ]
logged=$(grep -c 'event=debug.refused' "$(kg_agent_log)" || true)
kg_check "repeated refusals rate-limited in the log ($logged of 15 lines)" [ "$logged" = 10 ]

echo "operability: kgctl without an agent"
kg_expect_exit 1 "no agent is listening on $tmp/none.sock" "$KGCTL" --socket "$tmp/none.sock" status
grep -qF "is the agent running?" "$tmp/expect.stderr" || kg_fail "no hint that the agent may not run"
kg_expect_exit 1 "is the agent running?" env KG_DEBUG_SOCKET="$tmp/none.sock" "$KGCTL" births
kg_expect_exit 2 "Usage: kgctl" "$KGCTL"
kg_expect_exit 2 "Usage: kgctl" "$KGCTL" explain

echo "operability: kgctl status"
"$KGCTL" status >"$tmp/status.txt" || kg_fail "kgctl status failed"
for want in "throttle episodes" "throttle counters" "syscalls" "why: " "kg_sched_switch" \
	"ring buffers:" "debug socket: $SOCK" "metrics: 127.0.0.1:$port" "pins: $PIN_DIR" \
	"mode standalone" "ready"; do
	grep -qF -- "$want" "$tmp/status.txt" || kg_fail "kgctl status has no \"$want\": $(cat "$tmp/status.txt")"
done
grep -A1 "throttle episodes" "$tmp/status.txt" | sed 's/^/  |/'
kg_pass "kgctl status: each concern's hook and why, programs, drops, socket, metrics, pins"
"$KGCTL" -o json status >"$tmp/status.json"
hook=$(jq -r .hooks.throttleEpisodes.hook "$tmp/status.json")
why=$(jq -r .hooks.throttleEpisodes.why "$tmp/status.json")
kg_check "status -o json: episode hook \"$hook\" with a reason" [ -n "$hook" -a "$hook" != null -a ${#why} -gt 10 ]
grep -q "event=agent.started .*throttle_episodes=$hook " "$(kg_agent_log)" ||
	kg_fail "status and the start-up log disagree on the episode hook"
kg_pass "status and the start-up log name the same episode hook"
kg_check "status: one drop counter per CPU" \
	[ "$(jq '.ring.dropsPerCpu | length' "$tmp/status.json")" = "$(jq .ring.cpus "$tmp/status.json")" ]
"$KGCTL" raw '{"cmd":"status","id":"r"}' | jq -e '.id == "r" and .ok' >/dev/null ||
	kg_fail "kgctl raw"
kg_expect_exit 1 "unknown request" "$KGCTL" raw '{"cmd":"nope"}'

echo "operability: bpftool sees named programs, pinned programs and maps"
id=$(jq '.programs[] | select(.name == "kg_sched_switch") | .id' "$tmp/status.json")
bpftool prog show name kg_sched_switch | grep -q "^$id: tracing  name kg_sched_switch " ||
	kg_fail "bpftool prog show name kg_sched_switch: $(bpftool prog show name kg_sched_switch)"
kg_pass "bpftool prog show name kg_sched_switch: id $id, as status says"
pinned=$(bpftool prog show pinned "$PIN_DIR/progs/kg_sched_switch" 2>&1) || true
grep -q "^$id: " <<<"$pinned" ||
	kg_fail "the pinned kg_sched_switch is not program $id: bpftool says: $pinned;" \
		"$PIN_DIR/progs holds: $(ls "$PIN_DIR/progs" 2>&1 | tr '\n' ' ')"
kg_pass "bpftool prog show pinned $PIN_DIR/progs/kg_sched_switch"
for p in $(jq -r '.programs[] | select(.loaded) | .name' "$tmp/status.json"); do
	[[ -e $PIN_DIR/progs/$p ]] || kg_fail "program $p not pinned"
done
for m in kg_rings kg_counters kg_births kg_sched kg_cfs kg_episodes kg_ring_0; do
	bpftool map show pinned "$PIN_DIR/maps/$m" | grep -q "name $m " || kg_fail "map $m not pinned"
done
kg_pass "every loaded program and the kg_ maps pinned under $PIN_DIR"

echo "operability: a container starts, a pod is throttled"
"$KGCTL" -o json watch >"$tmp/watch.json" 2>"$tmp/watch.err" &
watch_pid=$!
uid=$(kg_new_uid)
cid=$(kg_new_cid)
path=$(kg_cgpath_cgroupfs besteffort "$uid" "$cid")
kg_pod_cgroup_create "$(dirname "$path")"
kg_container_cgroup_precreate "$path"
bundle=$tmp/bundle.$uid
kg_bundle_busybox "$bundle" sh -c 'echo hello; cat /etc/hostname; ls /'
kg_run "op-${uid:0:8}" "$bundle" "$path" || kg_fail "busybox container failed"
cert=$out/podbirthcertificates/pod-$uid-birth.json
kg_wait_file "$cert" 20
syscalls=$(kg_jq "$cert" .status.syscalls.total)

tuid=$(kg_new_uid)
tcid=$(kg_new_cid)
tpath=$(kg_cgpath_cgroupfs burstable "$tuid" "$tcid")
kg_cgroup_create "$tpath"
cpu_dir=${KG_CG_V1_CPU:-$KG_CG_V2}$tpath
if [[ -n $KG_CG_V1_CPU ]]; then
	echo 100000 >"$cpu_dir/cpu.cfs_period_us"
	echo 20000 >"$cpu_dir/cpu.cfs_quota_us"
else
	echo "20000 100000" >"$cpu_dir/cpu.max"
fi
(
	for m in $KG_CG_MOUNTS; do
		[[ -d $m$tpath ]] && echo "$BASHPID" >"$m$tpath/cgroup.procs"
	done
	exec stress-ng --cpu 2 --cpu-load 60 -t 3 -q
) &
wait $! || kg_fail "the throttled load failed"
whisper=$out/kernelwhispers/pod-$tuid-cpu-throttle.json
kg_wait_file "$whisper" 15

echo "operability: kgctl births, explain, whispers, top, watch"
"$KGCTL" births >"$tmp/births.txt"
grep -q "^pod-$uid-birth .* $syscalls " "$tmp/births.txt" ||
	kg_fail "kgctl births does not list pod-$uid-birth with $syscalls syscalls: $(cat "$tmp/births.txt")"
kg_pass "kgctl births lists pod-$uid-birth with its $syscalls syscalls"
"$KGCTL" -o json births 1 | jq -e --arg n "pod-$uid-birth" '.count == 1' >/dev/null ||
	kg_fail "kgctl -o json births 1"
"$KGCTL" explain "$uid" >"$tmp/explain.txt"
grep -q "syscalls just to start" "$tmp/explain.txt" ||
	kg_fail "kgctl explain $uid: $(cat "$tmp/explain.txt")"
sed -n 1,6p "$tmp/explain.txt" | sed 's/^/  |/'
kg_pass "kgctl explain <uid>: the certificate's insights"
"$KGCTL" -o json explain "pod-$uid" | jq -e '.resources[0].insights[0].rule == "start-cost"' >/dev/null ||
	kg_fail "kgctl explain pod-<uid> -o json"
kg_pass "kgctl explain by name, -o json: rule start-cost"
kg_expect_exit 1 "nothing known about pod \"no-such-pod\"" "$KGCTL" explain no-such-pod
"$KGCTL" whispers | grep -q "^pod-$tuid-cpu-throttle " || kg_fail "kgctl whispers: $("$KGCTL" whispers)"
kg_pass "kgctl whispers lists the throttled pod"
"$KGCTL" explain "$tuid" >"$tmp/explain2.txt"
grep -q "^KernelWhisper pod-$tuid-cpu-throttle" "$tmp/explain2.txt" &&
	grep -q "condition Throttled=True (CFSQuotaExhausted)" "$tmp/explain2.txt" &&
	grep -q "throttled in .* periods .* over the last" "$tmp/explain2.txt" ||
	kg_fail "kgctl explain of the throttled pod: $(cat "$tmp/explain2.txt")"
kg_pass "kgctl explain <uid> of the throttled pod: why it is flagged"
"$KGCTL" top -n 1 >"$tmp/top.txt"
grep -q "STARTING NOW" "$tmp/top.txt" && grep -q "CPU THROTTLING" "$tmp/top.txt" &&
	grep -q "^pod-$tuid " "$tmp/top.txt" || kg_fail "kgctl top: $(cat "$tmp/top.txt")"
kg_pass "kgctl top -n 1 shows the throttled pod"
"$KGCTL" --dir "$out" births | grep -q "^pod-$uid-birth " || kg_fail "kgctl --dir births"
kg_pass "kgctl --dir still reads the files"
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
for ev in birth.opened birth.settled certificate.written; do
	jq -c --arg ev "$ev" --arg cg "$path" --arg n "pod-$uid-birth" \
		'select(.event == $ev and (.cgroup == $cg or .name == $n))' "$tmp/watch.json" | grep -q . ||
		kg_fail "kgctl watch saw no $ev of the container: $(head -c 2000 "$tmp/watch.json")"
done
jq -c --arg n "pod-$tuid-cpu-throttle" 'select(.event == "whisper.written" and .name == $n)' \
	"$tmp/watch.json" | grep -q . || kg_fail "kgctl watch saw no whisper.written"
kg_pass "kgctl watch streamed birth.opened, birth.settled, certificate.written, whisper.written"

echo "operability: /metrics, /healthz, /readyz"
sysctl -q -w kernel.bpf_stats_enabled=1
sleep 1
scrape
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$tmp/headers" ||
	kg_fail "content type: $(cat "$tmp/headers")"
promtool check metrics <"$tmp/metrics" >"$tmp/promtool.out" 2>&1 ||
	kg_fail "promtool check metrics: $(cat "$tmp/promtool.out")"
[[ ! -s $tmp/promtool.out ]] || kg_fail "promtool check metrics complains: $(cat "$tmp/promtool.out")"
kg_pass "promtool check metrics: no error, no lint warning ($(grep -vc '^#' "$tmp/metrics") series)"
v=$(metric "kernel_gossip_pod_birth_syscalls{pod_uid=\"$uid\"}")
kg_check "pod_birth_syscalls of the container's pod = the certificate's $syscalls" [ "$v" = "$syscalls" ]
thr=$(metric "kernel_gossip_pod_cpu_throttled_periods_total{pod_uid=\"$tuid\",container_id=\"${tcid:0:12}\"}")
cum=$(kg_jq "$whisper" .status.kernelTruth.cumulative.throttledPeriods)
ok=0
[[ -n $thr ]] && ((thr >= cum && cum > 0)) && ok=1
kg_check "pod_cpu_throttled_periods_total of the throttled pod ($thr) >= the whisper's ($cum) > 0" \
	[ "$ok" = 1 ]
secs=$(metric "kernel_gossip_pod_cpu_throttled_seconds_total{pod_uid=\"$tuid\",container_id=\"${tcid:0:12}\"}")
awk -v s="$secs" 'BEGIN { exit !(s > 0) }' || kg_fail "throttled seconds: $secs"
kg_pass "pod_cpu_throttled_seconds_total $secs s, in seconds"
limit=$(metric "kernel_gossip_pod_cpu_limit_cores{pod_uid=\"$tuid\",container_id=\"${tcid:0:12}\"}")
kg_check "pod_cpu_limit_cores 0.2" [ "$limit" = 0.20000000000000001 -o "$limit" = 0.2 ]
for s in 'kernel_gossip_ready' 'kernel_gossip_events_total{type="exec"}' \
	'kernel_gossip_ring_drops_total{cpu="0"}' 'kernel_gossip_bpf_program_attached{program="kg_sched_switch"}' \
	'kernel_gossip_api_requests_total{code="none"}' 'kernel_gossip_sink_queue_depth' \
	'kernel_gossip_resources_written_total{kind="PodBirthCertificate"}' \
	'kernel_gossip_births_total{outcome="recorded"}' 'kernel_gossip_bpf_stats_enabled'; do
	[[ -n $(metric "$s") ]] || kg_fail "/metrics has no $s"
done
kg_pass "agent health series present (events, drops per CPU, programs, API codes, queue, resources)"
kg_check "bpf_stats_enabled 1" [ "$(metric kernel_gossip_bpf_stats_enabled)" = 1 ]
run=$(metric 'kernel_gossip_bpf_program_run_seconds_total{program="kg_sched_switch"}')
awk -v s="$run" 'BEGIN { exit !(s > 0) }' || kg_fail "kg_sched_switch run time $run with stats enabled"
kg_pass "kg_sched_switch ran for $run s (BPF stats)"
sysctl -q -w kernel.bpf_stats_enabled="$stats_was"
kg_check "events of type exec counted" [ "$(metric 'kernel_gossip_events_total{type="exec"}')" -gt 0 ]
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/healthz")
kg_check "/healthz 200 ($(cat "$tmp/body"))" [ "$code" = 200 ]
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/readyz")
kg_check "/readyz 200 ($(cat "$tmp/body"))" [ "$code" = 200 ]
kg_check "/nope 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ]
kg_check "POST /metrics 405" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ]

echo "operability: a watcher that never reads while events pour in"
rm -f "$tmp/slow.ready" "$tmp/slow.go"
$CLIENT slow "$SOCK" "$tmp/slow.ready" "$tmp/slow.go" >"$tmp/slow.out" 2>&1 &
slow_pid=$!
wait_for "the slow watcher" 10 test -e "$tmp/slow.ready"
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$KG_AGENT_PID/status")
fuid=$(kg_new_uid)
fbase=$(kg_cgpath_cgroupfs besteffort "$fuid" x)
fbase=${fbase%/x}
kg_pod_cgroup_create "$fbase"
flood_dir=$KG_CG_V2$fbase
for i in $(seq 1 800); do	# 800 container cgroups: 800 birth.opened events
	mkdir "$KG_CG_V2$fbase/$(printf '%064x' "$i")"
done
sleep 1
# the agent still answers others at once, and says what it dropped
$CLIENT status "$SOCK" 2 >"$tmp/fast.out" || kg_fail "status while a watcher is stuck: $(cat "$tmp/fast.out")"
kg_pass "$(head -1 "$tmp/fast.out" | sed 's/^ok *//') while a watcher reads nothing"
dropped=$(tail -1 "$tmp/fast.out" | jq .debugSocket.watchEventsDropped)
kg_check "status counts the dropped watch events ($dropped)" [ "$dropped" -gt 0 ]
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$KG_AGENT_PID/status")
echo "  ==   agent RSS ${rss0} kB -> ${rss1} kB (800 open births included)"
touch "$tmp/slow.go"
wait "$slow_pid" || kg_fail "slow watcher: $(cat "$tmp/slow.out")"
sed 's/^/  /' "$tmp/slow.out"
for i in $(seq 1 800); do
	rmdir "$KG_CG_V2$fbase/$(printf '%064x' "$i")"
done
scrape
kg_check "debug_watch_events_dropped_total = $dropped or more" \
	[ "$(metric kernel_gossip_debug_watch_events_dropped_total)" -ge "$dropped" ]
promtool check metrics <"$tmp/metrics" >/dev/null 2>&1 || kg_fail "promtool after the flood"

echo "operability: runtime conflicts exit 1"
kg_expect_exit 1 "another agent is serving the debug socket $SOCK" \
	"$KG_AGENT" --output-dir "$out" --debug-socket "$SOCK" --metrics-addr off
kg_expect_exit 1 "cannot serve /metrics on 127.0.0.1:$port" \
	"$KG_AGENT" --output-dir "$out" --debug-socket "$tmp/second/debug.sock" --metrics-addr "127.0.0.1:$port"
kg_expect_exit 1 "refusing to put the debug socket in /tmp: others can write to it" \
	"$KG_AGENT" --output-dir "$out" --debug-socket "/tmp/kg-op-$$.sock" --metrics-addr off
mkdir -m 700 "$tmp/notsock"
: >"$tmp/notsock/debug.sock"
kg_expect_exit 1 "$tmp/notsock/debug.sock exists and is not a socket" \
	"$KG_AGENT" --output-dir "$out" --debug-socket "$tmp/notsock/debug.sock" --metrics-addr off
kg_check "the running agent still serves" [ -S "$SOCK" ]
"$KGCTL" status >/dev/null || kg_fail "the running agent stopped serving"

echo "operability: a clean stop leaves nothing behind"
prog_ids=$("$KGCTL" -o json status | jq -r '.programs[] | select(.loaded) | .id')
kg_agent_stop
kg_check "socket file removed" [ ! -e "$SOCK" ]
if ((run_dir_existed)); then
	kg_pass "socket directory ${SOCK%/*} existed before: kept"
else
	kg_check "socket directory removed" [ ! -e "${SOCK%/*}" ]
fi
kg_check "pins removed" [ ! -e "$PIN_DIR" ]
if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then kg_fail "port $port still answers"; fi
kg_pass "port $port closed"
# the kernel frees programs after an RCU grace period; other agents' programs may be loaded
left_ids() {
	local id
	for id in $prog_ids; do
		bpftool prog show id "$id" >/dev/null 2>&1 && echo "$id"
	done
}
deadline=$((SECONDS + 5))
while left=$(left_ids); [[ -n $left ]]; do
	((SECONDS < deadline)) || break
	sleep 0.1
done
kg_check "none of the agent's $(wc -w <<<"$prog_ids") programs left (no pin keeps one loaded)" [ -z "$left" ]
grep -q 'event=pin.removed' "$(kg_agent_log)" || kg_fail "no pin.removed line"
kg_expect_exit 1 "no agent is listening on $SOCK" "$KGCTL" status

echo "operability: after SIGKILL, the next start cleans up"
kg_agent_start "$out" --debug-socket "$SOCK" --metrics-addr off --pin
kill -KILL "$KG_AGENT_PID"
wait "$KG_AGENT_PID" 2>/dev/null || true
KG_AGENT_PID=
kg_check "a killed agent leaves its socket file" [ -S "$SOCK" ]
kg_check "... and its pins" [ -e "$PIN_DIR/progs/kg_sched_switch" ]
kg_expect_exit 1 "no agent is listening on $SOCK" "$KGCTL" status
kg_agent_start "$out" --debug-socket "$SOCK" --metrics-addr off --pin
grep -q 'event=debug.stale_socket_removed' "$(kg_agent_log)" || kg_fail "stale socket not replaced"
grep -q 'event=pin.stale_removed' "$(kg_agent_log)" || kg_fail "stale pins not removed"
kg_pass "stale socket and pins replaced at start"
"$KGCTL" status >/dev/null || kg_fail "kgctl status after a restart"
kg_agent_stop
kg_check "socket and pins gone again" [ ! -e "$SOCK" -a ! -e "$PIN_DIR" ]
# the killed agent left the directory it had created; the restarted one found it there
((run_dir_existed)) || rmdir "${SOCK%/*}"

echo "operability: no leaks (valgrind: a short run with every way in used, stopped by SIGTERM)"
command -v valgrind >/dev/null || kg_fail "valgrind is missing: run scripts/install-deps.sh"
vsock=$tmp/vg/debug.sock
vport=$(free_port)
# bpf(2) fills buffers valgrind cannot see being written: values read from maps would be
# reported as uninitialised, so only leaks and invalid accesses are looked at here
valgrind --leak-check=full --show-leak-kinds=definite,indirect --undef-value-errors=no \
	"$KG_AGENT" --output-dir "$out" --debug-socket "$vsock" --metrics-addr "127.0.0.1:$vport" \
	--pin --birth-quiet-ms 500 >"$tmp/vg.log" 2>&1 &
vg_pid=$!
KG_AGENT_PID=$vg_pid	# killed by the EXIT trap if anything fails
KG_AGENT_LOG=$tmp/vg.log
wait_for "the agent to start under valgrind" 180 grep -q 'event=ops.started' "$tmp/vg.log"
"$KGCTL" --socket "$vsock" watch >/dev/null 2>&1 &	# still watching when the agent stops
vuid=$(kg_new_uid)
vpath=$(kg_cgpath_cgroupfs besteffort "$vuid" "$(kg_new_cid)")
kg_pod_cgroup_create "$(dirname "$vpath")"
kg_container_cgroup_precreate "$vpath"
kg_bundle_busybox "$tmp/bundle.vg" sh -c 'echo hello; ls /'
kg_run "vg-${vuid:0:8}" "$tmp/bundle.vg" "$vpath" || kg_fail "busybox container failed"
kg_wait_file "$out/podbirthcertificates/pod-$vuid-birth.json" 60
"$KGCTL" --socket "$vsock" status >/dev/null || kg_fail "kgctl status under valgrind"
"$KGCTL" --socket "$vsock" births >/dev/null || kg_fail "kgctl births under valgrind"
"$KGCTL" --socket "$vsock" explain "$vuid" >/dev/null || kg_fail "kgctl explain under valgrind"
"$KGCTL" --socket "$vsock" top -n 1 >/dev/null || kg_fail "kgctl top under valgrind"
$CLIENT proto "$vsock" >"$tmp/vg.proto" || kg_fail "protocol under valgrind: $(tail -3 "$tmp/vg.proto")"
curl -sf "http://127.0.0.1:$vport/metrics" | promtool check metrics || kg_fail "metrics under valgrind"
kill -TERM "$vg_pid"
rc=0
wait "$vg_pid" || rc=$?
KG_AGENT_PID=
kg_check "the agent under valgrind stopped cleanly (exit $rc)" [ "$rc" = 0 ]
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|no leaks are possible" "$tmp/vg.log" | sed 's/^/  /'
grep -q "All heap blocks were freed -- no leaks are possible" "$tmp/vg.log" ||
	{ grep -q "definitely lost: 0 bytes" "$tmp/vg.log" && grep -q "indirectly lost: 0 bytes" "$tmp/vg.log"; } ||
	kg_fail "valgrind found leaks: $(grep -A3 'LEAK SUMMARY' "$tmp/vg.log")"
kg_pass "valgrind: no leak"
if grep -q "Invalid read\|Invalid write\|Invalid free\|Mismatched free" "$tmp/vg.log"; then
	kg_fail "valgrind: invalid memory access: $(grep -A8 'Invalid' "$tmp/vg.log" | head -30)"
fi
kg_pass "valgrind: no invalid read, write or free"
kg_check "socket and pins removed after the valgrind run" [ ! -e "$vsock" -a ! -e "$PIN_DIR" ]
echo "operability: all checks passed"
