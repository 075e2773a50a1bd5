# shellcheck shell=bash
#
# tests/k8s/lib.sh - run the test API server (tests/k8s/apiserver.py) and talk
# to it with curl and the real kubectl. Sourced by the tests in this
# directory; `set -euo pipefail` safe.
#
#   kgk_need CMD...                fail unless every CMD is installed
#   kgk_start [ARGS...]            start a server on a fresh directory (KGK_DIR),
#                                  wait for "ready"; sets KGK_URL, KGK_TOKEN,
#                                  KUBECONFIG, KUBECACHEDIR
#   kgk_restart                    stop it and start it again on the same directory
#   kgk_stop                       stop it (the EXIT trap does too)
#   kgk_api METHOD PATH [CTYPE DATA-FILE] [TOKEN]
#                                  one request; prints the HTTP status, leaves
#                                  the body in $KGK_BODY and headers in $KGK_HDRS
#   kgk_admin METHOD PATH [JSON]   the server's admin API
#   kgk_expect CODE DESC METHOD PATH...   kgk_api, and fail unless it answered CODE
#   kgk_check DESC COMMAND...      run COMMAND; report ok, or fail with DESC
#   kgk_pass MSG / kgk_fail MSG    report (kgk_fail exits 1, showing the server log)

KGK_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # for the tests that source this
KGK_ROOT=$(cd "$KGK_HERE/../.." && pwd)
KGK_TMP=${KGK_TMP:-$(mktemp -d /tmp/kg-k8s.XXXXXX)}
KGK_DIR=$KGK_TMP/api
KGK_BODY=$KGK_TMP/body
KGK_HDRS=$KGK_TMP/headers
KGK_PID=
KGK_PORT=
KUBECTL=${KUBECTL:-kubectl}
export PYTHONDONTWRITEBYTECODE=1

kgk_fail() {
	echo "FAIL: $*" >&2
	if [[ -s $KGK_TMP/apiserver.log ]]; then
		echo "---- test API server log (last 20 lines) ----" >&2
		tail -n 20 "$KGK_TMP/apiserver.log" >&2
	fi
	if [[ -n $KGK_PID ]] && kill -0 "$KGK_PID" 2>/dev/null; then
		echo "---- the last requests the server refused ----" >&2
		curl -s --max-time 5 --cacert "$KGK_DIR/ca.crt" -H "Authorization: Bearer $KGK_TOKEN" \
			"$KGK_URL/_admin/requests" | jq -r '[.items[] | select((.status | tostring) >= "400")][-5:][] |
			"\(.status) \(.method) \(.path) \(.query) \(.contentType) \(.body | tostring | .[0:200])"' >&2 || true
	fi
	exit 1
}

kgk_pass() {
	echo "  ok   $*"
}

kgk_check() {
	local desc=$1
	shift
	if "$@"; then kgk_pass "$desc"; else kgk_fail "$desc (check: $*)"; fi
}

kgk_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			kgk_fail "required command '$c' not found (scripts/install-deps.sh installs it)"
	done
}

kgk_cleanup() {
	kgk_stop
	if [[ ${KGK_KEEP_TMP:-0} == 1 ]]; then
		echo "kept $KGK_TMP" >&2
	else
		rm -rf "$KGK_TMP"
	fi
}

# _kgk_launch: start the server on $KGK_DIR (port $KGK_PORT, 0 = any) and wait
# for its "ready" line.
_kgk_launch() {
	local deadline=$((SECONDS + 30))
	python3 -B "$KGK_HERE/apiserver.py" --dir "$KGK_DIR" --port "${KGK_PORT:-0}" "$@" \
		>>"$KGK_TMP/apiserver.log" 2>&1 &
	KGK_PID=$!
	until [[ -s $KGK_DIR/url ]] && grep -q "^ready $(cat "$KGK_DIR/url")" "$KGK_TMP/apiserver.log"; do
		kill -0 "$KGK_PID" 2>/dev/null || kgk_fail "the test API server exited during start-up"
		((SECONDS < deadline)) || kgk_fail "the test API server was not ready within 30 s"
		sleep 0.1
	done
	KGK_URL=$(cat "$KGK_DIR/url")
	KGK_PORT=${KGK_URL##*:}
	KGK_TOKEN=$(cat "$KGK_DIR/token")
}

# shellcheck disable=SC2120  # arguments are optional
kgk_start() {
	mkdir -p "$KGK_TMP/kube-cache"
	rm -f "$KGK_DIR/url"
	KGK_ARGS=("$@")
	_kgk_launch "$@"
	# kubectl caches discovery under $HOME/.kube unless told otherwise: a
	# private cache, so that nothing leaks between runs or into the user's
	export KUBECONFIG=$KGK_DIR/kubeconfig KUBECACHEDIR=$KGK_TMP/kube-cache
}

kgk_stop() {
	[[ -n $KGK_PID ]] || return 0
	kill -TERM "$KGK_PID" 2>/dev/null || true
	wait "$KGK_PID" 2>/dev/null || true
	KGK_PID=
}

kgk_restart() {
	kgk_stop
	rm -f "$KGK_DIR/url"
	_kgk_launch "${KGK_ARGS[@]}"
}

kgk_api() {
	local method=$1 path=$2 ctype=${3:-} data=${4:-} token=${5-$KGK_TOKEN}
	local -a args=(-sS -o "$KGK_BODY" -D "$KGK_HDRS" -w '%{http_code}' --cacert "$KGK_DIR/ca.crt"
		-X "$method" --max-time "${KGK_CURL_TIMEOUT:-20}")
	[[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
	[[ -n $ctype ]] && args+=(-H "Content-Type: $ctype" --data-binary "@$data")
	curl "${args[@]}" "$KGK_URL$path" || true
}

kgk_admin() {
	local method=$1 path=$2 json=${3:-}
	if [[ -n $json ]]; then
		printf '%s' "$json" >"$KGK_TMP/admin.json"
		kgk_api "$method" "/_admin/$path" application/json "$KGK_TMP/admin.json" >/dev/null
	else
		kgk_api "$method" "/_admin/$path" >/dev/null
	fi
	cat "$KGK_BODY"
}

kgk_expect() {
	local code=$1 desc=$2 got
	shift 2
	got=$(kgk_api "$@")
	[[ $got == "$code" ]] || kgk_fail "$desc: expected HTTP $code, got $got: $(head -c 600 "$KGK_BODY")"
	kgk_pass "$desc (HTTP $code)"
}

# kgk_body_has TEXT: the last answer's body contains TEXT
kgk_body_has() {
	grep -qF -- "$1" "$KGK_BODY"
}

# kgk_message_has TEXT: the last answer is a Status whose message contains TEXT
kgk_message_has() {
	jq -r .message "$KGK_BODY" 2>/dev/null | grep -qF -- "$1"
}
