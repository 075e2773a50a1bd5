#!/usr/bin/env bash
# scripts/test.sh - the whole test suite on a fresh machine: install what it
# needs, build, run the unit tests and the root/BPF integration suite.
# The README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: run as root (sudo): the suite loads BPF programs and starts containers" >&2
	exit 1
fi
bash scripts/install-deps.sh
make -j"$(nproc)" all
make unit
make integration
