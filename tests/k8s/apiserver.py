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
