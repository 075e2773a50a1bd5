#!/usr/bin/env bash
#
# tests/kernels/fetch.sh - fetch the Debian kernels the kernel matrix boots,
# into a cache, and print where each one is.
#
#   tests/kernels/fetch.sh 6.1 6.12
#   tests/kernels/fetch.sh linux-image-6.1.0-56-amd64 ./linux-image-x.deb
#
# An argument is a series ("6.1": the newest plain -amd64 image of that series
# in apt's package lists), an exact package name, or a .deb file. Each kernel
# is extracted once (dpkg-deb -x, depmod) into $KG_KERNEL_CACHE/<version>/ and
# reused by later runs; nothing is installed into /boot or /lib/modules. The
# plain -amd64 flavour is the one to use: -cloud kernels lack 9p, which the
# guests mount their root file system over.
#
# Output: one line per argument, "ARG<TAB>VERSION<TAB>DIRECTORY".
# Exit status 1, saying which and why, if a kernel cannot be found, downloaded
# or extracted. Without apt's package lists for a series, the newest kernel of
# that series already in the cache is used, and a warning says so.
#
# Environment: KG_KERNEL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/kernel-gossip/kernels).
set -euo pipefail

CACHE=${KG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernel-gossip/kernels}

die() {
	echo "fetch: $*" >&2
	exit 1
}

# has_candidate PACKAGE - apt can install PACKAGE (a name apt merely knows
# of, from a Breaks: or a version gone from the archive, has no candidate)
has_candidate() {
	local policy
	policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
	[[ $policy =~ Candidate:\ [^\(] ]]
}

# the newest installable plain -amd64 image of SERIES apt knows, or nothing
newest_package() {
	local series=$1 re names pkg
	re="^linux-image-${series//./\\.}\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9.~]+)?-amd64\$"
	names=$(apt-cache pkgnames "linux-image-$series." 2>/dev/null) || true
	for pkg in $(grep -E "$re" <<<"$names" | sort -rV); do
		if has_candidate "$pkg"; then
			echo "$pkg"
			return 0
		fi
	done
	return 0
}

# the newest kernel of SERIES already extracted in the cache, or nothing
newest_cached() {
	local d found=()
	for d in "$CACHE"/"$1".*; do
		if [[ -f $d/.complete ]]; then
			found+=("${d##*/}")
		fi
	done
	((${#found[@]} == 0)) || printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

# extract DEB into $CACHE/<version> (once) and print the version
extract() {
	local deb=$1 tmp ver
	tmp=$(mktemp -d "$CACHE/.extract.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the trap must remove this very directory
	trap "rm -rf '$tmp'" EXIT
	dpkg-deb -x "$deb" "$tmp" || die "cannot extract $deb (dpkg-deb -x failed)"
	ver=$(compgen -G "$tmp/boot/vmlinuz-*") || true
	ver=${ver%%$'\n'*}
	ver=${ver##*/vmlinuz-}
	[[ -n $ver ]] || die "$deb holds no boot/vmlinuz-*: not a kernel image package"
	[[ -d $tmp/lib/modules/$ver ]] || die "$deb holds no lib/modules/$ver"
	compgen -G "$tmp/lib/modules/$ver/kernel/fs/9p/9p.ko*" >/dev/null ||
		die "$deb ($ver) has no 9p module: use the plain -amd64 flavour (-cloud kernels lack CONFIG_9P_FS)"
	depmod -b "$tmp" "$ver" || die "depmod failed for $ver"
	touch "$tmp/.complete"
	if [[ -f $CACHE/$ver/.complete ]]; then
		rm -rf "$tmp"
	else
		rm -rf "${CACHE:?}/$ver"
		mv "$tmp" "$CACHE/$ver"
	fi
	trap - EXIT
	echo "$ver"
}

# download PACKAGE (apt-get download) and extract it; print the version
fetch_package() {
	local pkg=$1 ver=${1#linux-image-} deb
	if [[ -f $CACHE/$ver/.complete ]]; then
		echo "$ver"
		return 0
	fi
	mkdir -p "$CACHE/debs"
	rm -f "$CACHE/debs/${pkg}"_*.deb
	echo "fetch: downloading $pkg" >&2
	# (as root apt warns it cannot drop privileges into this directory: harmless)
	if ! (cd "$CACHE/debs" && apt-get download -q "$pkg") >"$CACHE/debs/apt.log" 2>&1; then
		sed 's/^/    /' "$CACHE/debs/apt.log" >&2
		die "apt-get download $pkg failed (no network, or the package left the archive?)"
	fi
	deb=$(compgen -G "$CACHE/debs/${pkg}_*.deb") || true
	deb=${deb%%$'\n'*}
	[[ -n $deb ]] || die "apt-get download $pkg left no .deb in $CACHE/debs"
	ver=$(extract "$deb")
	rm -f "$deb"	# the extracted tree is the cache; the package is 70-110 MB more
	echo "$ver"
}

command -v dpkg-deb >/dev/null || die "dpkg-deb missing: this runner needs a Debian/Ubuntu host"
command -v depmod >/dev/null || die "depmod missing: run scripts/install-deps.sh (package kmod)"
[[ $# -gt 0 ]] || die "usage: fetch.sh SERIES|PACKAGE|FILE.deb..."
mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"

for arg in "$@"; do
	case $arg in
	*.deb)
		[[ -f $arg ]] || die "no such file: $arg"
		ver=$(extract "$(realpath "$arg")")
		;;
	linux-image-*)
		has_candidate "$arg" || [[ -f $CACHE/${arg#linux-image-}/.complete ]] ||
			die "kernel package $arg not found in apt's package lists (apt-get update?)"
		ver=$(fetch_package "$arg")
		;;
	[0-9]*.[0-9]*)
		pkg=$(newest_package "$arg")
		if [[ -n $pkg ]]; then
			ver=$(fetch_package "$pkg")
		else
			ver=$(newest_cached "$arg")
			[[ -n $ver ]] || die "kernel package not found: no linux-image-$arg.*-amd64" \
				"with an installable version in apt's package lists, and none cached in" \
				"$CACHE (run apt-get update; the series must be in this machine's apt" \
				"sources, e.g. 6.1 in bookworm, 6.12 in bookworm-backports)"
			echo "fetch: warning: no linux-image-$arg.*-amd64 in apt's package lists;" \
				"using the cached $ver" >&2
		fi
		;;
	*) die "not a kernel series, package or .deb: $arg" ;;
	esac
	printf '%s\t%s\t%s\n' "$arg" "$ver" "$CACHE/$ver"
done
