/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json_util.h - small helpers over json-c shared by the resource builders
 * and kgctl: typed setters, RFC 3339 times, and atomic writes of a document.
 */
#ifndef KG_JSON_UTIL_H
#define KG_JSON_UTIL_H

#include <stdint.h>
#include <json-c/json.h>

void kg_json_str(json_object *o, const char *key, const char *val);	/* skipped when NULL */
void kg_json_u64(json_object *o, const char *key, uint64_t val);
void kg_json_i64(json_object *o, const char *key, int64_t val);
void kg_json_dbl(json_object *o, const char *key, double val, int decimals);
void kg_json_bool(json_object *o, const char *key, int val);
json_object *kg_json_obj(json_object *parent, const char *key);	/* new child object */
json_object *kg_json_arr(json_object *parent, const char *key);	/* new child array */

/* RFC 3339 UTC with microseconds: 2026-11-25T16:00:00.123456Z */
void kg_rfc3339(int64_t wall_ns, char *buf, size_t bufsz);
void kg_json_time(json_object *o, const char *key, int64_t wall_ns);

/* Write doc to path atomically (temp file in the same directory, fsync, rename). */
int kg_json_write_file(const char *path, json_object *doc);

/* Parse a whole file; NULL with errno set on failure. */
json_object *kg_json_read_file(const char *path);

#endif /* KG_JSON_UTIL_H */
