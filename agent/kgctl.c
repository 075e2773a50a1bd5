// SPDX-License-Identifier: GPL-2.0
/*
 * kgctl - read what a standalone kernel-gossip agent wrote.
 *
 *   kgctl [--dir DIR] births          one line per PodBirthCertificate
 *   kgctl [--dir DIR] whispers        one line per KernelWhisper
 *   kgctl [--dir DIR] get KIND NAME   the document, as JSON
 *
 * (The node-local debug socket, when the agent serves one, is the live view;
 * this reads the files the agent keeps up to date.)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "json_util.h"

static json_object *kg_get(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	}
	return o;
}

static const char *kg_str(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v ? json_object_get_string(v) : "-";
}

static int kg_list(const char *dir, const char *plural, int whispers)
{
	char p[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, plural);
	d = opendir(p);
	if (!d) {
		fprintf(stderr, "kgctl: cannot read %s: %s (is the agent running with --output-dir %s?)\n",
			p, strerror(errno), dir);
		return 1;
	}
	if (whispers)
		printf("%-44s %9s %9s %10s %12s  %s\n", "NAME", "PERIODS", "THROTTLED", "THROTTLED%",
		       "AVG-USE%", "CGROUP");
	else
		printf("%-52s %9s %6s %6s %11s  %s\n", "NAME", "SYSCALLS", "EXECS", "OPENS",
		       "DURATION-MS", "SETTLED-BY");
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		json_object *doc;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", dir, plural, de->d_name);
		doc = kg_json_read_file(p);
		if (!doc) {
			fprintf(stderr, "kgctl: %s: not valid JSON\n", p);
			continue;
		}
		if (whispers)
			printf("%-44s %9s %9s %10s %12s  %s\n", kg_str(doc, "metadata.name"),
			       kg_str(doc, "status.kernelTruth.periods"),
			       kg_str(doc, "status.kernelTruth.throttledPeriods"),
			       kg_str(doc, "status.kernelTruth.throttledPercent"),
			       kg_str(doc, "status.metricsView.averageUtilizationPercent"),
			       kg_str(doc, "spec.cgroupPath"));
		else
			printf("%-52s %9s %6s %6s %11s  %s\n", kg_str(doc, "metadata.name"),
			       kg_str(doc, "status.syscalls.total"), kg_str(doc, "status.execs.total"),
			       kg_str(doc, "status.files.opened"), kg_str(doc, "status.durationMs"),
			       kg_str(json_object_array_get_idx(kg_get(doc, "status.containers"), 0),
				      "settledBy"));
		json_object_put(doc);
		n++;
	}
	closedir(d);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: kgctl [--dir DIR] births | whispers | get (birth|whisper) NAME\n"
		     "  --dir DIR   the agent's --output-dir (default /var/lib/kernel-gossip)\n");
}

int main(int argc, char **argv)
{
	const char *dir = "/var/lib/kernel-gossip";
	int a = 1;

	if (a + 1 < argc && !strcmp(argv[a], "--dir")) {
		dir = argv[a + 1];
		a += 2;
	}
	if (a >= argc || !strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
		usage(a >= argc ? stderr : stdout);
		return a >= argc ? 2 : 0;
	}
	if (!strcmp(argv[a], "births"))
		return kg_list(dir, "podbirthcertificates", 0);
	if (!strcmp(argv[a], "whispers"))
		return kg_list(dir, "kernelwhispers", 1);
	if (!strcmp(argv[a], "get") && a + 2 < argc) {
		char p[4096];
		const char *plural = !strcmp(argv[a + 1], "whisper") ? "kernelwhispers"
								     : "podbirthcertificates";
		json_object *doc;

		if (strchr(argv[a + 2], '/')) {
			fprintf(stderr, "kgctl: invalid name\n");
			return 2;
		}
		snprintf(p, sizeof(p), "%s/%s/%s.json", dir, plural, argv[a + 2]);
		doc = kg_json_read_file(p);
		if (!doc) {
			fprintf(stderr, "kgctl: cannot read %s: %s\n", p, strerror(errno));
			return 1;
		}
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
									   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
		return 0;
	}
	usage(stderr);
	return 2;
}
