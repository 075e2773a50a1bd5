#!/usr/bin/env bash
#
# tests/kernels/fetch.sh - fetch the Debian kernels the kernel matrix boots,
# into a cache, and print where each one is.
#
#   tests/kernels/fetch.sh 6.1 6.12
#   tests/kernels/fetch.sh linux-image-6.1.0-56-amd64 ./linux-image-x.deb
#
# An argument is a series ("6.1": the newest plain -amd64 image of that series
# in Debian's archive), an exact package name, or a .deb file. Each kernel
# is extracted once (dpkg-deb -x, depmod) into $KG_KERNEL_CACHE/<version>/ and
# reused by later runs; nothing is installed into /boot or /lib/modules. The
# plain -amd64 flavour is the one to use: -cloud kernels lack 9p, which the
# guests mount their root file system over.
#
# The packages are looked up in apt lists of the fetcher's own, kept in the
# cache and refreshed once a day, of Debian 12's suites (bookworm, -updates,
# -security, -backports: 6.12 comes from bookworm-security), not in this
# machine's apt sources, which may lack some of them (a debootstrap'd system
# has only "bookworm"). Nothing in /etc/apt is changed.
#
# Output: one line per argument, "ARG<TAB>VERSION<TAB>DIRECTORY".
# Exit status 1, saying which and why, if a kernel cannot be found, downloaded
# or extracted. When the archive cannot be reached, the newest kernel of that
# series already in the cache is used, and a warning says so.
#
# Environment: KG_KERNEL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/kernel-gossip/kernels),
# KG_DEBIAN_MIRROR (default http://deb.debian.org).
set -euo pipefail

CACHE=${KG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernel-gossip/kernels}
MIRROR=${KG_DEBIAN_MIRROR:-http://deb.debian.org}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT_DIR=$CACHE/apt
APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/none"
	-o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache" -o APT::Architecture=amd64
	-o APT::Architectures::=amd64 -o APT::Sandbox::User=root)

die() {
	echo "fetch: $*" >&2
	exit 1
}

# apt_lists - the fetcher's own package lists of Debian 12, refreshed when a
# day old; a failed refresh keeps the old lists (or none) and warns
apt_lists() {
	local suite stamp=$APT_DIR/lists/.updated
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/none"
	[[ -r $KEYRING ]] || die "$KEYRING missing: install debian-archive-keyring"
	{
		for suite in bookworm bookworm-updates bookworm-backports; do
			echo "deb [signed-by=$KEYRING] $MIRROR/debian $suite main"
		done
		echo "deb [signed-by=$KEYRING] $MIRROR/debian-security bookworm-security main"
	} >"$APT_DIR/sources.list"
	[[ -z $(find "$stamp" -mmin -1440 2>/dev/null) ]] || return 0
	if apt-get "${APT_OPTS[@]}" -q update >"$APT_DIR/update.log" 2>&1; then
		touch "$stamp"
	else
		echo "fetch: warning: cannot refresh the package lists of $MIRROR (no network?):" \
			"$(grep -m1 -E '^(E|W|Err):' "$APT_DIR/update.log" | cut -c1-200)" >&2
	fi
}

# has_candidate PACKAGE - apt can install PACKAGE (a name apt merely knows
# of, from a Breaks: or a version gone from the archive, has no candidate)
has_candidate() {
	local policy
	policy=$(apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null) || return 1
	[[ $policy =~ Candidate:\ [^\(] ]]
}

# the newest installable plain -amd64 image of SERIES apt knows, or nothing
newest_package() {
	local series=$1 re names pkg
	re="^linux-image-${series//./\\.}\\.[0-9]+(-[0-9]+)?(\\+[a-z0-9.~]+)?-amd64\$"
	names=$(apt-cache "${APT_OPTS[@]}" pkgnames "linux-image-$series." 2>/dev/null) || true
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
	if ! (cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download -q "$pkg") >"$CACHE/debs/apt.log" 2>&1; then
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
apt_lists

for arg in "$@"; do
	case $arg in
	*.deb)
		[[ -f $arg ]] || die "no such file: $arg"
		ver=$(extract "$(realpath "$arg")")
		;;
	linux-image-*)
		has_candidate "$arg" || [[ -f $CACHE/${arg#linux-image-}/.complete ]] ||
			die "kernel package $arg not found in Debian 12's archive ($MIRROR; see $APT_DIR/update.log)"
		ver=$(fetch_package "$arg")
		;;
	[0-9]*.[0-9]*)
		pkg=$(newest_package "$arg")
		if [[ -n $pkg ]]; then
			ver=$(fetch_package "$pkg")
		else
			ver=$(newest_cached "$arg")
			[[ -n $ver ]] || die "kernel package not found: no linux-image-$arg.*-amd64" \
				"in Debian 12's archive ($MIRROR: bookworm, -updates, -security," \
				"-backports; see $APT_DIR/update.log), and none cached in $CACHE"
			echo "fetch: warning: no linux-image-$arg.*-amd64 in Debian 12's archive;" \
				"using the cached $ver" >&2
		fi
		;;
	*) die "not a kernel series, package or .deb: $arg" ;;
	esac
	printf '%s\t%s\t%s\n' "$arg" "$ver" "$CACHE/$ver"
done
