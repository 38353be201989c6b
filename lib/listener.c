// SPDX-License-Identifier: Apache-2.0
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"

struct listener {
	struct ev_loop *loop;
	char name[32];
	listener_accept_cb *cb;
	listener_shed_cb *shed;
	void *arg;
	char *refusal;
	size_t refusal_len;
	int lfds[LISTENER_MAX_FDS];
	size_t nlfds;
	int reserve; /* held back for accept-and-refuse at EMFILE; -1 if lost */
	int paused;
	struct ev_timer resume;
	uint64_t logged_ms; /* last exhaustion log line; 0: never */
	unsigned long refused;
};

static int reserve_open(void)
{
	return open("/", O_PATH | O_CLOEXEC);
}

static void set_paused(struct listener *l, int paused)
{
	if (l->paused == paused)
		return;
	l->paused = paused;
	for (size_t i = 0; i < l->nlfds; i++)
		ev_mod(l->loop, l->lfds[i], paused ? 0 : EPOLLIN);
	if (paused)
		ev_timer_start(l->loop, &l->resume, LISTENER_PAUSE_MS);
	else
		ev_timer_stop(l->loop, &l->resume);
}

static void on_resume(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	set_paused(arg, 0);
}

/* Out of fds: tell one waiting client so, then stop accepting for a while. */
static void exhausted(struct listener *l, int lfd, int err)
{
	bool shed = l->shed && l->shed(l->arg);
	if (!shed && l->reserve >= 0) {
		close(l->reserve);
		int fd = sock_accept(lfd);
		if (fd >= 0) {
			if (l->refusal_len) {
				ssize_t w = send(fd, l->refusal, l->refusal_len,
						 MSG_NOSIGNAL | MSG_DONTWAIT);
				(void)w;
			}
			close(fd);
			l->refused++;
		}
		l->reserve = reserve_open();
	}
	uint64_t now = ev_now(l->loop);
	if (!l->logged_ms || now - l->logged_ms >= LISTENER_LOG_INTERVAL_MS) {
		l->logged_ms = now;
		char n[24];
		snprintf(n, sizeof(n), "%lu", l->refused);
		log_msg(LOG_WARN, NULL, "out of file descriptors: accepting paused", "listener",
			l->name, "error", strerror(err), "refused_total", n, "shed",
			shed ? "a connection" : "none", NULL);
	}
	set_paused(l, 1);
}

static void on_accept(struct ev_loop *loop, int lfd, uint32_t events, void *arg)
{
	struct listener *l = arg;
	(void)loop;
	(void)events;
	for (int i = 0; i < LISTENER_BATCH && !l->paused; i++) {
		int fd = sock_accept(lfd);
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
			exhausted(l, lfd, -fd);
			return;
		}
		if (fd < 0)
			return;
		l->cb(fd, l->arg);
	}
}

struct listener *listener_new(struct ev_loop *loop, const char *name, listener_accept_cb *cb,
			      void *arg, const void *refusal, size_t refusal_len, struct err *e)
{
	struct listener *l = calloc(1, sizeof(*l));
	if (!l || (refusal_len && !(l->refusal = malloc(refusal_len)))) {
		free(l);
		err_set(e, ENOMEM, "listener_new");
		return NULL;
	}
	l->loop = loop;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "");
	l->cb = cb;
	l->arg = arg;
	if (refusal_len)
		memcpy(l->refusal, refusal, refusal_len);
	l->refusal_len = refusal_len;
	l->reserve = reserve_open();
	ev_timer_init(&l->resume, on_resume, l);
	return l;
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	ev_timer_stop(l->loop, &l->resume);
	for (size_t i = 0; i < l->nlfds; i++) {
		ev_del(l->loop, l->lfds[i]);
		close(l->lfds[i]);
	}
	if (l->reserve >= 0)
		close(l->reserve);
	free(l->refusal);
	free(l);
}

int listener_add_fd(struct listener *l, int lfd, struct err *e)
{
	if (l->nlfds == LISTENER_MAX_FDS) {
		close(lfd);
		return err_set(e, ENOSPC, "too many listeners");
	}
	int r = ev_add(l->loop, lfd, l->paused ? 0 : EPOLLIN, on_accept, l);
	if (r < 0) {
		close(lfd);
		return err_set(e, -r, "ev_add listener");
	}
	l->lfds[l->nlfds++] = lfd;
	return 0;
}

void listener_on_exhausted(struct listener *l, listener_shed_cb *shed)
{
	l->shed = shed;
}

void listener_fd_freed(struct listener *l)
{
	if (l && l->paused)
		set_paused(l, 0);
}

int listener_paused(const struct listener *l)
{
	return l->paused;
}

long listener_raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (long)1 << 30 : (long)rl.rlim_cur;
}
