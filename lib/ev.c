// SPDX-License-Identifier: Apache-2.0
#include "ev.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define EV_MAX_EVENTS 128
#define EV_NSIG	      65

struct ev_io {
	ev_io_cb *cb;
	void *arg;
	uint32_t gen; /* bumped on every add/del so stale events are recognised */
	bool active;
};

struct ev_loop {
	int epfd;
	struct ev_io *ios; /* indexed by fd */
	size_t nios;
	struct ev_timer **heap;
	size_t nheap, capheap;
	uint64_t now;
	bool stop;
	bool again; /* the next epoll_wait must not block */
	struct ev_retiree *retired, **retired_tail;
	int sigfd;
	sigset_t sigmask;
	struct {
		ev_signal_cb *cb;
		void *arg;
	} sigs[EV_NSIG];
	struct {
		ev_turn_cb *cb;
		void *arg;
	} turn[EV_TURN_HOOKS];
};

uint64_t ev_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct ev_loop *ev_loop_new(struct err *e)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));
	if (!loop) {
		err_set(e, ENOMEM, "ev_loop_new");
		return NULL;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		err_set(e, errno, "epoll_create1");
		free(loop);
		return NULL;
	}
	loop->sigfd = -1;
	loop->retired_tail = &loop->retired;
	sigemptyset(&loop->sigmask);
	loop->now = ev_clock_ms();
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	ev_run_retired(loop);
	for (size_t i = 0; i < loop->nheap; i++)
		loop->heap[i]->heap_idx = EV_TIMER_IDLE;
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop->ios);
	free(loop);
}

static int io_slot(struct ev_loop *loop, int fd)
{
	if (fd < 0)
		return -EBADF;
	if ((size_t)fd < loop->nios)
		return 0;
	size_t n = loop->nios ? loop->nios : 64;
	while (n <= (size_t)fd)
		n *= 2;
	struct ev_io *p = realloc(loop->ios, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + loop->nios, 0, (n - loop->nios) * sizeof(*p));
	loop->ios = p;
	loop->nios = n;
	return 0;
}

static uint64_t io_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int ev_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb *cb, void *arg)
{
	int r = io_slot(loop, fd);
	if (r < 0)
		return r;
	struct ev_io *io = &loop->ios[fd];
	if (io->active)
		return -EEXIST;
	io->gen++;
	struct epoll_event ee = {.events = events, .data.u64 = io_key(fd, io->gen)};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
		return -errno;
	io->cb = cb;
	io->arg = arg;
	io->active = true;
	return 0;
}

int ev_mod(struct ev_loop *loop, int fd, uint32_t events)
{
	if (fd < 0 || (size_t)fd >= loop->nios || !loop->ios[fd].active)
		return -ENOENT;
	struct epoll_event ee = {.events = events, .data.u64 = io_key(fd, loop->ios[fd].gen)};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ee) < 0)
		return -errno;
	return 0;
}

int ev_del(struct ev_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nios || !loop->ios[fd].active)
		return -ENOENT;
	struct ev_io *io = &loop->ios[fd];
	io->active = false;
	io->cb = NULL;
	io->gen++;
	/* The fd may already be closed by the caller; that is fine for epoll. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

/* Min-heap on `when`; each timer knows its index so stop is O(log n). */
static void heap_swap(struct ev_loop *loop, size_t a, size_t b)
{
	struct ev_timer *t = loop->heap[a];
	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->heap_idx = a;
	loop->heap[b]->heap_idx = b;
}

static void heap_up(struct ev_loop *loop, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (loop->heap[p]->when <= loop->heap[i]->when)
			break;
		heap_swap(loop, p, i);
		i = p;
	}
}

static void heap_down(struct ev_loop *loop, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < loop->nheap && loop->heap[l]->when < loop->heap[m]->when)
			m = l;
		if (r < loop->nheap && loop->heap[r]->when < loop->heap[m]->when)
			m = r;
		if (m == i)
			break;
		heap_swap(loop, i, m);
		i = m;
	}
}

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	t->when = 0;
	t->heap_idx = EV_TIMER_IDLE;
	t->cb = cb;
	t->arg = arg;
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t i = t->heap_idx;
	if (i == EV_TIMER_IDLE)
		return;
	t->heap_idx = EV_TIMER_IDLE;
	loop->nheap--;
	if (i == loop->nheap)
		return;
	loop->heap[i] = loop->heap[loop->nheap];
	loop->heap[i]->heap_idx = i;
	heap_down(loop, i);
	heap_up(loop, i);
}

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms)
{
	ev_timer_start_at(loop, t, ev_clock_ms() + delay_ms);
}

void ev_timer_start_at(struct ev_loop *loop, struct ev_timer *t, uint64_t when)
{
	ev_timer_stop(loop, t);
	if (loop->nheap == loop->capheap) {
		size_t n = loop->capheap ? loop->capheap * 2 : 64;
		struct ev_timer **h = realloc(loop->heap, n * sizeof(*h));
		if (!h)
			abort(); /* out of memory: the one allowed abort */
		loop->heap = h;
		loop->capheap = n;
	}
	t->when = when;
	t->heap_idx = loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, t->heap_idx);
}

uint64_t ev_now(struct ev_loop *loop)
{
	return loop->now;
}

static void on_signalfd(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < EV_NSIG && loop->sigs[si.ssi_signo].cb)
			loop->sigs[si.ssi_signo].cb(loop, (int)si.ssi_signo,
						    loop->sigs[si.ssi_signo].arg);
	}
}

int ev_signal(struct ev_loop *loop, int signo, ev_signal_cb *cb, void *arg)
{
	if (signo <= 0 || signo >= EV_NSIG)
		return -EINVAL;
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (loop->sigfd < 0) {
		int r = ev_add(loop, fd, EPOLLIN, on_signalfd, NULL);
		if (r < 0) {
			close(fd);
			return r;
		}
		loop->sigfd = fd;
	}
	loop->sigs[signo].cb = cb;
	loop->sigs[signo].arg = arg;
	return 0;
}

void ev_retire(struct ev_loop *loop, struct ev_retiree *node, void (*fn)(void *obj), void *obj)
{
	if (node->fn)
		return;
	node->fn = fn;
	node->obj = obj;
	node->next = NULL;
	*loop->retired_tail = node;
	loop->retired_tail = &node->next;
}

void ev_run_retired(struct ev_loop *loop)
{
	/* FIFO; a step may retire more objects, which join the end of the list. */
	while (loop->retired) {
		struct ev_retiree *r = loop->retired;
		loop->retired = r->next;
		if (!loop->retired)
			loop->retired_tail = &loop->retired;
		void (*fn)(void *) = r->fn;
		void *obj = r->obj;
		fn(obj); /* frees r's object: r is not touched again */
	}
}

void ev_again(struct ev_loop *loop)
{
	loop->again = true;
}

int ev_on_turn(struct ev_loop *loop, ev_turn_cb *cb, void *arg)
{
	for (int i = 0; i < EV_TURN_HOOKS; i++) {
		if (!loop->turn[i].cb) {
			loop->turn[i].cb = cb;
			loop->turn[i].arg = arg;
			return 0;
		}
	}
	return -ENOSPC;
}

void ev_off_turn(struct ev_loop *loop, ev_turn_cb *cb, void *arg)
{
	for (int i = 0; i < EV_TURN_HOOKS; i++)
		if (loop->turn[i].cb == cb && loop->turn[i].arg == arg)
			loop->turn[i].cb = NULL;
}

static void run_timers(struct ev_loop *loop)
{
	uint64_t now = ev_clock_ms();
	loop->now = now;
	/* Timers started by callbacks during this pass fire no earlier than the next turn
	 * unless already due, which the `when <= now` test keeps bounded. */
	while (loop->nheap && loop->heap[0]->when <= now) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_stop(loop, t);
		t->cb(loop, t, t->arg);
	}
}

int ev_run_once(struct ev_loop *loop, int timeout_ms)
{
	struct epoll_event evs[EV_MAX_EVENTS];

	loop->now = ev_clock_ms();
	if (loop->again || loop->retired)
		timeout_ms = 0;
	loop->again = false;
	if (loop->nheap) {
		uint64_t when = loop->heap[0]->when;
		int64_t wait = when > loop->now ? (int64_t)(when - loop->now) : 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = wait > 0x7fffffff ? 0x7fffffff : (int)wait;
	}
	int n = epoll_wait(loop->epfd, evs, EV_MAX_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	loop->now = ev_clock_ms();
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		/* Skip events for fds deleted or replaced earlier in this turn. */
		if ((size_t)fd >= loop->nios)
			continue;
		struct ev_io *io = &loop->ios[fd];
		if (!io->active || io->gen != gen)
			continue;
		io->cb(loop, fd, evs[i].events, io->arg);
	}
	run_timers(loop);
	/* End of the turn: hooks, then frees. A retire step may hand work to a
	 * hook (an owner answering on another connection), so both run again,
	 * a bounded number of times; what is left makes the next turn poll. */
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < EV_TURN_HOOKS; i++)
			if (loop->turn[i].cb)
				loop->turn[i].cb(loop, loop->turn[i].arg);
		if (!loop->retired)
			return 0;
		ev_run_retired(loop);
	}
	loop->again = true;
	return 0;
}

int ev_run(struct ev_loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int r = ev_run_once(loop, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void ev_stop(struct ev_loop *loop)
{
	loop->stop = true;
}
