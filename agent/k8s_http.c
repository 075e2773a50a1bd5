// SPDX-License-Identifier: GPL-2.0
/*
 * k8s_http.c - see k8s_http.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "k8s_http.h"

#define KG_TOKEN_REREAD_S 60
#define KG_MAX_BODY (64u << 20)	/* a larger response is an error, not an allocation */

struct kg_k8s_http {
	const struct kg_k8s_config *cfg;
	CURL *curl;
	char token[8192];
	time_t token_read;
	char auth[8300];
};

struct kg_sink_buf {
	struct kg_k8s_resp *r;
	size_t cap;
	kg_k8s_stream_fn fn;
	void *ctx;
	volatile int *stop;
};

struct kg_k8s_http *kg_k8s_http_new(const struct kg_k8s_config *cfg)
{
	static int global_init;
	struct kg_k8s_http *h;

	if (!global_init) {	/* called from the main thread before any worker starts */
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return NULL;
		global_init = 1;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->cfg = cfg;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		return NULL;
	}
	return h;
}

void kg_k8s_http_free(struct kg_k8s_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	memset(h->token, 0, sizeof(h->token));
	memset(h->auth, 0, sizeof(h->auth));
	free(h);
}

void kg_k8s_resp_free(struct kg_k8s_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static void kg_refresh_token(struct kg_k8s_http *h)
{
	time_t now = time(NULL);
	FILE *f;
	size_t n;

	if (h->cfg->token) {
		snprintf(h->token, sizeof(h->token), "%s", h->cfg->token);
		return;
	}
	if (!h->cfg->token_file[0] || (h->token[0] && now - h->token_read < KG_TOKEN_REREAD_S))
		return;
	f = fopen(h->cfg->token_file, "re");
	if (!f)
		return;	/* keep the last token; the request's 401 will tell */
	n = fread(h->token, 1, sizeof(h->token) - 1, f);
	fclose(f);
	while (n && (h->token[n - 1] == '\n' || h->token[n - 1] == ' '))
		n--;
	h->token[n] = 0;
	h->token_read = now;
}

static size_t kg_on_body(char *data, size_t size, size_t nmemb, void *p)
{
	struct kg_sink_buf *b = p;
	struct kg_k8s_resp *r = b->r;
	size_t n = size * nmemb;

	if (b->fn)
		return b->fn(b->ctx, data, n) || (b->stop && *b->stop) ? 0 : n;
	if (r->len + n + 1 > KG_MAX_BODY)
		return 0;
	if (r->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *nb;

		while (cap < r->len + n + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb)
			return 0;
		r->body = nb;
		b->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = 0;
	return n;
}

static size_t kg_on_header(char *data, size_t size, size_t nmemb, void *p)
{
	struct kg_k8s_resp *r = p;
	size_t n = size * nmemb;

	if (n > 12 && !strncasecmp(data, "Retry-After:", 12)) {
		char *end;
		long v = strtol(data + 12, &end, 10);

		/* only integer seconds: an HTTP-date is ignored, as client-go does */
		if (end != data + 12 && (*end == '\r' || *end == '\n' || *end == 0) && v >= 0)
			r->retry_after_s = v;
	}
	return n;
}

static int kg_stop_cb(void *p, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	volatile int *stop = p;

	return stop && *stop;
}

static int kg_do(struct kg_k8s_http *h, const char *method, const char *path,
		 const char *content_type, const char *body, long timeout_ms, kg_k8s_stream_fn fn,
		 void *ctx, volatile int *stop, struct kg_k8s_resp *r)
{
	const struct kg_k8s_config *c = h->cfg;
	struct kg_sink_buf buf = { .r = r, .fn = fn, .ctx = ctx, .stop = stop };
	struct curl_slist *hdrs = NULL;
	char url[4096], ctype[128];
	CURL *cu = h->curl;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	if (snprintf(url, sizeof(url), "%s%s", c->server, path) >= (int)sizeof(url)) {
		snprintf(r->error, sizeof(r->error), "URL too long");
		return -1;
	}
	curl_easy_reset(cu);	/* keeps the connection cache: the connection is reused */
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->ca.data) {
		struct curl_blob blob = { c->ca.data, c->ca.len, CURL_BLOB_NOCOPY };

		curl_easy_setopt(cu, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->client_cert.data) {
		struct curl_blob cert = { c->client_cert.data, c->client_cert.len, CURL_BLOB_NOCOPY };
		struct curl_blob key = { c->client_key.data, c->client_key.len, CURL_BLOB_NOCOPY };

		curl_easy_setopt(cu, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(cu, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(cu, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(cu, CURLOPT_SSLKEYTYPE, "PEM");
	}
	kg_refresh_token(h);
	if (h->token[0]) {
		snprintf(h->auth, sizeof(h->auth), "Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, h->auth);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "User-Agent: kernel-gossip/" KG_VERSION);
	if (body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ctype);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, kg_on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, kg_on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
	if (stop) {
		curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, kg_stop_cb);
		curl_easy_setopt(cu, CURLOPT_XFERINFODATA, (void *)stop);
		curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
	}
	rc = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status == 401)
		h->token_read = 0;	/* a rotated token: read the file again before the retry */
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);	/* holds the token: freed now */
	memset(h->auth, 0, sizeof(h->auth));
	if (!r->body) {
		r->body = strdup("");
		r->len = 0;
	}
	if (rc != CURLE_OK && !(fn && (rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK))) {
		snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
		if (!fn || !r->status)
			return -1;
	}
	return 0;
}

int kg_k8s_request(struct kg_k8s_http *h, const char *method, const char *path,
		   const char *content_type, const char *body, long timeout_ms,
		   struct kg_k8s_resp *r)
{
	int ret = kg_do(h, method, path, content_type, body, timeout_ms, NULL, NULL, NULL, r);

	/* a rotated token: kg_do() read the file again; one more try with the new one */
	if (!ret && r->status == 401 && h->cfg->token_file[0]) {
		kg_k8s_resp_free(r);
		ret = kg_do(h, method, path, content_type, body, timeout_ms, NULL, NULL, NULL, r);
	}
	return ret;
}

int kg_k8s_stream(struct kg_k8s_http *h, const char *path, long timeout_ms, kg_k8s_stream_fn fn,
		  void *ctx, volatile int *stop, struct kg_k8s_resp *r)
{
	return kg_do(h, "GET", path, NULL, NULL, timeout_ms, fn, ctx, stop, r);
}

void kg_k8s_status_message(const struct kg_k8s_resp *r, char *out, size_t outsz)
{
	json_object *o = r->body ? json_tokener_parse(r->body) : NULL, *m;

	if (o && json_object_object_get_ex(o, "message", &m))
		snprintf(out, outsz, "%s", json_object_get_string(m));
	else
		snprintf(out, outsz, "%.200s", r->body ? r->body : "");
	json_object_put(o);
}
