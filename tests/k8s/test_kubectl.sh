#!/usr/bin/env bash
#
# tests/k8s/test_kubectl.sh - the path a user takes, with the real kubectl,
# against the test API server (tests/k8s/apiserver.py): apply the CRDs and
# deploy/, write real agent documents the way the agent writes them (server-
# side apply of the object, then of its status), read them back with
# `kubectl get` and `kubectl describe`, and check what the API rejects.
#
# The test that matters most: every field of a real agent document survives
# the round trip (the API server silently prunes fields a CRD schema lacks).
# The documents are tests/k8s/fixtures/*.json, written by the agent in
# standalone mode (tests/integration/test_birth.sh, test_throttle.sh,
# test_insights.sh); the fields the agent adds in Kubernetes mode (namespace,
# ownerReferences, containerName, ownerKind/ownerName, observedGeneration)
# are added here as agent/kube.c and agent/sink_k8s.c add them. A second net
# catches fields added to the agent after the fixtures were made: every key
# the agent's resource code writes must be declared by a schema.
#
# Needs: python3, openssl, curl, jq, kubectl. Never skips: a missing tool is
# a failure that says so. No root needed.
# (SC2015: `A && B || kgk_fail` is meant: fail when either check fails)
# shellcheck disable=SC2015
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
trap kgk_cleanup EXIT

kgk_need python3 openssl curl jq
command -v "$KUBECTL" >/dev/null 2>&1 || kgk_fail "kubectl not found (KUBECTL=$KUBECTL): install \
kubectl >= 1.27 (Kubernetes' own apt repository, see tests/k8s/README.md) or set KUBECTL=/path/to/kubectl"

root=$KGK_ROOT
ns=kg-test
tmp=$KGK_TMP
k() { "$KUBECTL" "$@"; }
# the agent's resource code: the files whose JSON keys must all be in a schema
AGENT_RESOURCE_SRC=(agent/resource.c agent/certificate.c agent/whisper.c agent/insights.c
	agent/kube.c agent/sink_k8s.c)

kgk_start
cv=$(k version -o json 2>/dev/null | jq -r '.clientVersion.gitVersion') ||
	kgk_fail "kubectl cannot talk to the test API server: $(k version 2>&1 | tail -3)"
echo "kubectl $cv against $KGK_URL ($(k version -o json | jq -r .serverVersion.gitVersion))"
minor=$(k version -o json | jq -r '.clientVersion.minor' | tr -dc 0-9)
# 1.27 is the oldest kubectl tried (1.27 to 1.33 pass); Debian 12's
# kubernetes-client (1.20) cannot apply -k deploy/ (its kustomize 2.0.3 takes
# no directory in resources) nor explain from OpenAPI v3
((minor >= 27)) || kgk_fail "kubectl $cv is too old for this test: kubectl >= 1.27 is needed \
(see tests/k8s/README.md for how to install one)"

# --- 1. the CRDs -------------------------------------------------------------
echo "== kubectl apply -f crds/"
out=$(k apply -f "$root/crds/" 2>&1) || kgk_fail "kubectl apply -f crds/ failed: $out"
for crd in podbirthcertificates.kernel.gossip.io kernelwhispers.kernel.gossip.io; do
	kgk_check "$crd created" grep -q "customresourcedefinition.apiextensions.k8s.io/$crd created" <<<"$out"
done
out=$(k wait --for condition=established --timeout=10s \
	crd/podbirthcertificates.kernel.gossip.io crd/kernelwhispers.kernel.gossip.io 2>&1) ||
	kgk_fail "CRDs not established: $out"
kgk_pass "both CRDs established"
out=$(k get crd 2>&1)
kgk_check "kubectl get crd lists both" grep -q "kernelwhispers.kernel.gossip.io" <<<"$out"
out=$(k apply -f "$root/crds/" 2>&1)
kgk_check "a second apply changes nothing" [ "$(grep -c unchanged <<<"$out")" = 2 ]
k api-resources --api-group=kernel.gossip.io -o wide >"$tmp/api-resources" 2>&1
kgk_check "short names pbc, kw and the kernel-gossip category are served" \
	grep -qE "^podbirthcertificates +pbc .*kernel-gossip" "$tmp/api-resources"
for crd in podbirthcertificates kernelwhispers; do
	k get crd "$crd.kernel.gossip.io" -o json >"$tmp/$crd.crd.json"
done
crds=("$tmp/podbirthcertificates.crd.json" "$tmp/kernelwhispers.crd.json")

# --- 2. deploy/ ---------------------------------------------------------------
echo "== kubectl apply -f deploy/, then kubectl apply -k deploy/"
out=$(k apply -f "$root/deploy/" 2>&1) || kgk_fail "kubectl apply -f deploy/ failed: $out"
for obj in namespace/kernel-gossip serviceaccount/kernel-gossip \
	clusterrole.rbac.authorization.k8s.io/kernel-gossip-agent \
	clusterrolebinding.rbac.authorization.k8s.io/kernel-gossip-agent daemonset.apps/kernel-gossip; do
	kgk_check "$obj created" grep -q "^$obj created" <<<"$out"
done
k kustomize "$root/deploy/" >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err" ||
	kgk_fail "kubectl kustomize deploy/ does not render: $(cat "$tmp/kustomize.err")"
kgk_check "kubectl kustomize deploy/ renders without warnings" [ ! -s "$tmp/kustomize.err" ]
for kind in Namespace CustomResourceDefinition ServiceAccount ClusterRole ClusterRoleBinding DaemonSet; do
	kgk_check "the rendering has a $kind" grep -q "^kind: $kind$" "$tmp/rendered.yaml"
done
out=$(k apply -k "$root/deploy/" 2>&1) || kgk_fail "kubectl apply -k deploy/ failed: $out"
kgk_check "apply -k finds everything applied by -f crds/ -f deploy/: $(wc -l <<<"$out") objects unchanged" \
	[ "$(grep -vc unchanged <<<"$out")" = 0 ]
k get daemonset -n kernel-gossip kernel-gossip -o json >"$tmp/ds.json"
kgk_check "daemonset: not privileged, ALL dropped, BPF PERFMON DAC_READ_SEARCH added, read-only root" \
	[ "$(jq -c '.spec.template.spec.containers[0].securityContext |
		[.privileged, .capabilities.drop, .capabilities.add, .readOnlyRootFilesystem]' "$tmp/ds.json")" \
	= '[false,["ALL"],["BPF","PERFMON","DAC_READ_SEARCH"],true]' ]
kgk_check "daemonset: every host path but the debug socket's is mounted read-only" \
	[ "$(jq -c '[.spec.template.spec as $s | $s.volumes[] | select(.hostPath) | .name as $v |
		$s.containers[0].volumeMounts[] | select(.name == $v) | select(.readOnly | not) | .mountPath]' \
		"$tmp/ds.json")" = '["/run/kernel-gossip"]' ]
kgk_check "daemonset: NODE_NAME from the downward API" \
	[ "$(jq -r '.spec.template.spec.containers[0].env[] | select(.name == "NODE_NAME") |
		.valueFrom.fieldRef.fieldPath' "$tmp/ds.json")" = spec.nodeName ]
k get clusterrole kernel-gossip-agent -o json >"$tmp/role.json"
kgk_check "the ClusterRole grants no delete, update or wildcard" \
	[ "$(jq '[.rules[].verbs[]] | map(select(. == "delete" or . == "deletecollection" or
		. == "update" or . == "*")) | length' "$tmp/role.json")" = 0 ]

# --- 3. the schemas declare every key the agent writes ------------------------
echo "== schema coverage of the agent's resource code"
(cd "$root" && python3 -B "$here/crd_fields.py" source-keys "${crds[@]}" -- "${AGENT_RESOURCE_SRC[@]}") \
	>"$tmp/missing" 2>&1 ||
	kgk_fail "keys written by the agent that no CRD schema declares (the API server would drop them): $(cat "$tmp/missing")"
kgk_pass "every key written by ${AGENT_RESOURCE_SRC[*]} is declared in a schema"
out=$(k explain pbc.status.insights.evidence 2>&1) || kgk_fail "kubectl explain: $out"
kgk_check "kubectl explain pbc.status.insights.evidence (OpenAPI v3 from the CRD)" \
	grep -q "value.*<number>" <<<"$out"

# --- 4. real agent documents, written as the agent writes them -----------------
echo "== agent documents: server-side apply of the object and of its status"
# (kubectl >= 1.32 sends this one as protobuf)
k create namespace "$ns" >/dev/null
# localize DOC POD_UID: what agent/kube.c and agent/sink_k8s.c add in Kubernetes mode
localize() {
	jq --arg ns "$ns" --arg uid "$2" '
		.metadata.namespace = $ns
		| .metadata.ownerReferences = [{apiVersion: "v1", kind: "Pod", name: .spec.podName, uid: $uid}]
		| .spec.podNamespace = $ns | .spec.containerName = "app"
		| .spec.ownerKind = "ReplicaSet" | .spec.ownerName = "web-7d4b9c"
		| .status.observedGeneration = 1' "$1"
}
# the agent's /status body: identity and status only
status_body() {
	jq '{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace}, status}' "$1"
}
plural_of() {
	case $(jq -r .kind "$1") in
	PodBirthCertificate) echo podbirthcertificates ;;
	KernelWhisper) echo kernelwhispers ;;
	*) kgk_fail "$1: not a kernel-gossip resource" ;;
	esac
}
docs=()
for fx in "$here"/fixtures/*.json; do
	base=$(basename "$fx" .json)
	plural=$(plural_of "$fx")
	name=$(jq -r .metadata.name "$fx")
	pod=$(jq -r .spec.podName "$fx")
	# the pod the resource belongs to (its uid is the server's, as in a cluster)
	if ! k get pod -n "$ns" "$pod" >/dev/null 2>&1; then
		jq -n --arg pod "$pod" --arg ns "$ns" '{apiVersion: "v1", kind: "Pod",
			metadata: {name: $pod, namespace: $ns},
			spec: {nodeName: "node-1", containers: [{name: "app", image: "busybox"}]}}' |
			k create -f - >/dev/null
	fi
	uid=$(k get pod -n "$ns" "$pod" -o jsonpath='{.metadata.uid}')
	sent=$tmp/sent-$base.json
	localize "$fx" "$uid" >"$sent"
	crd=$tmp/$plural.crd.json
	python3 -B "$here/crd_fields.py" pruned "$crd" "$sent" >"$tmp/pruned" ||
		kgk_fail "$base: the schema lacks fields of this agent document: $(tr '\n' ' ' <"$tmp/pruned")"
	# 1) the object: spec and metadata (kubectl sends fieldValidation=Strict: an
	#    undeclared field would be a 400 here)
	out=$(k apply --server-side --field-manager=kernel-gossip -f "$sent" 2>&1) ||
		kgk_fail "$base: kubectl apply --server-side: $out"
	# 2) its status, exactly as the agent sends it (default fieldValidation)
	status_body "$sent" >"$tmp/status.json"
	code=$(kgk_api PATCH "/apis/kernel.gossip.io/v1alpha1/namespaces/$ns/$plural/$name/status?fieldManager=kernel-gossip&force=true" \
		application/apply-patch+yaml "$tmp/status.json")
	[[ $code == 200 ]] || kgk_fail "$base: status apply: HTTP $code: $(head -c 600 "$KGK_BODY")"
	if grep -qi '^warning:' "$KGK_HDRS"; then
		kgk_fail "$base: the server warned (fields dropped): $(grep -i '^warning:' "$KGK_HDRS")"
	fi
	# 3) read back: nothing lost, nothing changed
	k get "$plural" -n "$ns" "$name" -o json >"$tmp/got-$base.json"
	jq -n --slurpfile a "$sent" --slurpfile b "$tmp/got-$base.json" '
		def sel: {spec, status, labels: .metadata.labels, owners: .metadata.ownerReferences};
		[($a[0] | sel | paths(scalars)) as $p | select(($b[0] | sel | getpath($p)) != ($a[0] | sel | getpath($p))) | $p | map(tostring) | join(".")]' \
		>"$tmp/diff"
	[[ $(jq length "$tmp/diff") == 0 ]] ||
		kgk_fail "$base: fields lost or changed on the way through the API: $(jq -c '.[:20]' "$tmp/diff")"
	jq -e --slurpfile a "$sent" '({spec, status} == ($a[0] | {spec, status}))' "$tmp/got-$base.json" >/dev/null ||
		kgk_fail "$base: the object read back differs from the one sent (extra fields?)"
	kgk_pass "$base: $(jq '[paths(scalars)] | length' "$sent") values sent, every one read back unchanged"
	docs+=("$base")
done

# --- 5. kubectl get: the printer columns ---------------------------------------
echo "== kubectl get"
num_eq() { awk -v a="$1" -v b="$2" 'BEGIN { exit !((a == "<none>" && b == "null") || a + 0 == b + 0) }'; }
hdr=$(k get pbc -n "$ns" | sed -n 1p | tr -s ' ')
kgk_check "kubectl get pbc columns: $hdr" [ "$hdr" = "NAME POD SYSCALLS EXECS DURATION-MS SETTLED-BY AGE" ]
hdr=$(k get kw -n "$ns" | sed -n 1p | tr -s ' ')
kgk_check "kubectl get kw columns: $hdr" [ "$hdr" = "NAME POD THROTTLED% AVG-USE% LIMIT-M SEVERITY AGE" ]
for base in "${docs[@]}"; do
	sent=$tmp/sent-$base.json
	name=$(jq -r .metadata.name "$sent")
	read -r -a row < <(k get "$(plural_of "$sent")" -n "$ns" "$name" --no-headers)
	if [[ $(jq -r .kind "$sent") == PodBirthCertificate ]]; then
		want=("$(jq -r .status.syscalls.total "$sent")" "$(jq -r .status.execs.total "$sent")"
			"$(jq -r .status.durationMs "$sent")"
			"$(jq -r '[.status.containers[] | select(.role == "container")][0].settledBy' "$sent")")
		[[ ${row[1]} == "$(jq -r .spec.podName "$sent")" ]] && num_eq "${row[2]}" "${want[0]}" &&
			num_eq "${row[3]}" "${want[1]}" && num_eq "${row[4]}" "${want[2]}" &&
			[[ ${row[5]} == "${want[3]}" ]] ||
			kgk_fail "$base: kubectl get pbc shows '${row[*]}', the document says ${want[*]}"
		kgk_pass "$base: kubectl get pbc shows pod, ${want[0]} syscalls, ${want[1]} execs, ${want[2]} ms, settled by ${want[3]}"
	else
		want=("$(jq -r .status.kernelTruth.throttledPercent "$sent")"
			"$(jq -r .status.metricsView.averageUtilizationPercent "$sent")"
			"$(jq -r .status.kernelTruth.cpuLimitMillicores "$sent")" "$(jq -r .status.severity "$sent")")
		[[ ${row[1]} == "$(jq -r .spec.podName "$sent")" ]] && num_eq "${row[2]}" "${want[0]}" &&
			num_eq "${row[3]}" "${want[1]}" && num_eq "${row[4]}" "${want[2]}" &&
			[[ ${row[5]} == "${want[3]}" ]] ||
			kgk_fail "$base: kubectl get kw shows '${row[*]}', the document says ${want[*]}"
		kgk_pass "$base: kubectl get kw shows ${want[0]} % throttled, ${want[1]} % average use, ${want[2]}m limit, ${want[3]}"
	fi
done
hdr=$(k get pbc -n "$ns" -o wide | sed -n 1p | tr -s ' ')
kgk_check "kubectl get pbc -o wide adds the priority-1 columns" grep -q "CONTAINERS NODE AGE$" <<<"$hdr"
out=$(k get kernel-gossip -A 2>&1) || kgk_fail "kubectl get kernel-gossip -A: $out"
kgk_check "kubectl get kernel-gossip -A (the category) lists both kinds" \
	[ "$(grep -cE "^$ns +(podbirthcertificate|kernelwhisper)\.kernel\.gossip\.io/" <<<"$out")" = "${#docs[@]}" ]

# --- 6. kubectl describe -------------------------------------------------------
echo "== kubectl describe"
for base in "${docs[@]}"; do
	sent=$tmp/sent-$base.json
	name=$(jq -r .metadata.name "$sent")
	out=$(k describe "$(plural_of "$sent")" -n "$ns" "$name" 2>&1) || kgk_fail "kubectl describe: $out"
	if [[ $(jq -r .kind "$sent") == PodBirthCertificate ]]; then
		total=$(jq -r .status.syscalls.total "$sent")
		grep -q "^Kind: *PodBirthCertificate$" <<<"$out" && grep -qE "^    Total: +$total$" <<<"$out" &&
			grep -q "^  Insights:" <<<"$out" ||
			kgk_fail "$base: kubectl describe pbc lacks the kind, the $total syscalls or the insights: $out"
		kgk_pass "$base: kubectl describe podbirthcertificate $name shows the $total syscalls and the insights"
	else
		grep -q "^  Kernel Truth:" <<<"$out" && grep -q "Hidden" <<<"$out" ||
			kgk_fail "$base: kubectl describe kw lacks the kernel truth or the conditions: $out"
		kgk_pass "$base: kubectl describe kernelwhisper $name shows the kernel truth and the conditions"
	fi
done

# --- 7. invalid documents: 422 naming the field --------------------------------
echo "== validation (422 Invalid)"
pbc=$(grep -l '"kind": "PodBirthCertificate"' "$tmp"/sent-*.json | head -1)
pbc_name=$(jq -r .metadata.name "$pbc")
status_path=/apis/kernel.gossip.io/v1alpha1/namespaces/$ns/podbirthcertificates/$pbc_name/status
invalid() {	# DESC JQ-EDIT FIELD TEXT
	status_body "$pbc" | jq "$2" >"$tmp/bad.json"
	code=$(kgk_api PATCH "$status_path?fieldManager=kernel-gossip&force=true" application/apply-patch+yaml "$tmp/bad.json")
	[[ $code == 422 ]] && [[ $(jq -r .reason "$KGK_BODY") == Invalid ]] &&
		jq -e --arg f "$3" '.details.causes | map(.field) | index($f)' "$KGK_BODY" >/dev/null &&
		kgk_message_has "$4" ||
		kgk_fail "$1: expected 422 Invalid naming $3 ($4), got $code: $(head -c 600 "$KGK_BODY")"
	kgk_pass "$1: 422, $(jq -r .message "$KGK_BODY" | cut -c1-150)"
}
invalid "a count as a string" '.status.syscalls.total = "many"' status.syscalls.total "must be of type integer"
invalid "an unknown severity" '.status.insights[0].severity = "catastrophic"' \
	'status.insights[0].severity' 'supported values: "info", "warning", "critical"'
invalid "a condition without reason" '.status.conditions[0] |= del(.reason)' \
	'status.conditions[0].reason' "Required value"
invalid "a condition status not True/False/Unknown" '.status.conditions[0].status = "Maybe"' \
	'status.conditions[0].status' "Unsupported value"
invalid "two conditions of one type" '.status.conditions[1].type = .status.conditions[0].type' \
	'status.conditions[1]' "Duplicate value"
invalid "a timestamp that is not RFC 3339" '.status.bornAt = "yesterday"' status.bornAt "date-time"
invalid "an evidence value that is not a number" '.status.insights[0].evidence[0].value = "12"' \
	'status.insights[0].evidence[0].value' "must be of type number"
jq '.spec.podName = 42' "$pbc" >"$tmp/bad.json"
out=$(k apply --server-side --field-manager=kernel-gossip -f "$tmp/bad.json" 2>&1) &&
	kgk_fail "kubectl applied spec.podName = 42"
kgk_check "kubectl reports the invalid spec.podName: $(tail -1 <<<"$out" | cut -c1-120)" \
	grep -q 'spec.podName: Invalid value' <<<"$out"

# --- 8. unknown fields: pruned silently, refused with fieldValidation=Strict ---
echo "== unknown fields"
jq '.spec.bogusField = "x" | .metadata.bogusMeta = 1' "$pbc" >"$tmp/unknown.json"
main_path=/apis/kernel.gossip.io/v1alpha1/namespaces/$ns/podbirthcertificates/$pbc_name
code=$(kgk_api PATCH "$main_path?fieldManager=kernel-gossip" application/apply-patch+yaml "$tmp/unknown.json")
[[ $code == 200 ]] || kgk_fail "apply with unknown fields: HTTP $code $(cat "$KGK_BODY")"
kgk_check "unknown fields accepted with a warning (fieldValidation=Warn, the default)" \
	grep -qi '^warning: 299 - "unknown field \\"spec.bogusField\\""' "$KGK_HDRS"
kgk_check "... and pruned: not stored" \
	[ "$(k get pbc -n "$ns" "$pbc_name" -o json | jq '.spec.bogusField, .metadata.bogusMeta')" = "$(printf 'null\nnull')" ]
code=$(kgk_api PATCH "$main_path?fieldManager=kernel-gossip&fieldValidation=Strict" application/apply-patch+yaml "$tmp/unknown.json")
[[ $code == 400 ]] && kgk_message_has 'unknown field "spec.bogusField"' ||
	kgk_fail "fieldValidation=Strict: expected 400 naming spec.bogusField, got $code $(cat "$KGK_BODY")"
kgk_pass "fieldValidation=Strict refuses them: 400 BadRequest (as the real server; not 422)"
out=$(k apply --server-side --field-manager=kernel-gossip -f "$tmp/unknown.json" 2>&1) &&
	kgk_fail "kubectl (default --validate=strict) applied an unknown field"
kgk_check "kubectl --validate=strict (its default) refuses them" grep -q 'unknown field "spec.bogusField"' <<<"$out"
out=$(k apply --server-side --field-manager=kernel-gossip --validate=false -f "$tmp/unknown.json" 2>&1) ||
	kgk_fail "kubectl --validate=false: $out"
kgk_check "kubectl --validate=false: accepted and silently pruned" \
	[ "$(k get pbc -n "$ns" "$pbc_name" -o jsonpath='{.spec.bogusField}')" = "" ]

# --- 9. the status subresource -------------------------------------------------
echo "== status subresource"
before=$(k get pbc -n "$ns" "$pbc_name" -o json)
jq '.status.syscalls.total = 1' "$pbc" >"$tmp/st.json"
k apply --server-side --field-manager=kernel-gossip -f "$tmp/st.json" >/dev/null 2>&1 ||
	kgk_fail "apply of the object with a different status failed"
after=$(k get pbc -n "$ns" "$pbc_name" -o json)
kgk_check "status sent to the main resource is ignored" \
	[ "$(jq .status <<<"$after")" = "$(jq .status <<<"$before")" ]
kgk_check "... and the generation stays" \
	[ "$(jq .metadata.generation <<<"$after")" = "$(jq .metadata.generation <<<"$before")" ]
jq '.spec.qosClass = "guaranteed"' "$pbc" >"$tmp/spec.json"
k apply --server-side --field-manager=kernel-gossip -f "$tmp/spec.json" >/dev/null
gen=$(k get pbc -n "$ns" "$pbc_name" -o jsonpath='{.metadata.generation}')
kgk_check "a spec change bumps metadata.generation ($(jq .metadata.generation <<<"$before") -> $gen)" \
	[ "$gen" = $(($(jq .metadata.generation <<<"$before") + 1)) ]
status_body "$pbc" | jq '.status.syscalls.total = 7 | .spec = {"podName": "other"}' >"$tmp/st.json"
code=$(kgk_api PATCH "$status_path?fieldManager=kernel-gossip&force=true" application/apply-patch+yaml "$tmp/st.json")
now=$(k get pbc -n "$ns" "$pbc_name" -o json)
kgk_check "/status changes status only (HTTP $code): total 7, spec untouched, generation $gen" \
	[ "$(jq -c '[.status.syscalls.total, .spec.podName == "other", .metadata.generation]' <<<"$now")" = "[7,false,$gen]" ]

# --- 10. authentication and authorization --------------------------------------
echo "== authentication and RBAC"
kgk_expect 401 "no token" GET /apis/kernel.gossip.io/v1alpha1/podbirthcertificates "" "" ""
kgk_expect 401 "a wrong token" GET /apis/kernel.gossip.io/v1alpha1/podbirthcertificates "" "" not-a-token
sed "s/$(cat "$KGK_DIR/token")/not-a-token/" "$KGK_DIR/kubeconfig" >"$tmp/kubeconfig-bad"
out=$(KUBECONFIG=$tmp/kubeconfig-bad k get pbc -A 2>&1) && kgk_fail "kubectl with a wrong token listed pbc"
kgk_check "kubectl with a wrong token: $(tail -1 <<<"$out" | cut -c1-100)" \
	grep -qiE "unauthorized|must be logged in" <<<"$out"
KUBECONFIG=$KGK_DIR/kubeconfig-readonly k get pbc -n "$ns" >/dev/null 2>&1 ||
	kgk_fail "the read-only token cannot list pbc"
kgk_pass "read-only token: kubectl get pbc works"
out=$(KUBECONFIG=$KGK_DIR/kubeconfig-readonly k apply --server-side --field-manager=kernel-gossip -f "$pbc" 2>&1) &&
	kgk_fail "the read-only token could apply"
kgk_check "read-only token: apply is forbidden (403)" grep -qi "forbidden" <<<"$out"
# the agent's ServiceAccount, authorized by deploy/rbac.yaml as applied above
agent=$(cat "$KGK_DIR/token-agent")
jq '.metadata.name = "rbac-probe-birth"' "$pbc" >"$tmp/probe.json"
probe=/apis/kernel.gossip.io/v1alpha1/namespaces/$ns/podbirthcertificates/rbac-probe-birth
kgk_expect 201 "agent SA: server-side apply creates a pbc (patch + create)" \
	PATCH "$probe?fieldManager=kernel-gossip" application/apply-patch+yaml "$tmp/probe.json" "$agent"
status_body "$tmp/probe.json" >"$tmp/probe-status.json"
kgk_expect 200 "agent SA: patches its status" \
	PATCH "$probe/status?fieldManager=kernel-gossip&force=true" application/apply-patch+yaml "$tmp/probe-status.json" "$agent"
kgk_expect 200 "agent SA: lists this node's pods" GET "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1" "" "" "$agent"
kgk_expect 403 "agent SA: may not delete a pbc" DELETE "$probe" "" "" "$agent"
kgk_expect 403 "agent SA: may not update (PUT) a pbc" PUT "$probe" application/json "$tmp/probe.json" "$agent"
jq -n '{apiVersion: "v1", kind: "Pod", metadata: {name: "x"}, spec: {containers: [{name: "c", image: "i"}]}}' >"$tmp/pod.json"
kgk_expect 403 "agent SA: may not create pods" POST "/api/v1/namespaces/$ns/pods" application/json "$tmp/pod.json" "$agent"
jq '.metadata.ownerReferences[0].blockOwnerDeletion = true' "$tmp/probe.json" >"$tmp/probe-block.json"
kgk_expect 403 "agent SA: may not set blockOwnerDeletion (no update on pods/finalizers)" \
	PATCH "$probe?fieldManager=kernel-gossip" application/apply-patch+yaml "$tmp/probe-block.json" "$agent"
kgk_admin POST metrics '{"mode": "on"}' >/dev/null
kgk_admin POST podmetrics "$(jq -nc --arg ns "$ns" '{kind: "PodMetrics", metadata: {name: "web", namespace: $ns},
	containers: [{name: "app", usage: {cpu: "123m", memory: "10Mi"}}]}')" >/dev/null
kgk_expect 200 "agent SA: reads a pod's metrics (metrics.k8s.io)" \
	GET "/apis/metrics.k8s.io/v1beta1/namespaces/$ns/pods/web" "" "" "$agent"

# --- 11. garbage collection through ownerReferences ---------------------------
echo "== owner references"
pod=$(jq -r .spec.podName "$pbc")
k delete pod -n "$ns" "$pod" >/dev/null
deadline=$((SECONDS + 10))
while k get pbc -n "$ns" "$pbc_name" >/dev/null 2>&1; do
	((SECONDS < deadline)) || kgk_fail "the pbc of deleted pod $pod was not garbage-collected"
	sleep 0.2
done
kgk_pass "deleting pod $pod garbage-collects its certificate"

echo "PASS: test_kubectl.sh"
