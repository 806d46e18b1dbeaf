/* SPDX-License-Identifier: ISC */
/* Test-only (check_PROGRAMS): one side of a pair talking through a TURN relay with relay.c, for tests/integration/relay.sh. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "rdv-turn.h"
#include "relay.h"
#include "stun.h"

/*
 * relay-pair [-t] [-x] [-k MS] SERVER PORT CREDFILE NAME MYFILE PEERFILE
 *     udp N | connect INFILE OUTFILE | accept
 *
 * Allocates on the TURN server SERVER:PORT (over UDP; -t over TCP; a TCP
 * allocation, RFC 6062, for connect and accept) with the username and
 * password CREDFILE holds ("USER PASS", read whenever one is needed;
 * never printed), writes its relayed address ("IP PORT") to MYFILE after
 * every allocation, and reads the other side's from PEERFILE every
 * 100 ms, permitting it whenever it changes.  Then:
 *   udp N: sends the peer a numbered datagram every 50 ms ("rp NAME SEQ "
 *     and 100 bytes made from SEQ) and checks each one that comes from
 *     it; prints "peer ADDR: N datagrams intact" once N have come from
 *     the current peer address, and "bad datagram" for any other;
 *   connect INFILE OUTFILE: a TCP connection to the peer through the
 *     relay (Connect; tried again every 2 s until one binds), INFILE
 *     sent, what comes back written to OUTFILE, "tcp: N bytes back" once
 *     as many came back as were sent;
 *   accept: echoes what comes on each connection the peer makes.
 * stdout: "up ADDR allocation N", "down: WHY", and the above, one line
 * each; relay.c's log on stderr.  -k: the relay's keepalive (ms).  -x:
 * exit 3 at a down that comes before any up (wrong credentials).
 */

enum mode { M_UDP, M_CONNECT, M_ACCEPT };

#define WINDOW	(64 * 1024)	/* connect: bytes in flight at most */

static struct relay	*R;
static enum mode	 mode;
static const char	*credfile, *myfile, *peerfile, *name;
static const char	*outfile;
static int		 exit_first_down, ever_up;
static struct sockaddr_storage peer;
static struct timer	 poll_t, send_t, connect_t;
static unsigned int	 want, ok, bad, seq, allocations;
static int		 reported, tcp_done, streaming;
static uint8_t		*indata;
static size_t		 insize;

/* A TCP stream through the relay: to echo (accept) or to send INFILE on (connect). */
struct stream {
	int		fd;
	struct loop_fd	lfd;
	int		outfd;		/* connect: OUTFILE */
	size_t		sent, got;
	uint8_t		buf[65536];
	size_t		blen, boff;	/* accept: bytes to echo */
	int		eof;
};

static void say(const char *, ...) __attribute__((format(printf, 1, 2)));

/* One line on stdout, at once. */
static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int
creds(void *arg, struct rdv_turn *t)
{
	char line[256], *sp;
	size_t ulen, plen;
	FILE *f;

	(void)arg;
	memset(t, 0, sizeof(*t));
	if ((f = fopen(credfile, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if ((sp = strchr(line, ' ')) == NULL)
		return -1;
	*sp++ = '\0';
	ulen = strlen(line);
	plen = strlen(sp);
	if (ulen > RDV_TURN_USER_MAX || plen > RDV_TURN_PASS_MAX)
		return -1;
	memcpy(t->username, line, ulen + 1);
	memcpy(t->password, sp, plen + 1);
	crypto_wipe(line, sizeof(line));
	return 0;
}

static int
addr_parse(const char *ip, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
write_mine(const struct sockaddr_storage *relayed)
{
	const struct sockaddr_in *sin = (const void *)relayed;
	char tmp[4096], a[INET_ADDRSTRLEN];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", myfile);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	fprintf(f, "%s %u\n", a, ntohs(sin->sin_port));
	fclose(f);
	rename(tmp, myfile);
}

static void
try_connect(void)
{
	if (mode != M_CONNECT || tcp_done || streaming ||
	    peer.ss_family == AF_UNSPEC)
		return;
	if (relay_connect(R, &peer) == 0)
		say("connecting to the peer");
	timer_set(&connect_t, 2000);
}

static void
connect_timer(struct timer *t)
{
	(void)t;
	try_connect();
}

static void
poll_timer(struct timer *t)
{
	struct sockaddr_storage ss;
	char line[128], ip[64], port[16], s[64];
	FILE *f;

	timer_set(t, 100);
	if ((f = fopen(peerfile, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%63s %15s", ip, port) != 2 ||
	    addr_parse(ip, port, &ss) == -1) {
		fclose(f);
		return;
	}
	fclose(f);
	if (stun_addr_eq(&ss, &peer))
		return;
	if (peer.ss_family != AF_UNSPEC)
		relay_unpermit(R, &peer);
	peer = ss;
	ok = bad = 0;
	reported = 0;
	say("peer %s", stun_addr_str(&peer, s, sizeof(s)));
	if (relay_permit(R, &peer) == -1)
		say("permit: %s", strerror(errno));
	if (mode == M_CONNECT && !timer_armed(&connect_t))
		timer_set(&connect_t, 500);	/* the other side permits us meanwhile */
}

static void
fill(uint8_t *p, size_t n, unsigned int s)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((s + i) * 31);
}

static void
send_timer(struct timer *t)
{
	uint8_t buf[200];
	int n;

	timer_set(t, 50);
	if (peer.ss_family == AF_UNSPEC)
		return;
	n = snprintf((char *)buf, sizeof(buf), "rp %s %u ", name, seq);
	fill(buf + n, 100, seq);
	if (relay_send(R, &peer, buf, (size_t)n + 100) == 0)
		seq++;
}

static void
on_data(void *arg, const struct sockaddr_storage *from, const uint8_t *b,
    size_t len)
{
	char who[64], s[64];
	uint8_t want_fill[100];
	unsigned int sq;
	int off = 0;

	(void)arg;
	if (!stun_addr_eq(from, &peer))
		return;
	if (len < 100 + 6 || len > 199 || b[0] != 'r') {
		bad++;
		say("bad datagram (%u)", bad);
		return;
	}
	{
		char head[100];
		size_t hl = len - 100;

		memcpy(head, b, hl);
		head[hl] = '\0';
		if (sscanf(head, "rp %63s %u %n", who, &sq, &off) != 2 ||
		    (size_t)off != hl || strcmp(who, name) == 0) {
			bad++;
			say("bad datagram (%u)", bad);
			return;
		}
	}
	fill(want_fill, sizeof(want_fill), sq);
	if (memcmp(b + len - 100, want_fill, 100) != 0) {
		bad++;
		say("bad datagram (%u)", bad);
		return;
	}
	ok++;
	if (ok >= want && !reported) {
		reported = 1;
		printf("peer %s: %u datagrams intact\n",
		    stun_addr_str(&peer, s, sizeof(s)), ok);
		fflush(stdout);
	}
}

static void
stream_close(struct stream *st)
{
	loop_fd_del(&st->lfd);
	close(st->fd);
	if (st->outfd != -1)
		close(st->outfd);
	free(st);
}

static void
stream_event(struct loop_fd *lfd, int revents)
{
	struct stream *st = container_of(lfd, struct stream, lfd);
	ssize_t n;

	(void)revents;
	if (mode == M_CONNECT) {
		/*
		 * At most WINDOW bytes not yet echoed: coturn 4.6.1 stops
		 * reading one side of a TCP relay while the other's output
		 * is over 192 kB, and a flood both ways at once stalled it
		 * now and then.
		 */
		while (st->sent < insize && st->sent - st->got < WINDOW) {
			size_t w = insize - st->sent;

			if (w > WINDOW - (st->sent - st->got))
				w = WINDOW - (st->sent - st->got);
			n = send(st->fd, indata + st->sent, w, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			st->sent += (size_t)n;
		}
		while ((n = recv(st->fd, st->buf, sizeof(st->buf), 0)) > 0) {
			if (write(st->outfd, st->buf, (size_t)n) != n)
				break;
			st->got += (size_t)n;
		}
		loop_fd_events(&st->lfd, LOOP_READ | (st->sent < insize &&
		    st->sent - st->got < WINDOW ? LOOP_WRITE : 0));
		if (st->got >= insize) {
			say("tcp: %zu bytes back", st->got);
			tcp_done = 1;
			stream_close(st);
		} else if (n == 0) {
			say("tcp: closed after %zu bytes", st->got);
			streaming = 0;
			stream_close(st);
		}
		return;
	}
	/* accept: echo */
	if (st->boff < st->blen) {
		n = send(st->fd, st->buf + st->boff, st->blen - st->boff,
		    MSG_NOSIGNAL);
		if (n > 0)
			st->boff += (size_t)n;
		if (st->boff < st->blen)
			return;
	}
	st->blen = st->boff = 0;
	loop_fd_events(&st->lfd, LOOP_READ);
	n = recv(st->fd, st->buf, sizeof(st->buf), 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		say("echo: the connection ended after %zu bytes", st->got);
		stream_close(st);
		return;
	}
	if (n < 0)
		return;
	st->got += (size_t)n;
	st->blen = (size_t)n;
	n = send(st->fd, st->buf, st->blen, MSG_NOSIGNAL);
	if (n > 0)
		st->boff = (size_t)n;
	loop_fd_events(&st->lfd, st->boff < st->blen ? LOOP_WRITE : LOOP_READ);
}

static void
on_conn(void *arg, int fd, const struct sockaddr_storage *from, int incoming,
    const char *err)
{
	struct stream *st;
	char s[64];

	(void)arg;
	stun_addr_str(from, s, sizeof(s));
	if (fd == -1) {
		printf("connect failed: %s\n", err);
		fflush(stdout);
		return;
	}
	say("%s %s", incoming ? "accepted from" : "connected to", s);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		exit(1);
	st->fd = fd;
	st->outfd = -1;
	if (mode == M_CONNECT) {
		if (incoming || tcp_done || streaming) {
			close(fd);
			free(st);
			return;
		}
		timer_stop(&connect_t);
		streaming = 1;	/* one connection */
		if ((st->outfd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC,
		    0644)) == -1)
			exit(1);
		loop_fd_add(&st->lfd, fd, LOOP_READ | LOOP_WRITE, stream_event);
		return;
	}
	loop_fd_add(&st->lfd, fd, LOOP_READ, stream_event);
}

static void
on_up(void *arg, const struct sockaddr_storage *relayed)
{
	char s[64];

	(void)arg;
	ever_up = 1;
	allocations++;
	ok = bad = 0;		/* counted again in each allocation */
	reported = 0;
	printf("up %s allocation %u\n", stun_addr_str(relayed, s, sizeof(s)),
	    allocations);
	fflush(stdout);
	write_mine(relayed);
	if (peer.ss_family != AF_UNSPEC)
		relay_permit(R, &peer);
	if (mode == M_CONNECT && !tcp_done && !streaming)
		timer_set(&connect_t, 500);
}

static void
on_down(void *arg, const char *why)
{
	(void)arg;
	printf("down: %s\n", why);
	fflush(stdout);
	if (exit_first_down && !ever_up) {
		fprintf(stderr, "relay-pair: %s\n", why);
		exit(3);
	}
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *p;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1 ||
	    (p = malloc((size_t)sb.st_size + 1)) == NULL)
		return NULL;
	while (off < (size_t)sb.st_size &&
	    (n = read(fd, p + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	*len = off;
	return p;
}

int
main(int argc, char *argv[])
{
	static const struct relay_cbs cbs = {
		.up = on_up, .down = on_down, .data = on_data, .conn = on_conn,
	};
	struct relay_conf conf;
	char err[256];
	int c;

	memset(&conf, 0, sizeof(conf));
	while ((c = getopt(argc, argv, "k:tx")) != -1) {
		switch (c) {
		case 'k':
			conf.keepalive_ms = (uint32_t)atoi(optarg);
			break;
		case 't':
			conf.server_tcp = 1;
			break;
		case 'x':
			exit_first_down = 1;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 7)
		goto usage;
	if (addr_parse(argv[0], argv[1], &conf.server) == -1)
		goto usage;
	credfile = argv[2];
	name = argv[3];
	myfile = argv[4];
	peerfile = argv[5];
	if (strcmp(argv[6], "udp") == 0 && argc == 8) {
		mode = M_UDP;
		want = (unsigned int)atoi(argv[7]);
	} else if (strcmp(argv[6], "connect") == 0 && argc == 9) {
		mode = M_CONNECT;
		if ((indata = read_file(argv[7], &insize)) == NULL ||
		    insize == 0) {
			perror(argv[7]);
			return 1;
		}
		outfile = argv[8];
	} else if (strcmp(argv[6], "accept") == 0 && argc == 7)
		mode = M_ACCEPT;
	else
		goto usage;
	if (mode != M_UDP)
		conf.alloc_tcp = 1;
	conf.creds = creds;
	log_init(1, 1);
	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "relay-pair: %s\n", err);
		return 1;
	}
	if ((R = relay_new(&conf, &cbs, NULL)) == NULL) {
		perror("relay_new");
		return 1;
	}
	timer_init(&poll_t, poll_timer);
	timer_init(&send_t, send_timer);
	timer_init(&connect_t, connect_timer);
	timer_set(&poll_t, 100);
	if (mode == M_UDP)
		timer_set(&send_t, 50);
	loop_run();
	relay_free(R);
	return 0;
usage:
	fprintf(stderr, "usage: relay-pair [-t] [-x] [-k MS] SERVER PORT CREDFILE NAME MYFILE PEERFILE udp N | connect INFILE OUTFILE | accept\n");
	return 1;
}
