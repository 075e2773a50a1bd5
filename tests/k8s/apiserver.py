#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
apiserver.py - a stand-in for the Kubernetes API server, for kernel-gossip's
tests (no real one can be installed on the test machines).

It is strict where the real server is strict for what kernel-gossip's agent
and a user's kubectl do: HTTPS with a CA generated at start, bearer-token (and
client-certificate) authentication, RBAC evaluated from the Roles and
Bindings applied to it, discovery and OpenAPI v3 good enough for real
kubectl, CustomResourceDefinitions that register resources, structural-schema
pruning and validation, the status subresource, server-side apply with field
ownership, resourceVersion/generation, pod list/watch with field selectors,
bookmarks and 410 expiry, owner-reference garbage collection. Faults (429,
5xx, slow or dropped responses, malformed JSON) are injected through an admin
API, which also exposes a log of every request received.

Python 3 standard library only; the openssl CLI makes the certificates.

  python3 tests/k8s/apiserver.py --port 6443 --dir /tmp/kapi

writes into --dir (reused when the server restarts on the same directory, so
clients keep working across a restart; the objects persist in state.json):
  ca.crt                          the CA clients must trust
  token, token-readonly,          bearer tokens: admin (system:masters); a user
  token-agent                     allowed only get/list/watch; the ServiceAccount
                                  kernel-gossip/kernel-gossip (RBAC from what is
                                  applied, valid only while the SA exists)
  client.crt, client.key          a client certificate (CN kg-test-admin, O system:masters)
  kubeconfig, kubeconfig-readonly, kubeconfig-agent, kubeconfig-cert
  serviceaccount/{token,ca.crt,namespace}   what a pod sees, for in-cluster config
  url                             https://127.0.0.1:PORT
and prints "ready https://127.0.0.1:PORT" on stdout once it accepts connections.

Admin API (admin token required; never faulted, never logged):
  GET|DELETE /_admin/requests[?since=SEQ]   the request log / clear it
  POST /_admin/faults {"path_regex", "method", "status", "retry_after", "count",
                       "delay", "garbage", "drop", "skip"}   GET lists, DELETE clears
  POST /_admin/compact                      forget watch history: older RVs get 410
  POST /_admin/metrics {"mode": "on"|"off"|"unavailable"}   metrics.k8s.io
  POST /_admin/podmetrics {PodMetrics}      store one PodMetrics object
  POST /_admin/rotate-token {"who": "agent", "revoke_old": true}
What it does not check that a real server would is listed in tests/k8s/README.md.
"""

import argparse
import base64
import copy
import datetime
import hashlib
import http.server
import json
import os
import re
import secrets
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque

SERVER_VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0-kernel-gossip-test",
                  "gitCommit": "0000000000000000000000000000000000000000",
                  "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                  "goVersion": "go1.22.0", "compiler": "gc", "platform": "linux/amd64"}
MAX_BODY = 3 * 1024 * 1024          # the real server's request size limit
WATCH_WINDOW = 2000                  # watch events kept; older resourceVersions get 410
AGENT_SA = ("kernel-gossip", "kernel-gossip")


# ---------------------------------------------------------------------------
# Errors: every failure is a metav1.Status, as the real server answers
# ---------------------------------------------------------------------------

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
           413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers or {}

    def status(self):
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def not_found(res, name):
    return ApiError(404, '%s "%s" not found' % (res.qualified(), name),
                    details={"name": name, "group": res.group, "kind": res.plural})


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_age(ts):
    """Age as kubectl shows it (duration.HumanDuration, simplified)."""
    try:
        t = parse_rfc3339(ts)
    except ValueError:
        return "<invalid>"
    s = max(0, int(time.time() - t))
    if s < 120:
        return "%ds" % s
    if s < 3600 * 3:
        return "%dm" % (s // 60)
    if s < 86400 * 2:
        return "%dh" % (s // 3600)
    return "%dd" % (s // 86400)


RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(s):
    m = RFC3339.match(s) if isinstance(s, str) else None
    if not m:
        raise ValueError("not RFC 3339: %r" % (s,))
    y, mo, d, h, mi, sec = (int(x) for x in m.groups()[:6])
    frac = float(m.group(7) or 0)
    tz = m.group(8)
    off = 0 if tz in "Zz" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    dt = datetime.datetime(y, mo, d, h, mi, sec, tzinfo=datetime.timezone.utc)  # validates ranges
    return dt.timestamp() + frac - off


# ---------------------------------------------------------------------------
# PKI and credentials: generated once per --dir, reused on restart
# ---------------------------------------------------------------------------

def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def ensure_pki(d):
    """CA, server and client certificates (EC P-256: fast to make) via the openssl CLI."""
    if os.path.exists(os.path.join(d, "server.crt")):
        return
    p = lambda n: os.path.join(d, n)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "3650",
             "-subj", "/CN=kernel-gossip-test-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n")
    with open(p("client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    for who, subj in (("server", "/CN=kube-apiserver"),
                      ("client", "/O=system:masters/CN=kg-test-admin")):
        _openssl("req", *ec, "-keyout", p(who + ".key"), "-out", p(who + ".csr"), "-subj", subj)
        _openssl("x509", "-req", "-in", p(who + ".csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"),
                 "-CAcreateserial", "-out", p(who + ".crt"), "-days", "365",
                 "-extfile", p(who + ".ext"))
    for n in ("ca.key", "server.key", "client.key"):
        os.chmod(p(n), 0o600)


def read_or_make(path, make):
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    v = make()
    write_file(path, v + "\n", 0o600)
    return v


def write_file(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kubeconfig(url, ca, user_block):
    # JSON is YAML: kubectl and the agent's parser both read this
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "kg-test", "cluster": {"server": url, "certificate-authority": ca}}],
        "users": [{"name": "kg-test-user", "user": user_block}],
        "contexts": [{"name": "kg-test", "context": {"cluster": "kg-test", "user": "kg-test-user",
                                                      "namespace": "default"}}],
        "current-context": "kg-test"}, indent=2) + "\n"


# ---------------------------------------------------------------------------
# Structural schemas: pruning, validation (as apiextensions-apiserver does it)
# ---------------------------------------------------------------------------

def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def type_ok(v, t):
    jt = json_type(v)
    if t == "integer":   # go-openapi accepts 3.0 as an integer, and so do we
        return jt == "integer" or (jt == "number" and float(v).is_integer())
    if t == "number":
        return jt in ("integer", "number")
    return jt == t


def fjoin(path, key):
    return "%s.%s" % (path, key) if path else key


def fidx(path, i):
    return "%s[%s]" % (path, i)


# metav1.ObjectMeta fields: everything else under metadata is pruned, as the
# real server's decoder drops it.
META_FIELDS = {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
               "generation", "creationTimestamp", "deletionTimestamp",
               "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
               "finalizers", "managedFields"}


def prune(obj, schema, path, unknown, root=False):
    """Drop what `schema` does not declare (in place), recording each dropped
    field's path in `unknown`: fieldValidation=Strict turns those into errors,
    the default (Warn) into warnings, and the data is lost either way.
    Nulls of non-nullable fields are dropped too (apiextensions >= 1.20)."""
    if schema is None:
        return
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        keep_unknown = schema.get("x-kubernetes-preserve-unknown-fields") or addl is True
        embedded = root or schema.get("x-kubernetes-embedded-resource")
        for k in list(obj):
            if embedded and k in ("apiVersion", "kind"):
                continue
            if embedded and k == "metadata":
                if isinstance(obj[k], dict):
                    for mk in list(obj[k]):
                        if mk not in META_FIELDS:
                            unknown.append(fjoin(fjoin(path, "metadata"), mk))
                            del obj[k][mk]
                continue
            if k in props:
                sub = props[k]
            elif isinstance(addl, dict):
                sub = addl
            elif keep_unknown:
                continue
            else:
                unknown.append(fjoin(path, k))
                del obj[k]
                continue
            if obj[k] is None and not sub.get("nullable"):
                del obj[k]
                continue
            prune(obj[k], sub, fjoin(path, k) if k in props else "%s[%s]" % (path, k), unknown)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(obj):
            prune(v, schema["items"], fidx(path, i), unknown)


def qv(v):
    """A value as field.Error prints it."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (dict, list)):
        return '"%s"' % json_type(v)
    return json.dumps(v)


def validate(v, s, path, errs):
    """Append (reason, field, message) for every violation of schema s."""
    if s is None:
        return
    if v is None:
        if not s.get("nullable"):
            t = s.get("type", "object")
            errs.append(("FieldValueTypeInvalid", path, 'Invalid value: "null": %s in body must '
                         'be of type %s: "null"' % (path, t)))
        return
    t = s.get("type")
    if s.get("x-kubernetes-int-or-string"):
        if not (json_type(v) in ("integer", "string")):
            errs.append(("FieldValueTypeInvalid", path, 'Invalid value: "%s": %s in body must be '
                         'of type integer or string: "%s"' % (json_type(v), path, json_type(v))))
            return
    elif t and not type_ok(v, t):
        errs.append(("FieldValueTypeInvalid", path, 'Invalid value: "%s": %s in body must be of '
                     'type %s: "%s"' % (json_type(v), path, t, json_type(v))))
        return
    if "enum" in s and v not in s["enum"]:
        errs.append(("FieldValueNotSupported", path, "Unsupported value: %s: supported values: %s"
                     % (qv(v), ", ".join(qv(e) for e in s["enum"]))))
    if isinstance(v, str):
        if "maxLength" in s and len(v) > s["maxLength"]:
            errs.append(("FieldValueTooLong", path, "Too long: may not be longer than %d"
                         % s["maxLength"]))
        if "minLength" in s and len(v) < s["minLength"]:
            errs.append(("FieldValueInvalid", path, 'Invalid value: %s: %s in body should be at '
                         'least %d chars long' % (qv(v), path, s["minLength"])))
        if "pattern" in s and not re.search(s["pattern"], v):
            errs.append(("FieldValueInvalid", path, "Invalid value: %s: %s in body should match "
                         "'%s'" % (qv(v), path, s["pattern"])))
        fmt = s.get("format")
        bad = False
        if fmt == "date-time":
            try:
                parse_rfc3339(v)
            except ValueError:
                bad = True
        elif fmt == "date":
            bad = not re.match(r"^\d{4}-\d{2}-\d{2}$", v)
        elif fmt == "uuid":
            bad = not re.match(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", v)
        if bad:
            errs.append(("FieldValueInvalid", path, 'Invalid value: %s: %s in body must be of '
                         'type %s: %s' % (qv(v), path, fmt, qv(v))))
    if json_type(v) in ("integer", "number"):
        for key, cmp, word in (("minimum", lambda a, b: a < b, "greater than or equal to"),
                               ("maximum", lambda a, b: a > b, "less than or equal to")):
            if key in s and cmp(v, s[key]):
                errs.append(("FieldValueInvalid", path, "Invalid value: %s: %s in body should be "
                             "%s %s" % (qv(v), path, word, s[key])))
    if isinstance(v, dict):
        for r in s.get("required") or []:
            if r not in v:
                errs.append(("FieldValueRequired", fjoin(path, r), "Required value"))
        props = s.get("properties") or {}
        addl = s.get("additionalProperties")
        for k, sub in v.items():
            if k in props:
                validate(sub, props[k], fjoin(path, k), errs)
            elif isinstance(addl, dict):
                validate(sub, addl, "%s[%s]" % (path, k), errs)
    if isinstance(v, list):
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append(("FieldValueTooMany", path, "Too many: %d: must have at most %d items"
                         % (len(v), s["maxItems"])))
        if "minItems" in s and len(v) < s["minItems"]:
            errs.append(("FieldValueInvalid", path, "Invalid value: %d: %s in body should have at "
                         "least %d items" % (len(v), path, s["minItems"])))
        lt = s.get("x-kubernetes-list-type")
        if lt in ("map", "set"):
            seen = set()
            for i, item in enumerate(v):
                k = list_item_key(item, s) if lt == "map" else canon(item)
                if k in seen:
                    errs.append(("FieldValueDuplicate", fidx(path, i), "Duplicate value: %s" % k))
                seen.add(k)
        for i, item in enumerate(v):
            validate(item, s.get("items"), fidx(path, i), errs)
    for sub in s.get("allOf") or []:
        validate(v, sub, path, errs)
    if s.get("anyOf") and not any(_valid(v, sub, path) for sub in s["anyOf"]):
        errs.append(("FieldValueInvalid", path, "Invalid value: %s: must validate at least one "
                     "schema (anyOf)" % qv(v)))
    if s.get("oneOf") and sum(_valid(v, sub, path) for sub in s["oneOf"]) != 1:
        errs.append(("FieldValueInvalid", path, "Invalid value: %s: must validate one and only "
                     "one schema (oneOf)" % qv(v)))
    if isinstance(s.get("not"), dict) and _valid(v, s["not"], path):
        errs.append(("FieldValueInvalid", path, "Invalid value: %s: must not validate the "
                     "schema (not)" % qv(v)))


def _valid(v, s, path):
    e = []
    validate(v, s, path, e)
    return not e


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def list_item_key(item, schema):
    keys = schema.get("x-kubernetes-list-map-keys") or []
    return canon({k: item.get(k) for k in keys if isinstance(item, dict) and k in item})


def invalid(kind_qualified, name, errs, group, kind):
    msgs = ["%s: %s" % (f, m) for _, f, m in errs]
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(422, '%s "%s" is invalid: %s' % (kind_qualified, name, text), details={
        "name": name, "group": group, "kind": kind,
        "causes": [{"reason": r, "message": m, "field": f} for r, f, m in errs]})


# ---------------------------------------------------------------------------
# Object metadata rules (apimachinery validation) the agent can trip on
# ---------------------------------------------------------------------------

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def check_qualified_key(k):
    """Label/annotation key: [prefix/]name, prefix a DNS subdomain <= 253, name <= 63."""
    prefix, _, name = k.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix part must be a lowercase RFC 1123 subdomain"
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character, at most 63 characters")
    return None


def validate_meta(meta, errs, name_label=False):
    name = meta.get("name", "")
    if not name and not meta.get("generateName"):
        errs.append(("FieldValueRequired", "metadata.name", "Required value: name or "
                     "generateName is required"))
    elif name:
        rx = DNS1123_LABEL if name_label else DNS1123_SUBDOMAIN
        if len(name) > (63 if name_label else 253) or not rx.match(name):
            errs.append(("FieldValueInvalid", "metadata.name", 'Invalid value: %s: a lowercase '
                         'RFC 1123 %s must consist of lower case alphanumeric characters, \'-\' '
                         'or \'.\'' % (qv(name), "label" if name_label else "subdomain")))
    for k, v in (meta.get("labels") or {}).items():
        why = check_qualified_key(k)
        if why:
            errs.append(("FieldValueInvalid", "metadata.labels", "Invalid value: %s: %s"
                         % (qv(k), why)))
        if not isinstance(v, str) or len(v) > 63 or (v and not QUALIFIED_NAME.match(v)):
            errs.append(("FieldValueInvalid", "metadata.labels", "Invalid value: %s: a valid "
                         "label value must be 63 characters or less, empty or alphanumeric "
                         "with '-', '_' or '.' inside" % qv(v)))
    ann = meta.get("annotations") or {}
    for k in ann:
        why = check_qualified_key(k)
        if why:
            errs.append(("FieldValueInvalid", "metadata.annotations", "Invalid value: %s: %s"
                         % (qv(k), why)))
    if sum(len(k) + len(str(v)) for k, v in ann.items()) > 256 * 1024:
        errs.append(("FieldValueTooLong", "metadata.annotations", "Too long: must have at most "
                     "262144 bytes"))
    controllers = 0
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        p = fidx("metadata.ownerReferences", i)
        if not isinstance(ref, dict):
            errs.append(("FieldValueTypeInvalid", p, "Invalid value: must be an object"))
            continue
        for f in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(f):
                errs.append(("FieldValueInvalid", fjoin(p, f), 'Invalid value: "": %s must not '
                             'be empty' % f))
        controllers += bool(ref.get("controller"))
    if controllers > 1:
        errs.append(("FieldValueInvalid", "metadata.ownerReferences", "Invalid value: only one "
                     "reference can have Controller set to true"))


# ---------------------------------------------------------------------------
# JSONPath, the subset printer columns and field selectors need:
#   .a.b  ['a.b']  [0]  [*]  [?(@.x.y=="v")]  [?(@.n!=3)]
# ---------------------------------------------------------------------------

_JP_TOKEN = re.compile(r"""\.([A-Za-z0-9_$\-/\\]+(?:\\\.[A-Za-z0-9_\-/]+)*)   # .name
                         |\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]             # ['name']
                         |\[\s*(-?\d+)\s*\]|\[\s*\*\s*\]                       # [0] [*]
                         |\[\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*
                            ("[^"]*"|'[^']*'|-?[\d.]+|true|false)\s*\)\]""", re.X)


def jsonpath_parse(expr):
    if not isinstance(expr, str) or not expr.startswith(".") and not expr.startswith("["):
        raise ValueError("must be a simple json path starting with .")
    steps, pos = [], 0
    while pos < len(expr):
        m = _JP_TOKEN.match(expr, pos)
        if not m:
            raise ValueError("unexpected %r at %d" % (expr[pos:], pos))
        name, q1, q2, idx, fpath, op, lit = m.group(1, 2, 3, 4, 5, 6, 7)
        if name is not None:
            steps.append(("key", name.replace("\\.", ".")))
        elif q1 is not None or q2 is not None:
            steps.append(("key", q1 if q1 is not None else q2))
        elif idx is not None:
            steps.append(("idx", int(idx)))
        elif fpath is not None:
            steps.append(("filter", fpath.strip(".").split("."), op, json.loads(lit.replace("'", '"'))))
        else:
            steps.append(("all",))
        pos = m.end()
    return steps


def jsonpath_eval(obj, steps):
    cur = [obj]
    for st in steps:
        nxt = []
        for c in cur:
            if st[0] == "key" and isinstance(c, dict) and st[1] in c:
                nxt.append(c[st[1]])
            elif st[0] == "idx" and isinstance(c, list) and -len(c) <= st[1] < len(c):
                nxt.append(c[st[1]])
            elif st[0] == "all" and isinstance(c, (list, dict)):
                nxt.extend(c if isinstance(c, list) else c.values())
            elif st[0] == "filter" and isinstance(c, list):
                for item in c:
                    v = item
                    for k in st[1]:
                        v = v.get(k) if isinstance(v, dict) else None
                    if (v == st[3]) == (st[2] == "=="):
                        nxt.append(item)
        cur = nxt
    return cur


# ---------------------------------------------------------------------------
# CustomResourceDefinition rules: the fields apiextensions.k8s.io/v1 knows
# (unknown ones pruned, or 400 with fieldValidation=Strict) and the
# structural-schema rules it enforces (422)
# ---------------------------------------------------------------------------

ANY = None            # shape: anything goes below
SCHEMA = "schema"     # shape: a JSONSchemaProps, recursively
JSONSCHEMA_KEYS = {
    "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
    "maxItems", "minItems", "uniqueItems", "multipleOf", "enum", "maxProperties",
    "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties",
    "additionalProperties", "patternProperties", "dependencies", "additionalItems",
    "definitions", "externalDocs", "example", "nullable", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations"}
CRD_SHAPE = {
    "apiVersion": ANY, "kind": ANY, "metadata": ANY, "status": ANY,
    "spec": {
        "group": ANY, "scope": ANY, "preserveUnknownFields": ANY,
        "names": {"plural": ANY, "singular": ANY, "shortNames": ANY, "kind": ANY,
                  "listKind": ANY, "categories": ANY},
        "conversion": {"strategy": ANY, "webhook": ANY},
        "versions": [{
            "name": ANY, "served": ANY, "storage": ANY, "deprecated": ANY,
            "deprecationWarning": ANY, "schema": {"openAPIV3Schema": SCHEMA},
            "subresources": {"status": {}, "scale": {"specReplicasPath": ANY,
                                                     "statusReplicasPath": ANY,
                                                     "labelSelectorPath": ANY}},
            "additionalPrinterColumns": [{"name": ANY, "type": ANY, "format": ANY,
                                          "description": ANY, "priority": ANY, "jsonPath": ANY}],
            "selectableFields": [{"jsonPath": ANY}]}]}}


def shape_prune(obj, shape, path, unknown):
    """prune() for objects described by a shape rather than a schema."""
    if shape is ANY:
        return
    if shape == SCHEMA:
        if not isinstance(obj, dict):
            return
        for k in list(obj):
            if k not in JSONSCHEMA_KEYS:
                unknown.append(fjoin(path, k))
                del obj[k]
        for k in ("properties", "patternProperties", "definitions"):
            if isinstance(obj.get(k), dict):
                for pk, pv in obj[k].items():
                    shape_prune(pv, SCHEMA, "%s.%s[%s]" % (path, k, pk), unknown)
        for k in ("items", "additionalProperties", "not", "additionalItems"):
            if isinstance(obj.get(k), dict):
                shape_prune(obj[k], SCHEMA, fjoin(path, k), unknown)
        for k in ("allOf", "anyOf", "oneOf"):
            for i, sub in enumerate(obj.get(k) or []):
                shape_prune(sub, SCHEMA, fidx(fjoin(path, k), i), unknown)
        return
    if isinstance(shape, list) and isinstance(obj, list):
        for i, item in enumerate(obj):
            shape_prune(item, shape[0], fidx(path, i), unknown)
    elif isinstance(shape, dict) and isinstance(obj, dict):
        for k in list(obj):
            if k not in shape:
                unknown.append(fjoin(path, k))
                del obj[k]
            else:
                shape_prune(obj[k], shape[k], fjoin(path, k), unknown)


SCHEMA_TYPES = {"object", "array", "string", "integer", "number", "boolean"}
COLUMN_TYPES = {"integer", "number", "string", "boolean", "date"}
COLUMN_FORMATS = {"int32", "int64", "float", "double", "byte", "date", "date-time", "password"}


def check_structural(s, path, errs, kind="root", junctor=False):
    """The structural-schema rules (KEP 1002) the real server enforces on v1 CRDs."""
    if not isinstance(s, dict):
        errs.append(("FieldValueInvalid", path, "Invalid value: must be an object"))
        return
    for k in ("$ref", "definitions", "dependencies", "patternProperties", "additionalItems", "id",
              "$schema"):
        if k in s:
            errs.append(("FieldValueForbidden", fjoin(path, k), "Forbidden: %s is not supported" % k))
    if s.get("uniqueItems"):
        errs.append(("FieldValueForbidden", fjoin(path, "uniqueItems"), "Forbidden: uniqueItems "
                     "cannot be set to true since the runtime complexity becomes quadratic"))
    addl = s.get("additionalProperties")
    if addl is False:
        errs.append(("FieldValueForbidden", fjoin(path, "additionalProperties"), "Forbidden: "
                     "additionalProperties cannot be set to false"))
    if addl is not None and "properties" in s:
        errs.append(("FieldValueForbidden", fjoin(path, "additionalProperties"), "Forbidden: "
                     "additionalProperties and properties are mutual exclusive"))
    t = s.get("type")
    if junctor:
        for k in ("type", "description", "default", "additionalProperties", "nullable"):
            if k in s:
                errs.append(("FieldValueForbidden", fjoin(path, k), "Forbidden: must be empty to "
                             "be structural"))
    elif not t and not s.get("x-kubernetes-int-or-string") and \
            not s.get("x-kubernetes-preserve-unknown-fields"):
        why = {"root": "must not be empty at the root", "field": "must not be empty for "
               "specified object fields", "item": "must not be empty for specified array items"}
        errs.append(("FieldValueRequired", fjoin(path, "type"), "Required value: " + why[kind]))
    if t and t not in SCHEMA_TYPES:
        errs.append(("FieldValueNotSupported", fjoin(path, "type"), "Unsupported value: %s: "
                     "supported values: %s" % (qv(t), ", ".join(qv(x) for x in sorted(SCHEMA_TYPES)))))
    if kind == "root" and t and t != "object":
        errs.append(("FieldValueInvalid", fjoin(path, "type"), 'Invalid value: %s: must be object '
                     'at the root' % qv(t)))
    for pk, pv in (s.get("properties") or {}).items():
        check_structural(pv, "%s.properties[%s]" % (path, pk), errs, "field", junctor)
    if isinstance(addl, dict):
        check_structural(addl, fjoin(path, "additionalProperties"), errs, "field", junctor)
    items = s.get("items")
    if isinstance(items, list):
        errs.append(("FieldValueForbidden", fjoin(path, "items"), "Forbidden: items must be a "
                     "schema object and not an array"))
    elif isinstance(items, dict):
        check_structural(items, fjoin(path, "items"), errs, "item", junctor)
    elif t == "array" and not junctor:
        errs.append(("FieldValueRequired", fjoin(path, "items"), "Required value: must be "
                     "specified"))
    for j in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(s.get(j) or []):
            check_structural(sub, fidx(fjoin(path, j), i), errs, "field", True)
    if isinstance(s.get("not"), dict):
        check_structural(s["not"], fjoin(path, "not"), errs, "field", True)
    lt = s.get("x-kubernetes-list-type")
    if lt is not None:
        if lt not in ("atomic", "set", "map"):
            errs.append(("FieldValueNotSupported", fjoin(path, "x-kubernetes-list-type"),
                         'Unsupported value: %s: supported values: "atomic", "map", "set"' % qv(lt)))
        if t != "array":
            errs.append(("FieldValueInvalid", fjoin(path, "x-kubernetes-list-type"), "Invalid "
                         "value: %s: must only be used if type == array" % qv(lt)))
    if lt == "map":
        keys = s.get("x-kubernetes-list-map-keys") or []
        iprops = (items or {}).get("properties") or {} if isinstance(items, dict) else {}
        if not keys:
            errs.append(("FieldValueRequired", fjoin(path, "x-kubernetes-list-map-keys"),
                         "Required value: must not be empty if x-kubernetes-list-type is map"))
        if not isinstance(items, dict) or items.get("type") != "object":
            errs.append(("FieldValueInvalid", fjoin(path, "items.type"), "Invalid value: must be "
                         "object if parent array's x-kubernetes-list-type is map"))
        for k in keys:
            if k not in iprops:
                errs.append(("FieldValueInvalid", fjoin(path, "x-kubernetes-list-map-keys"),
                             "Invalid value: %s: entries must all be names of item properties" % qv(k)))
            elif iprops[k].get("type") in ("object", "array"):
                errs.append(("FieldValueInvalid", fjoin(path, "x-kubernetes-list-map-keys"),
                             "Invalid value: %s: must be a scalar property" % qv(k)))
    elif "x-kubernetes-list-map-keys" in s:
        errs.append(("FieldValueForbidden", fjoin(path, "x-kubernetes-list-map-keys"), "Forbidden: "
                     "may only be used if x-kubernetes-list-type is map"))


def check_crd(crd):
    """422 errors of a CRD (after pruning); also fills the defaults the server sets."""
    errs = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    if not group or "." not in group or not DNS1123_SUBDOMAIN.match(group):
        errs.append(("FieldValueInvalid", "spec.group", 'Invalid value: %s: should be a domain with '
                     'at least one dot' % qv(group)))
    for f in ("plural", "kind"):
        if not names.get(f):
            errs.append(("FieldValueRequired", "spec.names." + f, "Required value"))
    for f in ("plural", "singular"):
        if names.get(f) and not DNS1123_LABEL.match(names[f]):
            errs.append(("FieldValueInvalid", "spec.names." + f, "Invalid value: %s: a lowercase "
                         "RFC 1123 label" % qv(names[f])))
    for i, sn in enumerate(names.get("shortNames") or []):
        if not isinstance(sn, str) or not DNS1123_LABEL.match(sn):
            errs.append(("FieldValueInvalid", fidx("spec.names.shortNames", i), "Invalid value: %s"
                         % qv(sn)))
    want = "%s.%s" % (names.get("plural", ""), group)
    if crd.get("metadata", {}).get("name") != want:
        errs.append(("FieldValueInvalid", "metadata.name", 'Invalid value: %s: must be '
                     'spec.names.plural+"."+spec.group' % qv(crd.get("metadata", {}).get("name"))))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(("FieldValueNotSupported", "spec.scope", 'Unsupported value: %s: supported '
                     'values: "Cluster", "Namespaced"' % qv(spec.get("scope"))))
    versions = spec.get("versions") or []
    if not versions:
        errs.append(("FieldValueRequired", "spec.versions", "Required value: must have exactly "
                     "one version marked as storage version"))
    if sum(bool(v.get("storage")) for v in versions) != 1:
        errs.append(("FieldValueInvalid", "spec.versions", "Invalid value: must have exactly one "
                     "version marked as storage version"))
    for i, v in enumerate(versions):
        p = fidx("spec.versions", i)
        if not DNS1123_LABEL.match(v.get("name", "")):
            errs.append(("FieldValueInvalid", p + ".name", "Invalid value: %s" % qv(v.get("name"))))
        sch = (v.get("schema") or {}).get("openAPIV3Schema")
        if sch is None:
            errs.append(("FieldValueRequired", p + ".schema.openAPIV3Schema", "Required value: "
                         "schemas are required"))
        else:
            sp = p + ".schema.openAPIV3Schema"
            check_structural(sch, sp, errs)
            meta = (sch.get("properties") or {}).get("metadata")
            if isinstance(meta, dict):
                extra = set(meta) - {"type", "properties", "description"}
                extra |= set(meta.get("properties") or {}) - {"name", "generateName"}
                if extra or meta.get("type", "object") != "object":
                    errs.append(("FieldValueForbidden", sp + ".properties[metadata]", "Forbidden: "
                                 "must not specify anything other than name and generateName, but "
                                 "metadata is implicitly specified"))
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            cp = fidx(p + ".additionalPrinterColumns", j)
            if not col.get("name"):
                errs.append(("FieldValueRequired", cp + ".name", "Required value"))
            if col.get("type") not in COLUMN_TYPES:
                errs.append(("FieldValueNotSupported", cp + ".type", "Unsupported value: %s: "
                             "supported values: %s" % (qv(col.get("type")),
                                                       ", ".join(qv(x) for x in sorted(COLUMN_TYPES)))))
            if "format" in col and col["format"] not in COLUMN_FORMATS:
                errs.append(("FieldValueNotSupported", cp + ".format", "Unsupported value: %s"
                             % qv(col["format"])))
            try:
                jsonpath_parse(col.get("jsonPath"))
            except ValueError as e:
                errs.append(("FieldValueInvalid", cp + ".jsonPath", "Invalid value: %s: %s"
                             % (qv(col.get("jsonPath")), e)))
    return errs


# ---------------------------------------------------------------------------
# Server-side apply: field sets and ownership (structured-merge-diff, reduced)
#
# A field path is a tuple of elements: ("f", name) an object field, ("k", key)
# an item of a list-type=map list, ("v", value) an item of a set, (".",) the
# item itself. Untyped places (built-in kinds we store opaquely, and
# preserve-unknown-fields subtrees) behave as SMD deduces them: maps are
# granular, lists atomic. managedFields are stored as the real FieldsV1 JSON.
# ---------------------------------------------------------------------------

META_SCHEMA = {"type": "object", "properties": {
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    "ownerReferences": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["uid"],
                        "items": {"type": "object", "properties": {
                            "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                            "name": {"type": "string"}, "uid": {"type": "string"},
                            "controller": {"type": "boolean"},
                            "blockOwnerDeletion": {"type": "boolean"}}}},
    "finalizers": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}}
OWNED_META = set(META_SCHEMA["properties"])


def root_schema(schema):
    """The schema SSA walks: the CRD's (or none, for opaque kinds) with ObjectMeta's rules."""
    s = dict(schema) if schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    s["properties"] = dict(s.get("properties") or {}, metadata=META_SCHEMA)
    return s


def sub_schema(schema, key):
    if not schema:
        return None
    props = schema.get("properties") or {}
    if key in props:
        return props[key]
    addl = schema.get("additionalProperties")
    return addl if isinstance(addl, dict) else None


def is_atomic_map(schema):
    return bool(schema) and schema.get("x-kubernetes-map-type") == "atomic"


def list_type(schema):
    return (schema or {}).get("x-kubernetes-list-type", "atomic")


def leaves(v, schema, prefix, out):
    if isinstance(v, dict) and not is_atomic_map(schema):
        if not v and prefix:
            out.add(prefix)
        for k, c in v.items():
            leaves(c, sub_schema(schema, k), prefix + (("f", k),), out)
    elif isinstance(v, list) and list_type(schema) == "map":
        for item in v:
            kp = prefix + (("k", list_item_key(item, schema)),)
            out.add(kp + ((".",),))
            leaves(item, schema.get("items"), kp, out)
    elif isinstance(v, list) and list_type(schema) == "set":
        for item in v:
            out.add(prefix + (("v", canon(item)),))
    elif prefix:
        out.add(prefix)


def object_leaves(obj, schema):
    """The fields of a whole object that managedFields track: not apiVersion,
    kind, or metadata the server owns (name, uid, resourceVersion, ...)."""
    out = set()
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k in OWNED_META}
    if meta:
        body["metadata"] = meta
    leaves(body, root_schema(schema), (), out)
    return out


_MISSING = object()


def get_path(obj, path):
    cur = obj
    for el in path:
        if el[0] == "f":
            if not isinstance(cur, dict) or el[1] not in cur:
                return _MISSING
            cur = cur[el[1]]
        elif el[0] in ("k", "v"):
            if not isinstance(cur, list):
                return _MISSING
            want = json.loads(el[1])
            for item in cur:
                if (el[0] == "v" and canon(item) == el[1]) or (
                        el[0] == "k" and isinstance(item, dict) and
                        all(item.get(k) == want[k] for k in want)):
                    cur = item
                    break
            else:
                return _MISSING
    return cur


def remove_path(obj, path):
    if path and path[-1] == (".",):
        path = path[:-1]
    parent = get_path(obj, path[:-1])
    last = path[-1]
    if last[0] == "f" and isinstance(parent, dict):
        parent.pop(last[1], None)
    elif last[0] in ("k", "v") and isinstance(parent, list):
        item = get_path(obj, path)
        if item is not _MISSING:
            parent.remove(item)


def merge_applied(live, applied, schema):
    """Apply's merge: maps merge field by field, map-lists by key, sets by
    value; everything else (scalars, atomic lists) is replaced."""
    if isinstance(applied, dict) and isinstance(live, dict) and not is_atomic_map(schema):
        out = dict(live)
        for k, v in applied.items():
            out[k] = merge_applied(live.get(k), v, sub_schema(schema, k))
        return out
    if isinstance(applied, list) and isinstance(live, list) and list_type(schema) == "map":
        out = [copy.deepcopy(i) for i in live]
        for item in applied:
            key = list_item_key(item, schema)
            for n, cur in enumerate(out):
                if list_item_key(cur, schema) == key:
                    out[n] = merge_applied(cur, item, schema.get("items"))
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    if isinstance(applied, list) and isinstance(live, list) and list_type(schema) == "set":
        return copy.deepcopy(live) + [copy.deepcopy(x) for x in applied if x not in live]
    return copy.deepcopy(applied)


def _enc(el):
    return "." if el == (".",) else "%s:%s" % el


def _dec(key):
    return (".",) if key == "." else tuple(key.split(":", 1))


def to_fieldsv1(paths):
    tree = {}
    for p in sorted(paths):
        node = tree
        for el in p:
            node = node.setdefault(_enc(el), {})
    return tree


def from_fieldsv1(tree, prefix=()):
    out = set()
    for key, sub in (tree or {}).items():
        p = prefix + (_dec(key),)
        if sub:
            out |= from_fieldsv1(sub, p)
        else:
            out.add(p)
    return out


def path_str(p):
    """.spec.podName, .status.conditions[type="Ready"].status: as SMD prints paths."""
    s = ""
    for el in p:
        if el[0] == "f":
            s += "." + el[1]
        elif el[0] == "k":
            s += "[" + ",".join("%s=%s" % (k, json.dumps(v)) for k, v in json.loads(el[1]).items()) + "]"
        elif el[0] == "v":
            s += "[%s]" % el[1]
    return s


class Managed:
    """metadata.managedFields as sets, keyed by (manager, operation, subresource)."""

    def __init__(self, entries):
        self.entries = []
        for e in entries or []:
            self.entries.append({"manager": e.get("manager", ""), "operation": e.get("operation"),
                                 "subresource": e.get("subresource", ""),
                                 "apiVersion": e.get("apiVersion"), "time": e.get("time"),
                                 "set": from_fieldsv1(e.get("fieldsV1"))})

    def entry(self, manager, op, sub, gv):
        for e in self.entries:
            if (e["manager"], e["operation"], e["subresource"]) == (manager, op, sub):
                return e
        e = {"manager": manager, "operation": op, "subresource": sub, "apiVersion": gv,
             "time": None, "set": set()}
        self.entries.append(e)
        return e

    def dump(self):
        out = []
        for e in self.entries:
            if not e["set"]:
                continue
            d = {"manager": e["manager"], "operation": e["operation"], "apiVersion": e["apiVersion"],
                 "time": e["time"] or now_rfc3339(), "fieldsType": "FieldsV1",
                 "fieldsV1": to_fieldsv1(e["set"])}
            if e["subresource"]:
                d["subresource"] = e["subresource"]
            out.append(d)
        return out


def duplicate_keys(v, schema, path, errs):
    """Map-list items sharing a key (or set items repeating): an applied
    configuration must not have them (merging them would be ambiguous)."""
    if not schema:
        return
    if isinstance(v, dict):
        for k, c in v.items():
            duplicate_keys(c, sub_schema(schema, k), fjoin(path, k), errs)
    elif isinstance(v, list):
        lt, seen = list_type(schema), set()
        for i, item in enumerate(v):
            if lt in ("map", "set"):
                key = list_item_key(item, schema) if lt == "map" else canon(item)
                if key in seen:
                    errs.append(("FieldValueDuplicate", fidx(path, i), "Duplicate value: %s" % key))
                seen.add(key)
            duplicate_keys(item, schema.get("items"), fidx(path, i), errs)


def ssa_apply(live, applied, schema, manager, sub, force, gv):
    """Merge `applied` (already pruned and stripped of what this endpoint
    ignores) into `live` for `manager`. Returns the new object; raises 409
    listing the conflicts unless force."""
    mf = Managed((live.get("metadata") or {}).get("managedFields"))
    me = mf.entry(manager, "Apply", sub, gv)
    applied_set = object_leaves(applied, schema)
    conflicts = []
    for e in mf.entries:
        if e is me:
            continue
        for p in sorted(applied_set & e["set"]):
            if get_path(live, p) != get_path(applied, p) and p[-1] != (".",):
                conflicts.append((e, p))
    if conflicts and not force:
        by = {}
        for e, p in conflicts:
            by.setdefault(e["manager"], []).append(path_str(p))
        n = len(conflicts)
        msg = "Apply failed with %d conflict%s: " % (n, "" if n == 1 else "s") + "; ".join(
            'conflict%s with "%s"%s: %s' % ("s" if len(ps) > 1 else "", m,
                                            " using " + gv, ", ".join(ps)) for m, ps in by.items())
        raise ApiError(409, msg, details={"causes": [
            {"reason": "FieldManagerConflict", "message": 'conflict with "%s" using %s'
             % (e["manager"], gv), "field": path_str(p)} for e, p in conflicts]})
    for e, p in conflicts:      # force: the applier takes the fields over
        e["set"].discard(p)
    merged = merge_applied(live, {k: v for k, v in applied.items() if k != "metadata"},
                           root_schema(schema))
    ameta = {k: v for k, v in (applied.get("metadata") or {}).items() if k in OWNED_META}
    if ameta:
        merged["metadata"] = merge_applied(live.get("metadata") or {}, ameta, META_SCHEMA)
    others = set().union(*[e["set"] for e in mf.entries if e is not me])
    # no longer applied and nobody else owns it (or, for a list item, anything
    # inside it): removed. Whole items first; a key field is never removed
    # from an item that stays (the key is what identifies the item).
    gone = me["set"] - applied_set
    for p in sorted(gone, key=lambda p: (p[-1] != (".",), -len(p))):
        inside = p[:-1] if p[-1] == (".",) else p
        if any(o[:len(inside)] == inside for o in others):
            continue
        if len(p) >= 2 and p[-1][0] == "f" and p[-2][0] == "k" and p[-1][1] in json.loads(p[-2][1]):
            continue
        remove_path(merged, p)
    if me["set"] != applied_set:
        me["time"] = now_rfc3339()
    me["set"] = applied_set
    merged.setdefault("metadata", {})["managedFields"] = mf.dump()
    return merged


def track_update(old, new, schema, manager, sub, gv):
    """Ownership after a non-apply write: the writer owns what it changed;
    removed fields are nobody's."""
    mf = Managed((old or {}).get("metadata", {}).get("managedFields"))
    new_set = object_leaves(new, schema)
    old_set = object_leaves(old, schema) if old else set()
    changed = {p for p in new_set if p not in old_set or get_path(old, p) != get_path(new, p)}
    for e in mf.entries:
        e["set"] -= changed
        e["set"] &= new_set
    if changed:
        me = mf.entry(manager, "Update", sub, gv)
        me["set"] |= changed
        me["time"] = now_rfc3339()
    new.setdefault("metadata", {})["managedFields"] = mf.dump()


# ---------------------------------------------------------------------------
# Other patch types: JSON merge (RFC 7386), JSON patch (RFC 6902), and
# strategic merge for built-in kinds, approximated (see README)
# ---------------------------------------------------------------------------

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


SMP_KEYS = ("name", "mountPath", "containerPort", "uid", "type", "ip", "devicePath")


def strategic_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            out[name] = [x for x in out.get(name) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        cur = out.get(k)
        if isinstance(v, list) and isinstance(cur, list) and v and \
                all(isinstance(i, dict) for i in v + cur):
            key = next((mk for mk in SMP_KEYS if all(mk in i for i in v + cur)), None)
            if key:
                res = [copy.deepcopy(i) for i in cur]
                for item in v:
                    idx = next((n for n, c in enumerate(res) if c[key] == item[key]), None)
                    if item.get("$patch") == "delete":
                        if idx is not None:
                            res.pop(idx)
                    elif idx is not None:
                        res[idx] = strategic_patch(res[idx], item)
                    else:
                        res.append(strategic_patch({}, item))
                out[k] = res
                continue
        out[k] = strategic_patch(cur, v) if isinstance(v, dict) else copy.deepcopy(v)
    return out


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)

    def split(ptr):
        if ptr == "":
            return []
        if not ptr.startswith("/"):
            raise ValueError("bad pointer %r" % ptr)
        return [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]

    def walk(parts):
        cur = doc
        for p in parts:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def put(parts, val, replace):
        parent = walk(parts[:-1])
        last = parts[-1]
        if isinstance(parent, list):
            i = len(parent) if last == "-" else int(last)
            if replace:
                parent[i] = val
            else:
                parent.insert(i, val)
        else:
            if replace and last not in parent:
                raise KeyError(last)
            parent[last] = val

    def take(parts):
        parent = walk(parts[:-1])
        return parent.pop(int(parts[-1]) if isinstance(parent, list) else parts[-1])

    for op in ops if isinstance(ops, list) else [None]:
        if not isinstance(op, dict):
            raise ValueError("a JSON patch is a list of operations")
        path = split(op.get("path", ""))
        o = op.get("op")
        if o == "add":
            put(path, copy.deepcopy(op["value"]), False)
        elif o == "remove":
            take(path)
        elif o == "replace":
            put(path, copy.deepcopy(op["value"]), True)
        elif o in ("move", "copy"):
            v = take(split(op["from"])) if o == "move" else copy.deepcopy(walk(split(op["from"])))
            put(path, v, False)
        elif o == "test":
            if walk(path) != op.get("value"):
                raise ValueError("testing value %s failed" % op.get("path"))
        else:
            raise ValueError("unknown op %r" % o)
    return doc


# ---------------------------------------------------------------------------
# Resources: the built-in kinds kubectl and the agent touch (stored opaquely:
# no schema, no status rules) and the custom ones CRDs register
# ---------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
META_LABELS = ("metadata.name", "metadata.namespace")


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, singular=None, short=(),
                 categories=(), verbs=ALL_VERBS, schema=None, status=False, columns=None,
                 field_labels=(), builtin=True, list_kind=None, generation=False):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced, self.singular = namespaced, singular or kind.lower()
        self.short, self.categories, self.verbs = list(short), list(categories), list(verbs)
        self.schema, self.status, self.columns, self.builtin = schema, status, columns, builtin
        self.field_labels = set(META_LABELS) | set(field_labels)
        self.list_kind = list_kind or kind + "List"
        self.generation = generation or not builtin

    @property
    def gv(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    def qualified(self):
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    def kind_qualified(self):
        return "%s.%s" % (self.kind, self.group) if self.group else self.kind


POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
              "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
              "status.podIPs", "status.nominatedNodeName")
EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")
RBAC = "rbac.authorization.k8s.io"
BUILTINS = [
    Resource("", "v1", "namespaces", "Namespace", False, short=["ns"], field_labels=["status.phase"]),
    Resource("", "v1", "pods", "Pod", True, short=["po"], categories=["all"], field_labels=POD_FIELDS),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, short=["sa"]),
    Resource("", "v1", "events", "Event", True, short=["ev"], field_labels=EVENT_FIELDS),
    Resource("", "v1", "configmaps", "ConfigMap", True, short=["cm"]),
    Resource("", "v1", "nodes", "Node", False, short=["no"]),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, short=["ds"], categories=["all"],
             generation=True),
    Resource("apps", "v1", "deployments", "Deployment", True, short=["deploy"],
             categories=["all"], generation=True),
    Resource(RBAC, "v1", "clusterroles", "ClusterRole", False),
    Resource(RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Resource(RBAC, "v1", "roles", "Role", True),
    Resource(RBAC, "v1", "rolebindings", "RoleBinding", True),
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
             False, short=["crd", "crds"], generation=True),
]
METRICS = [Resource("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True,
                    verbs=["get", "list"]),
           Resource("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False,
                    verbs=["get", "list"])]
CRD_RES = BUILTINS[-1]
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def resources_from_crd(crd):
    spec = crd["spec"]
    n = spec["names"]
    out = []
    for v in spec["versions"]:
        if not v.get("served", True):
            continue
        schema = v["schema"]["openAPIV3Schema"]
        sel = [c.get("jsonPath", "").lstrip(".") for c in v.get("selectableFields") or []]
        out.append(Resource(spec["group"], v["name"], n["plural"], n["kind"],
                            spec["scope"] == "Namespaced", singular=n.get("singular"),
                            short=n.get("shortNames") or [], categories=n.get("categories") or [],
                            schema=schema, status="status" in (v.get("subresources") or {}),
                            columns=v.get("additionalPrinterColumns"), field_labels=sel,
                            builtin=False, list_kind=n.get("listKind")))
    return out


# ---------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------

def parse_field_selector(sel, res):
    """[(path, op, value)]; 400 for a field the resource does not index, as the real server."""
    out = []
    for part in filter(None, (sel or "").split(",")):
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'" % (sel, part))
        key, op, val = m.groups()
        if key not in res.field_labels:
            raise ApiError(400, '"%s" is not a known field selector: only %s' % (
                key, ", ".join('"%s"' % f for f in sorted(res.field_labels))))
        out.append((key, op != "!=", val))
    return out


def field_value(obj, path):
    v = obj
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def parse_label_selector(sel):
    reqs = []
    parts, depth, cur = [], 0, ""
    for ch in sel or "":
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in (x.strip() for x in parts):
        if not p:
            continue
        m = re.match(r"^(\S+)\s+(in|notin)\s*\(([^)]*)\)$", p)
        if m:
            reqs.append((m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}))
            continue
        m = re.match(r"^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$", p)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", {m.group(3)}))
        elif p.startswith("!"):
            reqs.append((p[1:].strip(), "!", set()))
        elif re.match(r"^[A-Za-z0-9./_-]+$", p):
            reqs.append((p, "exists", set()))
        else:
            raise ApiError(400, "unable to parse requirement: %s" % p)
    return reqs


def selected(obj, fsel, lsel):
    for key, eq, val in fsel:
        if (field_value(obj, key) == val) != eq:
            return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, vals in lsel:
        has = key in labels
        v = labels.get(key)
        ok = {"=": has and v in vals, "in": has and v in vals, "!=": not has or v not in vals,
              "notin": not has or v not in vals, "exists": has, "!": not has}[op]
        if not ok:
            return False
    return True


# ---------------------------------------------------------------------------
# The store: objects, one resourceVersion counter, a bounded window of watch
# events, persisted to --dir/state.json so a restarted server keeps its data
# ---------------------------------------------------------------------------

class Store:
    def __init__(self, path):
        self.cv = threading.Condition(threading.RLock())
        self.path = path
        self.rv = 1
        self.objects = {}          # (group, plural) -> {(namespace, name): object}
        self.events = deque()      # (rv, (group, plural), type, object, old object)
        self.horizon = 1           # watches from an older resourceVersion get 410 Gone
        self.crd_resources = {}    # CRD name -> [Resource]
        self.metrics_mode = "off"
        if path and os.path.exists(path):
            with open(path) as f:
                st = json.load(f)
            self.rv = st["rv"]
            for g, p, obj in st["objects"]:
                m = obj["metadata"]
                self.objects.setdefault((g, p), {})[(m.get("namespace", ""), m["name"])] = obj
            self.metrics_mode = st.get("metrics_mode", "off")
            # the watch history is not persisted: after a restart every older
            # resourceVersion is too old, as after a real server's restart
            self.horizon = self.rv
        for crd in self.list_raw(CRD_RES):
            self.crd_resources[crd["metadata"]["name"]] = resources_from_crd(crd)
        for ns in INITIAL_NAMESPACES:
            if not self.get(builtin("namespaces"), "", ns):
                self.put(builtin("namespaces"), new_meta({"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": ns},
                                                "status": {"phase": "Active"}}, ""), "ADDED", None)

    def resources(self):
        out = list(BUILTINS)
        if self.metrics_mode != "off":
            out += METRICS
        for rs in self.crd_resources.values():
            out += rs
        return out

    def find(self, group, version, plural):
        for r in self.resources():
            if (r.group, r.version, r.plural) == (group, version, plural):
                return r
        return None

    def get(self, res, ns, name):
        return self.objects.get((res.group, res.plural), {}).get((ns, name))

    def list_raw(self, res, ns=None):
        objs = self.objects.get((res.group, res.plural), {})
        return [o for (ons, _), o in sorted(objs.items()) if ns is None or ons == ns]

    def put(self, res, obj, etype, old):
        """Commit a create/update (obj) or a delete (obj = the deleted object)."""
        with self.cv:
            self.rv += 1
            m = obj["metadata"]
            m["resourceVersion"] = str(self.rv)
            key = (m.get("namespace", ""), m["name"])
            bucket = self.objects.setdefault((res.group, res.plural), {})
            if etype == "DELETED":
                bucket.pop(key, None)
            else:
                bucket[key] = obj
            self.events.append((self.rv, (res.group, res.plural), etype, obj, old))
            while len(self.events) > WATCH_WINDOW:
                self.horizon = self.events.popleft()[0]
            self.save()
            self.cv.notify_all()
            return obj

    def compact(self):
        with self.cv:
            self.events.clear()
            self.horizon = self.rv
            self.cv.notify_all()

    def save(self):
        if not self.path:
            return
        objs = [[g, p, o] for (g, p), b in self.objects.items() for o in b.values()]
        write_file(self.path, json.dumps({"rv": self.rv, "objects": objs,
                                          "metrics_mode": self.metrics_mode}), 0o600)


def new_meta(obj, ns):
    m = obj.setdefault("metadata", {})
    if ns:
        m["namespace"] = ns
    m["uid"] = str(uuid.uuid4())
    m["creationTimestamp"] = now_rfc3339()
    return obj


# ---------------------------------------------------------------------------
# Authentication and authorization
# ---------------------------------------------------------------------------

class User:
    def __init__(self, name, groups, sa=None):
        self.name, self.groups, self.sa = name, list(groups) + ["system:authenticated"], sa


READONLY_USER = "kg-test-readonly"


def rbac_rules(store, user, ns):
    """Rules granted to user by the Cluster/RoleBindings stored, as the RBAC authorizer."""
    def subject_ok(s):
        k = s.get("kind")
        if k == "ServiceAccount":
            return user.sa == (s.get("namespace"), s.get("name"))
        if k == "User":
            return s.get("name") == user.name
        if k == "Group":
            return s.get("name") in user.groups
        return False

    def role_rules(ref, bns):
        if ref.get("kind") == "ClusterRole":
            r = store.get(builtin("clusterroles"), "", ref.get("name", ""))
        else:
            r = store.get(builtin("roles"), bns, ref.get("name", ""))
        return (r or {}).get("rules") or []

    rules = []
    for b in store.list_raw(builtin("clusterrolebindings")):
        if any(subject_ok(s) for s in b.get("subjects") or []):
            rules += role_rules(b.get("roleRef") or {}, "")
    if ns:
        for b in store.list_raw(builtin("rolebindings"), ns):
            if any(subject_ok(s) for s in b.get("subjects") or []):
                rules += role_rules(b.get("roleRef") or {}, ns)
    return rules


def rule_allows(rule, verb, group, resource, sub, name):
    def has(lst, v):
        return "*" in lst or v in lst
    if not has(rule.get("verbs") or [], verb) or not has(rule.get("apiGroups") or [], group):
        return False
    res = rule.get("resources") or []
    full = resource + ("/" + sub if sub else "")
    if not ("*" in res or full in res or (sub and "*/" + sub in res)):
        return False
    names = rule.get("resourceNames") or []
    return not names or name in names


def authorize(store, user, verb, group, resource, sub, ns, name):
    if "system:masters" in user.groups:
        return True
    if user.name == READONLY_USER:
        return verb in ("get", "list", "watch")
    return any(rule_allows(r, verb, group, resource, sub, name)
               for r in rbac_rules(store, user, ns))


def forbidden(user, verb, res, sub, ns, name):
    what = res.plural + ("/" + sub if sub else "")
    where = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
    subject = '%s "%s"' % (res.qualified(), name) if name else res.qualified()
    return ApiError(403, '%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
                    % (subject, user.name, verb, what, res.group, where),
                    details={"name": name or None, "group": res.group, "kind": res.plural})


# ---------------------------------------------------------------------------
# Discovery and OpenAPI v3 (what kubectl reads before it does anything)
# ---------------------------------------------------------------------------

def group_versions(store):
    """{group: [versions]} of what is served, core ("") first."""
    out = {}
    for r in store.resources():
        vs = out.setdefault(r.group, [])
        if r.version not in vs:
            vs.append(r.version)
    return out


def api_group(g, versions):
    vs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in versions]
    return {"name": g, "versions": vs, "preferredVersion": vs[0]}


def api_resource_list(store, group, version):
    rs = [r for r in store.resources() if (r.group, r.version) == (group, version)]
    if not rs:
        return None
    out = []
    for r in rs:
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
             "kind": r.kind, "verbs": r.verbs,
             "storageVersionHash": base64.b64encode(hashlib.sha256(
                 r.qualified().encode()).digest()[:8]).decode()}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        out.append(e)
        if r.status:
            out.append({"name": r.plural + "/status", "singularName": "", "namespaced": r.namespaced,
                        "kind": r.kind, "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": rs[0].gv, "resources": out}


META_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
META_COMPONENTS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
        "type": "object", "description": "Standard object metadata.",
        "properties": {
            "name": {"type": "string"}, "generateName": {"type": "string"},
            "namespace": {"type": "string"}, "uid": {"type": "string"},
            "resourceVersion": {"type": "string"}, "selfLink": {"type": "string"},
            "generation": {"type": "integer", "format": "int64"},
            "creationTimestamp": {"type": "string", "format": "date-time"},
            "deletionTimestamp": {"type": "string", "format": "date-time"},
            "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
            "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
            "annotations": {"type": "object",
                            "additionalProperties": {"type": "string", "default": ""}},
            "finalizers": {"type": "array", "items": {"type": "string", "default": ""},
                           "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
            "ownerReferences": {
                "type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["uid"], "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
                "items": {"default": {}, "allOf": [{"$ref": "#/components/schemas/"
                                                    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"}]}},
            "managedFields": {
                "type": "array",
                "items": {"default": {}, "allOf": [{"$ref": "#/components/schemas/"
                                                    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"}]}}}},
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
        "type": "object", "required": ["apiVersion", "kind", "name", "uid"],
        "properties": {"apiVersion": {"type": "string", "default": ""},
                       "kind": {"type": "string", "default": ""},
                       "name": {"type": "string", "default": ""},
                       "uid": {"type": "string", "default": ""},
                       "controller": {"type": "boolean"},
                       "blockOwnerDeletion": {"type": "boolean"}},
        "x-kubernetes-map-type": "atomic"},
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": {
        "type": "object",
        "properties": {"manager": {"type": "string"}, "operation": {"type": "string"},
                       "apiVersion": {"type": "string"}, "time": {"type": "string",
                                                                  "format": "date-time"},
                       "fieldsType": {"type": "string"}, "fieldsV1": {"type": "object"},
                       "subresource": {"type": "string"}}},
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": {
        "type": "object",
        "properties": {"resourceVersion": {"type": "string"}, "continue": {"type": "string"},
                       "remainingItemCount": {"type": "integer", "format": "int64"}}},
}


def schema_name(r):
    if r.builtin:
        g = {"": "core", RBAC: "rbac", "apiextensions.k8s.io": "apiextensions"}.get(
            r.group, r.group.split(".")[0])
        return "io.k8s.api.%s.%s.%s" % (g, r.version, r.kind)
    return "%s.%s.%s" % (".".join(reversed(r.group.split("."))), r.version, r.kind)


def openapi_gv(store, group, version):
    """The per-group-version OpenAPI v3 document. kubectl needs, per kind, a
    PATCH operation tagged with its GroupVersionKind that lists the
    fieldValidation parameter (then it validates server-side and sends
    fieldValidation=Strict), and the kinds' schemas (kubectl explain)."""
    rs = [r for r in store.resources() if (r.group, r.version) == (group, version)]
    if not rs:
        return None
    paths, comps = {}, copy.deepcopy(META_COMPONENTS)
    qp = lambda n, d: {"name": n, "in": "query", "description": d, "schema": {"type": "string"}}
    write_params = [qp("dryRun", "When present, do not persist."),
                    qp("fieldManager", "Name of the actor making the change."),
                    qp("fieldValidation", "Ignore, Warn or Strict: what to do with unknown "
                       "or duplicate fields."), qp("pretty", "Pretty-print the output.")]
    for r in rs:
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        ref = {"$ref": "#/components/schemas/" + schema_name(r)}
        lref = {"$ref": "#/components/schemas/" + schema_name(r) + "List"}
        body = lambda s, types=("application/json",): {"content": {t: {"schema": s} for t in types}}
        ok = lambda s: {"200": dict(description="OK", **body(s)),
                        "401": {"description": "Unauthorized"}}

        def op(verb, action, schema, params=(), req=None):
            o = {"operationId": "%s%s" % (verb, r.kind), "x-kubernetes-action": action,
                 "x-kubernetes-group-version-kind": gvk, "parameters": list(params),
                 "responses": ok(schema)}
            if req:
                o["requestBody"] = req
            return o
        base = "/api/%s" % r.version if not r.group else "/apis/%s/%s" % (r.group, r.version)
        coll = base + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural
        pp = [{"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}}] \
            if r.namespaced else []
        name_p = pp + [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
        # Strategic merge is not declared, even for built-in kinds: kubectl
        # would then build the patch from these (opaque) schemas; without it
        # kubectl falls back to its compiled-in types for built-in kinds and
        # to a JSON merge patch for the others, which is what it needs.
        patch_types = ["application/json-patch+json", "application/merge-patch+json",
                       "application/apply-patch+yaml"]
        item_ops = {"parameters": name_p, "get": op("read", "get", ref)}
        if "list" in r.verbs:
            paths[coll] = {"parameters": pp, "get": op("list", "list", lref)}
        if "create" in r.verbs:
            paths[coll]["post"] = op("create", "post", ref, write_params, body(ref))
            item_ops["put"] = op("replace", "put", ref, write_params, body(ref))
            item_ops["patch"] = op("patch", "patch", ref, write_params + [
                qp("force", "Force an apply: take over conflicting fields.")],
                {"content": {t: {"schema": {"type": "object"}} for t in patch_types}})
            item_ops["delete"] = op("delete", "delete", ref, [qp("dryRun", "")])
        paths[coll + "/{name}"] = item_ops
        if r.status:
            paths[coll + "/{name}/status"] = {
                "parameters": name_p, "get": op("read", "get", ref),
                "put": op("replace", "put", ref, write_params, body(ref)),
                "patch": op("patch", "patch", ref, write_params + [qp("force", "")],
                            {"content": {t: {"schema": {"type": "object"}} for t in patch_types}})}
        if r.schema:
            s = copy.deepcopy(r.schema)
            s.setdefault("properties", {})
            s["properties"]["metadata"] = {"allOf": [{"$ref": META_REF}], "default": {},
                                           "description": "Standard object metadata."}
            s["properties"]["apiVersion"] = {"type": "string", "description": "APIVersion of "
                                             "this representation of an object."}
            s["properties"]["kind"] = {"type": "string", "description": "Kind: the REST "
                                       "resource this object represents."}
        else:
            s = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "description": "(stored opaquely by the kernel-gossip test API server)",
                 "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                "metadata": {"allOf": [{"$ref": META_REF}], "default": {}}}}
        s["x-kubernetes-group-version-kind"] = [gvk]
        comps[schema_name(r)] = s
        comps[schema_name(r) + "List"] = {
            "type": "object", "required": ["items"],
            "x-kubernetes-group-version-kind": [dict(gvk, kind=r.list_kind)],
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                           "items": {"type": "array", "items": ref},
                           "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s."
                                                   "apimachinery.pkg.apis.meta.v1.ListMeta"}]}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (kernel-gossip test server)",
                                         "version": SERVER_VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": comps}}


def openapi_v2(store):
    """A minimal OpenAPI v2 (swagger) document: for each kind, its PATCH
    operation with the GroupVersionKind and the fieldValidation parameter.
    kubectl <= 1.28 looks for exactly that (then validates server-side)
    before it sends anything; it has no definitions, so kubectl skips
    client-side schema checks of its own. Returns (json, protobuf)."""
    paths = {}
    for r in store.resources():
        if r.group == "metrics.k8s.io" or "patch" not in r.verbs:
            continue
        base = "/api/%s" % r.version if not r.group else "/apis/%s/%s" % (r.group, r.version)
        item = base + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural + "/{name}"
        paths[item] = {"patch": {
            "operationId": "patch" + r.kind,
            "parameters": [{"name": n, "in": "query", "type": "string"}
                           for n in ("dryRun", "fieldManager", "fieldValidation", "force")],
            "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version,
                                                "kind": r.kind}}}
    doc = {"swagger": "2.0", "info": {"title": "Kubernetes (kernel-gossip test server)",
                                      "version": SERVER_VERSION["gitVersion"]}, "paths": paths}

    # gnostic's openapi_v2.Document, hand-encoded for the fields above
    def varint(n):
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                return out

    def f(num, payload):
        payload = payload.encode() if isinstance(payload, str) else payload
        return varint(num << 3 | 2) + varint(len(payload)) + payload

    pb_paths = b""
    for path, item in paths.items():
        op = item["patch"]
        o = f(5, op["operationId"])
        for prm in op["parameters"]:
            query = f(2, prm["in"]) + f(4, prm["name"]) + f(6, prm["type"])
            o += f(8, f(1, f(2, f(3, query))))   # ParametersItem.Parameter.NonBody.Query
        o += f(13, f(1, "x-kubernetes-group-version-kind") +
               f(2, f(2, json.dumps(op["x-kubernetes-group-version-kind"]))))
        pb_paths += f(2, f(1, path) + f(2, f(8, o)))   # NamedPathItem{name, PathItem{patch}}
    pb = f(1, "2.0") + f(2, f(1, doc["info"]["title"]) + f(2, doc["info"]["version"])) + \
        f(8, pb_paths)
    return doc, pb


def doc_hash(doc):
    return hashlib.sha512(canon(doc).encode()).hexdigest().upper()[:64]


# ---------------------------------------------------------------------------
# Tables (kubectl get): the CRD's additionalPrinterColumns, else Name + Age
# ---------------------------------------------------------------------------

def cell(ctype, v):
    """cellForJSONValue of apiextensions-apiserver's table convertor."""
    if v is None:
        return None
    if ctype == "integer" and json_type(v) in ("integer", "number"):
        return int(v)
    if ctype == "number" and json_type(v) in ("integer", "number"):
        return float(v)
    if ctype == "boolean" and isinstance(v, bool):
        return v
    if ctype == "string":
        return v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else \
            ("true" if v is True else "false" if v is False else str(v))
    if ctype == "date" and isinstance(v, str):
        return human_age(v)
    return None


def make_table(res, objs, include, rv):
    cols = [{"name": "Name", "type": "string", "format": "name", "priority": 0,
             "description": "Name must be unique within a namespace."}]
    if res.columns:
        specs = res.columns
    else:
        specs = [{"name": "Age" if not res.builtin else "Created At", "type": "date",
                  "jsonPath": ".metadata.creationTimestamp"}]
    for c in specs:
        cols.append({"name": c["name"], "type": c["type"], "format": c.get("format", ""),
                     "description": c.get("description", ""), "priority": c.get("priority", 0)})
    rows = []
    for o in objs:
        cells = [o["metadata"]["name"]]
        for c in specs:
            found = jsonpath_eval(o, jsonpath_parse(c["jsonPath"]))
            if c["name"] == "Created At":     # the generic convertor prints the timestamp
                cells.append(found[0] if found else None)
            else:
                cells.append(cell(c["type"], found[0]) if found else None)
        row = {"cells": cells}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
            "columnDefinitions": cols, "rows": rows}


# ---------------------------------------------------------------------------
# The HTTP side
# ---------------------------------------------------------------------------

def present(res, obj):
    o = copy.deepcopy(obj)
    o["apiVersion"], o["kind"] = res.gv, res.kind
    return o


def resource_for(store, api_version, kind):
    g, _, v = (api_version or "").rpartition("/")
    for r in store.resources():
        if r.group == g and r.kind == kind:
            return r
    return None


def strip_times(obj):
    o = copy.deepcopy(obj)
    m = o.get("metadata", {})
    m.pop("resourceVersion", None)
    for e in m.get("managedFields") or []:
        e.pop("time", None)
    return canon(o)


class Ctx:
    """Everything the handlers share."""

    def __init__(self, args):
        self.args = args
        self.dir = os.path.abspath(args.dir)
        self.store = Store(None if args.no_persist else os.path.join(self.dir, "state.json"))
        if args.metrics_api:
            self.store.metrics_mode = "on"
        self.lock = threading.Lock()
        self.faults = []
        self.log = deque(maxlen=20000)
        self.seq = 0
        self.tokens = {}          # token -> (role, revoked?)
        self.bookmark_s = args.bookmark_interval

    def user_for_token(self, token):
        role = self.tokens.get(token)
        if role == "admin":
            return User("kg-test-admin", ["system:masters"])
        if role == "readonly":
            return User(READONLY_USER, [])
        if role == "agent":
            ns, name = AGENT_SA
            # a bound ServiceAccount token is only valid while its account exists
            sa = next((r for r in BUILTINS if r.plural == "serviceaccounts"), None)
            with self.store.cv:
                if not self.store.get(sa, ns, name):
                    return None
            return User("system:serviceaccount:%s:%s" % (ns, name),
                        ["system:serviceaccounts", "system:serviceaccounts:" + ns], sa=(ns, name))
        return None

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("method") and f["method"].upper() != method:
                    continue
                if not re.search(f.get("path_regex", ""), path):
                    continue
                if f.get("skip", 0) > 0:
                    f["skip"] -= 1
                    continue
                f["hits"] = f.get("hits", 0) + 1
                if f.get("count"):
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                return dict(f)
        return None


def builtin(plural, group=None):
    return next(r for r in BUILTINS if r.plural == plural and (group is None or r.group == group))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as client-go and libcurl expect
    server_version = "kernel-gossip-test-apiserver"
    sys_version = ""

    def setup(self):
        # the TLS handshake happens here, in the connection's thread, so a
        # slow or broken client cannot stall the accept loop
        self.request.settimeout(120)
        self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *a):
        if self.server.ctx.args.verbose:
            sys.stderr.write("apiserver: %s %s\n" % (self.address_string(), fmt % a))

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing -----------------------------------------------------------

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    raise ApiError(413, "Request entity too large: limit is %d" % MAX_BODY)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.rfile.read(n)
            raise ApiError(413, "Request entity too large: limit is %d" % MAX_BODY)
        return self.rfile.read(n) if n else b""

    def reply(self, code, obj, headers=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(obj) + "\n").encode()
        if getattr(self, "entry", None) is not None:
            # logged before sending: the answer meant, even if the client is gone
            self.entry["status"] = code
            if headers and headers.get("Warning"):
                self.entry["warnings"] = headers["Warning"]
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("X-Kubernetes-Pf-Flowschema-Uid", "kg-test-flowschema")
        self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", "kg-test-prioritylevel")
        for k, v in (headers or {}).items():
            for one in (v if isinstance(v, list) else [v]):
                self.send_header(k, str(one))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def serve(self):
        self.entry = None
        u = urllib.parse.urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        try:
            try:
                body = self.read_body()
            except ApiError:
                self.close_connection = True
                raise
            if path.startswith("/_admin"):
                return self.admin(path, q, body)
            self.log_request_entry(path, q, body)
            if self.fault(path):
                return
            user = self.authenticate()
            self.entry["user"] = user.name
            self.route(user, path, q, body)
        except ApiError as e:
            self.reply(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:     # a bug here must not look like an API answer
            traceback.print_exc()
            self.reply(500, status_body(500, "InternalError", "test server bug: %r" % e))

    def log_request_entry(self, path, q, body):
        ctx = self.server.ctx
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body[:4096].decode("utf-8", "replace")
        with ctx.lock:
            ctx.seq += 1
            self.entry = {"seq": ctx.seq, "time": time.time(), "method": self.command,
                          "path": path, "query": q, "user": None,
                          "contentType": self.headers.get("Content-Type"),
                          "accept": self.headers.get("Accept"),
                          "userAgent": self.headers.get("User-Agent"),
                          "body": parsed, "status": None}
            ctx.log.append(self.entry)

    def fault(self, path):
        f = self.server.ctx.take_fault(self.command, path)
        if not f:
            return False
        self.entry["fault"] = {k: f[k] for k in f if k not in ("hits",)}
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("drop"):
            # close without answering: what a crashed server or a proxy reset looks like
            self.close_connection = True
            self.entry["status"] = "dropped"
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if f.get("garbage"):
            self.reply(200, None, raw=b'{"kind":"Status","apiVersion":"v1","metadata":{"resou')
            return True
        if f.get("status"):
            code = int(f["status"])
            hdr = {"Retry-After": str(f["retry_after"])} if f.get("retry_after") is not None else {}
            msg = f.get("message") or {429: "Too many requests, please try again later.",
                                       503: "the server is currently unable to handle the request",
                                       500: "Internal error occurred: injected fault",
                                       504: "Timeout: request did not complete within the allotted "
                                            "timeout"}.get(code, "injected fault")
            self.reply(code, status_body(code, REASONS.get(code, "Unknown"), msg), hdr)
            return True
        return False

    def authenticate(self):
        ctx = self.server.ctx
        auth = self.headers.get("Authorization", "")
        if auth:
            if auth[:7].lower() == "bearer ":
                u = ctx.user_for_token(auth[7:].strip())
                if u:
                    return u
            raise ApiError(401, "Unauthorized")
        cert = self.request.getpeercert()
        if cert:
            subj = [x for rdn in cert.get("subject", ()) for x in rdn]
            cn = [v for k, v in subj if k == "commonName"]
            orgs = [v for k, v in subj if k == "organizationName"]
            if cn:
                return User(cn[0], orgs)
        raise ApiError(401, "Unauthorized")

    def accepts_json(self):
        acc = self.headers.get("Accept", "") or "*/*"
        return any(t.split(";")[0].strip() in ("application/json", "*/*", "application/*")
                   for t in acc.split(","))

    def wants_table(self):
        for t in (self.headers.get("Accept") or "").split(","):
            params = dict(p.strip().split("=", 1) for p in t.split(";")[1:] if "=" in p)
            if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
                return True
        return False

    # -- routing ------------------------------------------------------------

    def route(self, user, path, q, body):
        store = self.server.ctx.store
        if self.command != "GET" and not path.startswith(("/api/", "/apis/")):
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if path == "/version":
            return self.reply(200, SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return self.reply(200, None, raw=b"ok", ctype="text/plain; charset=utf-8")
        if path == "/openapi/v2":
            with store.cv:
                doc, pb = openapi_v2(store)
            if "protobuf" in (self.headers.get("Accept") or ""):
                return self.reply(200, None, raw=pb, ctype="application/com.github.proto-openapi."
                                                          "spec.v2.v1.0+protobuf")
            return self.reply(200, doc)
        with store.cv:
            if path == "/api":
                return self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{
                                            "clientCIDR": "0.0.0.0/0",
                                            "serverAddress": self.server.address}]})
            if path == "/apis":
                groups = [api_group(g, vs) for g, vs in group_versions(store).items() if g]
                return self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": groups})
            if path == "/openapi/v3":
                paths = {}
                for g, vs in group_versions(store).items():
                    for v in vs:
                        if g == "metrics.k8s.io":
                            continue      # aggregated APIs publish their own; skipped
                        key = "api/%s" % v if not g else "apis/%s/%s" % (g, v)
                        paths[key] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (
                            key, doc_hash(openapi_gv(store, g, v)))}
                return self.reply(200, {"paths": paths})
            if path.startswith("/openapi/v3/"):
                parts = path[len("/openapi/v3/"):].split("/")
                g, v = ("", parts[1]) if parts[0] == "api" and len(parts) == 2 else \
                    (parts[1], parts[2]) if parts[0] == "apis" and len(parts) == 3 else (None, None)
                doc = openapi_gv(store, g, v) if v else None
                if not doc:
                    raise ApiError(404, "the server could not find the requested resource")
                fresh = q.get("hash") == doc_hash(doc)
                return self.reply(200, doc, {"Cache-Control": "public, immutable" if fresh
                                             else "no-cache, private", "Etag": '"%s"' % doc_hash(doc)})
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if len(parts) < 2 or parts[0] not in ("api", "apis"):
            raise ApiError(404, "the server could not find the requested resource")
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 2:
                with store.cv:
                    vs = group_versions(store).get(parts[1])
                if not vs:
                    raise ApiError(404, "the server could not find the requested resource")
                return self.reply(200, dict(api_group(parts[1], vs), kind="APIGroup",
                                            apiVersion="v1"))
            group, version, rest = parts[1], parts[2], parts[3:]
        if group == "metrics.k8s.io" and store.metrics_mode == "unavailable":
            raise ApiError(503, "the server is currently unable to handle the request")
        if not rest:
            with store.cv:
                rl = api_resource_list(store, group, version)
            if not rl:
                raise ApiError(404, "the server could not find the requested resource")
            return self.reply(200, rl)
        ns = ""
        with store.cv:
            if rest[0] == "namespaces" and len(rest) >= 3:
                r = store.find(group, version, rest[2])
                if r and r.namespaced:
                    ns, rest = rest[1], rest[2:]
            res = store.find(group, version, rest[0])
        if not res or len(rest) > 3 or (ns and not res.namespaced):
            raise ApiError(404, "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if res.namespaced and name and not ns:
            raise ApiError(404, "the server could not find the requested resource")
        verb = {"GET": "get" if name else ("watch" if q.get("watch") in ("true", "1") else "list"),
                "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}[self.command]
        if (verb == "create" and name) or (verb in ("update", "patch") and not name) or \
                (verb in ("create", "deletecollection") and res.namespaced and not ns):
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if sub and (sub != "status" or not res.status):
            raise ApiError(404, "the server could not find the requested resource")
        if verb not in res.verbs:
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if not authorize(store, user, verb, res.group, res.plural, sub, ns, name):
            raise forbidden(user, verb, res, sub, ns, name)
        if not self.accepts_json():
            raise ApiError(406, "only the following media types are accepted: application/json, "
                           "application/yaml (this server answers JSON only)")
        op = ResourceOp(self, user, res, ns, name, sub, q, body)
        getattr(op, verb)()

    # -- admin API ----------------------------------------------------------

    def admin(self, path, q, body):
        ctx = self.server.ctx
        if ctx.tokens.get(self.headers.get("Authorization", "")[7:].strip()) != "admin":
            raise ApiError(401, "Unauthorized (the admin API needs the admin token)")
        try:
            data = json.loads(body) if body else {}
        except ValueError as e:
            raise ApiError(400, "admin: body is not JSON: %s" % e)
        m = self.command
        if path == "/_admin/requests":
            with ctx.lock:
                if m == "DELETE":
                    ctx.log.clear()
                    return self.reply(200, {"cleared": True})
                since = int(q.get("since", 0))
                items = [dict(e) for e in ctx.log if e["seq"] > since]
            return self.reply(200, {"items": items, "seq": ctx.seq})
        if path == "/_admin/faults":
            with ctx.lock:
                if m == "POST":
                    for f in data if isinstance(data, list) else [data]:
                        re.compile(f.get("path_regex", ""))
                        ctx.faults.append(dict(f))
                elif m == "DELETE":
                    ctx.faults.clear()
                return self.reply(200, {"faults": ctx.faults})
        if path == "/_admin/compact" and m == "POST":
            ctx.store.compact()
            return self.reply(200, {"horizon": ctx.store.horizon})
        if path == "/_admin/metrics" and m == "POST":
            if data.get("mode") not in ("on", "off", "unavailable"):
                raise ApiError(400, 'mode must be "on", "off" or "unavailable"')
            with ctx.store.cv:
                ctx.store.metrics_mode = data["mode"]
                ctx.store.save()
            return self.reply(200, {"mode": data["mode"]})
        if path == "/_admin/podmetrics" and m == "POST":
            res = METRICS[0] if data.get("kind", "PodMetrics") == "PodMetrics" else METRICS[1]
            with ctx.store.cv:
                data.setdefault("timestamp", now_rfc3339())
                data.setdefault("window", "30s")
                new_meta(data, data.get("metadata", {}).get("namespace", "") if res.namespaced else "")
                ctx.store.put(res, data, "ADDED", None)
            return self.reply(200, data)
        if path == "/_admin/rotate-token" and m == "POST":
            who = data.get("who", "agent")
            tok = write_credentials(ctx, who, rotate=True, revoke_old=bool(data.get("revoke_old")))
            return self.reply(200, {"token": tok})
        raise ApiError(404, "unknown admin endpoint %s %s" % (m, path))


class ResourceOp:
    """One request on a resource: the REST verbs and their rules."""

    def __init__(self, h, user, res, ns, name, sub, q, body):
        self.h, self.user, self.res, self.ns, self.name, self.sub = h, user, res, ns, name, sub
        self.q, self.body = q, body
        self.store = h.server.ctx.store
        self.warnings = []
        fv = q.get("fieldValidation", "Warn")   # the server's default since 1.27
        if fv not in ("Ignore", "Warn", "Strict"):
            raise ApiError(400, 'fieldValidation must be one of "Ignore", "Warn" or "Strict", got %s'
                           % qv(fv))
        self.fv = fv
        self.dry = q.get("dryRun") == "All"
        if "dryRun" in q and not self.dry:
            raise ApiError(400, 'dryRun: Unsupported value: %s: supported values: "All"' % qv(q["dryRun"]))
        self.manager = q.get("fieldManager") or (h.headers.get("User-Agent") or "unknown").split("/")[0]
        if len(self.manager) > 128:
            raise ApiError(422, "fieldManager: Too long: must have at most 128 bytes")

    # -- reads --------------------------------------------------------------

    def get(self):
        with self.store.cv:
            obj = self.store.get(self.res, self.ns, self.name)
            if not obj:
                raise not_found(self.res, self.name)
            obj = present(self.res, obj)
        if self.h.wants_table():
            return self.h.reply(200, make_table(self.res, [obj], self.q.get("includeObject"),
                                                obj["metadata"]["resourceVersion"]))
        self.h.reply(200, obj)

    def _selectors(self):
        return (parse_field_selector(self.q.get("fieldSelector"), self.res),
                parse_label_selector(self.q.get("labelSelector")))

    def list(self):
        fsel, lsel = self._selectors()
        rv = self.q.get("resourceVersion", "")
        with self.store.cv:
            if rv and rv != "0" and self.q.get("resourceVersionMatch") == "Exact" and \
                    int(rv) != self.store.rv:
                raise ApiError(410, "The resourceVersion for the provided list is too old.",
                               reason="Expired")
            items = [present(self.res, o) for o in self.store.list_raw(self.res, self.ns or None)
                     if selected(o, fsel, lsel)]
            cur = str(self.store.rv)
        meta = {"resourceVersion": cur}
        # pagination: continue = base64 of the last name returned (and the list's RV)
        start = 0
        if self.q.get("continue"):
            try:
                c = json.loads(base64.b64decode(self.q["continue"]))
                keys = [(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in items]
                start = next((i for i, k in enumerate(keys) if k > tuple(c["after"])), len(items))
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "continue key is not valid")
        limit = int(self.q.get("limit") or 0)
        page = items[start:start + limit] if limit > 0 else items[start:]
        if limit > 0 and start + limit < len(items):
            last = page[-1]["metadata"]
            meta["continue"] = base64.b64encode(json.dumps(
                {"after": [last.get("namespace", ""), last["name"]]}).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - limit
        if self.h.wants_table():
            return self.h.reply(200, make_table(self.res, page, self.q.get("includeObject"), cur))
        if self.res.builtin:        # list items of built-in kinds carry no kind/apiVersion
            for o in page:
                o.pop("apiVersion", None)
                o.pop("kind", None)
        self.h.reply(200, {"kind": self.res.list_kind, "apiVersion": self.res.gv,
                           "metadata": meta, "items": page})

    def watch(self):
        """Chunked JSON events. Semantics of the real server's watch cache:
        no resourceVersion or "0" starts with ADDED events for what exists;
        a resourceVersion older than the history kept ends the stream at once
        with an ERROR event carrying a 410 Expired Status; bookmarks every
        --bookmark-interval seconds when asked; the stream ends after
        timeoutSeconds."""
        fsel, lsel = self._selectors()
        if self.q.get("sendInitialEvents") == "true":
            raise ApiError(422, "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for "
                           "watch unless the WatchList feature gate is enabled")
        bookmarks = self.q.get("allowWatchBookmarks") in ("true", "1")
        timeout = min(float(self.q.get("timeoutSeconds") or 1800), 3600)
        table = self.h.wants_table()
        rv = self.q.get("resourceVersion", "")
        key = (self.res.group, self.res.plural)
        out = []
        with self.store.cv:
            if rv in ("", "0"):
                last = self.store.rv
                out = [("ADDED", o) for o in self.store.list_raw(self.res, self.ns or None)
                       if selected(o, fsel, lsel)]
            else:
                try:
                    last = int(rv)
                except ValueError:
                    raise ApiError(400, "invalid resourceVersion %s" % qv(rv))
        h = self.h
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-cache, private")
        h.end_headers()
        h.entry["status"] = 200

        def emit(etype, obj):
            if etype in ("ADDED", "MODIFIED", "DELETED"):
                obj = present(self.res, obj)
                if table:
                    obj = make_table(self.res, [obj], self.q.get("includeObject"),
                                     obj["metadata"]["resourceVersion"])
            data = (json.dumps({"type": etype, "object": obj}) + "\n").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()

        end = time.time() + timeout
        next_bm = time.time() + self.h.server.ctx.bookmark_s
        try:
            for t, o in out:
                emit(t, o)
            while time.time() < end:
                with self.store.cv:
                    if last < self.store.horizon:
                        expired = status_body(410, "Expired", "too old resource version: %d (%d)"
                                              % (last, self.store.horizon))
                        break
                    evs = [e for e in self.store.events if e[0] > last]
                    if not evs:
                        self.store.cv.wait(min(end, next_bm) - time.time() if bookmarks
                                           else end - time.time())
                        evs = [e for e in self.store.events if e[0] > last]
                        if last < self.store.horizon:
                            continue
                    cur = self.store.rv
                for erv, ekey, etype, obj, old in evs:
                    last = erv
                    if ekey != key or (self.ns and obj["metadata"].get("namespace") != self.ns):
                        continue
                    now_in = selected(obj, fsel, lsel)
                    was_in = old is not None and selected(old, fsel, lsel)
                    if etype == "MODIFIED" and now_in != was_in:
                        # the object entered or left the selection: what the
                        # watch cache reports for a filtered watch
                        etype = "ADDED" if now_in else "DELETED"
                        now_in = True
                    if now_in:
                        emit(etype, obj)
                if bookmarks and time.time() >= next_bm:
                    emit("BOOKMARK", {"kind": self.res.kind, "apiVersion": self.res.gv,
                                      "metadata": {"resourceVersion": str(max(last, cur)),
                                                   "annotations": {}}})
                    last = max(last, cur)
                    next_bm = time.time() + self.h.server.ctx.bookmark_s
            else:
                expired = None
            if expired:
                emit("ERROR", expired)
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            h.close_connection = True

    # -- writes -------------------------------------------------------------

    def _parse(self):
        ctype = (self.h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            # kubectl >= 1.32's typed commands (create namespace, ...) send
            # protobuf; the real server decodes every built-in kind, this one
            # only a Namespace's metadata (what tests create that way)
            obj = decode_protobuf_namespace(self.body)
            if obj is None:
                raise ApiError(415, "the body of the request was in an unknown format - accepted "
                               "media types include: application/json, application/yaml "
                               "(protobuf: Namespace only, in this test server)")
            return obj
        if ctype and ctype not in ("application/json", "application/apply-patch+yaml",
                                   "application/yaml"):
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: application/json, application/yaml")
        try:
            obj = json.loads(self.body)
        except ValueError as e:
            raise ApiError(400, "couldn't decode the request body as JSON (this server accepts "
                           "JSON only, which is also YAML): %s" % e)
        if not isinstance(obj, dict):
            raise ApiError(400, "the request body must be a JSON object")
        if not isinstance(obj.get("metadata", {}), dict):
            raise ApiError(400, "metadata must be an object")
        return obj

    def _check_identity(self, obj, need_name):
        if obj.get("kind") != self.res.kind:
            raise ApiError(400, "%s in version \"%s\" cannot be handled as a %s: the kind in the "
                           "data (%s) does not match the expected kind (%s)" % (
                               self.res.kind, self.res.version, self.res.kind, obj.get("kind"),
                               self.res.kind))
        if obj.get("apiVersion") != self.res.gv:
            raise ApiError(400, "the API version in the data (%s) does not match the expected API "
                           "version (%s)" % (obj.get("apiVersion"), self.res.gv))
        m = obj.setdefault("metadata", {})
        if need_name and m.get("name") != self.name:
            raise ApiError(400, "the name of the object (%s) does not match the name on the URL "
                           "(%s)" % (m.get("name", ""), self.name))
        if self.res.namespaced:
            if m.get("namespace") and m["namespace"] != self.ns:
                raise ApiError(400, "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            m["namespace"] = self.ns
        else:
            m.pop("namespace", None)

    def _clean(self, obj):
        """Prune what the schema does not declare; with Strict that is a 400."""
        unknown = []
        if self.res.schema:
            prune(obj, self.res.schema, "", unknown, root=True)
        elif self.res is CRD_RES:
            shape_prune(obj, CRD_SHAPE, "", unknown)
        elif isinstance(obj.get("metadata"), dict):
            for k in [k for k in obj["metadata"] if k not in META_FIELDS]:
                unknown.append("metadata." + k)
                del obj["metadata"][k]
        if unknown and self.fv == "Strict":
            raise ApiError(400, "%s in version \"%s\" cannot be handled as a %s: strict decoding "
                           "error: %s" % (self.res.kind, self.res.version, self.res.kind, ", ".join(
                               'unknown field "%s"' % u for u in unknown)))
        if self.fv == "Warn":
            self.warnings += ['299 - "unknown field \\"%s\\""' % u for u in unknown]

    def _precondition(self, obj, old):
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv and old and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                           'modified; please apply your changes to the latest version and try '
                           'again' % (self.res.qualified(), self.name),
                           details={"name": self.name, "group": self.res.group,
                                    "kind": self.res.plural})

    def _namespace_exists(self):
        if self.res.namespaced and not self.store.get(builtin("namespaces"), "", self.ns):
            raise ApiError(404, 'namespaces "%s" not found' % self.ns,
                           details={"name": self.ns, "kind": "namespaces"})

    def _prepare_update(self, old, incoming):
        """The strategy: what an update may change, generation."""
        if self.sub == "status":
            new = copy.deepcopy(old)
            if "status" in incoming:
                new["status"] = incoming["status"]
            else:
                new.pop("status", None)
            if "managedFields" in incoming.get("metadata", {}):
                new["metadata"]["managedFields"] = incoming["metadata"]["managedFields"]
            return new
        new = copy.deepcopy(incoming)
        m, om = new.setdefault("metadata", {}), old["metadata"]
        for k in ("uid", "creationTimestamp", "generation", "namespace", "name",
                  "deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in om:
                m[k] = om[k]
            else:
                m.pop(k, None)
        if self.res.status:           # the main resource ignores status
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if self.res.generation:
            body = lambda o: canon({k: v for k, v in o.items()
                                    if k not in ("metadata", "status", "apiVersion", "kind")})
            if body(new) != body(old):
                m["generation"] = om.get("generation", 1) + 1
        return new

    def _admit(self, old, new):
        """Validation (422) and the admission rules the agent can meet."""
        errs = []
        validate_meta(new.get("metadata", {}), errs, name_label=self.res.plural == "namespaces")
        if self.res.schema:
            validate(new, self.res.schema, "", errs)
        if self.res is CRD_RES:
            errs += check_crd(new)
        if errs:
            raise invalid(self.res.kind_qualified(), new["metadata"].get("name", ""), errs,
                          self.res.group, self.res.kind)
        # OwnerReferencesPermissionEnforcement: blockOwnerDeletion needs the
        # right to update the owner's finalizers
        old_refs = {r.get("uid"): r for r in (old or {}).get("metadata", {}).get("ownerReferences") or []}
        for ref in new["metadata"].get("ownerReferences") or []:
            if not ref.get("blockOwnerDeletion") or old_refs.get(ref.get("uid")) == ref:
                continue
            ores = resource_for(self.store, ref.get("apiVersion"), ref.get("kind"))
            if ores is None or not authorize(self.store, self.user, "update", ores.group,
                                              ores.plural, "finalizers",
                                              self.ns if ores.namespaced else "", ref.get("name")):
                raise ApiError(403, '%s "%s" is forbidden: cannot set blockOwnerDeletion if an '
                               'ownerReference refers to a resource you can\'t set finalizers on: '
                               'User "%s" cannot update resource "%s/finalizers" in API group "%s"'
                               % (self.res.qualified(), self.name or new["metadata"].get("name"),
                                  self.user.name, ores.plural if ores else ref.get("kind"),
                                  ores.group if ores else ""))

    def _commit(self, old, new, code, tracked=False):
        """Validate, track ownership, store (unless a no-op or a dry run), answer."""
        if self.res is CRD_RES:
            established(new, old)
        self._admit(old, new)
        if not tracked:
            track_update(old, new, self.res.schema, self.manager, self.sub, self.res.gv)
        hdr = {"Warning": self.warnings} if self.warnings else {}
        if old is not None and strip_times(old) == strip_times(new):
            return self.h.reply(200, present(self.res, old), hdr)     # no-op: no new RV
        if self.dry:
            new["metadata"].setdefault("resourceVersion", (old or {}).get("metadata", {})
                                       .get("resourceVersion", ""))
            return self.h.reply(code, present(self.res, new), hdr)
        m = new["metadata"]
        if m.get("deletionTimestamp") and not m.get("finalizers"):
            self.store.put(self.res, new, "DELETED", old)     # the last finalizer went
            return self.h.reply(code, present(self.res, new), hdr)
        self.store.put(self.res, new, "ADDED" if old is None else "MODIFIED", old)
        if self.res is CRD_RES:
            self.store.crd_resources[m["name"]] = resources_from_crd(new)
        self.h.reply(code, present(self.res, new), hdr)

    def create(self):
        obj = self._parse()
        self._check_identity(obj, need_name=False)
        m = obj["metadata"]
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + secrets.token_hex(3)[:5]
        self.name = m.get("name", "")
        self._clean(obj)
        with self.store.cv:
            self._namespace_exists()
            if self.name and self.store.get(self.res, self.ns, self.name):
                raise ApiError(409, '%s "%s" already exists' % (self.res.qualified(), self.name),
                               reason="AlreadyExists", details={"name": self.name,
                                                                "group": self.res.group,
                                                                "kind": self.res.plural})
            for k in ("resourceVersion", "managedFields", "deletionTimestamp", "generation"):
                m.pop(k, None)
            new_meta(obj, self.ns)
            if self.res.status:       # create cannot set status
                obj.pop("status", None)
            if self.res.generation:
                m["generation"] = 1
            self._commit(None, obj, 201)

    def update(self):
        obj = self._parse()
        self._check_identity(obj, need_name=True)
        self._clean(obj)
        with self.store.cv:
            old = self.store.get(self.res, self.ns, self.name)
            if not old:
                raise not_found(self.res, self.name)
            self._precondition(obj, old)
            obj["metadata"].pop("managedFields", None)
            self._commit(old, self._prepare_update(old, obj), 200)

    def patch(self):
        ctype = (self.h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/apply-patch+yaml":
            return self.apply()
        try:
            patch = json.loads(self.body)
        except ValueError as e:
            raise ApiError(400, "couldn't decode the patch as JSON: %s" % e)
        with self.store.cv:
            old = self.store.get(self.res, self.ns, self.name)
            if not old:
                raise not_found(self.res, self.name)
            base = present(self.res, old)
            try:
                if ctype == "application/merge-patch+json":
                    cand = merge_patch(base, patch)
                elif ctype == "application/json-patch+json":
                    cand = json_patch(base, patch)
                elif ctype == "application/strategic-merge-patch+json" and self.res.builtin:
                    cand = strategic_patch(base, patch)
                else:
                    raise ApiError(415, "the body of the request was in an unknown format - "
                                   "accepted media types include: application/json-patch+json, "
                                   "application/merge-patch+json, application/apply-patch+yaml" +
                                   (", application/strategic-merge-patch+json"
                                    if self.res.builtin else ""))
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise ApiError(422, "the server rejected our request due to an error in our "
                               "request: %s" % e)
            if not isinstance(cand, dict) or not isinstance(cand.get("metadata"), dict):
                raise ApiError(422, "the patch made the object invalid (not an object)")
            self._precondition(cand, old)
            cand["metadata"]["name"], cand["apiVersion"], cand["kind"] = \
                self.name, self.res.gv, self.res.kind
            self._clean(cand)
            cand["metadata"].pop("managedFields", None)
            self._commit(old, self._prepare_update(old, cand), 200)

    def apply(self):
        """Server-side apply (PATCH application/apply-patch+yaml)."""
        if not self.q.get("fieldManager"):
            raise ApiError(400, "PATCH /apply requires fieldManager: fieldManager is required "
                           "for apply requests")
        force = self.q.get("force") in ("true", "1")
        if "force" in self.q and self.q["force"] not in ("true", "false", "1", "0"):
            raise ApiError(400, "force: invalid value %s" % qv(self.q["force"]))
        applied = self._parse()
        self._check_identity(applied, need_name=True)
        if "managedFields" in applied["metadata"]:
            raise ApiError(400, "metadata.managedFields must be nil")
        self._clean(applied)
        errs = []
        duplicate_keys(applied, root_schema(self.res.schema), "", errs)
        if errs:
            raise invalid(self.res.kind_qualified(), self.name, errs, self.res.group, self.res.kind)
        # what this endpoint ignores is not the applier's: the main resource
        # ignores status, /status everything but status
        if self.sub == "status":
            applied = {"apiVersion": applied["apiVersion"], "kind": applied["kind"],
                       "metadata": {k: applied["metadata"][k] for k in ("name", "namespace",
                                                                        "resourceVersion")
                                    if k in applied["metadata"]},
                       **({"status": applied["status"]} if "status" in applied else {})}
        elif self.res.status:
            applied.pop("status", None)
        with self.store.cv:
            old = self.store.get(self.res, self.ns, self.name)
            self._precondition(applied, old)
            applied["metadata"].pop("resourceVersion", None)
            if old is None:
                if self.sub:
                    raise not_found(self.res, self.name)
                # an apply that creates needs the create permission too
                if not authorize(self.store, self.user, "create", self.res.group, self.res.plural,
                                 "", self.ns, self.name):
                    raise forbidden(self.user, "create", self.res, "", self.ns, self.name)
                self._namespace_exists()
                base = new_meta({"apiVersion": self.res.gv, "kind": self.res.kind,
                                 "metadata": {"name": self.name}}, self.ns)
                new = ssa_apply(base, applied, self.res.schema, self.q["fieldManager"], "",
                                force, self.res.gv)
                if self.res.generation:
                    new["metadata"]["generation"] = 1
                return self._commit(None, new, 201, tracked=True)
            merged = ssa_apply(present(self.res, old), applied, self.res.schema,
                               self.q["fieldManager"], self.sub, force, self.res.gv)
            self._commit(old, self._prepare_update(old, merged), 200, tracked=True)

    def delete(self):
        with self.store.cv:
            old = self.store.get(self.res, self.ns, self.name)
            if not old:
                raise not_found(self.res, self.name)
            if self.body:
                pre = (self._parse().get("preconditions") or {})
                if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                    raise ApiError(409, "Precondition failed: UID in precondition: %s, UID in "
                                   "object meta: %s" % (pre["uid"], old["metadata"]["uid"]))
                if pre.get("resourceVersion"):
                    self._precondition({"metadata": pre}, old)
            if self.dry:
                return self.h.reply(200, present(self.res, old))
            if old["metadata"].get("finalizers"):
                new = copy.deepcopy(old)
                new["metadata"].setdefault("deletionTimestamp", now_rfc3339())
                new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
                self.store.put(self.res, new, "MODIFIED", old)
                return self.h.reply(200, present(self.res, new))
            delete_object(self.store, self.res, old)
        if self.res.builtin:
            return self.h.reply(200, present(self.res, old))
        self.h.reply(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Success", "details": {
                               "name": self.name, "group": self.res.group,
                               "kind": self.res.plural, "uid": old["metadata"]["uid"]}})

    def deletecollection(self):
        fsel, lsel = self._selectors()
        with self.store.cv:
            gone = [o for o in self.store.list_raw(self.res, self.ns) if selected(o, fsel, lsel)]
            if not self.dry:
                for o in gone:
                    delete_object(self.store, self.res, o)
        self.h.reply(200, {"kind": self.res.list_kind, "apiVersion": self.res.gv,
                           "metadata": {"resourceVersion": str(self.store.rv)},
                           "items": [present(self.res, o) for o in gone]})


def _pb_fields(buf):
    """Protobuf wire format: [(field number, value)], values of
    length-delimited fields as bytes; other wire types skipped."""
    out, i = [], 0

    def varint():
        nonlocal i
        n = shift = 0
        while True:
            b = buf[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n
    while i < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            out.append((num, varint()))
        elif wt == 2:
            n = varint()
            out.append((num, buf[i:i + n]))
            i += n
        elif wt in (1, 5):
            i += 8 if wt == 1 else 4
        else:
            raise ValueError("wire type %d" % wt)
    return out


def decode_protobuf_namespace(body):
    """A Namespace in Kubernetes' protobuf envelope ("k8s\\0" + runtime.Unknown
    {typeMeta{apiVersion, kind}, raw}) as JSON: name, generateName, labels,
    annotations. None for anything else."""
    try:
        if not body.startswith(b"k8s\x00"):
            return None
        unknown = dict(_pb_fields(body[4:]))
        tm = dict(_pb_fields(unknown.get(1, b"")))
        if tm.get(1) != b"v1" or tm.get(2) != b"Namespace":
            return None
        meta = {}
        for num, v in _pb_fields(dict(_pb_fields(unknown.get(2, b""))).get(1, b"")):
            if num in (1, 2) and v:
                meta["name" if num == 1 else "generateName"] = v.decode()
            elif num in (11, 12):      # map<string, string> entries
                kv = dict(_pb_fields(v))
                meta.setdefault("labels" if num == 11 else "annotations", {})[
                    kv.get(1, b"").decode()] = kv.get(2, b"").decode()
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def established(crd, old):
    """What apiextensions-apiserver reports once the names are accepted
    (immediately here; a real server takes a moment)."""
    now = now_rfc3339()
    for c in ((old or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Established":
            now = c.get("lastTransitionTime", now)
    crd["status"] = {
        "acceptedNames": crd["spec"]["names"],
        "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v.get("storage")],
        "conditions": [{"type": t, "status": "True", "lastTransitionTime": now, "reason": r,
                        "message": m} for t, r, m in (
            ("NamesAccepted", "NoConflicts", "no conflicts found"),
            ("Established", "InitialNamesAccepted", "the initial names have been accepted"))]}


def delete_object(store, res, obj):
    """Delete, with the cascades the real control plane performs: a
    namespace's contents, a CRD's custom resources."""
    store.put(res, copy.deepcopy(obj), "DELETED", obj)
    if res.plural == "namespaces" and not res.group:
        ns = obj["metadata"]["name"]
        for r in store.resources():
            if r.namespaced:
                for o in store.list_raw(r, ns):
                    store.put(r, copy.deepcopy(o), "DELETED", o)
    if res is CRD_RES:
        for r in store.crd_resources.pop(obj["metadata"]["name"], []):
            for o in store.list_raw(r):
                store.put(r, copy.deepcopy(o), "DELETED", o)


def collect_garbage(store):
    """The garbage collector, in one pass: an object all of whose owners are
    gone (no object of that kind, name and uid) is deleted. Owners of kinds
    this server does not serve are assumed to exist."""
    with store.cv:
        for r in store.resources():
            for o in store.list_raw(r):
                refs = o["metadata"].get("ownerReferences") or []
                if not refs:
                    continue
                alive = False
                for ref in refs:
                    ores = resource_for(store, ref.get("apiVersion"), ref.get("kind"))
                    if ores is None:
                        alive = True
                        break
                    owner = store.get(ores, o["metadata"].get("namespace", "") if ores.namespaced
                                      else "", ref.get("name", ""))
                    if owner and owner["metadata"]["uid"] == ref.get("uid"):
                        alive = True
                        break
                if not alive:
                    delete_object(store, r, o)


# ---------------------------------------------------------------------------
# Start-up
# ---------------------------------------------------------------------------

def write_credentials(ctx, who, rotate=False, revoke_old=False):
    """Tokens and the kubeconfigs that carry them. Returns who's token."""
    d, url, ca = ctx.dir, ctx.url, os.path.join(ctx.dir, "ca.crt")
    fname = {"admin": "token", "readonly": "token-readonly", "agent": "token-agent"}[who]
    path = os.path.join(d, fname)
    if rotate and os.path.exists(path):
        with open(path) as f:
            old = f.read().strip()
        if revoke_old:
            ctx.tokens.pop(old, None)
        os.unlink(path)
    tok = read_or_make(path, lambda: secrets.token_urlsafe(32))
    ctx.tokens[tok] = who
    kc = {"admin": "kubeconfig", "readonly": "kubeconfig-readonly", "agent": "kubeconfig-agent"}[who]
    write_file(os.path.join(d, kc), kubeconfig(url, ca, {"token": tok}), 0o600)
    if who == "agent":
        sa = os.path.join(d, "serviceaccount")
        os.makedirs(sa, exist_ok=True)
        write_file(os.path.join(sa, "token"), tok, 0o600)
        write_file(os.path.join(sa, "namespace"), AGENT_SA[0])
        with open(ca) as f:
            write_file(os.path.join(sa, "ca.crt"), f.read())
    return tok


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            return       # clients hang up, time out, or refuse our CA: not our bug
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="0: any free port (see DIR/url)")
    ap.add_argument("--dir", required=True, help="credentials, kubeconfigs and state")
    ap.add_argument("--metrics-api", action="store_true", help="serve metrics.k8s.io from the start")
    ap.add_argument("--bookmark-interval", type=float, default=1.0,
                    help="seconds between watch bookmarks (the real server: about a minute)")
    ap.add_argument("--gc-interval", type=float, default=0.5,
                    help="seconds between garbage-collector passes (0: off)")
    ap.add_argument("--no-persist", action="store_true", help="keep objects in memory only")
    ap.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    ensure_pki(args.dir)
    ctx = Ctx(args)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(os.path.join(ctx.dir, "server.crt"), os.path.join(ctx.dir, "server.key"))
    tls.load_verify_locations(os.path.join(ctx.dir, "ca.crt"))
    tls.verify_mode = ssl.CERT_OPTIONAL       # client certificates are one way to authenticate
    tls.set_alpn_protocols(["http/1.1"])       # no HTTP/2: clients fall back, as they must
    ctx.tls = tls

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.ctx = ctx
    port = srv.server_address[1]
    srv.address = "127.0.0.1:%d" % port
    ctx.url = "https://127.0.0.1:%d" % port
    for who in ("admin", "readonly", "agent"):
        write_credentials(ctx, who)
    write_file(os.path.join(ctx.dir, "kubeconfig-cert"), kubeconfig(
        ctx.url, os.path.join(ctx.dir, "ca.crt"),
        {"client-certificate": os.path.join(ctx.dir, "client.crt"),
         "client-key": os.path.join(ctx.dir, "client.key")}), 0o600)
    write_file(os.path.join(ctx.dir, "url"), ctx.url + "\n")

    if args.gc_interval > 0:
        def gc_loop():
            while True:
                time.sleep(args.gc_interval)
                try:
                    collect_garbage(ctx.store)
                except Exception:
                    traceback.print_exc()
        threading.Thread(target=gc_loop, daemon=True, name="gc").start()

    print("ready %s" % ctx.url, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
