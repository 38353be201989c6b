// SPDX-License-Identifier: Apache-2.0
/* Helpers for the netfilter tests: see test_netfilter.h. */
#include "test_netfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nft.h"
#include "unit.h"

long long nftest_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void nftest_skip(const char *why)
{
	printf("    skip: %s\n", why);
	fflush(stdout);
	_exit(NFTEST_SKIP);
}

int nftest_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

static void child(int out, void (*body)(void *), void *arg, bool need_nft)
{
	struct nft_sock s;
	struct err e = {0};
	uint32_t gen;
	char why[300];

	setpgid(0, 0);
	dup2(out, STDOUT_FILENO);
	close(out);
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s", strerror(errno));
		nftest_skip(why);
	}
	if (loopback_up() < 0)
		nftest_skip("cannot bring up lo in the test namespace");
	if (nft_open(&s, &e) < 0 || nft_gen_id(&s, &gen, &e) < 0) {
		snprintf(why, sizeof(why), "nf_tables unavailable: %s", e.msg);
		nftest_skip(why);
	}
	nft_close(&s);
	if (need_nft && nftest_sh("nft --version >/dev/null 2>&1") != 0)
		nftest_skip("the nft CLI (Debian nftables) is not installed");
	body(arg);
	fflush(stdout);
	_exit(0);
}

/* A relayed line "    file.c:123: ..." is a failed CHECK of the child. */
static bool is_failure(const char *line)
{
	const char *c;

	if (strncmp(line, "    ", 4) != 0 || !(c = strstr(line, ".c:")))
		return false;
	c += 3;
	if (*c < '0' || *c > '9')
		return false;
	while (*c >= '0' && *c <= '9')
		c++;
	return *c == ':';
}

/* Relays complete lines from buf; returns the bytes consumed. */
static size_t relay(char *buf, size_t len, int *failures)
{
	size_t used = 0;

	for (char *nl; (nl = memchr(buf + used, '\n', len - used));) {
		*nl = '\0';
		printf("%s\n", buf + used);
		if (is_failure(buf + used))
			(*failures)++;
		used = (size_t)(nl - buf) + 1;
	}
	return used;
}

void nftest_in_netns(void (*body)(void *), void *arg, int timeout_s, bool need_nft,
		     const char *file, int line)
{
	char buf[8192];
	size_t have = 0;
	int pfd[2], failures = 0, st = 0;
	long long deadline = nftest_ms() + timeout_s * 1000LL;
	bool exited = false, timed_out = false;
	pid_t pid;

	if (geteuid() != 0) {
		unit_skip("needs root (network namespaces and nf_tables)");
		return;
	}
	fflush(stdout);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		unit_fail(file, line, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		unit_fail(file, line, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], body, arg, need_nft);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		ssize_t n;

		if (!exited && waitpid(pid, &st, WNOHANG) == pid)
			exited = true;
		if (nftest_ms() > deadline) {
			timed_out = !exited;
			break;
		}
		(void)poll(&p, 1, 50);
		n = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
		if (n > 0) {
			have += (size_t)n;
			size_t used = relay(buf, have, &failures);
			memmove(buf, buf + used, have - used);
			have -= used;
			if (have == sizeof(buf) - 1)
				have = 0; /* an endless line: drop it */
			continue;
		}
		/* EOF, or the child is gone and nothing more is queued (a grandchild may
		 * still hold the pipe). */
		if (n == 0 || (exited && n < 0 && errno == EAGAIN))
			break;
	}
	if (have) {
		buf[have++] = '\n';
		relay(buf, have, &failures);
	}
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	if (!exited)
		waitpid(pid, &st, 0);
	close(pfd[0]);
	if (timed_out)
		unit_fail(file, line, "namespace child timed out after %d s", timeout_s);
	else if (WIFSIGNALED(st))
		unit_fail(file, line, "namespace child killed by signal %d", WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == NFTEST_SKIP)
		unit_skip("the namespace child could not set up (reason above)");
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		unit_fail(file, line, "namespace child exited with %d", WEXITSTATUS(st));
	if (failures)
		unit_fail(file, line, "%d check(s) failed in the namespace child", failures);
}

cJSON *nftest_ruleset(void)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	cJSON *j = NULL;

	fflush(stdout);
	f = popen("nft -j list ruleset 2>/dev/null", "r");
	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *p = realloc(text, cap + 65536);
			if (!p)
				break;
			text = p;
			cap += 65536;
		}
		size_t n = fread(text + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	if (pclose(f) == 0 && text) {
		text[len] = '\0';
		j = cJSON_Parse(text);
	}
	free(text);
	return j;
}

static bool str_is(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

cJSON *nftest_find(cJSON *ruleset, const char *kind, const char *family, const char *table,
		   const char *name, int n)
{
	cJSON *all = cJSON_GetObjectItemCaseSensitive(ruleset, "nftables"), *item;
	bool is_table = strcmp(kind, "table") == 0, is_rule = strcmp(kind, "rule") == 0;

	cJSON_ArrayForEach(item, all)
	{
		cJSON *o = cJSON_GetObjectItemCaseSensitive(item, kind);
		if (!o || !str_is(o, "family", family))
			continue;
		if (!str_is(o, is_table ? "name" : "table", table))
			continue;
		if (!is_table && name && !str_is(o, is_rule ? "chain" : "name", name))
			continue;
		if (n-- == 0)
			return o;
	}
	return NULL;
}

void nftest_strip(cJSON *j)
{
	static const char *const keys[] = {"handle", "table", "expires"};
	cJSON *c;

	if (!j)
		return;
	if (cJSON_IsObject(j))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			cJSON_DeleteItemFromObjectCaseSensitive(j, keys[i]);
	cJSON_ArrayForEach(c, j) nftest_strip(c);
}
