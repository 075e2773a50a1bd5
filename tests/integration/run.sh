#!/usr/bin/env bash
#
# tests/integration/run.sh - the root/BPF integration suite: real BPF, real
# runc containers, real cgroups. Never skips: without root, BPF or a tool it
# needs, it fails and says why. Writes the measured agreement figures to
# build/test-report.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
report=$root/build/test-report.md

if [[ $(id -u) != 0 ]]; then
	echo "FAIL: the integration suite needs root (BPF programs, cgroups, runc)" >&2
	exit 1
fi
for tool in runc bpftrace bpftool jq stress-ng busybox nginx setpriv unshare python3 openssl \
	kubectl curl; do
	command -v "$tool" >/dev/null || {
		echo "FAIL: $tool is missing: run scripts/install-deps.sh" >&2
		exit 1
	}
done

mkdir -p "$root/build"
{
	echo "# Integration test report ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r))"
	echo
	echo "| case | agent | independent | difference |"
	echo "|---|---|---|---|"
} >"$report"
export KG_REPORT=$report

# paths relative to tests/
tests=(integration/harness_selftest.sh integration/test_agent.sh integration/test_birth.sh
	integration/test_throttle.sh integration/test_lifecycle.sh integration/test_insights.sh
	integration/test_operability.sh k8s/test_apiserver.sh k8s/test_kubectl.sh
	k8s/test_agent_api.sh)
failed=()
for t in "${tests[@]}"; do
	echo "==== $t"
	start=$SECONDS
	if bash "$here/../$t"; then
		echo "==== $t: PASS ($((SECONDS - start)) s)"
	else
		echo "==== $t: FAIL ($((SECONDS - start)) s)"
		failed+=("$t")
	fi
done
echo
cat "$report"
if ((${#failed[@]})); then
	echo "integration: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "integration: all ${#tests[@]} suites passed"
