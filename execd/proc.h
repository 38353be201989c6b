/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc: spawning children and learning of their exit through the event loop.
 *
 * proc_spawn() forks and execs with the given fds, cwd, identity and process
 * group; a failure in the child before exec (chdir, setuid, exec itself) is
 * reported back synchronously through a close-on-exec pipe, so the caller
 * gets an error instead of a child that exits 127.
 * proc_watch() registers a callback for a child's exit; the reaper (SIGCHLD
 * through the loop's signalfd) reaps every child, including orphans that
 * were re-parented to us as PID 1 or as a child subreaper.
 */
#ifndef EXECD_PROC_H
#define EXECD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "ev.h"

struct proc_spec {
	const char *file; /* program (PATH-searched if it has no '/') */
	char *const *argv;
	char *const *envp;	   /* NULL: our environment */
	const char *cwd;	   /* NULL: ours */
	int fd_in, fd_out, fd_err; /* become 0, 1, 2; -1 for /dev/null */
	bool set_ids;		   /* switch to uid/gid (with the uid's groups) */
	uid_t uid;
	gid_t gid;
	bool new_session; /* setsid() and make fd_in the controlling tty (PTY) */
};

/* Starts a child; returns its pid (also its process group id) or -errno with e set. */
pid_t proc_spawn(const struct proc_spec *s, struct err *e);

typedef void proc_exit_cb(pid_t pid, int status, void *arg);

/* Installs the SIGCHLD reaper on loop (once per process). 0 or -errno. */
int proc_init(struct ev_loop *loop);
/* Calls cb(pid, wait status) when pid exits. 0 or -ENOMEM. */
int proc_watch(pid_t pid, proc_exit_cb *cb, void *arg);
/* Forgets a watch (the child is still reaped). */
void proc_unwatch(pid_t pid);
/* Sends sig to every process group we are watching. */
void proc_signal_all(int sig);
/* Number of watched children. */
size_t proc_count(void);

/* "exit status 3" / "signal: killed" like Go's ProcessState.String(); and the exit code (-1 if
 * signalled). */
void proc_status_text(int status, char *out, size_t len);
int proc_exit_code(int status);

/* Parses a shell for commands: bash if found in PATH, else sh. */
const char *proc_shell(void);

#endif
