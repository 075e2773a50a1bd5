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
# kubectl (the Kubernetes tests drive the test API server with the real one, 1.27 or
# later): the machine's own when it has one; else the apt repository's "kubectl" where one
# is configured (Kubernetes' pkgs.k8s.io, or Google's cloud-sdk as on this project's
# machines); else Debian 13's kubectl (below). Debian 12's kubernetes-client is 1.20.
if ! command -v kubectl >/dev/null && apt-cache show kubectl >/dev/null 2>&1; then
	PACKAGES+=(kubectl)
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
else
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
fi

# kubectl_minor - the client's minor version (0 without kubectl)
kubectl_minor() {
	local m=
	if command -v kubectl >/dev/null; then
		m=$(kubectl version --client -o json 2>/dev/null | jq -r '.clientVersion.minor // ""' | tr -cd 0-9)
	fi
	echo "${m:-0}"
}
# Debian 13's kubectl (1.32, a static Go binary that needs only libc6 >= 2.34) into
# /usr/local/bin, from the archive Debian 12's keyring already trusts, through apt lists
# of its own: nothing is added to this machine's apt sources or package database.
have=$(kubectl_minor)
if [ "$have" -lt 27 ]; then
	d=/var/cache/kernel-gossip/kubectl
	$SUDO mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/none" "$d/deb"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" |
		$SUDO tee "$d/sources.list" >/dev/null
	# (an empty status file: this machine's own kubectl, if any, is no candidate here)
	$SUDO touch "$d/status"
	apt_opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/none"
		-o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" -o "Dir::Cache=$d/cache"
		-o APT::Sandbox::User=root)
	what="kubectl 1.$have is too old"
	[ "$have" != 0 ] || what="no kubectl"
	echo "install-deps: $what for the Kubernetes tests (they need 1.27+):" \
		"installing Debian 13's into /usr/local/bin"
	if $SUDO apt-get "${apt_opts[@]}" -qq update >"$d/apt.log" 2>&1 &&
		(cd "$d/deb" && rm -f kubectl_*.deb && $SUDO apt-get "${apt_opts[@]}" -qq download kubectl) \
			>>"$d/apt.log" 2>&1 &&
		$SUDO dpkg-deb -x "$d"/deb/kubectl_*.deb "$d/x" &&
		$SUDO install -m 0755 "$d/x/usr/bin/kubectl" /usr/local/bin/kubectl; then
		echo "install-deps: $(/usr/local/bin/kubectl version --client 2>/dev/null | head -n 1)"
	else
		echo "install-deps: warning: could not fetch Debian 13's kubectl (see $d/apt.log);" \
			"the Kubernetes tests will fail saying kubectl is too old" >&2
	fi
	$SUDO rm -rf "$d/x" "$d"/deb/*.deb
fi
echo "install-deps: done"
