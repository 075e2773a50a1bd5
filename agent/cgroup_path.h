/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_path.h - what a cgroup path says about Kubernetes, and how to name it.
 *
 * The kernel tells the agent about cgroups by path (the cgroup tracepoints,
 * /proc/<pid>/cgroup), and kubelet encodes the pod and container a cgroup
 * belongs to in that path. This module turns a path into a pod uid, a
 * container id, a QoS class and the cgroup driver, and derives a Kubernetes
 * object name for cgroups that are not pods.
 *
 * It is pure: no I/O, no allocation, no global state, so the attribution rules
 * are unit-tested in isolation and can be called from the hot event path. The
 * result lives in fixed-size buffers inside the caller's struct; input the
 * kernel could not have produced is rejected rather than guessed at, because
 * paths can reach the agent from places it does not control.
 */
#ifndef KG_CGROUP_PATH_H
#define KG_CGROUP_PATH_H

#include <stddef.h>

#define KG_POD_UID_LEN 37 /* 36 chars + NUL, canonical dashed form */
#define KG_CONTAINER_ID_LEN 65 /* up to 64 hex chars + NUL */
#define KG_CGROUP_PATH_MAX 4096 /* a path must fit a buffer this size with its NUL */
#define KG_CGROUP_NAME_MAX 255 /* one path component (a directory name: NAME_MAX) */
#define KG_CONTAINER_ID_MIN 12 /* shortest container id accepted (docker's short form) */
#define KG_RUNTIME_LEN 16
#define KG_OBJECT_NAME_MAX 63 /* kg_cgroup_object_name() never returns more than this */
#define KG_OBJECT_NAME_MIN 15 /* ... and needs room for at least this ("cgroup-" + 8 hex) */

enum kg_cgroup_kind {
	KG_CG_OTHER = 0, /* not a Kubernetes cgroup: systemd service, plain dir, ... */
	KG_CG_KUBE_ROOT, /* /kubepods or /kubepods.slice */
	KG_CG_QOS, /* /kubepods/burstable, kubepods-besteffort.slice, ... */
	KG_CG_POD, /* pod-level cgroup */
	KG_CG_CONTAINER, /* a container inside a pod */
};

enum kg_cgroup_driver { KG_DRIVER_NONE = 0, KG_DRIVER_CGROUPFS, KG_DRIVER_SYSTEMD };

enum kg_qos { KG_QOS_NONE = 0, KG_QOS_GUARANTEED, KG_QOS_BURSTABLE, KG_QOS_BESTEFFORT };

/*
 * What a path says. kind is the deepest Kubernetes level the path is at or
 * below; nested counts the path components below that level's own cgroup, so
 * nested == 0 means the path IS the pod (container, QoS, root) cgroup and
 * nested > 0 means it is a descendant that kubelet's layout does not name
 * (".../cri-containerd-<id>.scope/init", "/kubepods/burstable/podfoo").
 * Fields of levels above kind are filled in too: a container has its pod uid
 * and QoS class, a pod its QoS class.
 */
struct kg_cgroup_identity {
	enum kg_cgroup_kind kind;
	enum kg_cgroup_driver driver; /* NONE only for KG_CG_OTHER */
	enum kg_qos qos; /* NONE for KG_CG_OTHER and KG_CG_KUBE_ROOT */
	char pod_uid[KG_POD_UID_LEN]; /* dashed, lowercase: "0f1e...-..." ; "" if none */
	char container_id[KG_CONTAINER_ID_LEN]; /* lowercase hex; "" if none */
	/* "containerd", "cri-o", "docker", "conmon"; "" if none or unknown (a bare id) */
	char runtime[KG_RUNTIME_LEN];
	unsigned int nested; /* components below the kind's own cgroup; 0 for KG_CG_OTHER */
};

/*
 * Parse a cgroup path relative to the hierarchy root (as the kernel's cgroup
 * tracepoints and /proc/<pid>/cgroup print it, e.g.
 * "/kubepods/besteffort/pod<uid>/<id>").
 *
 * Returns 0 and fills *id (kind KG_CG_OTHER for non-Kubernetes paths, which is
 * not an error). Returns -EINVAL, leaving *id zeroed (when id is not NULL), for
 * input that cannot be a cgroup path: NULL, empty, not starting with '/', not
 * fitting a KG_CGROUP_PATH_MAX buffer (strlen >= 4096), an empty component
 * ("//" or a trailing '/': only "/" itself may end in '/'), a "." or ".."
 * component, a component longer than KG_CGROUP_NAME_MAX, or any byte outside
 * printable ASCII 0x20..0x7e (control characters, DEL, UTF-8).
 *
 * Rules, for both cgroup v1 and v2 (the relative path is the same in every
 * hierarchy):
 *  - The anchor is the FIRST component that is "kubepods" (cgroupfs driver) or
 *    "kubepods.slice" / "<parent>-kubepods.slice" under "<parent>.slice"
 *    (systemd driver, e.g. kind's "/kubelet.slice/kubelet-kubepods.slice").
 *    Whatever precedes it is an ignored prefix.
 *  - Below the anchor, kubelet's layout is matched strictly for that driver:
 *    QoS "burstable"/"besteffort" (cgroupfs) or "<stem>-<qos>.slice" (systemd);
 *    pod "pod<uid>" with a dashed uid (cgroupfs) or "<stem>-pod<uid>.slice"
 *    with an underscored uid (systemd), directly under the anchor for
 *    guaranteed pods; then a container component, for either driver: a bare
 *    hex id, or "cri-containerd-<id>", "crio-<id>", "docker-<id>",
 *    "crio-conmon-<id>", each with or without ".scope".
 *  - A pod uid must be 32 hex digits grouped 8-4-4-4-12 (any case in, lowercase
 *    out); a container id 12..64 hex digits (any case in, lowercase out).
 *  - The first component that does not match ends the match: kind stays at the
 *    level above and nested counts the rest. Everything below a container is
 *    part of that container. Kubernetes-looking names deeper down (a container
 *    running its own kubelet, or one that made "kubepods/.../pod<uid>" cgroups
 *    in its own subtree) are never honoured: the outer ids are reported, since
 *    only they were created by the node's kubelet and runtime.
 *  - CRI-O's "crio-conmon-<id>.scope" (the container's monitor process) is
 *    reported as KG_CG_CONTAINER with runtime "conmon" and the id of the
 *    container it monitors: attributable to the pod, distinguishable from the
 *    container itself ("crio-<id>.scope", runtime "cri-o").
 */
int kg_cgroup_parse(const char *path, struct kg_cgroup_identity *id);

/*
 * Derive a Kubernetes object name from a (non-pod) cgroup path: an RFC 1123 DNS
 * subdomain (lowercase [a-z0-9.-], every dot-separated label starting and
 * ending alphanumeric) no longer than 63 chars, so it is also a valid label
 * value. E.g. "/system.slice/nginx.service" -> "system.slice-nginx.service",
 * "/kg-test/Throttled_A" -> "kg-test-throttled-a".
 *
 * Uppercase is lowercased; every run of other bytes becomes one '-' (or stays
 * '.' when the run is exactly one '.'); leading and trailing separators are
 * trimmed. When the result would exceed the limit it is truncated and suffixed
 * with "-" + 8 lowercase hex chars of the FNV-1a 32 hash of the full path, so
 * distinct long paths stay distinct. Short names are not injective:
 * "/a/b", "/a-b" and "/A_B" all give "a-b". "/" gives "root"; a path with no
 * alphanumerics at all (e.g. "/---/___") gives "cgroup-<hash>".
 *
 * The limit is min(max, 63, outsz - 1); max == 0 means 63. Writes a
 * NUL-terminated string into out and returns its length, or -EINVAL (out
 * untouched) when path or out is NULL, path is "", outsz < 16, or max is
 * nonzero and below KG_OBJECT_NAME_MIN.
 */
int kg_cgroup_object_name(const char *path, char *out, size_t outsz, size_t max);

/* "other", "kube-root", "qos", "pod", "container"; "unknown" if out of range. */
const char *kg_cgroup_kind_name(enum kg_cgroup_kind k);
/* "", "guaranteed", "burstable", "besteffort"; "unknown" if out of range. */
const char *kg_qos_name(enum kg_qos q);
/* "", "cgroupfs", "systemd"; "unknown" if out of range. */
const char *kg_driver_name(enum kg_cgroup_driver d);

#endif /* KG_CGROUP_PATH_H */
