#!/usr/bin/env bash
# scripts/test.sh - the whole test suite on a fresh machine: install what it
# needs, build, run the unit tests, the root/BPF integration suite, the
# kernel matrix (tests/kernels/run.sh) and the benchmark's smoke test.
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
# the same kernel-dependent tests on Debian's 6.1 and 6.12 under QEMU, and here
make test-kernels
# every storm and peer of `make bench` once, briefly (no thresholds: a smoke test)
make bench-quick
