#!/usr/bin/env bash
# scripts/run-agent.sh - the main job on a fresh machine: install what the
# build needs, build, and run the standalone agent in the foreground. Resources
# go to $KG_OUTPUT_DIR (default /var/lib/kernel-gossip); read them with
# build/kgctl births / build/kgctl whispers. Extra arguments go to the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/run-agent.sh: run as root (sudo): the agent loads BPF programs" >&2
	exit 1
fi
bash scripts/install-deps.sh
make -j"$(nproc)" all
exec build/kernel-gossip-agent --standalone "$@"
