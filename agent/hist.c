// SPDX-License-Identifier: GPL-2.0
/*
 * hist.c - see hist.h.
 */
#include <math.h>
#include "hist.h"

uint64_t kg_hist_total(const __u64 *hist, unsigned slots)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < slots; i++)
		n += hist[i];
	return n;
}

uint64_t kg_hist_percentile(const __u64 *hist, unsigned slots, double q)
{
	uint64_t total = kg_hist_total(hist, slots), seen = 0, rank;

	if (!total || q <= 0)
		return 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * (double)total);
	for (unsigned i = 0; i < slots; i++) {
		seen += hist[i];
		if (seen >= rank)
			return i >= 63 ? UINT64_MAX : (2ULL << i);
	}
	return 0;
}
