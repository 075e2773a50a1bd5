#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
crd_fields.py - keep the CRD schemas and the agent's documents in step.

The API server silently prunes every field a CRD schema does not declare, so
a field the agent writes but the schema lacks is data lost. Three views:

  crd_fields.py paths CRD.json...          every field the schemas declare
                                           (status.kernelTruth.periods  integer ...)
  crd_fields.py pruned CRD.json DOC.json   the fields of DOC the server would drop
                                           (same pruning code as tests/k8s/apiserver.py)
  crd_fields.py source-keys CRD.json... -- FILE.c...
                                           JSON keys the agent's C sources write
                                           (kg_json_*(obj, "key", ...), kg_sum(st,
                                           "obj", "key"), json_object_object_add(obj,
                                           "key", ...)) that no schema declares

CRD.json is a CustomResourceDefinition as JSON (kubectl get crd NAME -o json).
Exit status 1 when `pruned` or `source-keys` finds anything.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apiserver  # noqa: E402  (the server's pruning: one definition of the rules)

# keys of the envelope, of metadata and of ownerReferences: not schema fields
ENVELOPE = {"apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations",
            "ownerReferences", "uid", "controller", "blockOwnerDeletion", "generation",
            "resourceVersion", "generateName"}


def schema_of(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def walk(s, path, out):
    t = s.get("type", "any")
    fmt = s.get("format")
    extra = []
    if fmt:
        extra.append(fmt)
    if "enum" in s:
        extra.append("enum " + "|".join(map(str, s["enum"])))
    if s.get("x-kubernetes-list-type"):
        extra.append("list-type " + s["x-kubernetes-list-type"])
    if path:
        out.append((path, t + (" (" + ", ".join(extra) + ")" if extra else "")))
    for k, sub in (s.get("properties") or {}).items():
        walk(sub, "%s.%s" % (path, k) if path else k, out)
    if isinstance(s.get("additionalProperties"), dict):
        walk(s["additionalProperties"], path + "{*}", out)
    if isinstance(s.get("items"), dict):
        walk(s["items"], path + "[]", out)


def declared_names(s, out):
    for k, sub in (s.get("properties") or {}).items():
        out.add(k)
        declared_names(sub, out)
    for k in ("items", "additionalProperties"):
        if isinstance(s.get(k), dict):
            declared_names(s[k], out)
    return out


KEY_RX = [re.compile(r'\bkg_json_(?:str|u64|i64|dbl|bool|time|obj|arr)\(\s*[^,()]+,\s*"([^"]+)"'),
          re.compile(r'\bkg_sum\(\s*[^,()]+,\s*"([^"]+)",\s*"([^"]+)"'),
          re.compile(r'\bjson_object_object_add\(\s*[^,()]+,\s*"([^"]+)"')]


def source_keys(files):
    keys = {}
    for f in files:
        with open(f) as fh:
            text = fh.read()
        for rx in KEY_RX:
            for m in rx.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                for k in m.groups():
                    keys.setdefault(k, "%s:%d" % (f, line))
    return keys


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "paths":
        for p in args:
            crd = load(p)
            out = []
            walk(schema_of(crd), "", out)
            print("# %s" % crd["metadata"]["name"])
            for path, t in out:
                if path.split(".")[0] in ("spec", "status"):
                    print("%-70s %s" % (path, t))
        return 0
    if cmd == "pruned":
        crd, doc = load(args[0]), load(args[1])
        unknown = []
        apiserver.prune(doc, schema_of(crd), "", unknown, root=True)
        for u in unknown:
            print(u)
        return 1 if unknown else 0
    if cmd == "source-keys":
        if "--" not in args:
            sys.exit("usage: crd_fields.py source-keys CRD.json... -- FILE.c...")
        i = args.index("--")
        names = set()
        for p in args[:i]:
            declared_names(schema_of(load(p)), names)
        missing = {k: where for k, where in source_keys(args[i + 1:]).items()
                   if k not in names and k not in ENVELOPE and "/" not in k}
        for k, where in sorted(missing.items()):
            print("%s (written at %s) is declared in no CRD schema" % (k, where))
        return 1 if missing else 0
    sys.exit("unknown command %r\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
