/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - percentiles from the kernel's log2 histograms (slot i counts
 * durations in [2^i, 2^(i+1)) ns). A log2 histogram cannot say more than
 * which bucket a percentile falls in, so kg_hist_percentile() returns that
 * bucket's upper bound: "p99 <= X" is what the data supports.
 */
#ifndef KG_HIST_H
#define KG_HIST_H

#include <stdint.h>
#include <linux/types.h>

uint64_t kg_hist_total(const __u64 *hist, unsigned slots);

/* Upper bound (ns) of the bucket holding quantile q (0 < q <= 1); 0 when empty. */
uint64_t kg_hist_percentile(const __u64 *hist, unsigned slots, double q);

#endif /* KG_HIST_H */
