// SPDX-License-Identifier: Apache-2.0
/*
 * bench_netfilter: in a network namespace of its own (the host ruleset is
 * never touched), the latency of adding one set element with a timeout
 * through the library (one transaction per element: build, send, ACK) and
 * through `nft add element ...` run by fork/exec, in the same run, with the
 * ratio; then one transaction of 10,000 elements: time and peak RSS.
 * Elements come from 198.18.0.0/15 (the benchmarking range); they are set
 * data only, no packet is sent.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nft.h"

#define LIB_RUNS   3000
#define LIB_WARMUP 200
#define CLI_RUNS   40
#define BIG	   10000

static const struct nft_set single = {"single", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 0};
static const struct nft_set big = {"big", NFT_KEY_IPV4, NFT_SETF_TIMEOUT, 0};
static unsigned char small_mem[4096] __attribute__((aligned(8)));
static unsigned char big_mem[1 << 20] __attribute__((aligned(8)));
static struct nft_elem elems[BIG];
static double lib_us[LIB_RUNS], cli_us[CLI_RUNS];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(int)(p * (n - 1))];
}

static void addr_of(int i, struct nft_elem *el, uint64_t timeout_ms)
{
	memset(el, 0, sizeof(*el));
	el->addr[0] = 198;
	el->addr[1] = (unsigned char)(18 + (i >> 16));
	el->addr[2] = (unsigned char)(i >> 8);
	el->addr[3] = (unsigned char)i;
	el->prefix = 32;
	el->timeout_ms = timeout_ms;
}

/* One `nft add element` by fork/exec; its wall time in µs, or < 0. */
static double nft_cli_add(int i)
{
	char elem[96];
	double t0 = now_us();
	int st;
	pid_t pid;

	snprintf(elem, sizeof(elem), "{ 198.%d.%d.%d timeout 60s }", 19, (i >> 8) & 255, i & 255);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("nft", "nft", "add", "element", "inet", "bench", "single", elem,
		       (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now_us() - t0;
}

/* This image's peak resident set (VmHWM) in KiB, or -1. getrusage's
 * ru_maxrss alone would do, but Linux carries it over execve from the
 * image before (the shell), which hides a small process's own peak. */
static long vm_hwm_kib(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int count_elem(const struct nft_elem_info *el, void *arg)
{
	(void)el;
	(*(int *)arg)++;
	return 0;
}

int main(void)
{
	struct nft_sock *s = malloc(sizeof(*s));
	struct nft_batch b;
	struct err e = {0};
	struct rusage ru;
	double lib_med, lib_p99, cli_med = 0, t0, t1, t2;
	long hwm_before;
	int cli_ok = 0, listed = 0;
	uint32_t msgs;

	if (geteuid() != 0) {
		printf("bench_netfilter: skip: needs root (network namespace, nf_tables)\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("bench_netfilter: skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	if (!s || nft_open(s, &e) < 0) {
		printf("bench_netfilter: skip: %s\n", e.msg);
		return 0;
	}
	nft_batch_init(&b, s, big_mem, sizeof(big_mem));
	if (nft_table_add(&b, NFT_INET, "bench", &e) < 0 ||
	    nft_set_add(&b, NFT_INET, "bench", &single, &e) < 0 ||
	    nft_set_add(&b, NFT_INET, "bench", &big, &e) < 0 || nft_batch_commit(&b, &e) < 0) {
		fprintf(stderr, "bench_netfilter: setup: %s\n", e.msg);
		return 1;
	}

	/* One element per transaction through the library. */
	nft_batch_init(&b, s, small_mem, sizeof(small_mem));
	for (int i = 0; i < LIB_WARMUP + LIB_RUNS; i++) {
		struct nft_elem el;
		addr_of(i, &el, 60000);
		double t = now_us();
		if (nft_elem_add(&b, NFT_INET, "bench", &single, &el, 1, &e) < 0 ||
		    nft_batch_commit(&b, &e) < 0) {
			fprintf(stderr, "bench_netfilter: add: %s\n", e.msg);
			return 1;
		}
		if (i >= LIB_WARMUP)
			lib_us[i - LIB_WARMUP] = now_us() - t;
	}
	lib_med = pct(lib_us, LIB_RUNS, 0.5);
	lib_p99 = pct(lib_us, LIB_RUNS, 0.99);

	/* The same through the nft CLI. */
	for (int i = 0; i < CLI_RUNS; i++) {
		double t = nft_cli_add(i);
		if (t < 0)
			break;
		cli_us[cli_ok++] = t;
	}
	if (cli_ok)
		cli_med = pct(cli_us, cli_ok, 0.5);

	/* 10,000 elements in one transaction. */
	for (int i = 0; i < BIG; i++)
		addr_of(i, &elems[i], 600000);
	hwm_before = vm_hwm_kib();
	nft_batch_init(&b, s, big_mem, sizeof(big_mem));
	t0 = now_us();
	if (nft_elem_add(&b, NFT_INET, "bench", &big, elems, BIG, &e) < 0) {
		fprintf(stderr, "bench_netfilter: batch: %s\n", e.msg);
		return 1;
	}
	msgs = b.nmsg;
	size_t bytes = b.len;
	t1 = now_us();
	if (nft_batch_commit(&b, &e) < 0) {
		fprintf(stderr, "bench_netfilter: batch commit: %s\n", e.msg);
		return 1;
	}
	t2 = now_us();
	getrusage(RUSAGE_SELF, &ru);
	if (nft_elem_list(s, NFT_INET, "bench", "big", count_elem, &listed, &e) < 0 ||
	    listed != BIG) {
		fprintf(stderr, "bench_netfilter: listed %d of %d: %s\n", listed, BIG, e.msg);
		return 1;
	}

	printf("netfilter: add one element with timeout (own network namespace)\n");
	printf("  library  median %8.1f us   p99 %8.1f us   (%d transactions)\n", lib_med, lib_p99,
	       LIB_RUNS);
	if (cli_ok) {
		printf("  nft CLI  median %8.1f us   (fork/exec of nft add element, %d runs)\n",
		       cli_med, cli_ok);
		printf("  ratio    %.0fx faster than fork/exec (goal >= 50x: %s)\n",
		       cli_med / lib_med, cli_med / lib_med >= 50 ? "met" : "MISSED");
	} else {
		printf("  nft CLI  not available: no ratio\n");
	}
	printf("  per element %.1f us (goal <= 50 us: %s)\n", lib_med,
	       lib_med <= 50 ? "met" : "MISSED");
	printf("netfilter: %d elements with timeout in one transaction\n", BIG);
	printf("  build %.2f ms, commit %.2f ms, total %.2f ms (%.2f us/element); "
	       "%u messages, %zu bytes\n",
	       (t1 - t0) / 1e3, (t2 - t1) / 1e3, (t2 - t0) / 1e3, (t2 - t0) / BIG, msgs, bytes);
	printf("  peak RSS %ld KiB (VmHWM; %ld KiB before the batch; getrusage ru_maxrss %ld KiB "
	       "includes the pre-exec image); all %d listed back\n",
	       vm_hwm_kib(), hwm_before, ru.ru_maxrss, listed);
	nft_close(s);
	free(s);
	return 0;
}
