#!/usr/bin/env bash
#
# tests/k8s/test_apiserver.sh - the test API server itself, request by
# request with curl: is it as strict as the real one where the agent's client
# will be tested against it? Server-side apply (field ownership, conflicts,
# force, removal), the status subresource, CRD registration and structural
# schemas, pod list/watch (field selectors, bookmarks, 410 Expired),
# authentication and RBAC, garbage collection, faults, the request log,
# restart with persistence.
#
# A CRD of its own (widgets.test.kernel.gossip.io) keeps the cases
# independent of the project's CRDs. Needs python3, openssl, curl, jq.
# (SC2015: `A && B || kgk_fail` is meant: fail when either check fails)
# shellcheck disable=SC2015
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
trap kgk_cleanup EXIT
kgk_need python3 openssl curl jq

tmp=$KGK_TMP
kgk_start --bookmark-interval 0.5 --gc-interval 0.2
body() { jq -r "$1" "$KGK_BODY"; }
json() { printf '%s' "$2" >"$tmp/$1.json"; echo "$tmp/$1.json"; }
G=/apis/test.kernel.gossip.io/v1
W=$G/namespaces/default/widgets
APPLY=application/apply-patch+yaml

# --- discovery and the like ---------------------------------------------------
echo "== discovery"
kgk_expect 401 "GET /version without a token" GET /version "" "" ""
kgk_expect 200 "GET /version" GET /version
kgk_check "it says v1.31" [ "$(body .gitVersion | cut -d. -f1-2)" = v1.31 ]
kgk_expect 200 "GET /apis" GET /apis
kgk_check "/apis lists apps, rbac and apiextensions" \
	[ "$(body '[.groups[].name] | map(select(. == "apps" or . == "rbac.authorization.k8s.io" or . == "apiextensions.k8s.io")) | length')" = 3 ]
kgk_expect 200 "GET /api/v1" GET /api/v1
kgk_check "pods are served, namespaced, with the short name po" \
	[ "$(body '.resources[] | select(.name == "pods") | [.namespaced, .shortNames[0]] | tostring')" = '[true,"po"]' ]
kgk_expect 200 "GET /openapi/v3" GET /openapi/v3
kgk_check "OpenAPI v3 lists apps/v1 with a hash" grep -q 'apis/apps/v1?hash=' "$KGK_BODY"

# --- CRDs ---------------------------------------------------------------------
echo "== CustomResourceDefinitions"
crd() {	# SCHEMA-JSON -> a widgets CRD
	jq -n --argjson schema "$1" '{apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
		metadata: {name: "widgets.test.kernel.gossip.io"},
		spec: {group: "test.kernel.gossip.io", scope: "Namespaced",
			names: {plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"]},
			versions: [{name: "v1", served: true, storage: true, subresources: {status: {}},
				additionalPrinterColumns: [{name: "A", type: "string", jsonPath: ".spec.a"},
					{name: "N", type: "integer", jsonPath: ".spec.n"}],
				schema: {openAPIV3Schema: $schema}}]}}'
}
CRDS=/apis/apiextensions.k8s.io/v1/customresourcedefinitions
crd '{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"description": "no type"}}}}}' >"$tmp/bad-crd.json"
kgk_expect 422 "a CRD whose schema is not structural" POST $CRDS application/json "$tmp/bad-crd.json"
kgk_check "... names the untyped field" kgk_message_has "properties[spec].properties[a].type: Required value"
crd '{"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": false}}}' >"$tmp/bad-crd.json"
kgk_expect 422 "a CRD with additionalProperties: false" POST $CRDS application/json "$tmp/bad-crd.json"
schema='{"type": "object", "properties": {
	"spec": {"type": "object", "properties": {
		"a": {"type": "string"}, "n": {"type": "integer"}, "b": {"type": "string"},
		"color": {"type": "string", "enum": ["red", "blue"]},
		"tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
		"items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
			"items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "v": {"type": "integer"}}}},
		"free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
	"status": {"type": "object", "properties": {"phase": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}}}'
crd "$schema" | jq '.spec.versions[0].additionalPrinterColumn = []' >"$tmp/crd.json"
kgk_expect 400 "a CRD with an unknown field, fieldValidation=Strict" \
	POST "$CRDS?fieldValidation=Strict" application/json "$tmp/crd.json"
kgk_check "... names it" kgk_message_has 'unknown field "spec.versions[0].additionalPrinterColumn"'
crd "$schema" >"$tmp/crd.json"
kgk_expect 201 "a valid CRD" POST $CRDS application/json "$tmp/crd.json"
kgk_check "it is Established" [ "$(body '.status.conditions[] | select(.type == "Established") | .status')" = True ]
kgk_expect 200 "its group-version is discoverable" GET $G
kgk_check "widgets and widgets/status" [ "$(body '[.resources[].name] | join(",")')" = "widgets,widgets/status" ]

# --- server-side apply ----------------------------------------------------------
echo "== server-side apply"
w() {	# SPEC-JSON [METADATA-EXTRA] -> a widget apply body
	jq -n --argjson spec "$1" --argjson meta "${2:-{\}}" \
		'{apiVersion: "test.kernel.gossip.io/v1", kind: "Widget", metadata: ({name: "w1"} + $meta), spec: $spec}'
}
w '{"a": "x", "n": 1, "items": [{"name": "i1", "v": 1}]}' >"$tmp/w.json"
kgk_expect 400 "apply without fieldManager" PATCH "$W/w1" $APPLY "$tmp/w.json"
kgk_expect 201 "apply creates (manager a)" PATCH "$W/w1?fieldManager=a" $APPLY "$tmp/w.json"
rv=$(body .metadata.resourceVersion)
kgk_check "generation 1, one Apply entry for a" \
	[ "$(body '[.metadata.generation, (.metadata.managedFields | map([.manager, .operation]))] | tostring')" = '[1,[["a","Apply"]]]' ]
kgk_expect 200 "the same apply again" PATCH "$W/w1?fieldManager=a" $APPLY "$tmp/w.json"
kgk_check "is a no-op: same resourceVersion $rv" [ "$(body .metadata.resourceVersion)" = "$rv" ]
w '{"a": "y"}' >"$tmp/wb.json"
kgk_expect 409 "manager b applies another value of a's field" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
kgk_check "Conflict naming .spec.a and manager a: $(body .message)" \
	[ "$(body '[.reason, .details.causes[0].field, (.message | test("conflict with \"a\""))] | tostring')" = '["Conflict",".spec.a",true]' ]
w '{"a": "x"}' >"$tmp/wb.json"
kgk_expect 200 "manager b applies the same value (shared ownership, no conflict)" \
	PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y"}' >"$tmp/wb.json"
kgk_expect 200 "manager b forces another value" PATCH "$W/w1?fieldManager=b&force=true" $APPLY "$tmp/wb.json"
kgk_check "spec.a = y, and a no longer owns it" \
	[ "$(body '[.spec.a, (.metadata.managedFields[] | select(.manager == "a") | .fieldsV1["f:spec"] | has("f:a"))] | tostring')" = '["y",false]' ]
w '{"items": [{"name": "i1", "v": 1}]}' >"$tmp/w.json"
kgk_expect 200 "manager a stops applying spec.n" PATCH "$W/w1?fieldManager=a" $APPLY "$tmp/w.json"
kgk_check "spec.n is removed (a owned it alone); spec.a stays (b's)" \
	[ "$(body '[.spec.n, .spec.a] | tostring')" = '[null,"y"]' ]
w '{"a": "y", "items": [{"name": "i2", "v": 2}]}' >"$tmp/wb.json"
kgk_expect 200 "manager b applies another item of the map-list" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
kgk_check "items merged by key: i1 (a's) and i2 (b's)" [ "$(body '[.spec.items[].name] | join(",")')" = "i1,i2" ]
w '{"a": "y"}' '{"resourceVersion": "1"}' >"$tmp/wb.json"
kgk_expect 409 "apply with a stale resourceVersion" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y"}' | jq '.apiVersion = "test.kernel.gossip.io/v2"' >"$tmp/wb.json"
kgk_expect 400 "apply with the wrong apiVersion" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y"}' | jq '.metadata.name = "w2"' >"$tmp/wb.json"
kgk_expect 400 "apply whose name is not the URL's" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y"}' '{"managedFields": [{"manager": "x"}]}' >"$tmp/wb.json"
kgk_expect 400 "apply carrying managedFields" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"color": "green"}' >"$tmp/wb.json"
kgk_expect 422 "apply of a value outside an enum" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y", "tags": ["t", "t"]}' >"$tmp/wb.json"
kgk_expect 422 "apply of a set with a repeated value" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
w '{"a": "y", "free": {"anything": {"goes": 1}}, "junk": 1}' >"$tmp/wb.json"
kgk_expect 200 "apply with an unknown field and a preserve-unknown-fields subtree" \
	PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
kgk_check "the unknown field is pruned (with a warning), the free subtree kept" \
	[ "$(body '[.spec.junk, .spec.free.anything.goes] | tostring'):$(grep -ci '^warning: 299 - "unknown field \\"spec.junk\\""' "$KGK_HDRS")" = '[null,1]:1' ]
jq -n '{apiVersion: "test.kernel.gossip.io/v1", kind: "Widget", metadata: {name: "w1", labels: {x: "y"}},
	spec: {a: "ignored"}, status: {phase: "Ready", at: "2026-01-01T00:00:00.5Z"}}' >"$tmp/st.json"
kgk_expect 200 "status apply (/status)" PATCH "$W/w1/status?fieldManager=a&force=true" $APPLY "$tmp/st.json"
gen=$(body .metadata.generation)
kgk_check "status set; spec and labels in the body ignored" \
	[ "$(body '[.status.phase, .spec.a, .metadata.labels.x] | tostring')" = '["Ready","y",null]' ]
kgk_check "managedFields: a status entry with subresource status" \
	[ "$(body '[.metadata.managedFields[] | select(.subresource == "status") | .manager] | join(",")')" = a ]
jq '.metadata.name = "nope"' "$tmp/st.json" >"$tmp/st-nope.json"
kgk_expect 404 "status apply of an object that does not exist" PATCH "$W/nope/status?fieldManager=a" $APPLY "$tmp/st-nope.json"
w '{"a": "y", "free": {"anything": {"goes": 1}}}' | jq '.status = {phase: "Hacked"}' >"$tmp/wb.json"
kgk_expect 200 "apply to the main resource with a status (spec as b applied it last)" PATCH "$W/w1?fieldManager=b" $APPLY "$tmp/wb.json"
kgk_check "status is ignored there, and the generation did not move" \
	[ "$(body '[.status.phase, .metadata.generation] | tostring')" = "[\"Ready\",$gen]" ]

echo "== other writes"
json mp '{"spec": {"b": "patched"}}' >/dev/null
kgk_expect 200 "merge patch (fieldManager=patcher)" PATCH "$W/w1?fieldManager=patcher" application/merge-patch+json "$tmp/mp.json"
kgk_check "spec.b set, generation $gen -> $((gen + 1)), an Update entry for patcher" \
	[ "$(body '[.spec.b, .metadata.generation, (.metadata.managedFields[] | select(.manager == "patcher") | .operation)] | tostring')" = "[\"patched\",$((gen + 1)),\"Update\"]" ]
json jp '[{"op": "test", "path": "/spec/a", "value": "not-y"}]' >/dev/null
kgk_expect 422 "JSON patch whose test fails" PATCH "$W/w1" application/json-patch+json "$tmp/jp.json"
kgk_expect 415 "strategic merge patch of a custom resource" PATCH "$W/w1" application/strategic-merge-patch+json "$tmp/mp.json"
kgk_expect 200 "GET for a PUT" GET "$W/w1"
jq '.spec.a = "put" | .metadata.resourceVersion = "1"' "$KGK_BODY" >"$tmp/put.json"
kgk_expect 409 "PUT with a stale resourceVersion" PUT "$W/w1" application/json "$tmp/put.json"
jq 'del(.metadata.resourceVersion) | .status.phase = "Sneaky"' "$tmp/put.json" >"$tmp/put2.json"
kgk_expect 200 "PUT without resourceVersion (unconditional)" PUT "$W/w1" application/json "$tmp/put2.json"
kgk_check "spec.a updated, status untouched by the main resource" \
	[ "$(body '[.spec.a, .status.phase] | tostring')" = '["put","Ready"]' ]
w '{"a": "z"}' | jq '.metadata.name = "w1"' >"$tmp/post.json"
kgk_expect 409 "POST of a name that exists" POST "$W" application/json "$tmp/post.json"
kgk_check "AlreadyExists" [ "$(body .reason)" = AlreadyExists ]
kgk_expect 404 "POST into a namespace that does not exist" \
	POST "$G/namespaces/nope/widgets" application/json "$tmp/post.json"
w '{"a": "z"}' "{\"name\": \"w3\", \"labels\": {\"k\": \"$(printf 'v%.0s' {1..70})\"}}" >"$tmp/post.json"
kgk_expect 422 "a label value longer than 63 characters" POST "$W" application/json "$tmp/post.json"
kgk_check "names metadata.labels" [ "$(body '.details.causes[0].field')" = metadata.labels ]
code=$(curl -sS -o "$KGK_BODY" -w '%{http_code}' --cacert "$KGK_DIR/ca.crt" -H "Authorization: Bearer $KGK_TOKEN" \
	-H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io, application/json' "$KGK_URL$W")
kgk_check "a Table (HTTP $code) with the printer columns: $(body '[.columnDefinitions[].name] | join(" ")')" \
	[ "$(body '[.kind, ([.columnDefinitions[].name] | join(",")), .rows[0].cells[1]] | tostring')" = '["Table","Name,A,N","put"]' ]

python3 - "$tmp" <<'PY'
import sys
def f(n, b): return bytes([n << 3 | 2, len(b)]) + b   # fields shorter than 128 bytes
meta = f(1, b"pbns") + f(11, f(1, b"team") + f(2, b"x"))
for kind, name in ((b"Namespace", "ns.pb"), (b"ConfigMap", "cm.pb")):
    unknown = f(1, f(1, b"v1") + f(2, kind)) + f(2, f(1, meta))
    open(sys.argv[1] + "/" + name, "wb").write(b"k8s\x00" + unknown)
PY
kgk_expect 201 "a Namespace sent as protobuf (kubectl >= 1.32 create namespace)" \
	POST /api/v1/namespaces application/vnd.kubernetes.protobuf "$tmp/ns.pb"
kgk_check "decoded: name and labels" [ "$(body '[.metadata.name, .metadata.labels.team] | tostring')" = '["pbns","x"]' ]
kgk_expect 415 "any other kind as protobuf" POST /api/v1/namespaces/default/configmaps \
	application/vnd.kubernetes.protobuf "$tmp/cm.pb"

# --- pods: list and watch ----------------------------------------------------
echo "== pods: list, watch, bookmarks, 410"
pod() {	# NAME NODE [LABEL]
	jq -n --arg n "$1" --arg node "$2" --arg l "${3:-}" '{apiVersion: "v1", kind: "Pod",
		metadata: ({name: $n} + (if $l != "" then {labels: {app: $l}} else {} end)),
		spec: {nodeName: $node, containers: [{name: "c", image: "busybox"}]}}' >"$tmp/pod.json"
	kgk_api POST /api/v1/namespaces/default/pods application/json "$tmp/pod.json" >/dev/null
}
pod p1 node-a web
pod p2 node-b web
kgk_expect 200 "list pods on node-a" GET "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a"
kgk_check "only p1, and no kind on list items (as for built-in kinds)" \
	[ "$(body '[.items[] | [.metadata.name, .kind]] | tostring')" = '[["p1",null]]' ]
list_rv=$(body .metadata.resourceVersion)
kgk_expect 400 "a field selector the server does not index" GET "/api/v1/pods?fieldSelector=spec.hostname%3Dx"
kgk_expect 200 "label selector app in (web), node-b" GET "/api/v1/pods?labelSelector=app+in+(web)&fieldSelector=spec.nodeName%3Dnode-b"
kgk_check "p2" [ "$(body '[.items[].metadata.name] | join(",")')" = p2 ]
curl -sSN --cacert "$KGK_DIR/ca.crt" -H "Authorization: Bearer $KGK_TOKEN" --max-time 10 \
	"$KGK_URL/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=$list_rv&allowWatchBookmarks=true&timeoutSeconds=3" \
	>"$tmp/watch.jsonl" &
watcher=$!
sleep 0.5
pod p3 node-a
pod p4 node-b
kgk_api GET /api/v1/namespaces/default/pods/p3 >/dev/null
jq '.spec.nodeName = "node-b"' "$KGK_BODY" >"$tmp/p3.json"
kgk_api PUT /api/v1/namespaces/default/pods/p3 application/json "$tmp/p3.json" >/dev/null
wait "$watcher" || kgk_fail "the watch did not end cleanly after timeoutSeconds"
events=$(jq -rc 'select(.type != "BOOKMARK") | "\(.type):\(.object.metadata.name)"' "$tmp/watch.jsonl" | paste -sd' ')
kgk_check "watch from the list's RV: $events" [ "$events" = "ADDED:p3 DELETED:p3" ]
kgk_check "watch: bookmarks were sent ($(grep -c BOOKMARK "$tmp/watch.jsonl"))" grep -q '"type": "BOOKMARK"' "$tmp/watch.jsonl"
kgk_check "watch: a bookmark's resourceVersion is current" \
	[ "$(jq -r 'select(.type == "BOOKMARK") | .object.metadata.resourceVersion' "$tmp/watch.jsonl" | tail -1)" -ge "$list_rv" ]
kgk_admin POST compact >/dev/null
code=$(kgk_api GET "/api/v1/pods?watch=true&resourceVersion=$list_rv&timeoutSeconds=2")
kgk_check "watch from a compacted resourceVersion: HTTP $code and an ERROR event, 410 Expired" \
	[ "$code:$(jq -c '[.type, .object.code, .object.reason]' "$KGK_BODY")" = '200:["ERROR",410,"Expired"]' ]
code=$(kgk_api GET "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dnode-a&timeoutSeconds=1")
kgk_check "watch without a resourceVersion starts with the current pods" \
	[ "$(jq -rc '"\(.type):\(.object.metadata.name)"' "$KGK_BODY" | paste -sd' ')" = "ADDED:p1" ]

# --- authentication and authorization ------------------------------------------
echo "== authentication, RBAC, tokens"
kgk_expect 401 "a wrong token" GET /api/v1/pods "" "" wrong
readonly_token=$(cat "$KGK_DIR/token-readonly")
kgk_expect 200 "read-only token: list" GET "$W" "" "" "$readonly_token"
kgk_expect 403 "read-only token: create" POST "$W" application/json "$tmp/post.json" "$readonly_token"
kgk_check "Forbidden names the verb and resource: $(body .message)" \
	kgk_message_has 'cannot create resource "widgets" in API group "test.kernel.gossip.io" in the namespace "default"'
code=$(curl -sS -o "$KGK_BODY" -w '%{http_code}' --cacert "$KGK_DIR/ca.crt" --cert "$KGK_DIR/client.crt" \
	--key "$KGK_DIR/client.key" "$KGK_URL/api/v1/namespaces")
kgk_check "client certificate (O=system:masters): HTTP $code" [ "$code" = 200 ]
agent=$(cat "$KGK_DIR/token-agent")
kgk_expect 401 "agent token while its ServiceAccount does not exist" GET /api/v1/pods "" "" "$agent"
json ns '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kernel-gossip"}}' >/dev/null
kgk_api POST /api/v1/namespaces application/json "$tmp/ns.json" >/dev/null
json sa '{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "kernel-gossip"}}' >/dev/null
kgk_api POST /api/v1/namespaces/kernel-gossip/serviceaccounts application/json "$tmp/sa.json" >/dev/null
kgk_expect 403 "agent token, no RBAC yet" GET /api/v1/pods "" "" "$agent"
json role '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
	"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}' >/dev/null
kgk_api POST /apis/rbac.authorization.k8s.io/v1/clusterroles application/json "$tmp/role.json" >/dev/null
json rb '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "r"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
	"subjects": [{"kind": "ServiceAccount", "name": "kernel-gossip", "namespace": "kernel-gossip"}]}' >/dev/null
kgk_api POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings application/json "$tmp/rb.json" >/dev/null
kgk_expect 200 "agent token, once bound to a role listing pods" GET /api/v1/pods "" "" "$agent"
kgk_expect 403 "agent token: what the role does not grant (watch)" GET "/api/v1/pods?watch=1&timeoutSeconds=1" "" "" "$agent"
kgk_admin POST rotate-token '{"who": "agent", "revoke_old": true}' >/dev/null
kgk_expect 401 "the rotated-out agent token" GET /api/v1/pods "" "" "$agent"
kgk_expect 200 "the new one, read again from token-agent" GET /api/v1/pods "" "" "$(cat "$KGK_DIR/token-agent")"
kgk_check "serviceaccount/token holds the new one too" \
	[ "$(cat "$KGK_DIR/token-agent")" = "$(cat "$KGK_DIR/serviceaccount/token")" ]

# --- garbage collection ----------------------------------------------------------
echo "== garbage collection"
kgk_api GET /api/v1/namespaces/default/pods/p1 >/dev/null
p1_uid=$(body .metadata.uid)
w '{"a": "owned"}' "{\"name\": \"w-owned\", \"ownerReferences\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"name\": \"p1\", \"uid\": \"$p1_uid\"}]}" >"$tmp/owned.json"
kgk_expect 201 "a widget owned by pod p1" POST "$W" application/json "$tmp/owned.json"
w '{"a": "orphan"}' '{"name": "w-orphan", "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p1", "uid": "00000000-0000-0000-0000-000000000000"}]}' >"$tmp/orphan.json"
kgk_expect 201 "a widget owned by a pod p1 with another uid (an earlier p1)" POST "$W" application/json "$tmp/orphan.json"
sleep 1
kgk_expect 404 "... is garbage-collected" GET "$W/w-orphan"
kgk_expect 200 "... while p1's own widget stays" GET "$W/w-owned"
kgk_expect 200 "delete pod p1" DELETE /api/v1/namespaces/default/pods/p1
sleep 1
kgk_expect 404 "p1's widget is garbage-collected" GET "$W/w-owned"

# --- faults and the request log ---------------------------------------------------
echo "== faults"
kgk_admin POST faults '{"path_regex": "^/api/v1/namespaces/default/pods$", "status": 429, "retry_after": 1, "count": 2}' >/dev/null
kgk_expect 429 "fault 1/2" GET /api/v1/namespaces/default/pods
kgk_check "Retry-After: 1" grep -qi '^retry-after: 1' "$KGK_HDRS"
kgk_expect 429 "fault 2/2" GET /api/v1/namespaces/default/pods
kgk_expect 200 "then served again" GET /api/v1/namespaces/default/pods
kgk_admin POST faults '{"path_regex": "/widgets/", "method": "PATCH", "status": 503, "skip": 1, "count": 1}' >/dev/null
w '{"a": "y"}' >"$tmp/wb.json"
kgk_expect 200 "a PATCH fault skips the first match" PATCH "$W/w1?fieldManager=b&force=true" $APPLY "$tmp/wb.json"
kgk_expect 200 "GET does not match a PATCH fault" GET "$W/w1"
kgk_expect 503 "the second PATCH gets the 503" PATCH "$W/w1?fieldManager=b&force=true" $APPLY "$tmp/wb.json"
kgk_admin POST faults '{"path_regex": "^/api/v1/nodes$", "delay": 3, "count": 1}' >/dev/null
start=$SECONDS
code=$(KGK_CURL_TIMEOUT=1 kgk_api GET /api/v1/nodes 2>/dev/null)
kgk_check "a delayed answer times the client out (HTTP $code after $((SECONDS - start)) s)" [ "$code" = 000 ]
kgk_admin POST faults '{"path_regex": "^/api/v1/nodes$", "garbage": true, "count": 1}' >/dev/null
sleep 2.5   # the delayed request above finishes on the server first
code=$(kgk_api GET /api/v1/nodes)
kgk_check "garbage: HTTP $code with a body that is not JSON" bash -c "! jq . '$KGK_BODY' >/dev/null 2>&1"
kgk_admin POST faults '{"path_regex": "^/api/v1/nodes$", "drop": true, "count": 1}' >/dev/null
rc=0
curl -sS -o /dev/null --cacert "$KGK_DIR/ca.crt" -H "Authorization: Bearer $KGK_TOKEN" "$KGK_URL/api/v1/nodes" 2>/dev/null || rc=$?
kgk_check "drop: the connection closes without an answer (curl exit $rc)" [ "$rc" = 52 ] || [ "$rc" = 56 ]
kgk_expect 200 "and the next request is served" GET /api/v1/nodes
kgk_check "no fault left" [ "$(kgk_admin GET faults | jq '.faults | length')" = 0 ]
log=$(kgk_admin GET requests)
kgk_check "the request log has every apply of manager b, with its query: $(jq '[.items[] | select(.query.fieldManager == "b")] | length' <<<"$log")" \
	[ "$(jq '[.items[] | select(.method == "PATCH" and .query.fieldManager == "b" and .contentType == "application/apply-patch+yaml")] | length' <<<"$log")" -ge 10 ]
kgk_check "... the injected faults marked, the body parsed" \
	[ "$(jq -c '[.items[] | select(.fault) | .status] | unique' <<<"$log")" = '[200,429,503,"dropped"]' ]

# --- metrics.k8s.io --------------------------------------------------------------
echo "== metrics.k8s.io"
kgk_expect 404 "not served by default" GET /apis/metrics.k8s.io/v1beta1
kgk_admin POST metrics '{"mode": "on"}' >/dev/null
kgk_admin POST podmetrics '{"metadata": {"name": "p2", "namespace": "default"}, "containers": [{"name": "c", "usage": {"cpu": "250m", "memory": "1Mi"}}]}' >/dev/null
kgk_expect 200 "on: PodMetrics of p2" GET /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p2
kgk_check "usage 250m" [ "$(body '.containers[0].usage.cpu')" = 250m ]
kgk_admin POST metrics '{"mode": "unavailable"}' >/dev/null
kgk_expect 503 "unavailable: the aggregated API is down" GET /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p2
kgk_expect 200 "... but still listed in discovery" GET /apis
kgk_check "metrics.k8s.io listed" [ "$(body '[.groups[].name] | index("metrics.k8s.io") != null')" = true ]

# --- pagination ------------------------------------------------------------------
echo "== pagination"
for i in 1 2 3; do
	json cm "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"cm$i\"}}" >/dev/null
	kgk_api POST /api/v1/namespaces/default/configmaps application/json "$tmp/cm.json" >/dev/null
done
kgk_expect 200 "list limit=2" GET "/api/v1/namespaces/default/configmaps?limit=2"
cont=$(body .metadata.continue)
kgk_check "2 items and a continue token" [ "$(body '.items | length'):${cont:+yes}" = 2:yes ]
kgk_expect 200 "the next page" GET "/api/v1/namespaces/default/configmaps?limit=2&continue=$cont"
kgk_check "the last item, no continue" [ "$(body '[.items[].metadata.name, .metadata.continue] | tostring')" = '["cm3",null]' ]

# --- restart ---------------------------------------------------------------------
echo "== restart"
kgk_expect 200 "before" GET "$W/w1"
before=$(body '[.metadata.resourceVersion, .spec.a] | tostring')
restart_token=$(cat "$KGK_DIR/token-agent")
kgk_restart
kgk_check "the server came back on the same address ($KGK_URL)" [ "$KGK_URL" = "$(cat "$KGK_DIR/url")" ]
kgk_expect 200 "after a restart, the object" GET "$W/w1"
kgk_check "is unchanged ($before)" [ "$(body '[.metadata.resourceVersion, .spec.a] | tostring')" = "$before" ]
kgk_expect 200 "the tokens still work" GET /api/v1/pods "" "" "$restart_token"
kgk_expect 200 "the CRD's resources are served" GET "$G"
code=$(kgk_api GET "/api/v1/pods?watch=true&resourceVersion=$list_rv&timeoutSeconds=1")
kgk_check "a watch from before the restart: 410 Expired" [ "$(jq -c '.object.code' "$KGK_BODY")" = 410 ]

echo "PASS: test_apiserver.sh"
