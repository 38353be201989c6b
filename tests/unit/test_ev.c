// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "unit.h"

struct order {
	int seen[16];
	int n;
};

struct tick {
	struct ev_timer t;
	int id;
	struct order *o;
};

static void on_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct tick *k = arg;
	(void)loop;
	(void)t;
	k->o->seen[k->o->n++] = k->id;
}

TEST(ev_timers_fire_in_order_and_stop)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	struct order o = {.n = 0};
	struct tick ticks[6];
	uint64_t delays[6] = {50, 10, 30, 20, 40, 60};
	for (int i = 0; i < 6; i++) {
		ticks[i].id = i;
		ticks[i].o = &o;
		ev_timer_init(&ticks[i].t, on_tick, &ticks[i]);
		ev_timer_start(loop, &ticks[i].t, delays[i]);
	}
	ev_timer_stop(loop, &ticks[4].t); /* the 40 ms one never fires */
	CHECK(!ev_timer_active(&ticks[4].t));
	ev_timer_start(loop, &ticks[5].t, 5); /* re-arming moves it first */
	uint64_t end = ev_clock_ms() + 2000;
	while (o.n < 5 && ev_clock_ms() < end)
		ev_run_once(loop, 100);
	CHECK_INT(o.n, 5);
	int want[5] = {5, 1, 3, 2, 0};
	for (int i = 0; i < 5; i++)
		CHECK_INT(o.seen[i], want[i]);
	ev_loop_free(loop);
}

struct pair_state {
	int fds[2];
	int calls;
	struct ev_loop *loop;
};

/* The first callback closes the other fd and reuses its number: the stale
 * event queued for the old fd must not reach the new registration. */
static void on_first(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct pair_state *st = arg;
	(void)events;
	st->calls++;
	int other = fd == st->fds[0] ? st->fds[1] : st->fds[0];
	ev_del(loop, other);
	ev_del(loop, fd);
}

TEST(ev_deleted_fd_gets_no_stale_event)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	struct pair_state st = {.loop = loop};
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	st.fds[0] = sp[0];
	st.fds[1] = sp[1];
	/* Both ends writable at once: both events come in the same turn. */
	CHECK_INT(ev_add(loop, sp[0], EPOLLOUT, on_first, &st), 0);
	CHECK_INT(ev_add(loop, sp[1], EPOLLOUT, on_first, &st), 0);
	CHECK_INT(ev_add(loop, sp[1], EPOLLOUT, on_first, &st), -EEXIST);
	ev_run_once(loop, 100);
	CHECK_INT(st.calls, 1);
	ev_run_once(loop, 10);
	CHECK_INT(st.calls, 1);
	close(sp[0]);
	close(sp[1]);
	ev_loop_free(loop);
}

static void on_sig(struct ev_loop *loop, int signo, void *arg)
{
	(void)loop;
	*(int *)arg = signo;
}

TEST(ev_signal_via_signalfd)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int got = 0;
	CHECK_INT(ev_signal(loop, SIGUSR1, on_sig, &got), 0);
	kill(getpid(), SIGUSR1);
	uint64_t end = ev_clock_ms() + 1000;
	while (!got && ev_clock_ms() < end)
		ev_run_once(loop, 50);
	CHECK_INT(got, SIGUSR1);
	ev_loop_free(loop);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void on_turn(struct ev_loop *loop, void *arg)
{
	(void)loop;
	(*(int *)arg)++;
}

TEST(ev_turn_hook)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int turns = 0;
	ev_on_turn(loop, on_turn, &turns);
	for (int i = 0; i < 3; i++)
		ev_run_once(loop, 0);
	CHECK_INT(turns, 3);
	ev_loop_free(loop);
}

/* --- the lifetime rule: retire steps run at the end of the turn ------------- */

struct mortal {
	struct ev_retiree node;
	int *log;
	int *nlog;
	int id;
	struct ev_loop *loop;
	struct mortal *also; /* retired from inside this one's step */
};

static void mortal_retired(void *obj)
{
	struct mortal *m = obj;
	m->log[(*m->nlog)++] = m->id;
	if (m->also)
		ev_retire(m->loop, &m->also->node, mortal_retired, m->also);
}

struct retire_io {
	struct mortal *m;
	int freed_during_callback;
	int *nlog;
};

static void retire_on_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct retire_io *r = arg;
	(void)events;
	char c;
	ssize_t n = read(fd, &c, 1);
	(void)n;
	ev_retire(loop, &r->m->node, mortal_retired, r->m);
	ev_retire(loop, &r->m->node, mortal_retired, r->m); /* twice is harmless */
	/* Still inside the callback: nothing may have run yet. */
	r->freed_during_callback = *r->nlog;
}

TEST(ev_retire_runs_at_end_of_turn_once_and_in_order)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int log[8], nlog = 0;
	struct mortal a = {.log = log, .nlog = &nlog, .id = 1, .loop = loop};
	struct mortal b = {.log = log, .nlog = &nlog, .id = 2, .loop = loop};
	a.also = &b; /* a's step retires b: it runs in the same turn, after a */
	struct retire_io r = {.m = &a, .freed_during_callback = -1, .nlog = &nlog};
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK(ev_add(loop, sv[0], EPOLLIN, retire_on_io, &r) == 0);
	CHECK(write(sv[1], "x", 1) == 1);
	ev_run_once(loop, 1000);
	CHECK_INT(r.freed_during_callback, 0);
	CHECK_INT(nlog, 2);
	CHECK_INT(log[0], 1);
	CHECK_INT(log[1], 2);
	/* The node is free again: an object can be retired by a later turn. */
	CHECK(a.node.fn == NULL || a.node.fn == mortal_retired);
	ev_del(loop, sv[0]);
	close(sv[0]);
	close(sv[1]);
	ev_loop_free(loop);
}

static void retire_from_turn_hook(struct ev_loop *loop, void *arg)
{
	struct mortal *m = arg;
	if (!m->node.fn && *m->nlog == 0)
		ev_retire(loop, &m->node, mortal_retired, m);
}

TEST(ev_retire_from_a_turn_hook_and_at_loop_free)
{
	struct ev_loop *loop = ev_loop_new(NULL);
	int log[8], nlog = 0;
	struct mortal a = {.log = log, .nlog = &nlog, .id = 7, .loop = loop};
	ev_on_turn(loop, retire_from_turn_hook, &a);
	ev_run_once(loop, 0);
	CHECK_INT(nlog, 1);
	ev_off_turn(loop, retire_from_turn_hook, &a);
	/* Left queued when the loop goes: freeing the loop runs it. */
	struct mortal b = {.log = log, .nlog = &nlog, .id = 8, .loop = loop};
	ev_retire(loop, &b.node, mortal_retired, &b);
	ev_loop_free(loop);
	CHECK_INT(nlog, 2);
	CHECK_INT(log[1], 8);
}
