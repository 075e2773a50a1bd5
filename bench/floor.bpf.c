// SPDX-License-Identifier: GPL-2.0
/*
 * floor.bpf.c - empty programs on the agent's two hottest hooks: what merely
 * attaching a BPF program there costs on this machine, measured in the same
 * run as the agent (`make bench`'s "empty program" tracer).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter)
{
	return 0;
}
