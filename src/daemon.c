/* SPDX-License-Identifier: ISC */
/* The life cycle natmapd and natmapd-rendezvous share: detaching, the pid file, signals into the loop. */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "loop.h"

static char		*pidfile_written;	/* own copy: SIGHUP replaces the config */

static int		sigpipe[2] = { -1, -1 };
static struct loop_fd	sig_lfd;
static void		(*sig_cb)(int);

static void
signal_handler(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved_errno = errno;

	if (write(sigpipe[1], &c, 1) == -1) {
		/* the pipe is full: a signal is pending anyway */
	}
	errno = saved_errno;
}

static void
signal_read(struct loop_fd *lf, int ev)
{
	unsigned char c;

	(void)ev;
	while (read(lf->fd, &c, 1) == 1)
		sig_cb(c);
}

void
daemon_signals(void (*cb)(int))
{
	struct sigaction sa;

	sig_cb = cb;
	if (pipe2(sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = signal_handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	loop_fd_add(&sig_lfd, sigpipe[0], LOOP_READ, signal_read);
}

void
daemon_pidfile_write(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("%s", path);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		log_warn("%s", path);
	close(fd);
	if ((pidfile_written = strdup(path)) == NULL)
		fatal("strdup");
}

void
daemon_pidfile_remove(void)
{
	if (pidfile_written == NULL)
		return;
	if (unlink(pidfile_written) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", pidfile_written);
	free(pidfile_written);
	pidfile_written = NULL;
}

void
daemon_pidfile_unlink(void)
{
	if (pidfile_written != NULL)
		unlink(pidfile_written);
}

/* Go on in a child; the parent exits. */
static void
fork_child(void)
{
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		return;
	default:
		_exit(0);
	}
}

void
daemon_detach(void)
{
	int fd;

	fork_child();
	if (setsid() == -1)
		fatal("setsid");
	fork_child();		/* no longer a session leader: no terminal again */
	if (chdir("/") == -1)
		fatal("chdir");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}
