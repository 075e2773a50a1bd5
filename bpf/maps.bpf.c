// SPDX-License-Identifier: GPL-2.0
/*
 * maps.bpf.c - the one place where kernel-gossip's shared maps and its
 * load-time configuration are defined; every other unit declares them extern
 * through common.bpf.h and the static linker joins them.
 */
#define KG_DEFINE_GLOBALS
#include "common.bpf.h"
#include "throttle.bpf.h"

char LICENSE[] SEC("license") = "GPL";
