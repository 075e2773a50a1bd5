// SPDX-License-Identifier: GPL-2.0
/*
 * k8s_metrics.c - see k8s_metrics.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "k8s_http.h"
#include "k8s_metrics.h"
#include "log.h"

#define KG_PM_MAX 256			/* pods watched at once: whispered pods only */
#define KG_PM_CONTAINERS 16
#define KG_PM_REFRESH_S 15		/* metrics-server's own resolution */
#define KG_PM_WANTED_S 600		/* forget a pod nobody asked about for this long */
#define KG_PM_FRESH_S 60
#define KG_PM_DISCOVERY_S 300		/* look for the API again this often when absent */

struct kg_pm_entry {
	char ns[64], pod[254];
	uint64_t wanted_s, fetched_s;
	bool valid;
	double window_s, total_mc;
	unsigned nc;
	struct {
		char name[64];
		double mc;
	} c[KG_PM_CONTAINERS];
	struct kg_pm_entry *next;
};

static uint64_t kg_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

bool kg_cpu_quantity_mc(const char *q, double *mc)
{
	char *end;
	double v;

	if (!q || !*q)
		return false;
	errno = 0;
	v = strtod(q, &end);
	if (errno || end == q || v < 0)
		return false;
	if (!*end)
		*mc = v * 1000;
	else if (!strcmp(end, "m"))
		*mc = v;
	else if (!strcmp(end, "u"))
		*mc = v / 1000;
	else if (!strcmp(end, "n"))
		*mc = v / 1e6;
	else
		return false;
	return true;
}

bool kg_duration_s(const char *d, double *s)
{
	double total = 0;
	bool any = false;

	if (!d || !*d)
		return false;
	while (*d) {
		char *end;
		double v = strtod(d, &end);

		if (end == d || v < 0)
			return false;
		if (!strncmp(end, "ms", 2)) {
			total += v / 1000;
			end += 2;
		} else if (*end == 'h') {
			total += v * 3600;
			end++;
		} else if (*end == 'm') {
			total += v * 60;
			end++;
		} else if (*end == 's') {
			total += v;
			end++;
		} else {
			return false;
		}
		any = true;
		d = end;
	}
	*s = total;
	return any;
}

static bool kg_parse_podmetrics(const char *body, struct kg_pm_entry *e)
{
	json_object *o = json_tokener_parse(body), *w, *arr;
	bool ok = false;

	e->nc = 0;
	e->total_mc = 0;
	if (!o || !json_object_object_get_ex(o, "window", &w) ||
	    !kg_duration_s(json_object_get_string(w), &e->window_s) || e->window_s <= 0 ||
	    !json_object_object_get_ex(o, "containers", &arr))
		goto out;
	for (size_t i = 0; i < json_object_array_length(arr) && e->nc < KG_PM_CONTAINERS; i++) {
		json_object *c = json_object_array_get_idx(arr, i), *n, *u, *cpu;
		double mc;

		if (!json_object_object_get_ex(c, "name", &n) ||
		    !json_object_object_get_ex(c, "usage", &u) ||
		    !json_object_object_get_ex(u, "cpu", &cpu) ||
		    !kg_cpu_quantity_mc(json_object_get_string(cpu), &mc))
			goto out;
		snprintf(e->c[e->nc].name, sizeof(e->c[e->nc].name), "%s",
			 json_object_get_string(n));
		e->c[e->nc++].mc = mc;
		e->total_mc += mc;
	}
	ok = true;
out:
	json_object_put(o);
	return ok;
}

static void *kg_pm_thread(void *arg)
{
	struct kg_pod_metrics *m = arg;
	struct kg_k8s_http *h = kg_k8s_http_new(m->cfg);
	uint64_t discovered_s = 0;

	if (!h)
		return NULL;
	while (!m->stop) {
		uint64_t now = kg_now_s();
		struct kg_k8s_resp r;

		if (m->served != 1 && (m->served < 0 || now - discovered_s > KG_PM_DISCOVERY_S)) {
			kg_k8s_request(h, "GET", "/apis/metrics.k8s.io/v1beta1", NULL, NULL, 10000, &r);
			pthread_mutex_lock(&m->mu);
			m->served = r.status == 200;
			pthread_mutex_unlock(&m->mu);
			kg_info("k8s.metrics_api", "served=%d status=%ld", r.status == 200, r.status);
			kg_k8s_resp_free(&r);
			discovered_s = now;
		}
		for (;;) {
			struct kg_pm_entry todo = { 0 }, *e;
			char path[512];
			bool found = false;

			pthread_mutex_lock(&m->mu);
			/* the next wanted pod whose value is stale; forget the unwanted */
			for (struct kg_pm_entry **pp = &m->entries; *pp;) {
				e = *pp;
				if (now - e->wanted_s > KG_PM_WANTED_S) {
					*pp = e->next;
					free(e);
					m->n--;
					continue;
				}
				if (!found && m->served == 1 && now - e->fetched_s >= KG_PM_REFRESH_S) {
					e->fetched_s = now;
					todo = *e;
					found = true;
				}
				pp = &e->next;
			}
			pthread_mutex_unlock(&m->mu);
			if (!found || m->stop)
				break;
			snprintf(path, sizeof(path),
				 "/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods/%s", todo.ns,
				 todo.pod);
			kg_k8s_request(h, "GET", path, NULL, NULL, 10000, &r);
			todo.valid = r.status == 200 && kg_parse_podmetrics(r.body, &todo);
			kg_debug("k8s.podmetrics", "pod=%s/%s status=%ld valid=%d cpu_m=%.1f window_s=%.0f",
				 todo.ns, todo.pod, r.status, todo.valid, todo.total_mc, todo.window_s);
			pthread_mutex_lock(&m->mu);
			m->fetches++;
			if (!todo.valid)
				m->errors++;
			if (r.status == 404 && !strstr(r.body, "PodMetrics"))
				m->served = 0;	/* the API went away: discover again later */
			for (e = m->entries; e; e = e->next) {
				if (!strcmp(e->ns, todo.ns) && !strcmp(e->pod, todo.pod)) {
					struct kg_pm_entry *next = e->next;
					uint64_t wanted = e->wanted_s;

					if (todo.valid) {
						*e = todo;
						e->wanted_s = wanted;
					}
					e->next = next;
					e->fetched_s = now;
					break;
				}
			}
			pthread_mutex_unlock(&m->mu);
			kg_k8s_resp_free(&r);
		}
		for (int i = 0; i < 10 && !m->stop; i++)
			usleep(100000);
	}
	kg_k8s_http_free(h);
	return NULL;
}

int kg_pod_metrics_start(struct kg_pod_metrics *m, const struct kg_k8s_config *cfg, char *err,
			 size_t errsz)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->served = -1;
	pthread_mutex_init(&m->mu, NULL);
	if (pthread_create(&m->thread, NULL, kg_pm_thread, m)) {
		snprintf(err, errsz, "cannot start the metrics API thread: %s", strerror(errno));
		return -1;
	}
	m->started = true;
	return 0;
}

void kg_pod_metrics_stop(struct kg_pod_metrics *m)
{
	if (!m->started)
		return;
	m->stop = 1;
	pthread_join(m->thread, NULL);
	for (struct kg_pm_entry *e = m->entries, *n; e; e = n) {
		n = e->next;
		free(e);
	}
	m->entries = NULL;
	pthread_mutex_destroy(&m->mu);
	m->started = false;
}

bool kg_pod_metrics_get(struct kg_pod_metrics *m, const char *ns, const char *pod,
			const char *container, double *millicores, double *window_s)
{
	uint64_t now = kg_now_s();
	struct kg_pm_entry *e;
	bool ok = false;

	pthread_mutex_lock(&m->mu);
	for (e = m->entries; e; e = e->next) {
		if (!strcmp(e->ns, ns) && !strcmp(e->pod, pod))
			break;
	}
	if (!e && m->n < KG_PM_MAX && (e = calloc(1, sizeof(*e)))) {
		snprintf(e->ns, sizeof(e->ns), "%s", ns);
		snprintf(e->pod, sizeof(e->pod), "%s", pod);
		e->next = m->entries;
		m->entries = e;
		m->n++;
	}
	if (e) {
		e->wanted_s = now;
		if (e->valid && now - e->fetched_s <= KG_PM_FRESH_S) {
			*window_s = e->window_s;
			if (!container) {
				*millicores = e->total_mc;
				ok = true;
			}
			for (unsigned i = 0; container && i < e->nc; i++) {
				if (!strcmp(e->c[i].name, container)) {
					*millicores = e->c[i].mc;
					ok = true;
				}
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}
