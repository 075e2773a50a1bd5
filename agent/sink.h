/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sink.h - where finished resources go. Standalone mode writes each one as a
 * JSON file, <dir>/<plural>/<name>.json, rewritten atomically; the
 * Kubernetes client (a later sink) upserts the same documents to the API.
 */
#ifndef KG_SINK_H
#define KG_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define KG_PLURAL_CERT "podbirthcertificates"
#define KG_PLURAL_WHISPER "kernelwhispers"

struct kg_sink {
	char dir[1024];
	uint64_t written;
	uint64_t unchanged;	/* writes skipped: same document as last time */
	uint64_t errors;
};

int kg_sink_init(struct kg_sink *s, const char *dir, char *err, size_t errsz);

/*
 * Write doc as plural/name. name must be a valid object name (RFC 1123
 * subdomain): anything else is refused, so no name can escape the directory.
 * Returns 0, 1 when the file already held this exact document, or -errno.
 */
int kg_sink_write(struct kg_sink *s, const char *plural, const char *name, json_object *doc);

/* 1 when name is a valid RFC 1123 subdomain of at most 253 characters. */
int kg_valid_object_name(const char *name);

#endif /* KG_SINK_H */
