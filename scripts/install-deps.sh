#!/usr/bin/env bash
# install-deps.sh - every Debian package kernel-gossip's build, tests and demos need.
#
# One list, one place: the README's two set-up commands and .ci/run call this.
# Idempotent; needs root (or sudo) and a Debian/Ubuntu apt.
set -euo pipefail

PACKAGES=(
	# build: C toolchain, BPF compiler and libraries
	make gcc libc6-dev pkg-config git ca-certificates
	clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
	libjson-c-dev libcurl4-openssl-dev libmicrohttpd-dev libyaml-dev
	linux-libc-dev
	# unit tests
	check
	# integration tests and demos: real containers, workloads, independent counters
	runc busybox-static nginx-light stress-ng bpftrace strace jq
	procps iproute2 util-linux coreutils findutils
	# kernel matrix (make test-kernels): Debian kernels booted under QEMU with an
	# initramfs of static busybox and the kernel's own (xz/zstd-compressed) modules
	qemu-system-x86 kmod cpio xz-utils zstd debian-archive-keyring
	# Kubernetes tests: the test API server (Python standard library) and its certificates
	python3 openssl curl
	# operability test: promtool (Prometheus' own parser of /metrics) and valgrind
	prometheus valgrind
	# make bench: the peers measured beside the agent (runqlat, opensnoop, execsnoop,
	# syscount) and the plot
	libbpf-tools gnuplot-nox
)
# kubectl (the Kubernetes tests drive the test API server with the real one): the
# machine's own when it has one; else the apt repository's "kubectl" where one is configured
# (Kubernetes' pkgs.k8s.io, or Google's cloud-sdk as on this project's machines). Debian's own
# kubernetes-client is 1.20, too old for the tests (they need 1.27 or later and say so).
if ! command -v kubectl >/dev/null; then
	if apt-cache show kubectl >/dev/null 2>&1; then
		PACKAGES+=(kubectl)
	else
		PACKAGES+=(kubernetes-client)
	fi
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo)" >&2; exit 1; }
	SUDO=sudo
fi
command -v apt-get >/dev/null || { echo "install-deps: needs apt-get (Debian/Ubuntu)" >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# nginx-light's postinst tries to start nginx; no init system in containers/CI: keep it quiet
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# only promtool is wanted from the prometheus package, whose postinst starts a Prometheus
# server on :9090 under systemd - the agent's default metrics port: stop what we started
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
echo "install-deps: done"
