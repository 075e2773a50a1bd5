// SPDX-License-Identifier: GPL-2.0
/*
 * k8s_config.c - see k8s_config.h.
 *
 * A kubeconfig is YAML: parsed with libyaml's document API (a well-kept
 * library; hand-parsing YAML is how tools end up accepting the wrong file).
 * Only what the agent uses is read: the current context's cluster (server,
 * certificate-authority[-data], insecure-skip-tls-verify) and user (token,
 * tokenFile, client-certificate[-data], client-key[-data]). Anything else a
 * user relies on (exec plugins, auth providers) is refused with a clear
 * message rather than silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "k8s_config.h"

static int __attribute__((format(printf, 3, 4))) kg_fail(char *err, size_t errsz, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

static int kg_read_file(const char *path, struct kg_blob *out, size_t max)
{
	FILE *f = fopen(path, "re");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || (size_t)n > max ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EFBIG;
	}
	out->data = malloc(n + 1);
	if (!out->data) {
		fclose(f);
		return -ENOMEM;
	}
	out->len = fread(out->data, 1, n, f);
	out->data[out->len] = 0;
	fclose(f);
	return 0;
}

long kg_base64_decode(const char *in, char *out, size_t outsz)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (; *in; in++) {
		int v;
		char c = *in;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=' || c == '\n' || c == '\r' || c == ' ')
			continue;
		else
			return -1;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outsz)
				return -1;
			out[n++] = (acc >> bits) & 0xff;
		}
	}
	return n;
}

static int kg_blob_b64(const char *b64, struct kg_blob *out)
{
	size_t cap = strlen(b64) * 3 / 4 + 4;
	long n;

	out->data = malloc(cap + 1);
	if (!out->data)
		return -1;
	n = kg_base64_decode(b64, out->data, cap);
	if (n < 0) {
		free(out->data);
		out->data = NULL;
		return -1;
	}
	out->data[n] = 0;
	out->len = n;
	return 0;
}

/* ---- a few lookups over libyaml's document tree ---- */

static yaml_node_t *kg_y_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *kg_y_str(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = kg_y_get(d, map, key);

	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The entry of a named list (clusters, users, contexts) with this name: its `sub` map. */
static yaml_node_t *kg_y_named(yaml_document_t *d, yaml_node_t *root, const char *list,
			       const char *name, const char *sub)
{
	yaml_node_t *l = kg_y_get(d, root, list);

	if (!l || l->type != YAML_SEQUENCE_NODE || !name)
		return NULL;
	for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = yaml_document_get_node(d, *i);
		const char *n = kg_y_str(d, e, "name");

		if (n && !strcmp(n, name))
			return kg_y_get(d, e, sub);
	}
	return NULL;
}

/* A file path of a kubeconfig is relative to the kubeconfig's directory. */
static void kg_rel_path(const char *kubeconfig, const char *p, char *out, size_t outsz)
{
	const char *slash = strrchr(kubeconfig, '/');

	if (p[0] == '/' || !slash)
		snprintf(out, outsz, "%s", p);
	else
		snprintf(out, outsz, "%.*s/%s", (int)(slash - kubeconfig), kubeconfig, p);
}

static int kg_blob_field(yaml_document_t *d, yaml_node_t *m, const char *file_key,
			 const char *data_key, const char *kubeconfig, struct kg_blob *out,
			 char *err, size_t errsz)
{
	const char *data = kg_y_str(d, m, data_key), *file = kg_y_str(d, m, file_key);
	char p[PATH_MAX];
	int ret;

	if (data) {
		if (kg_blob_b64(data, out))
			return kg_fail(err, errsz, "kubeconfig %s: %s is not valid base64",
				       kubeconfig, data_key);
		return 0;
	}
	if (!file)
		return 0;
	kg_rel_path(kubeconfig, file, p, sizeof(p));
	ret = kg_read_file(p, out, 1 << 20);
	if (ret) {
		snprintf(err, errsz, "kubeconfig %s: cannot read %s %s: %s", kubeconfig, file_key, p,
			 strerror(-ret));
		return -1;
	}
	return 0;
}

static int kg_from_kubeconfig(struct kg_k8s_config *c, const char *path, char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *cluster, *user, *ctx;
	const char *cur, *server, *v;
	int ret = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return kg_fail(err, errsz, "cannot read kubeconfig %s: %s", path, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "kubeconfig %s is not valid YAML (line %zu: %s)", path,
			 parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	cur = kg_y_str(&doc, root, "current-context");
	ctx = kg_y_named(&doc, root, "contexts", cur, "context");
	if (!cur || !ctx) {
		kg_fail(err, errsz, "kubeconfig %s: no current-context, or context \"%s\" not found",
			path, cur ? cur : "");
		goto out;
	}
	cluster = kg_y_named(&doc, root, "clusters", kg_y_str(&doc, ctx, "cluster"), "cluster");
	user = kg_y_named(&doc, root, "users", kg_y_str(&doc, ctx, "user"), "user");
	if (!cluster) {
		kg_fail(err, errsz, "kubeconfig %s: the cluster of context \"%s\" is missing", path,
			cur);
		goto out;
	}
	server = kg_y_str(&doc, cluster, "server");
	if (!server || strncmp(server, "https://", 8) || strlen(server) >= sizeof(c->server)) {
		kg_fail(err, errsz, "kubeconfig %s: the cluster's server must be an https:// URL",
			path);
		goto out;
	}
	snprintf(c->server, sizeof(c->server), "%s", server);
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = 0;
	v = kg_y_str(&doc, cluster, "insecure-skip-tls-verify");
	if (v && !strcmp(v, "true"))
		c->insecure = true;
	if (kg_blob_field(&doc, cluster, "certificate-authority", "certificate-authority-data", path,
			  &c->ca, err, errsz))
		goto out;
	if (user) {
		if (kg_y_get(&doc, user, "exec") || kg_y_get(&doc, user, "auth-provider")) {
			kg_fail(err, errsz,
				"kubeconfig %s: user of context \"%s\" uses an exec or auth-provider "
				"plugin, which kernel-gossip does not run; use a token or a client "
				"certificate",
				path, cur);
			goto out;
		}
		v = kg_y_str(&doc, user, "token");
		if (v && !(c->token = strdup(v)))
			goto out;
		v = kg_y_str(&doc, user, "tokenFile");
		if (v)
			kg_rel_path(path, v, c->token_file, sizeof(c->token_file));
		if (kg_blob_field(&doc, user, "client-certificate", "client-certificate-data", path,
				  &c->client_cert, err, errsz) ||
		    kg_blob_field(&doc, user, "client-key", "client-key-data", path, &c->client_key,
				  err, errsz))
			goto out;
	}
	snprintf(c->source, sizeof(c->source), "kubeconfig %s, context %s", path, cur);
	ret = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}

static int kg_in_cluster(struct kg_k8s_config *c, char *err, size_t errsz)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	int ret;

	if (!host || !*host)
		return kg_fail(err, errsz,
			       "not in a cluster (KUBERNETES_SERVICE_HOST is not set) and no "
			       "--kubeconfig given");
	/* an IPv6 service address needs brackets in a URL */
	snprintf(c->server, sizeof(c->server), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		 host, port && *port ? port : "443");
	snprintf(c->token_file, sizeof(c->token_file), "%s/token", KG_SA_DIR);
	ret = kg_read_file(KG_SA_DIR "/ca.crt", &c->ca, 1 << 20);
	if (ret)
		return kg_fail(err, errsz, "cannot read the service account CA " KG_SA_DIR "/ca.crt: %s",
			       strerror(-ret));
	snprintf(c->source, sizeof(c->source), "in-cluster service account");
	return 0;
}

int kg_k8s_config_load(struct kg_k8s_config *c, const char *kubeconfig, bool insecure, char *err,
		       size_t errsz)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = kubeconfig && *kubeconfig ? kg_from_kubeconfig(c, kubeconfig, err, errsz)
					: kg_in_cluster(c, err, errsz);
	if (ret) {
		kg_k8s_config_free(c);
		return ret;
	}
	if (insecure)
		c->insecure = true;
	if (!c->token && !c->token_file[0] && !c->client_cert.data)
		ret = kg_fail(err, errsz, "%s: no credentials (token, tokenFile or client certificate)",
			      c->source);
	else if (!!c->client_cert.data != !!c->client_key.data)
		ret = kg_fail(err, errsz,
			      "%s: a client certificate needs its key, and the key its certificate",
			      c->source);
	if (ret)
		kg_k8s_config_free(c);
	return ret;
}

void kg_k8s_config_free(struct kg_k8s_config *c)
{
	free(c->ca.data);
	free(c->client_cert.data);
	/* the key and the token are secrets: wipe before freeing */
	if (c->client_key.data)
		memset(c->client_key.data, 0, c->client_key.len);
	free(c->client_key.data);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	memset(c, 0, sizeof(*c));
}
