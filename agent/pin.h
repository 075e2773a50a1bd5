/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pin.h - --pin: the agent's programs and maps pinned in the BPF filesystem
 * (KG_PIN_DIR/progs/<name>, KG_PIN_DIR/maps/<name>) so that bpftool and other
 * tools can open them by path while the agent runs. Removed on a clean exit;
 * pins left by an agent that was killed are removed at the next start.
 * Pins do not keep anything attached: only the agent's links do.
 */
#ifndef KG_PIN_H
#define KG_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include "loader.h"

#define KG_BPFFS "/sys/fs/bpf"
#define KG_PIN_DIR KG_BPFFS "/kernel-gossip"

struct kg_pins {
	char dir[256];
	char **paths;			/* what we pinned, to unpin */
	unsigned n, cap;
	bool mounted_bpffs;		/* we mounted it (left mounted at exit) */
	unsigned progs, maps;
};

/* Pin every loaded program and map of b under dir; mounts bpffs at /sys/fs/bpf if absent. */
int kg_pins_create(struct kg_pins *p, const struct kg_bpf *b, const char *dir, char *err,
		   size_t errsz);

/* Unpin everything and remove the directories. */
void kg_pins_remove(struct kg_pins *p);

#endif /* KG_PIN_H */
