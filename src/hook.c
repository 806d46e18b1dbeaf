/* SPDX-License-Identifier: ISC */
/* The hook runner: execve() of the user's programs on endpoint and peer path events, reaped and read through the loop. */
#include "config.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "status.h"

#define HOOK_NARGS	7	/* path and natmap's six */
#define HOOK_NENV	10	/* PATH and the nine NATMAPD_* */
#define HOOK_PEER_NARGS	4	/* path, node, path kind, endpoint */
#define HOOK_PEER_NENV	7	/* PATH and six NATMAPD_* */
#define HOOK_ENV_LEN	160	/* bytes of one variable, at most */
_Static_assert(HOOK_PEER_NENV <= HOOK_NENV, "run() has room for HOOK_NENV");
#define HOOK_FD_CAP	65536	/* descriptors closed in the child, at most */
#define HOOK_LIMITS_DEFAULT {				\
	.timeout_ms = HOOK_TIMEOUT_MS,			\
	.grace_ms = HOOK_GRACE_MS,			\
	.exit_wait_ms = HOOK_EXIT_WAIT_MS,		\
	.max_running = HOOK_MAX_RUNNING,		\
}

/* A peer's path as the peer hook sees it. */
struct hook_path {
	char			 path[16];	/* "" none */
	char			 endpoint[64];
	char			 relay[64];
	char			 via[8];
};

/* A peer job's own part: its node, and the two views of its path. */
struct hook_peer {
	char			 node[64];
	struct hook_path	 latest;
	struct hook_path	 given;
};

/*
 * One mapping's hook, or one peer's (peer not NULL): what it was last
 * given (its view of the endpoint or path), the newest state reported,
 * and the run under way if any.
 */
struct hook_job {
	struct hook_job		*next;		/* all jobs */
	struct hook_job		*wnext;		/* waiting for a free slot */
	int			 proto;		/* the key, as status.c's */
	uint16_t		 int_port;
	uint16_t		 ext_want;
	char			 spec[32];	/* "8080/tcp", for the log */
	struct status_map	 latest;
	int			 latest_up;
	struct status_map	 given;
	int			 given_up;
	int			 waiting;
	pid_t			 pid;		/* 0: not running */
	int			 fd;		/* its output; -1 when closed */
	struct loop_fd		 lfd;
	struct timer		 timer;		/* timeout, then the grace */
	int			 killed;	/* 0, SIGTERM, SIGKILL */
	uint64_t		 started;
	char			 line[HOOK_LINE_MAX];
	size_t			 len;
	int			 cut;		/* dropping the rest of a long line */
	unsigned int		 lines;
	struct hook_peer	*peer;		/* NULL: a mapping's */
};

static struct {
	char			*path;
	char			*peer_path;	/* the peer hook; NULL: none */
	struct hook_job		*jobs;
	struct hook_job		*wait_head, *wait_tail;
	size_t			 running;
	size_t			 nwaiting;
	struct hook_limits	 lim;
	int			 sigpipe[2];
	struct loop_fd		 sig_lfd;
	int			 subscribed;
	void			(*drained)(void);
	struct timer		 drain_timer;
} hook = {
	.sigpipe = { -1, -1 },
	.lim = HOOK_LIMITS_DEFAULT,
};

static void	schedule(struct hook_job *);

void
hook_ip4p(struct in_addr a, uint16_t port, char *buf, size_t len)
{
	uint32_t h = ntohl(a.s_addr);

	snprintf(buf, len, "2001::%04x:%04x:%04x", port, h >> 16, h & 0xffff);
}

void
hook_set_limits(const struct hook_limits *l)
{
	static const struct hook_limits def = HOOK_LIMITS_DEFAULT;

	hook.lim = l != NULL ? *l : def;
	if (hook.lim.max_running == 0)
		hook.lim.max_running = 1;
}

size_t
hook_running(void)
{
	return hook.running;
}

size_t
hook_waiting(void)
{
	return hook.nwaiting;
}

/* ---- SIGCHLD: a byte down a pipe, the reaping in the loop ---- */

static void
sigchld_handler(int sig)
{
	int saved_errno = errno;
	unsigned char c = (unsigned char)sig;

	if (write(hook.sigpipe[1], &c, 1) == -1) {
		/* full: a wake-up is pending anyway */
	}
	errno = saved_errno;
}

/* ---- one run ---- */

static const char *
event_name(const struct hook_job *j)
{
	if (!j->latest_up)
		return "down";
	return j->given_up ? "change" : "up";
}

/* The program a job runs: the hook, or the peer hook; NULL none. */
static const char *
job_path(const struct hook_job *j)
{
	return j->peer != NULL ? hook.peer_path : hook.path;
}

/* The hook's view differs from the newest state: it must hear of it. */
static int
differs(const struct hook_job *j)
{
	if (j->latest_up != j->given_up)
		return 1;
	if (!j->latest_up)
		return 0;
	if (j->peer != NULL)
		return strcmp(j->peer->latest.path, j->peer->given.path) != 0 ||
		    strcmp(j->peer->latest.endpoint,
		    j->peer->given.endpoint) != 0 ||
		    strcmp(j->peer->latest.relay, j->peer->given.relay) != 0;
	return j->latest.ext_addr.s_addr != j->given.ext_addr.s_addr ||
	    j->latest.ext_port != j->given.ext_port ||
	    j->latest.int_addr.s_addr != j->given.int_addr.s_addr;
}

static void
emit_line(struct hook_job *j)
{
	char esc[HOOK_LINE_MAX * 4 + 1];
	size_t len = j->len;

	if (len > 0 && j->line[len - 1] == '\r' && !j->cut)
		len--;
	if (j->lines < HOOK_MAX_LINES) {
		log_escape(esc, sizeof(esc), j->line, len);
		log_info("hook %s: %s%s", j->spec, esc, j->cut ? "..." : "");
	} else if (j->lines == HOOK_MAX_LINES)
		log_warnx("hook %s: more than %d lines of output: the rest "
		    "is not logged", j->spec, HOOK_MAX_LINES);
	j->lines++;
	j->len = 0;
	j->cut = 0;
}

/* Take what the hook wrote: 1 if something, 0 at end of file, -1 if nothing yet. */
static int
read_output(struct hook_job *j)
{
	char buf[4096];
	ssize_t n, i;

	n = read(j->fd, buf, sizeof(buf));
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? -1 : 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			emit_line(j);
			continue;
		}
		if (j->len < sizeof(j->line))
			j->line[j->len++] = buf[i];
		else
			j->cut = 1;
	}
	return 1;
}

static void
close_output(struct hook_job *j)
{
	if (j->fd == -1)
		return;
	if (j->len > 0 || j->cut)
		emit_line(j);
	loop_fd_del(&j->lfd);
	close(j->fd);
	j->fd = -1;
}

static void
on_output(struct loop_fd *lf, int ev)
{
	struct hook_job *j = container_of(lf, struct hook_job, lfd);

	(void)ev;
	if (read_output(j) == 0)
		close_output(j);
}

static void
maybe_free(struct hook_job *j)
{
	struct hook_job **p;

	if (j->pid != 0 || j->waiting || j->given_up || j->latest_up)
		return;
	for (p = &hook.jobs; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	timer_stop(&j->timer);
	free(j->peer);
	free(j);
}

static void
check_drained(void)
{
	void (*done)(void) = hook.drained;

	if (done == NULL || hook.running > 0 || hook.nwaiting > 0)
		return;
	hook.drained = NULL;
	timer_stop(&hook.drain_timer);
	done();
}

static struct hook_job *
wait_pop(void)
{
	struct hook_job *j = hook.wait_head;

	if (j == NULL)
		return NULL;
	if ((hook.wait_head = j->wnext) == NULL)
		hook.wait_tail = NULL;
	j->wnext = NULL;
	j->waiting = 0;
	hook.nwaiting--;
	return j;
}

/* The run is over: log how, then the next for this mapping, or another's. */
static void
finished(struct hook_job *j, int status)
{
	struct hook_job *w;
	uint64_t ms = loop_now() - j->started;
	int n;

	/* All it wrote before it exited is in the pipe: take it, bounded. */
	for (n = 0; j->fd != -1 && n < 16; n++)
		if (read_output(j) != 1)
			break;
	/* A child of the hook may hold the pipe: what comes later is lost. */
	close_output(j);
	timer_stop(&j->timer);
	j->pid = 0;
	hook.running--;
	if (j->killed)
		log_warnx("hook %s: killed (%s) after %llu ms", j->spec,
		    j->killed == SIGKILL ? "SIGKILL" : "SIGTERM",
		    (unsigned long long)ms);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		log_warnx("hook %s: exited with status %d", j->spec,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("hook %s: ended by signal %d", j->spec,
		    WTERMSIG(status));
	else
		log_debug("hook %s: done in %llu ms", j->spec,
		    (unsigned long long)ms);
	j->killed = 0;
	while (hook.running < hook.lim.max_running &&
	    (w = wait_pop()) != NULL)
		schedule(w);
	schedule(j);
	check_drained();
}

static void
on_sigchld(struct loop_fd *lf, int ev)
{
	struct hook_job *j;
	unsigned char buf[64];
	int status;

	(void)ev;
	while (read(lf->fd, buf, sizeof(buf)) > 0)
		;
	/*
	 * Only our own children: resolve.c waits for its own.  finished()
	 * may free jobs, so the walk starts over after each.
	 */
	j = hook.jobs;
	while (j != NULL) {
		if (j->pid != 0 && waitpid(j->pid, &status, WNOHANG) == j->pid) {
			finished(j, status);
			j = hook.jobs;
		} else
			j = j->next;
	}
}

static void
on_timer(struct timer *t)
{
	struct hook_job *j = container_of(t, struct hook_job, timer);

	if (j->pid == 0)
		return;
	if (j->killed == 0) {
		log_warnx("hook %s: still running after %llu ms: SIGTERM",
		    j->spec, (unsigned long long)hook.lim.timeout_ms);
		j->killed = SIGTERM;
		timer_set(&j->timer, hook.lim.grace_ms);
	} else {
		log_warnx("hook %s: still running %llu ms after SIGTERM: "
		    "SIGKILL", j->spec, (unsigned long long)hook.lim.grace_ms);
		j->killed = SIGKILL;
	}
	/* Its process group: a shell's children go with it. */
	if (kill(-j->pid, j->killed) == -1)
		kill(j->pid, j->killed);
}

/* In the child: clean descriptors and signals, then the hook. */
static void __attribute__((noreturn))
child(const char *path, char *const argv[], char *const envp[], int out,
    int maxfd)
{
	struct sigaction sa;
	sigset_t none;
	const char *e;
	int fd, sig;

	setpgid(0, 0);
	/* natmapd ignores SIGPIPE, and ignored signals survive execve(). */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		close(STDIN_FILENO);
	else if (fd != STDIN_FILENO)
		dup2(fd, STDIN_FILENO);
	if (dup2(out, STDOUT_FILENO) == -1 || dup2(out, STDERR_FILENO) == -1)
		_exit(127);
	for (fd = STDERR_FILENO + 1; fd < maxfd; fd++)
		close(fd);
	if (chdir("/") == -1) {
		/* the hook runs where it is */
	}
	execve(path, argv, envp);
	e = strerror(errno);
	if (write(STDERR_FILENO, "cannot execute ", 15) == -1 ||
	    write(STDERR_FILENO, path, strlen(path)) == -1 ||
	    write(STDERR_FILENO, ": ", 2) == -1 ||
	    write(STDERR_FILENO, e, strlen(e)) == -1 ||
	    write(STDERR_FILENO, "\n", 1) == -1) {
		/* nowhere to say it */
	}
	_exit(127);
}

static int
max_fd(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > HOOK_FD_CAP)
		return HOOK_FD_CAP;
	return (int)rl.rlim_cur;
}

static void	run(struct hook_job *, const char *, char *const [],
		    char [][HOOK_ENV_LEN], size_t);

/* The peer hook: PROGRAM NODE PATH ENDPOINT, NATMAPD_* of the path. */
static void
start_peer(struct hook_job *j)
{
	struct hook_peer *hp = j->peer;
	const struct hook_path *v;
	char env[HOOK_PEER_NENV][HOOK_ENV_LEN];
	char *argv[HOOK_PEER_NARGS + 1];
	const char *event = event_name(j);

	hp->given = hp->latest;
	j->given_up = j->latest_up;
	v = &hp->given;
	argv[0] = hook.peer_path;
	argv[1] = hp->node;
	argv[2] = (char *)(j->given_up ? v->path : "none");
	argv[3] = (char *)v->endpoint;
	argv[4] = NULL;
	snprintf(env[0], sizeof(env[0]), "%s", HOOK_PATH_ENV);
	snprintf(env[1], sizeof(env[1]), "NATMAPD_EVENT=%s", event);
	snprintf(env[2], sizeof(env[2]), "NATMAPD_PEER=%s", hp->node);
	snprintf(env[3], sizeof(env[3]), "NATMAPD_PATH=%s", argv[2]);
	snprintf(env[4], sizeof(env[4]), "NATMAPD_ENDPOINT=%s", v->endpoint);
	snprintf(env[5], sizeof(env[5]), "NATMAPD_RELAY=%s", v->relay);
	snprintf(env[6], sizeof(env[6]), "NATMAPD_VIA=%s", v->via);
	run(j, hook.peer_path, argv, env, HOOK_PEER_NENV);
	if (j->pid != 0)
		log_debug("hook %s: %s %s %s, running %s (pid %ld)", j->spec,
		    event, argv[2], v->endpoint, hook.peer_path, (long)j->pid);
}

static void
start(struct hook_job *j)
{
	const struct status_gateway *gw = status_gateway();
	const struct status_map *m = &j->latest;
	char pub[INET_ADDRSTRLEN], priv[INET_ADDRSTRLEN], gwa[INET_ADDRSTRLEN];
	char pport[8], iport[8], ip4p[32];
	char env[HOOK_NENV][HOOK_ENV_LEN];
	char *argv[HOOK_NARGS + 1];
	const char *proto = m->proto == DRV_UDP ? "udp" : "tcp";
	const char *event = event_name(j);

	if (j->peer != NULL) {
		start_peer(j);
		return;
	}
	/* From now on this is what the hook knows, whether it runs or not. */
	j->given = j->latest;
	j->given_up = j->latest_up;
	if (inet_ntop(AF_INET, &m->ext_addr, pub, sizeof(pub)) == NULL ||
	    inet_ntop(AF_INET, &m->int_addr, priv, sizeof(priv)) == NULL)
		return;
	gwa[0] = '\0';
	if (gw->found && inet_ntop(AF_INET, &gw->addr, gwa,
	    sizeof(gwa)) == NULL)
		gwa[0] = '\0';
	snprintf(pport, sizeof(pport), "%u", m->ext_port);
	snprintf(iport, sizeof(iport), "%u", m->int_port);
	hook_ip4p(m->ext_addr, m->ext_port, ip4p, sizeof(ip4p));
	argv[0] = hook.path;
	argv[1] = pub;
	argv[2] = pport;
	argv[3] = ip4p;
	argv[4] = iport;
	argv[5] = (char *)proto;
	argv[6] = priv;
	argv[7] = NULL;
	snprintf(env[0], sizeof(env[0]), "%s", HOOK_PATH_ENV);
	snprintf(env[1], sizeof(env[1]), "NATMAPD_EVENT=%s", event);
	snprintf(env[2], sizeof(env[2]), "NATMAPD_METHOD=%.*s",
	    (int)strnlen(m->method, sizeof(m->method)), m->method);
	snprintf(env[3], sizeof(env[3]), "NATMAPD_PUBLIC_IP=%s", pub);
	snprintf(env[4], sizeof(env[4]), "NATMAPD_PUBLIC_PORT=%s", pport);
	snprintf(env[5], sizeof(env[5]), "NATMAPD_PRIVATE_IP=%s", priv);
	snprintf(env[6], sizeof(env[6]), "NATMAPD_PRIVATE_PORT=%s", iport);
	snprintf(env[7], sizeof(env[7]), "NATMAPD_PROTOCOL=%s", proto);
	snprintf(env[8], sizeof(env[8]), "NATMAPD_LEASE=%u", m->lease);
	snprintf(env[9], sizeof(env[9]), "NATMAPD_GATEWAY=%s", gwa);
	run(j, hook.path, argv, env, HOOK_NENV);
	if (j->pid != 0)
		log_debug("hook %s: %s %s:%s, running %s (pid %ld)", j->spec,
		    event, pub, pport, hook.path, (long)j->pid);
}

/* Fork and execve path for j with the nenv variables, its output through the loop. */
static void
run(struct hook_job *j, const char *path, char *const argv[],
    char env[][HOOK_ENV_LEN], size_t nenv)
{
	char *envp[HOOK_NENV + 1];
	int p[2], maxfd;
	size_t i;
	pid_t pid;

	for (i = 0; i < nenv && i < HOOK_NENV; i++)
		envp[i] = env[i];
	envp[i] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("hook %s: pipe", j->spec);
		return;
	}
	maxfd = max_fd();
	if ((pid = fork()) == -1) {
		log_warn("hook %s: fork", j->spec);
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0)
		child(path, argv, envp, p[1], maxfd);
	/* Either side may win the race; both ask for the same group. */
	setpgid(pid, pid);
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		log_debug("hook: O_NONBLOCK: %s", strerror(errno));
	j->pid = pid;
	j->fd = p[0];
	j->killed = 0;
	j->len = 0;
	j->cut = 0;
	j->lines = 0;
	j->started = loop_now();
	hook.running++;
	loop_fd_add(&j->lfd, j->fd, LOOP_READ, on_output);
	timer_set(&j->timer, hook.lim.timeout_ms);
}

/* Run now, later (no free slot, or one under way), or not at all (nothing new). */
static void
schedule(struct hook_job *j)
{
	if (j->pid != 0 || j->waiting)
		return;		/* looked at again when its turn comes */
	if (job_path(j) == NULL || !differs(j)) {
		maybe_free(j);
		return;
	}
	if (hook.running >= hook.lim.max_running) {
		j->waiting = 1;
		if (hook.wait_tail != NULL)
			hook.wait_tail->wnext = j;
		else
			hook.wait_head = j;
		hook.wait_tail = j;
		hook.nwaiting++;
		return;
	}
	start(j);
	if (j->pid == 0)
		maybe_free(j);
}

static struct hook_job *
job_get(const struct status_map *m)
{
	struct hook_job *j;

	for (j = hook.jobs; j != NULL; j = j->next)
		if (j->peer == NULL && j->proto == m->proto &&
		    j->int_port == m->int_port && j->ext_want == m->ext_want)
			return j;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		log_warn("hook");
		return NULL;
	}
	j->proto = m->proto;
	j->int_port = m->int_port;
	j->ext_want = m->ext_want;
	j->fd = -1;
	timer_init(&j->timer, on_timer);
	status_map_spec(m, j->spec, sizeof(j->spec));
	j->next = hook.jobs;
	hook.jobs = j;
	return j;
}

static void
on_event(int event, const struct status_map *m)
{
	struct hook_job *j;

	/* natmapd's own mappings (hole punching's ports) are not the user's */
	if (hook.path == NULL || m->owner[0] != '\0')
		return;
	if ((j = job_get(m)) == NULL)
		return;
	/* Down is about the endpoint that was up: its lease too. */
	if (event == STATUS_EVENT_DOWN && m->lease == 0 && j->latest_up) {
		uint32_t lease = j->latest.lease;

		j->latest = *m;
		j->latest.lease = lease;
	} else
		j->latest = *m;
	j->latest_up = event != STATUS_EVENT_DOWN;
	schedule(j);
}

static struct hook_job *
peer_job_get(const char *node)
{
	struct hook_job *j;

	for (j = hook.jobs; j != NULL; j = j->next)
		if (j->peer != NULL && strcmp(j->peer->node, node) == 0)
			return j;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->peer = calloc(1, sizeof(*j->peer))) == NULL) {
		log_warn("hook");
		free(j);
		return NULL;
	}
	snprintf(j->peer->node, sizeof(j->peer->node), "%s", node);
	j->fd = -1;
	timer_init(&j->timer, on_timer);
	snprintf(j->spec, sizeof(j->spec), "peer %.26s", node);
	j->next = hook.jobs;
	hook.jobs = j;
	return j;
}

static void
on_peer_event(int event, const struct status_peer *sp)
{
	struct hook_job *j;
	struct hook_path *v;

	if (hook.peer_path == NULL || (j = peer_job_get(sp->node)) == NULL)
		return;
	v = &j->peer->latest;
	snprintf(v->path, sizeof(v->path), "%s", sp->path);
	snprintf(v->endpoint, sizeof(v->endpoint), "%s", sp->endpoint);
	snprintf(v->relay, sizeof(v->relay), "%s", sp->relay);
	snprintf(v->via, sizeof(v->via), "%s", sp->via);
	j->latest_up = event != STATUS_EVENT_DOWN;
	schedule(j);
}

/* ---- life cycle ---- */

/*
 * *slot becomes path (the hook's or the peer hook's): 1 if it changed to
 * a program, whose jobs (peers' or mappings') then start from nothing,
 * a new hook knowing nothing yet (and without one, events were not
 * kept); the caller tells it what is up now.
 */
static int
set_path(char **slot, const char *path, int peers)
{
	struct hook_job *j, *next;

	if (path == NULL && *slot == NULL)
		return 0;
	if (path != NULL && *slot != NULL && strcmp(path, *slot) == 0)
		return 0;
	free(*slot);
	*slot = NULL;
	if (path != NULL && (*slot = strdup(path)) == NULL)
		fatal("strdup");
	if (*slot == NULL)
		return 0;
	if (access(*slot, X_OK) == -1)
		log_warn("%s %s", peers ? "peer hook" : "hook", *slot);
	for (j = hook.jobs; j != NULL; j = next) {
		next = j->next;
		if ((j->peer != NULL) != peers)
			continue;
		j->given_up = 0;
		j->latest_up = 0;
		maybe_free(j);
	}
	return 1;
}

static void
drain_timeout(struct timer *t)
{
	void (*done)(void) = hook.drained;

	(void)t;
	hook.drained = NULL;
	if (done != NULL)
		done();
}

void
hook_init(const char *path)
{
	struct sigaction sa;

	(void)set_path(&hook.path, path, 0);
	if (hook.subscribed)
		return;
	if (pipe2(hook.sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sigchld_handler;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		fatal("sigaction");
	loop_fd_add(&hook.sig_lfd, hook.sigpipe[0], LOOP_READ, on_sigchld);
	timer_init(&hook.drain_timer, drain_timeout);
	status_subscribe(on_event);
	status_subscribe_peers(on_peer_event);
	hook.subscribed = 1;
}

void
hook_set_peer_path(const char *path)
{
	const struct status_peer *sp;
	size_t i;

	if (!set_path(&hook.peer_path, path, 1))
		return;
	for (i = 0; (sp = status_peer_at(i)) != NULL; i++)
		if (sp->path[0] != '\0')
			on_peer_event(STATUS_EVENT_UP, sp);
}

void
hook_set_path(const char *path)
{
	struct status_map m;
	size_t i;

	if (!set_path(&hook.path, path, 0))
		return;
	for (i = 0; i < status_map_count(); i++) {
		if (status_map_get(i, &m) == -1)
			continue;
		if ((m.state != STATUS_UP && m.state != STATUS_RENEWING) ||
		    m.ext_port == 0)
			continue;
		on_event(STATUS_EVENT_UP, &m);
	}
}

void
hook_drain(void (*done)(void))
{
	hook.drained = done;
	timer_stop(&hook.drain_timer);
	if (hook.running > 0 || hook.nwaiting > 0) {
		log_info("waiting up to %llu ms for %zu hook%s",
		    (unsigned long long)hook.lim.exit_wait_ms,
		    hook.running + hook.nwaiting,
		    hook.running + hook.nwaiting == 1 ? "" : "s");
		timer_set(&hook.drain_timer, hook.lim.exit_wait_ms);
		return;
	}
	check_drained();
}

void
hook_free(void)
{
	struct hook_job *j;
	struct sigaction sa;

	while ((j = hook.jobs) != NULL) {
		hook.jobs = j->next;
		if (j->pid != 0) {
			log_warnx("hook %s: still running at exit: SIGTERM",
			    j->spec);
			if (kill(-j->pid, SIGTERM) == -1)
				kill(j->pid, SIGTERM);
		} else if (j->waiting)
			log_warnx("hook %s: not run: natmapd is exiting",
			    j->spec);
		close_output(j);
		timer_stop(&j->timer);
		free(j->peer);
		free(j);
	}
	hook.wait_head = hook.wait_tail = NULL;
	hook.running = hook.nwaiting = 0;
	timer_stop(&hook.drain_timer);
	hook.drained = NULL;
	if (hook.subscribed) {
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		loop_fd_del(&hook.sig_lfd);
		close(hook.sigpipe[0]);
		close(hook.sigpipe[1]);
		hook.sigpipe[0] = hook.sigpipe[1] = -1;
		hook.subscribed = 0;
	}
	free(hook.path);
	hook.path = NULL;
	free(hook.peer_path);
	hook.peer_path = NULL;
}
