// SPDX-License-Identifier: Apache-2.0
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "users.h"

extern char **environ;

struct watch {
	pid_t pid;
	proc_exit_cb *cb;
	void *arg;
};

static struct watch *watches;
static size_t nwatches, capwatches;

/* What the child reports through the status pipe when it cannot exec. */
struct child_failure {
	int err;
	char stage[16];
};

static void child_fail(int fd, const char *stage)
{
	struct child_failure f = {.err = errno};
	snprintf(f.stage, sizeof(f.stage), "%s", stage);
	ssize_t w = write(fd, &f, sizeof(f));
	(void)w;
	_exit(127);
}

static void close_other_fds(int keep)
{
#ifdef SYS_close_range
	if (keep > 3 && syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0) == 0 &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = 3; fd < 1024; fd++)
			if (fd != keep)
				close(fd);
		return;
	}
	int dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != keep && fd != dfd)
			close(fd);
	}
	closedir(d);
}

/* Runs in the child: never returns. */
static void child(const struct proc_spec *s, int status_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);

	if (s->new_session) {
		if (setsid() < 0)
			child_fail(status_fd, "setsid");
	} else if (setpgid(0, 0) < 0) {
		child_fail(status_fd, "setpgid");
	}
	int devnull = -1;
	if (s->fd_in < 0 || s->fd_out < 0 || s->fd_err < 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull < 0)
			child_fail(status_fd, "open /dev/null");
	}
	int fds[3] = {s->fd_in < 0 ? devnull : s->fd_in, s->fd_out < 0 ? devnull : s->fd_out,
		      s->fd_err < 0 ? devnull : s->fd_err};
	/* Move sources above 2 first so dup2 cannot clobber one we still need. */
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 3) {
			int n = fcntl(fds[i], F_DUPFD, 3);
			if (n < 0)
				child_fail(status_fd, "dup");
			fds[i] = n;
		}
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			child_fail(status_fd, "dup2");
	if (s->new_session && ioctl(0, TIOCSCTTY, 0) < 0)
		child_fail(status_fd, "TIOCSCTTY");
	close_other_fds(status_fd);

	if (s->set_ids) {
		gid_t groups[64];
		int ngroups = users_groups_of(s->uid, s->gid, groups, 64);
		if (setgroups((size_t)(ngroups > 0 ? ngroups : 0), groups) < 0 && errno != EPERM)
			child_fail(status_fd, "setgroups");
		if (setgid(s->gid) < 0)
			child_fail(status_fd, "setgid");
		if (setuid(s->uid) < 0)
			child_fail(status_fd, "setuid");
	}
	if (s->cwd && chdir(s->cwd) < 0)
		child_fail(status_fd, "chdir");
	execvpe(s->file, s->argv, s->envp ? s->envp : environ);
	child_fail(status_fd, "exec");
}

pid_t proc_spawn(const struct proc_spec *s, struct err *e)
{
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int er = errno;
		close(sp[0]);
		close(sp[1]);
		return err_set(e, er, "fork: %s", strerror(er));
	}
	if (pid == 0)
		child(s, sp[1]);
	close(sp[1]);
	/* Also set from the parent, so the group exists before anyone signals it. */
	if (!s->new_session)
		setpgid(pid, pid);
	struct child_failure f;
	ssize_t n;
	do
		n = read(sp[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(sp[0]);
	if (n == (ssize_t)sizeof(f)) {
		waitpid(pid, NULL, 0);
		f.stage[sizeof(f.stage) - 1] = '\0';
		if (strcmp(f.stage, "chdir") == 0)
			return err_set(e, f.err, "chdir %s: %s", s->cwd, strerror(f.err));
		if (strcmp(f.stage, "exec") == 0)
			return err_set(e, f.err, "exec: \"%s\": %s", s->file, strerror(f.err));
		return err_set(e, f.err, "fork/exec %s: %s: %s", s->file, f.stage, strerror(f.err));
	}
	return pid;
}

static void on_sigchld(struct ev_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	(void)arg;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		for (size_t i = 0; i < nwatches; i++) {
			if (watches[i].pid != pid)
				continue;
			struct watch w = watches[i];
			watches[i] = watches[--nwatches];
			w.cb(pid, status, w.arg);
			break;
		}
	}
}

int proc_init(struct ev_loop *loop)
{
	/* Orphans of our children come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return ev_signal(loop, SIGCHLD, on_sigchld, NULL);
}

int proc_watch(pid_t pid, proc_exit_cb *cb, void *arg)
{
	if (nwatches == capwatches) {
		size_t n = capwatches ? capwatches * 2 : 16;
		struct watch *w = realloc(watches, n * sizeof(*w));
		if (!w)
			return -ENOMEM;
		watches = w;
		capwatches = n;
	}
	watches[nwatches++] = (struct watch){.pid = pid, .cb = cb, .arg = arg};
	return 0;
}

void proc_unwatch(pid_t pid)
{
	for (size_t i = 0; i < nwatches; i++) {
		if (watches[i].pid == pid) {
			watches[i] = watches[--nwatches];
			return;
		}
	}
}

void proc_signal_all(int sig)
{
	for (size_t i = 0; i < nwatches; i++)
		kill(-watches[i].pid, sig);
}

size_t proc_count(void)
{
	return nwatches;
}

void proc_status_text(int status, char *out, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(out, len, "exit status %d", WEXITSTATUS(status));
		return;
	}
	int sig = WTERMSIG(status);
	/* Go names signals in lower case ("killed", "terminated"). */
	const char *name = sig == SIGKILL   ? "killed"
			   : sig == SIGTERM ? "terminated"
			   : sig == SIGINT  ? "interrupt"
			   : sig == SIGHUP  ? "hangup"
			   : sig == SIGQUIT ? "quit"
			   : sig == SIGPIPE ? "broken pipe"
			   : sig == SIGSEGV ? "segmentation fault"
			   : sig == SIGABRT ? "aborted"
					    : NULL;
	if (name)
		snprintf(out, len, "signal: %s", name);
	else
		snprintf(out, len, "signal: %d", sig);
}

int proc_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *proc_shell(void)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && n + 6 < sizeof(buf)) {
			memcpy(buf, path, n);
			memcpy(buf + n, "/bash", 6);
			if (access(buf, X_OK) == 0)
				return "bash";
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return "sh";
}
