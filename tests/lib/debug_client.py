#!/usr/bin/env python3
"""debug_client.py - a test client for the agent's debug socket.

Speaks the protocol (agent/debug_proto.h) at the byte level, so the tests
can do what kgctl never does: send malformed and oversized lines, pipeline
requests, half-close, open too many connections, and stop reading while a
watch streams. Each mode prints "ok <what>" lines and exits 0, or prints
"FAIL <what>" and exits 1.

  debug_client.py proto SOCK           valid, malformed, oversized, words, pipelined, half-close
  debug_client.py pipeline SOCK N      N requests unread, then read: all N answered, in order
  debug_client.py many SOCK MAX        MAX connections served, one more refused
  debug_client.py slow SOCK READY GO   watch, then read nothing until the file GO exists
  debug_client.py status SOCK TIMEOUT  one status request, answered within TIMEOUT seconds
"""
import json
import os
import socket
import sys
import time

MAX_LINE = 4096


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


def ok(msg):
    print("ok   " + msg, flush=True)


class Conn:
    def __init__(self, path, timeout=10.0, rcvbuf=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def ask(self, data):
        self.send(data)
        return self.line()

    def close(self):
        self.s.close()


def expect_error(resp, contains, what):
    if "error" not in resp or contains not in resp["error"]:
        fail("%s: expected an error with %r, got %r" % (what, contains, resp))
    ok("%s -> error %r" % (what, resp["error"]))


def expect_ok(resp, cmd, what):
    if resp.get("ok") is not True or resp.get("cmd") != cmd or cmd not in resp:
        fail("%s: expected ok %s, got %r" % (what, cmd, str(resp)[:300]))
    ok(what)


def proto(path):
    c = Conn(path)
    r = c.ask('{"cmd":"status","id":1}\n')
    expect_ok(r, "status", "status answered")
    if r.get("id") != 1:
        fail("id not echoed: %r" % r.get("id"))
    ok("id echoed")
    st = r["status"]
    for key in ("version", "kernel", "btf", "hooks", "programs", "ring", "uptimeSeconds",
                "resources", "apiServer"):
        if key not in st:
            fail("status has no %s" % key)
    ep = st["hooks"]["throttleEpisodes"]
    if not ep.get("hook") or not ep.get("why"):
        fail("status does not say which throttle-episode hook and why: %r" % ep)
    ok("status names the episode hook (%s) and why" % ep["hook"])
    if len(st["ring"]["dropsPerCpu"]) != st["ring"]["cpus"]:
        fail("drops per CPU: %r" % st["ring"])
    ok("status has ring drops per CPU")
    named = [p for p in st["programs"] if p["name"] == "kg_sched_switch"]
    if not named or not named[0].get("id") or not named[0].get("attached"):
        fail("kg_sched_switch not listed with an id: %r" % named)
    ok("status lists kg_sched_switch with its program id %d" % named[0]["id"])

    # malformed requests get an error and the connection stays usable
    expect_error(c.ask("{bad json\n"), "invalid JSON", "malformed JSON")
    expect_error(c.ask('{"cmd":"reboot"}\n'), "unknown request", "unknown request")
    expect_error(c.ask('{"cmd":"status","extra":1}\n'), "unknown field", "unknown field")
    expect_error(c.ask('{"cmd":"explain"}\n'), "needs \"pod\"", "explain without a pod")
    expect_error(c.ask(b"\xff\xfe\n"), "unknown request", "binary garbage")
    expect_error(c.ask("[1,2]\n"), "unknown request", "a JSON array")
    expect_ok(c.ask("status\n"), "status", "connection still usable after errors")

    # an oversized line: one error, the rest of it skipped, the connection usable
    c.send("x" * (3 * MAX_LINE) + "\n")
    expect_error(c.line(), "longer than 4096 bytes", "oversized line")
    expect_ok(c.ask("status\n"), "status", "connection usable after an oversized line")
    # the same, in pieces that arrive separately
    for i in range(5):
        c.send("y" * 2000)
        time.sleep(0.02)
    c.send("\n")
    expect_error(c.line(), "longer than 4096 bytes", "oversized line in pieces")
    expect_ok(c.ask('{"cmd":"cgroups"}\n'), "cgroups", "cgroups answered")
    # blank lines are ignored; words work; pipelined requests answered in order
    c.send("\n\r\n  \nbirths 2\nwhispers\n{\"cmd\":\"status\",\"id\":\"last\"}\n")
    expect_ok(c.line(), "births", "words: births 2")
    expect_ok(c.line(), "whispers", "words: whispers")
    r = c.line()
    expect_ok(r, "status", "pipelined requests answered in order")
    if r.get("id") != "last":
        fail("pipelined: wrong order")
    c.close()

    # half-close: the answer still comes (socat/nc style), even without a final newline
    c = Conn(path)
    c.send("status")
    c.s.shutdown(socket.SHUT_WR)
    expect_ok(c.line(), "status", "answer after the client half-closed")
    c.close()
    # a client that hangs up mid-line is no harm
    c = Conn(path)
    c.send('{"cmd":"sta')
    c.close()
    c = Conn(path)
    expect_ok(c.ask("status\n"), "status", "the agent serves after a client hung up mid-line")
    c.close()


def pipeline(path, n):
    c = Conn(path, timeout=30)
    t0 = time.time()
    c.send("".join('{"cmd":"status","id":%d}\n' % i for i in range(n)))
    time.sleep(1.0)  # the agent must stop reading once its answers pile up, not grow
    other = Conn(path, timeout=5)
    expect_ok(other.ask("status\n"), "status", "another client served while %d answers wait" % n)
    other.close()
    for i in range(n):
        r = c.line()
        if r.get("id") != i:
            fail("pipeline: answer %d has id %r" % (i, r.get("id")))
    ok("%d pipelined requests all answered, in order, in %.1f s" % (n, time.time() - t0))
    c.close()


def many(path, maxc):
    conns = []
    for i in range(maxc):
        c = Conn(path)
        expect_ok(c.ask("status\n"), "status", "client %d of %d" % (i + 1, maxc)) if i in (0, maxc - 1) else c.ask("status\n")
        conns.append(c)
    extra = Conn(path)
    try:
        r = extra.line()
    except EOFError:
        fail("the refused client got no explanation")
    expect_error(r, "too many debug clients", "client %d refused" % (maxc + 1))
    try:
        extra.line()
        fail("refused client not disconnected")
    except (EOFError, json.JSONDecodeError):
        ok("refused client disconnected")
    for c in conns:
        c.close()
    time.sleep(0.3)
    c = Conn(path)
    expect_ok(c.ask("status\n"), "status", "a slot is free again once clients leave")
    c.close()


def slow(path, ready, go):
    c = Conn(path, timeout=60, rcvbuf=4096)
    expect_ok(c.ask('{"cmd":"watch"}\n'), "watch", "watch started")
    open(ready, "w").close()
    while not os.path.exists(go):  # read nothing while the agent produces events
        time.sleep(0.1)
    events = dropped_notice = 0
    c.s.settimeout(3)
    try:
        while True:
            ev = c.line()
            if ev.get("event") == "watch.dropped":
                dropped_notice += ev["count"]
            else:
                events += 1
    except (socket.timeout, EOFError):
        pass
    print("events %d dropped %d" % (events, dropped_notice), flush=True)
    if not dropped_notice:
        fail("a slow watcher was told of no dropped event")
    ok("slow watcher got %d events and a notice of %d dropped" % (events, dropped_notice))
    c.close()


def status(path, timeout):
    t0 = time.time()
    c = Conn(path, timeout=timeout)
    r = c.ask("status\n")
    expect_ok(r, "status", "status in %.3f s" % (time.time() - t0))
    print(json.dumps(r["status"]))
    c.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, path = sys.argv[1], sys.argv[2]
    try:
        if mode == "proto":
            proto(path)
        elif mode == "pipeline":
            pipeline(path, int(sys.argv[3]))
        elif mode == "many":
            many(path, int(sys.argv[3]))
        elif mode == "slow":
            slow(path, sys.argv[3], sys.argv[4])
        elif mode == "status":
            status(path, float(sys.argv[3]))
        else:
            print(__doc__, file=sys.stderr)
            sys.exit(2)
    except (OSError, EOFError, ValueError) as e:
        fail("%s: %s: %s" % (mode, type(e).__name__, e))


if __name__ == "__main__":
    main()
