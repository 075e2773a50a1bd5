#!/bin/sh
# gen-syscall-table.sh - syscall names of the build architecture, generated
# from the kernel's uapi <asm/unistd.h> (Debian linux-libc-dev), so no table
# is typed by hand. Prints a C initializer: [nr] = "name",
set -eu
CC=${CC:-cc}
echo '#include <asm/unistd.h>' | $CC -E -dM - |
	awk '$1 == "#define" && $2 ~ /^__NR_/ && $3 ~ /^[0-9]+$/ {
		name = substr($2, 6); printf "\t[%d] = \"%s\",\n", $3, name }' | sort -t'[' -k2 -n
