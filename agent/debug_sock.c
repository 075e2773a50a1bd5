// SPDX-License-Identifier: GPL-2.0
/*
 * debug_sock.c - see debug_sock.h.
 *
 * The server keeps its own epoll set (listener + clients, level-triggered)
 * and hands the loop one fd, as the ring consumer does: the loop knows
 * nothing of clients coming and going. Every socket is non-blocking; all
 * sends use MSG_NOSIGNAL.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "debug_sock.h"
#include "log.h"

#define KG_DBG_IN_CAP (KG_DBG_MAX_LINE + 1 + 4096)
#define NS_PER_S 1000000000ULL

struct kg_dbg_client {
	int fd;
	uint32_t uid, pid;
	uint32_t events;		/* epoll interest now */
	bool watching, discarding, dead;
	bool eof;			/* the client shut down its side: answer, then close */
	char in[KG_DBG_IN_CAP];
	size_t in_len;
	char *out;			/* queued response bytes: out[off, len) unsent */
	size_t out_len, out_off, out_cap;
	char *watch[KG_DBG_WATCH_QUEUE];	/* ring of event lines, oldest at whead */
	unsigned whead, wcount;
	uint64_t watch_dropped_unreported;
	uint64_t last_activity_ns, last_progress_ns;
};

struct kg_dbg_server {
	int lfd, epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[PATH_MAX];
	bool created_dir;
	dev_t dev;
	ino_t ino;
	kg_dbg_handler_fn fn;
	void *ctx;
	struct kg_dbg_client *clients[KG_DBG_MAX_CLIENTS];
	struct kg_dbg_stats st;
};

static uint64_t kg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- clients ---- */

static size_t kg_pending(const struct kg_dbg_client *c)
{
	return c->out_len - c->out_off;
}

static void kg_client_free(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	for (unsigned i = 0; i < c->wcount; i++)
		free(c->watch[(c->whead + i) % KG_DBG_WATCH_QUEUE]);
	if (c->fd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->out);
	free(c);
}

/* Mark for removal at the end of this round (pointers to c may still be live). */
static void kg_client_drop(struct kg_dbg_server *s, struct kg_dbg_client *c, int reason)
{
	if (c->dead)
		return;
	c->dead = true;
	if (reason >= 0) {
		s->st.dropped[reason]++;
		kg_warn("debug.client_dropped", "uid=%u pid=%u reason=%s", c->uid, c->pid,
			kg_dbg_drop_name(reason));
	}
}

static void kg_reap(struct kg_dbg_server *s)
{
	for (int i = 0; i < KG_DBG_MAX_CLIENTS; i++) {
		struct kg_dbg_client *c = s->clients[i];

		if (c && c->dead) {
			if (c->watching)
				s->st.watchers--;
			s->st.clients--;
			kg_client_free(s, c);
			s->clients[i] = NULL;
		}
	}
}

static int kg_out_append(struct kg_dbg_client *c, const char *data, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *o;

		if (c->out_off > c->out_cap / 2) {	/* compact before growing */
			memmove(c->out, c->out + c->out_off, kg_pending(c));
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + n)
			cap *= 2;
		if (cap != c->out_cap) {
			o = realloc(c->out, cap);
			if (!o)
				return -ENOMEM;
			c->out = o;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

static void kg_client_interest(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (!c->eof && kg_pending(c) <= KG_DBG_READ_PAUSE)
		ev |= EPOLLIN | EPOLLRDHUP;
	/*
	 * EPOLLOUT also while complete requests wait in c->in: a writable
	 * socket reports it at once, so the next poll round answers them even
	 * when no byte arrives and nothing is queued (a flush that sent
	 * everything right after a pause).
	 */
	if (kg_pending(c) || c->wcount || memchr(c->in, '\n', c->in_len) || (c->eof && c->in_len))
		ev |= EPOLLOUT;
	if (ev == c->events || c->dead)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &e))
		kg_client_drop(s, c, KG_DBG_DROP_ERROR);
	else
		c->events = ev;
}

/* Send what is queued: responses first, then watch events; stop at EAGAIN. */
static void kg_client_flush(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	uint64_t now = kg_mono_ns();

	while (!c->dead) {
		if (!kg_pending(c)) {
			char note[128];
			char *line;
			int n;

			if (!c->wcount)
				break;
			if (c->watch_dropped_unreported) {
				n = snprintf(note, sizeof(note),
					     "{\"event\":\"watch.dropped\",\"count\":%llu,"
					     "\"reason\":\"client reading too slowly\"}\n",
					     (unsigned long long)c->watch_dropped_unreported);
				c->watch_dropped_unreported = 0;
				if (kg_out_append(c, note, n)) {
					kg_client_drop(s, c, KG_DBG_DROP_ERROR);
					break;
				}
			}
			line = c->watch[c->whead];
			c->whead = (c->whead + 1) % KG_DBG_WATCH_QUEUE;
			c->wcount--;
			n = kg_out_append(c, line, strlen(line));
			free(line);
			if (n) {
				kg_client_drop(s, c, KG_DBG_DROP_ERROR);
				break;
			}
			continue;
		}
		ssize_t n = send(c->fd, c->out + c->out_off, kg_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += n;
			c->last_progress_ns = now;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		kg_client_drop(s, c, errno == EPIPE || errno == ECONNRESET ? -1 : KG_DBG_DROP_ERROR);
		break;
	}
	if (!kg_pending(c) && !c->wcount) {
		c->last_progress_ns = now;	/* nothing owed: not stalled */
		if (c->eof && !c->watching)
			kg_client_drop(s, c, -1);	/* answered everything it asked */
	}
	kg_client_interest(s, c);
}

static void kg_client_reply(struct kg_dbg_server *s, struct kg_dbg_client *c, char *line)
{
	if (!line)
		return;
	if (kg_out_append(c, line, strlen(line)) || kg_pending(c) > KG_DBG_OUT_MAX)
		kg_client_drop(s, c, KG_DBG_DROP_OUTPUT_FULL);
	free(line);
}

static void kg_client_line(struct kg_dbg_server *s, struct kg_dbg_client *c, const char *line,
			   size_t len)
{
	bool watch = false;
	char *resp;

	s->st.requests++;
	resp = s->fn(s->ctx, line, len, &watch);
	if (watch && !c->watching) {
		c->watching = true;
		s->st.watchers++;
	}
	kg_client_reply(s, c, resp);
}

static void kg_oversized(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "request line longer than %d bytes: skipped", KG_DBG_MAX_LINE);
	kg_client_reply(s, c, kg_dbg_error_line(msg));
}

/* Answer the complete lines in c->in, unless the client has too much unread. */
static void kg_client_process(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	while (!c->dead && kg_pending(c) <= KG_DBG_READ_PAUSE) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t len;

		if (!nl && c->eof && c->in_len && !c->discarding && c->in_len <= KG_DBG_MAX_LINE) {
			kg_client_line(s, c, c->in, c->in_len);	/* a last line without '\n' */
			c->in_len = 0;
			break;
		}
		if (!nl) {
			if (c->discarding) {
				c->in_len = 0;	/* more of a line already refused */
			} else if (c->in_len > KG_DBG_MAX_LINE) {
				kg_oversized(s, c);
				c->discarding = true;
				c->in_len = 0;
			}
			break;
		}
		len = nl - c->in;
		if (c->discarding)
			c->discarding = false;	/* the end of a refused line */
		else if (len > KG_DBG_MAX_LINE)
			kg_oversized(s, c);
		else
			kg_client_line(s, c, c->in, len);
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
	}
}

static void kg_client_read(struct kg_dbg_server *s, struct kg_dbg_client *c)
{
	while (!c->dead && !c->eof) {
		size_t space;
		ssize_t n;

		/* answer what is buffered first: the room to read into is what it leaves */
		kg_client_process(s, c);
		if (c->dead || kg_pending(c) > KG_DBG_READ_PAUSE)
			return;	/* paused: the rest waits in the kernel's socket buffer */
		space = sizeof(c->in) - c->in_len;	/* >= 4096: lines past the limit are dropped */
		if (!space)
			return;
		n = recv(c->fd, c->in + c->in_len, space, MSG_DONTWAIT);
		if (n == 0) {
			c->eof = true;	/* no more requests; the answers still go out */
			kg_client_process(s, c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				kg_client_drop(s, c, errno == ECONNRESET ? -1 : KG_DBG_DROP_ERROR);
			return;
		}
		c->in_len += n;
		c->last_activity_ns = kg_mono_ns();
	}
}

static void kg_refuse(struct kg_dbg_server *s, int fd, int reason, const char *msg)
{
	char *line = kg_dbg_error_line(msg);

	if (line) {
		ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);

		(void)n;
		free(line);
	}
	close(fd);
	s->st.dropped[reason]++;
}

static void kg_accept(struct kg_dbg_server *s)
{
	for (;;) {
		struct kg_dbg_client *c;
		struct epoll_event ev;
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;
		int sndbuf = KG_DBG_SNDBUF;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				kg_warn("debug.accept_failed", "error=%s", kg_q(strerror(errno)));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
			kg_refuse(s, fd, KG_DBG_DROP_ERROR, "cannot read peer credentials");
			continue;
		}
		if (cred.uid != 0 && cred.uid != geteuid()) {
			char msg[128];

			kg_warn("debug.refused", "uid=%u pid=%u reason=\"not root\"", cred.uid,
				cred.pid);
			snprintf(msg, sizeof(msg),
				 "permission denied: uid %u is not root (the debug socket is for root)",
				 cred.uid);
			kg_refuse(s, fd, KG_DBG_DROP_PERMISSION, msg);
			continue;
		}
		for (int i = 0; i < KG_DBG_MAX_CLIENTS; i++) {
			if (!s->clients[i]) {
				slot = i;
				break;
			}
		}
		if (slot < 0) {
			kg_warn("debug.refused", "uid=%u pid=%u reason=\"too many clients\" max=%d",
				cred.uid, cred.pid, KG_DBG_MAX_CLIENTS);
			kg_refuse(s, fd, KG_DBG_DROP_TOO_MANY, "too many debug clients");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			kg_refuse(s, fd, KG_DBG_DROP_ERROR, "out of memory");
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->last_activity_ns = c->last_progress_ns = kg_mono_ns();
		c->events = EPOLLIN | EPOLLRDHUP;
		ev.events = c->events;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			c->fd = -1;
			free(c);
			kg_refuse(s, fd, KG_DBG_DROP_ERROR, "cannot watch the connection");
			continue;
		}
		s->clients[slot] = c;
		s->st.clients++;
		s->st.accepted++;
		kg_debug("debug.client", "uid=%u pid=%u", cred.uid, cred.pid);
	}
}

void kg_dbg_poll(struct kg_dbg_server *s)
{
	struct epoll_event evs[32];
	int n = epoll_wait(s->epfd, evs, 32, 0);

	for (int i = 0; i < n; i++) {
		struct kg_dbg_client *c = evs[i].data.ptr;

		if (!c) {
			kg_accept(s);
			continue;
		}
		if (c->dead)
			continue;
		if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
			kg_client_drop(s, c, -1);	/* gone both ways: nobody to answer */
			continue;
		}
		if (evs[i].events & EPOLLOUT)
			kg_client_flush(s, c);
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
			kg_client_read(s, c);
		kg_client_process(s, c);	/* lines left over from a pause */
		kg_client_flush(s, c);
	}
	kg_reap(s);
}

void kg_dbg_broadcast(struct kg_dbg_server *s, const char *line, size_t len)
{
	for (int i = 0; i < KG_DBG_MAX_CLIENTS; i++) {
		struct kg_dbg_client *c = s->clients[i];
		char *copy;

		if (!c || !c->watching || c->dead)
			continue;
		copy = strndup(line, len);
		if (!copy)
			continue;
		if (c->wcount == KG_DBG_WATCH_QUEUE) {	/* slow: lose the oldest */
			free(c->watch[c->whead]);
			c->whead = (c->whead + 1) % KG_DBG_WATCH_QUEUE;
			c->wcount--;
			c->watch_dropped_unreported++;
			s->st.watch_dropped++;
		}
		c->watch[(c->whead + c->wcount) % KG_DBG_WATCH_QUEUE] = copy;
		c->wcount++;
		s->st.watch_events++;
		kg_client_flush(s, c);
	}
	kg_reap(s);
}

bool kg_dbg_has_watchers(const struct kg_dbg_server *s)
{
	return s && s->st.watchers > 0;
}

void kg_dbg_tick(struct kg_dbg_server *s, uint64_t now_ns)
{
	for (int i = 0; i < KG_DBG_MAX_CLIENTS; i++) {
		struct kg_dbg_client *c = s->clients[i];

		if (!c || c->dead)
			continue;
		if ((kg_pending(c) || c->wcount) &&
		    now_ns - c->last_progress_ns > KG_DBG_STALL_S * NS_PER_S)
			kg_client_drop(s, c, KG_DBG_DROP_STALLED);
		else if (!c->watching && !kg_pending(c) &&
			 now_ns - c->last_activity_ns > KG_DBG_IDLE_S * NS_PER_S)
			kg_client_drop(s, c, KG_DBG_DROP_IDLE);
	}
	kg_reap(s);
}

void kg_dbg_get_stats(const struct kg_dbg_server *s, struct kg_dbg_stats *out)
{
	*out = s->st;
}

const char *kg_dbg_path(const struct kg_dbg_server *s)
{
	return s->path;
}

int kg_dbg_fd(const struct kg_dbg_server *s)
{
	return s->epfd;
}

/* ---- the socket ---- */

__attribute__((format(printf, 4, 5))) static int kg_fail(char *err, size_t errsz, int ret,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return ret;
}

/* The directory holding the socket: ours (created 0700), or one others cannot write. */
static int kg_dbg_dir(struct kg_dbg_server *s, char *err, size_t errsz)
{
	char *slash = strrchr(s->path, '/');
	struct stat st;

	snprintf(s->dir, sizeof(s->dir), "%.*s", (int)(slash - s->path), s->path);
	if (!s->dir[0])
		snprintf(s->dir, sizeof(s->dir), "/");
	if (!mkdir(s->dir, 0700)) {
		s->created_dir = true;
		if (chmod(s->dir, 0700))	/* whatever the umask */
			return kg_fail(err, errsz, -errno, "cannot chmod %s: %s", s->dir,
				       strerror(errno));
	} else if (errno != EEXIST) {
		return kg_fail(err, errsz, -errno, "cannot create the debug socket's directory %s: %s",
			       s->dir, strerror(errno));
	}
	if (lstat(s->dir, &st))
		return kg_fail(err, errsz, -errno, "cannot stat %s: %s", s->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return kg_fail(err, errsz, -ENOTDIR, "%s is not a directory", s->dir);
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid()))
		return kg_fail(err, errsz, -EPERM,
			       "refusing to put the debug socket in %s: %s (use a directory only "
			       "root can write, or --debug-socket off)",
			       s->dir,
			       (st.st_mode & 022) ? "others can write to it" : "not owned by root");
	return 0;
}

/* A socket file left by an agent that did not stop cleanly is replaced; a live one is not. */
static int kg_dbg_stale(struct kg_dbg_server *s, char *err, size_t errsz)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(s->path, &st))
		return errno == ENOENT ? 0
				       : kg_fail(err, errsz, -errno, "cannot stat %s: %s", s->path,
						 strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return kg_fail(err, errsz, -EEXIST, "%s exists and is not a socket", s->path);
	memcpy(a.sun_path, s->path, strlen(s->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kg_fail(err, errsz, -errno, "socket: %s", strerror(errno));
	ret = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	if (!ret)
		return kg_fail(err, errsz, -EADDRINUSE,
			       "another agent is serving the debug socket %s", s->path);
	if (errno != ECONNREFUSED)
		return kg_fail(err, errsz, -errno, "cannot probe %s: %s", s->path, strerror(errno));
	if (unlink(s->path))
		return kg_fail(err, errsz, -errno, "cannot remove the stale socket %s: %s", s->path,
			       strerror(errno));
	kg_info("debug.stale_socket_removed", "path=%s", kg_q(s->path));
	return 0;
}

int kg_dbg_open(struct kg_dbg_server **out, const char *path, kg_dbg_handler_fn fn, void *ctx,
		char *err, size_t errsz)
{
	struct kg_dbg_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct stat st;
	mode_t old;
	int ret;

	*out = NULL;
	if (!s)
		return kg_fail(err, errsz, -ENOMEM, "out of memory");
	s->lfd = s->epfd = -1;
	s->fn = fn;
	s->ctx = ctx;
	if (path[0] != '/' || strlen(path) >= sizeof(s->path)) {
		free(s);
		return kg_fail(err, errsz, -EINVAL, "invalid debug socket path %s", path);
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	ret = kg_dbg_dir(s, err, errsz);
	if (!ret)
		ret = kg_dbg_stale(s, err, errsz);
	if (ret)
		goto fail;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		ret = kg_fail(err, errsz, -errno, "socket: %s", strerror(errno));
		goto fail;
	}
	memcpy(a.sun_path, s->path, strlen(s->path));
	old = umask(0177);	/* born 0600: no window in which others could connect */
	ret = bind(s->lfd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret) {
		ret = kg_fail(err, errsz, -errno, "cannot bind the debug socket %s: %s", s->path,
			      strerror(errno));
		goto fail;
	}
	if (chmod(s->path, 0600) || stat(s->path, &st) || listen(s->lfd, 16)) {
		ret = kg_fail(err, errsz, -errno, "cannot set up the debug socket %s: %s", s->path,
			      strerror(errno));
		unlink(s->path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev)) {
		ret = kg_fail(err, errsz, -errno, "epoll: %s", strerror(errno));
		unlink(s->path);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->created_dir)
		rmdir(s->dir);
	free(s);
	return ret ? ret : -EINVAL;
}

void kg_dbg_close(struct kg_dbg_server *s)
{
	struct stat st;

	if (!s)
		return;
	for (int i = 0; i < KG_DBG_MAX_CLIENTS; i++) {
		if (s->clients[i]) {
			kg_client_flush(s, s->clients[i]);	/* best effort, never waits */
			kg_client_free(s, s->clients[i]);
		}
	}
	close(s->lfd);
	close(s->epfd);
	/* only our own socket: another agent may have replaced it since */
	if (!lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	if (s->created_dir)
		rmdir(s->dir);	/* fails harmlessly when something else lives there */
	free(s);
}
