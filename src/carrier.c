/* SPDX-License-Identifier: ISC */
/* The TCP carrier between two nodes: simultaneous open, HELLO, encrypted records, streams to local sockets. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "mux.h"
#include "osdep.h"
#include "sock.h"
#include "stun-msg.h"
#include "stun.h"

#define TRIES_MAX	8	/* connections being made at once */
#define STREAM_BUF	(256 * 1024)	/* the peer's data for a client: its window */
#define READ_CHUNK	MUX_SENDBUF	/* a client's bytes, at most, one read */
#define STREAM_GONE_MS	10000	/* a gone stream's client takes nothing: reset */
#define HELLO_LABEL	"natmapd carrier hello v1"
#define GEN_LABEL	"natmapd carrier generation v1"

struct stream {
	struct carrier		*c;
	uint32_t		 id;
	int			 fd;
	struct loop_fd		 lfd;
	int			 connecting;	/* exposing side: connect() under way */
	int			 fin_in;	/* the peer sent FIN */
	int			 eof;		/* the client closed its side */
	uint8_t			*buf;		/* for the client, not yet written */
	size_t			 len, off;
	int			 gone;		/* the multiplexer forgot it: drain, close */
	char			 service[MUX_NAME_MAX + 1];
	int			 local;		/* opened here (a connect's client) */
	struct stream		*next, **prevp;	/* the carrier's streams */
	struct timer		 gtimer;	/* gone: no byte taken in time */
};

struct try {
	int			 fd;		/* -1: free */
	struct loop_fd		 lfd;
	struct carrier		*c;
	int			 cand;		/* the candidate; -1 accepted */
	int			 connected;
	int			 v6;		/* an IPv6 connection */
	uint8_t			 in[CARRIER_HELLO_LEN];
	size_t			 inlen;
	int			 hello_sent;
	int			 relayed;	/* carrier_take_conn's */
};

struct carrier {
	char			 peer[64];
	int			 initiator;
	uint8_t			 sid[PUNCH_SESSION_ID_LEN];
	uint8_t			 attempt;
	uint8_t			 hello_out[CARRIER_HELLO_LEN];
	uint8_t			 hello_in[CARRIER_HELLO_LEN];
	struct sockaddr_storage	 cand[PUNCH_CAND_MAX];
	int			 ncand;
	uint64_t		 deadline;
	uint64_t		 v6_until;	/* IPv4 HELLOs held till */
	uint16_t		 port;		/* the carrier port at start */
	int			 held;		/* a connect: EADDRNOTAVAIL */
	struct try		 tries[TRIES_MAX];
	struct timer		 timer;		/* retries; then pings */
	const struct carrier_ops *ops;
	void			*arg;
	struct session_keys	 keys;		/* until up */
	/* up */
	int			 up;
	int			 fd;
	struct loop_fd		 lfd;
	struct sockaddr_storage	 remote;
	struct session		*sess;
	struct mux		*mux;
	uint8_t			*in;		/* records, received */
	size_t			 inlen;
	uint8_t			*out;		/* records, sealed */
	size_t			 outlen, outoff;
	uint64_t		 last_rx;
	uint64_t		 bytes_in, bytes_out;
	int			 dying;		/* down called once */
	int			 relayed;	/* up on carrier_take_conn's */
	struct stream		*streams;
};

static struct {
	int			 lfd_fd;	/* the listener */
	struct loop_fd		 lfd;
	int			 lfd6_fd;	/* the IPv6 one; -1 none */
	struct loop_fd		 lfd6;
	uint16_t		 port;
	uint16_t		 first, last;	/* the range it is from */
	/* STUN over TCP from the port */
	struct sockaddr_storage	 server;
	int			 sfd;
	struct loop_fd		 slfd;
	uint8_t			 tid[STUN_TID_LEN];
	uint8_t			 sbuf[STUN_MAX_MSG];
	size_t			 slen;
	struct timer		 stimer;
	struct sockaddr_storage	 srflx;
	/* carriers waiting for what the listener accepts */
	struct carrier		*waiting[64];
} cp = { .lfd_fd = -1, .lfd6_fd = -1, .sfd = -1 };

static uint8_t plainbuf[SESSION_TCP_PLAIN_MAX];
static uint8_t readbuf[READ_CHUNK];

static void	carrier_down(struct carrier *, const char *);
static void	stream_io(struct loop_fd *, int);
static const struct mux_callbacks carrier_mux_cbs;

static socklen_t
sslen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/*
 * A TCP socket of family (AF_INET, AF_INET6: IPv6 only, a stable source
 * address preferred) bound to the carrier port, beside the listener.
 */
static int
port_socket(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	int fd, on = 1;

	if ((fd = socket(family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (sock_nonblock(fd) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &on, sizeof(on)) == -1)) {
		close(fd);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		(void)osdep_prefer_public_src(fd);
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	} else
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	if (port != 0 && bind(fd, (struct sockaddr *)&ss, sslen(&ss)) ==
	    -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
carrier_hello(const uint8_t key[SESSION_KEY_LEN],
    const uint8_t sid[PUNCH_SESSION_ID_LEN], uint8_t attempt,
    uint8_t out[CARRIER_HELLO_LEN])
{
	struct crypto_part parts[3] = {
		{ HELLO_LABEL, sizeof(HELLO_LABEL) - 1 },
		{ sid, PUNCH_SESSION_ID_LEN },
		{ &attempt, 1 },
	};

	memcpy(out, sid, PUNCH_SESSION_ID_LEN);
	out[PUNCH_SESSION_ID_LEN] = attempt;
	crypto_hmac_sha256(key, SESSION_KEY_LEN, parts, 3,
	    out + PUNCH_SESSION_ID_LEN + 1);
}

void
carrier_keys(const struct session_keys *k, uint8_t gen,
    struct session_keys *out)
{
	struct crypto_part parts[2] = {
		{ GEN_LABEL, sizeof(GEN_LABEL) - 1 },
		{ &gen, 1 },
	};
	uint8_t send[CRYPTO_SHA256_LEN], recv[CRYPTO_SHA256_LEN];

	out->cipher = k->cipher;
	if (gen == 0) {
		memcpy(out->tcp_send, k->tcp_send, SESSION_KEY_LEN);
		memcpy(out->tcp_recv, k->tcp_recv, SESSION_KEY_LEN);
		return;
	}
	crypto_hmac_sha256(k->tcp_send, SESSION_KEY_LEN, parts, 2, send);
	crypto_hmac_sha256(k->tcp_recv, SESSION_KEY_LEN, parts, 2, recv);
	memcpy(out->tcp_send, send, SESSION_KEY_LEN);
	memcpy(out->tcp_recv, recv, SESSION_KEY_LEN);
	crypto_wipe(send, sizeof(send));
	crypto_wipe(recv, sizeof(recv));
}

/* ---- the public endpoint of the port: STUN over TCP ---- */

static void
stun_close(void)
{
	if (cp.sfd != -1) {
		loop_fd_del(&cp.slfd);
		sock_close_reset(cp.sfd);
		cp.sfd = -1;
	}
	cp.slen = 0;
}

static void
stun_io(struct loop_fd *lfd, int revents)
{
	struct stun_msg m;
	const struct sockaddr_storage *mapped;
	uint8_t req[64];
	ssize_t n;
	int len, err = 0;
	socklen_t el = sizeof(err);

	(void)lfd;
	if (revents & LOOP_WRITE) {
		if (getsockopt(cp.sfd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			log_debug("carrier: STUN over TCP: %s", strerror(err));
			stun_close();
			return;
		}
		if (crypto_random(cp.tid, sizeof(cp.tid)) == -1 ||
		    (len = stun_build_binding(req, sizeof(req), cp.tid, 0,
		    1)) < 0 || write(cp.sfd, req, (size_t)len) != len) {
			stun_close();
			return;
		}
		loop_fd_events(&cp.slfd, LOOP_READ);
		return;
	}
	n = read(cp.sfd, cp.sbuf + cp.slen, sizeof(cp.sbuf) - cp.slen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			stun_close();
		return;
	}
	cp.slen += (size_t)n;
	len = stun_frame_len(cp.sbuf, cp.slen);
	if (len < 0 || (len > 0 && (size_t)len > sizeof(cp.sbuf))) {
		stun_close();
		return;
	}
	if (len == 0 || (size_t)len > cp.slen)
		return;
	if (stun_parse(cp.sbuf, (size_t)len, &m, NULL) == 0 &&
	    m.cls == STUN_SUCCESS &&
	    memcmp(m.tid, cp.tid, STUN_TID_LEN) == 0 &&
	    (mapped = stun_msg_mapped(&m)) != NULL &&
	    mapped->ss_family == AF_INET) {
		char a[64];

		if (memcmp(mapped, &cp.srflx, sizeof(*mapped)) != 0)
			log_info("carrier: TCP port %u is seen at %s", cp.port,
			    stun_addr_str(mapped, a, sizeof(a)));
		cp.srflx = *mapped;
	}
	stun_close();
}

static void
stun_timer(struct timer *t)
{
	stun_close();
	if ((cp.sfd = port_socket(cp.server.ss_family, cp.port)) == -1) {
		timer_set(t, CARRIER_STUN_MS);
		return;
	}
	if (connect(cp.sfd, (const struct sockaddr *)&cp.server,
	    sslen(&cp.server)) == -1 && errno != EINPROGRESS) {
		log_debug("carrier: STUN over TCP: %s", strerror(errno));
		close(cp.sfd);
		cp.sfd = -1;
		timer_set(t, CARRIER_STUN_MS / 5);
		return;
	}
	loop_fd_add(&cp.slfd, cp.sfd, LOOP_WRITE, stun_io);
	timer_set(t, cp.srflx.ss_family == AF_UNSPEC ? 2000 :
	    loop_jitter(CARRIER_STUN_MS, 10));
}

void
carrier_stun_start(const struct sockaddr_storage *server)
{
	cp.server = *server;
	/* the servers resolve again now and then: the timer may be armed,
	 * and initialising it there would cut the loop's list of timers */
	timer_stop(&cp.stimer);
	timer_init(&cp.stimer, stun_timer);
	timer_set(&cp.stimer, 0);
}

const struct sockaddr_storage *
carrier_srflx(void)
{
	return &cp.srflx;
}

/* ---- the port and its listener ---- */

static void	try_take(struct carrier *, int fd, int cand, int connected);

/* 1: the same address; 2: the same address and port */
static int
addr_match(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		if (a4->sin_addr.s_addr != b4->sin_addr.s_addr)
			return 0;
		return a4->sin_port == b4->sin_port ? 2 : 1;
	}
	if (a->ss_family == AF_INET6) {
		if (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) != 0)
			return 0;
		return a6->sin6_port == b6->sin6_port ? 2 : 1;
	}
	return 0;
}

/*
 * The waiting carrier an accepted connection from FROM belongs to: the one
 * with FROM among its candidates, else one with FROM's address (a NAT that
 * moved the port); NULL when FROM is no peer's.
 */
static struct carrier *
waiting_find(const struct sockaddr_storage *from)
{
	struct carrier *c, *best = NULL;
	size_t i;
	int j, m, bestm = 0;

	for (i = 0; i < sizeof(cp.waiting) / sizeof(cp.waiting[0]); i++) {
		if ((c = cp.waiting[i]) == NULL || c->up)
			continue;
		for (j = 0; j < c->ncand; j++)
			if ((m = addr_match(&c->cand[j], from)) > bestm) {
				best = c;
				bestm = m;
			}
	}
	return best;
}

static void
listener_accept(struct loop_fd *lfd, int revents)
{
	struct sockaddr_storage from;
	struct carrier *c;
	char a[64];
	socklen_t fl;
	int fd;

	(void)revents;
	for (;;) {
		memset(&from, 0, sizeof(from));
		fl = sizeof(from);
		if ((fd = accept(lfd->fd, (struct sockaddr *)&from, &fl)) == -1)
			return;
		if (sock_nonblock(fd) == -1) {
			close(fd);
			continue;
		}
		/* whose: the waiting carrier whose peer it comes from (one of
		 * its candidates); its HELLO decides */
		if ((c = waiting_find(&from)) != NULL)
			try_take(c, fd, -1, 1);
		else {
			log_debug("carrier: a connection from %s that no "
			    "carrier waits for, reset",
			    stun_addr_str(&from, a, sizeof(a)));
			sock_close_reset(fd);
		}
	}
}

/*
 * The IPv6 listener on the port: 0, or -1 with errno (EADDRINUSE: the
 * number is taken on IPv6).
 */
static int
port_listen(int family, uint16_t port)
{
	int fd, e;

	if ((fd = port_socket(family, port)) == -1)
		return -1;
	if (listen(fd, 16) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Listeners on a number at random in first-last other than avoid: 0 with
 * *fd (IPv4) and *fd6 (IPv6, -1 where the system has none), or -1.
 */
static int
port_pick(uint16_t first, uint16_t last, uint16_t avoid, uint16_t *port,
    int *fd, int *fd6)
{
	uint32_t span = (uint32_t)(last - first) + 1;
	int i;

	for (i = 0; i < 64; i++) {
		*port = (uint16_t)(first + loop_random(span));
		if (*port == avoid && span > 1)
			continue;
		if ((*fd = port_listen(AF_INET, *port)) == -1)
			continue;
		/* a number free on both, unless the system has no IPv6 */
		if ((*fd6 = port_listen(AF_INET6, *port)) == -1 &&
		    errno == EADDRINUSE && i < 63) {
			close(*fd);
			continue;
		}
		return 0;
	}
	return -1;
}

static void
listeners_close(void)
{
	if (cp.lfd_fd != -1) {
		loop_fd_del(&cp.lfd);
		close(cp.lfd_fd);
		cp.lfd_fd = -1;
	}
	if (cp.lfd6_fd != -1) {
		loop_fd_del(&cp.lfd6);
		close(cp.lfd6_fd);
		cp.lfd6_fd = -1;
	}
}

static void
listeners_take(uint16_t port, int fd, int fd6)
{
	cp.port = port;
	cp.lfd_fd = fd;
	loop_fd_add(&cp.lfd, fd, LOOP_READ, listener_accept);
	if ((cp.lfd6_fd = fd6) != -1)
		loop_fd_add(&cp.lfd6, fd6, LOOP_READ, listener_accept);
}

int
carrier_port_open(uint16_t first, uint16_t last, uint16_t *port)
{
	int fd, fd6;

	cp.first = first;
	cp.last = last;
	if (port_pick(first, last, 0, port, &fd, &fd6) == -1) {
		log_warn("carrier: no free TCP port in %u-%u", first, last);
		cp.port = 0;
		return -1;
	}
	listeners_take(*port, fd, fd6);
	return 0;
}

int
carrier_port_move(uint16_t *port)
{
	uint16_t old = cp.port;
	int fd, fd6;

	if (old == 0 || port_pick(cp.first, cp.last, old, port, &fd,
	    &fd6) == -1)
		return -1;
	/*
	 * Carriers up, and tries going, keep their sockets on the old number;
	 * the listeners, and what is learned of the public endpoint, move.
	 */
	listeners_close();
	listeners_take(*port, fd, fd6);
	stun_close();
	cp.srflx.ss_family = AF_UNSPEC;
	if (cp.server.ss_family != AF_UNSPEC)
		timer_set(&cp.stimer, 0);
	return 0;
}

int
carrier_held(const struct carrier *c)
{
	return c->held;
}

void
carrier_port_close(void)
{
	timer_stop(&cp.stimer);
	stun_close();
	listeners_close();
	cp.srflx.ss_family = AF_UNSPEC;
	cp.port = 0;
}

int
carrier_port_has6(void)
{
	return cp.lfd6_fd != -1;
}

static void
waiting_set(struct carrier *c, int on)
{
	size_t i;

	for (i = 0; i < sizeof(cp.waiting) / sizeof(cp.waiting[0]); i++) {
		if (on && cp.waiting[i] == NULL) {
			cp.waiting[i] = c;
			return;
		}
		if (!on && cp.waiting[i] == c)
			cp.waiting[i] = NULL;
	}
}

/* ---- connecting: the tries ---- */

static void
try_close(struct try *t)
{
	if (t->fd == -1)
		return;
	loop_fd_del(&t->lfd);
	sock_close_reset(t->fd);
	t->fd = -1;
}

static void	carrier_become_up(struct carrier *, struct try *);

/*
 * The initiator's HELLO on a connection made, unless it is an IPv4 one
 * during IPv6's head start (carrier_timer sends it then).  -1: closed.
 */
static int
try_hello(struct try *t)
{
	struct carrier *c = t->c;

	if (!t->connected || !c->initiator || t->hello_sent ||
	    (!t->v6 && loop_now() < c->v6_until))
		return 0;
	if (write(t->fd, c->hello_out, CARRIER_HELLO_LEN) !=
	    CARRIER_HELLO_LEN) {
		try_close(t);
		return -1;
	}
	t->hello_sent = 1;
	log_debug("carrier: %s: HELLO sent (%s, IPv%d)", c->peer,
	    t->cand == -1 ? "accepted" : "made", t->v6 ? 6 : 4);
	return 0;
}

static void
try_io(struct loop_fd *lfd, int revents)
{
	struct try *t = container_of(lfd, struct try, lfd);
	struct carrier *c = t->c;
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (!t->connected && (revents & LOOP_WRITE)) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			log_debug("carrier: %s: connect: %s", c->peer,
			    strerror(err));
			try_close(t);
			return;
		}
		t->connected = 1;
		log_debug("carrier: %s: a connection (%s)", c->peer,
		    t->cand == -1 ? "accepted" : "made");
	}
	if (try_hello(t) == -1)
		return;
	loop_fd_events(&t->lfd, LOOP_READ);
	if (!(revents & LOOP_READ))
		return;
	n = read(t->fd, t->in + t->inlen, sizeof(t->in) - t->inlen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			try_close(t);
		return;
	}
	t->inlen += (size_t)n;
	log_debug("carrier: %s: %zd bytes of HELLO (%s)", c->peer, n,
	    t->cand == -1 ? "accepted" : "made");
	if (t->inlen < sizeof(t->in))
		return;
	if (!crypto_equal(t->in, c->hello_in, sizeof(t->in))) {
		log_info("carrier: %s: a connection with a wrong HELLO, closed",
		    c->peer);
		try_close(t);
		return;
	}
	if (!c->initiator && write(t->fd, c->hello_out, CARRIER_HELLO_LEN) !=
	    CARRIER_HELLO_LEN) {
		try_close(t);
		return;
	}
	carrier_become_up(c, t);
}

static void
try_take(struct carrier *c, int fd, int cand, int connected)
{
	struct sockaddr_storage local;
	socklen_t sl;
	struct try *t = NULL;
	int i;

	for (i = 0; i < TRIES_MAX; i++)
		if (c->tries[i].fd == -1) {
			t = &c->tries[i];
			break;
		}
	if (t == NULL) {
		sock_close_reset(fd);
		return;
	}
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->c = c;
	t->cand = cand;
	t->connected = connected;
	sl = sizeof(local);
	t->v6 = getsockname(fd, (struct sockaddr *)&local, &sl) == 0 &&
	    local.ss_family == AF_INET6;
	loop_fd_add(&t->lfd, fd, LOOP_READ | LOOP_WRITE, try_io);
}

/*
 * The wait before the next round of tries: CARRIER_RETRY_MS on average,
 * uniform within CARRIER_RETRY_JITTER percent of it.  Where both NATs
 * reset unsolicited SYNs, a try gets through only when the two sides'
 * SYNs leave within one one-way time of each other; with a fixed
 * interval the two sides' tries keep the first ones' phase, so tries
 * that did not cross at first never do: a random interval gives each
 * round a fresh chance.
 */
static uint64_t
retry_wait(void)
{
	return loop_jitter(CARRIER_RETRY_MS, CARRIER_RETRY_JITTER);
}

/* A connect() to each candidate that has no try going. */
static void
tries_start(struct carrier *c)
{
	char a[64];
	int i, j, busy, fd;

	for (i = 0; i < c->ncand; i++) {
		busy = 0;
		for (j = 0; j < TRIES_MAX; j++)
			if (c->tries[j].fd != -1 && c->tries[j].cand == i)
				busy = 1;
		if (busy)
			continue;
		if ((fd = port_socket(c->cand[i].ss_family, c->port)) == -1)
			continue;
		if (connect(fd, (const struct sockaddr *)&c->cand[i],
		    sslen(&c->cand[i])) == -1 && errno != EINPROGRESS) {
			/*
			 * The four numbers taken by a connection of ours that
			 * is not a try: a half-open one on the listener (the
			 * peer's SYN came when no try was going, and our
			 * SYN-ACK was lost), or one closing.  No SYN of ours
			 * can leave on them until it ends, a minute or more.
			 */
			if (errno == EADDRNOTAVAIL && !c->held) {
				log_info("carrier: %s: port %u to %s is held "
				    "by an earlier connection", c->peer,
				    c->port, stun_addr_str(&c->cand[i], a,
				    sizeof(a)));
				c->held = 1;
			} else if (errno != EADDRNOTAVAIL)
				log_debug("carrier: %s: connect: %s", c->peer,
				    strerror(errno));
			close(fd);
			continue;
		}
		try_take(c, fd, i, 0);
	}
}

static void
carrier_timer(struct timer *t)
{
	struct carrier *c = container_of(t, struct carrier, timer);
	int i;

	if (!c->up) {
		if (loop_now() >= c->deadline) {
			carrier_down(c, "no TCP connection in time");
			return;
		}
		tries_start(c);
		/* IPv6's head start over: the HELLOs held go */
		for (i = 0; i < TRIES_MAX; i++)
			if (c->tries[i].fd != -1)
				(void)try_hello(&c->tries[i]);
		timer_set(&c->timer, retry_wait());
		return;
	}
	if (loop_now() - c->last_rx >= CARRIER_DEAD_MS) {
		carrier_down(c, "the carrier is silent");
		return;
	}
	mux_ping(c->mux, loop_now());
	loop_fd_events(&c->lfd, LOOP_READ | LOOP_WRITE);
	timer_set(&c->timer, loop_jitter(CARRIER_PING_MS, 10));
}

/* ---- up: records, the multiplexer ---- */

static void
carrier_flush(struct carrier *c)
{
	uint8_t *rec;
	ssize_t n;
	size_t m;
	int r;

	/*
	 * Seal what the multiplexer has, as long as there is room: its frames
	 * go straight where the record goes and are sealed there, in place.
	 */
	while (c->mux != NULL && c->outlen - c->outoff < CARRIER_OUT_MAX / 2 &&
	    mux_pending(c->mux)) {
		if (c->outoff > 0 && c->outoff == c->outlen)
			c->outoff = c->outlen = 0;
		if (c->outlen + SESSION_TCP_OVERHEAD + MUX_FRAME_MAX >
		    CARRIER_OUT_MAX + SESSION_TCP_MAX) {
			carrier_down(c, "output overflow");
			return;
		}
		rec = c->out + c->outlen;
		m = mux_output(c->mux, rec + SESSION_TCP_HDR_LEN, MUX_FRAME_MAX);
		if (m == 0)
			break;
		if ((r = session_tcp_seal(c->sess, rec + SESSION_TCP_HDR_LEN, m,
		    rec, CARRIER_OUT_MAX + SESSION_TCP_MAX - c->outlen)) < 0) {
			carrier_down(c, "cannot seal a record");
			return;
		}
		c->outlen += (size_t)r;
	}
	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			carrier_down(c, strerror(errno));
			return;
		}
		c->outoff += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	else if (c->outoff > CARRIER_OUT_MAX / 2) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	loop_fd_events(&c->lfd, LOOP_READ | (c->outlen > c->outoff ||
	    (c->mux != NULL && mux_pending(c->mux)) ? LOOP_WRITE : 0));
}

static void
carrier_io(struct loop_fd *lfd, int revents)
{
	struct carrier *c = container_of(lfd, struct carrier, lfd);
	size_t off = 0;
	ssize_t n;
	int rl, pl;

	if (revents & LOOP_READ) {
		n = read(c->fd, c->in + c->inlen, SESSION_TCP_MAX * 2 - c->inlen);
		if (n == 0) {
			carrier_down(c, "the other node closed the carrier");
			return;
		}
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				carrier_down(c, strerror(errno));
				return;
			}
			n = 0;
		}
		c->inlen += (size_t)n;
		c->bytes_in += (uint64_t)n;
		c->last_rx = loop_now();
		/* the whole records read, then what is left to the front once */
		while ((rl = session_tcp_record_len(c->in + off,
		    c->inlen - off)) > 0 && (size_t)rl <= c->inlen - off) {
			pl = session_tcp_open(c->sess, c->in + off, (size_t)rl,
			    plainbuf, sizeof(plainbuf));
			if (pl < 0) {
				carrier_down(c, "a record failed authentication");
				return;
			}
			off += (size_t)rl;
			if (mux_input(c->mux, plainbuf, (size_t)pl,
			    loop_now()) == -1) {
				carrier_flush(c);	/* the GOAWAY */
				carrier_down(c, mux_error(c->mux));
				return;
			}
			if (c->dying)
				return;
		}
		if (rl < 0) {
			carrier_down(c, "a bad record length");
			return;
		}
		if (off > 0) {
			memmove(c->in, c->in + off, c->inlen - off);
			c->inlen -= off;
		}
	}
	carrier_flush(c);
}

static void
carrier_become_up(struct carrier *c, struct try *t)
{
	socklen_t sl = sizeof(c->remote);
	int i, on = 1;

	c->fd = t->fd;
	c->relayed = t->relayed;
	loop_fd_del(&t->lfd);
	t->fd = -1;
	for (i = 0; i < TRIES_MAX; i++)
		try_close(&c->tries[i]);
	waiting_set(c, 0);
	getpeername(c->fd, (struct sockaddr *)&c->remote, &sl);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->sess = session_new(&c->keys, c->sid, c->sid);
	crypto_wipe(&c->keys, sizeof(c->keys));
	c->mux = mux_new(c->initiator, &carrier_mux_cbs, c);
	c->in = malloc(SESSION_TCP_MAX * 2);
	c->out = malloc(CARRIER_OUT_MAX + SESSION_TCP_MAX);
	if (c->sess == NULL || c->mux == NULL || c->in == NULL ||
	    c->out == NULL) {
		carrier_down(c, "out of memory");
		return;
	}
	c->up = 1;
	c->last_rx = loop_now();
	loop_fd_add(&c->lfd, c->fd, LOOP_READ, carrier_io);
	timer_set(&c->timer, loop_jitter(CARRIER_PING_MS, 10));
	c->ops->up(c, c->arg);
}

/* ---- streams ---- */

static void
stream_close_fd(struct stream *s, int reset)
{
	if (s->fd == -1)
		return;
	loop_fd_del(&s->lfd);
	if (reset)
		sock_close_reset(s->fd);
	else
		close(s->fd);
	s->fd = -1;
}

static void
stream_free(struct stream *s)
{
	if (s->prevp != NULL) {
		*s->prevp = s->next;
		if (s->next != NULL)
			s->next->prevp = s->prevp;
	}
	timer_stop(&s->gtimer);
	stream_close_fd(s, 0);
	free(s->buf);
	free(s);
}

/*
 * A gone stream (the multiplexer closed it; the carrier may be gone too)
 * whose client took nothing of what is left for it in STREAM_GONE_MS: its
 * socket is reset and the stream freed, so a client that never reads holds
 * no socket and no buffer for ever.
 */
static void
stream_gone_timer(struct timer *t)
{
	struct stream *s = container_of(t, struct stream, gtimer);

	log_info("carrier: stream %u: the client took nothing in %d s, "
	    "%zu bytes left for it: reset", s->id, STREAM_GONE_MS / 1000,
	    s->len - s->off);
	stream_close_fd(s, 1);
	stream_free(s);
}

static void
stream_events(struct stream *s)
{
	int ev = 0;

	if (s->fd == -1)
		return;
	if (s->gone) {
		loop_fd_events(&s->lfd, LOOP_WRITE);
		return;
	}
	if (s->connecting)
		ev = LOOP_WRITE;
	else {
		if (!s->eof && mux_room(s->c->mux, s->id) > 0)
			ev |= LOOP_READ;
		if (s->len > s->off)
			ev |= LOOP_WRITE;
	}
	loop_fd_events(&s->lfd, ev);
}

static void
stream_io(struct loop_fd *lfd, int revents)
{
	struct stream *s = container_of(lfd, struct stream, lfd);
	struct carrier *c = s->c;
	size_t room;
	ssize_t n;
	int err = 0;
	socklen_t el = sizeof(err);

	if (s->gone) {
		/* the stream ended both ways: what is left goes, then close */
		n = s->len > s->off ? write(s->fd, s->buf + s->off,
		    s->len - s->off) : 0;
		if (n > 0) {
			s->off += (size_t)n;
			timer_set(&s->gtimer, STREAM_GONE_MS);
		}
		if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
		    s->off == s->len) {
			shutdown(s->fd, SHUT_WR);
			stream_free(s);
		}
		return;
	}
	if (s->connecting) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			log_info("carrier: %s: the service: %s", c->peer,
			    strerror(err));
			mux_reset(c->mux, s->id, MUX_RST_SERVICE_DOWN);
			carrier_flush(c);
			return;
		}
		s->connecting = 0;
		/* the client half-closed while the connect went on */
		if (s->fin_in && s->len == s->off)
			shutdown(s->fd, SHUT_WR);
	}
	if ((revents & LOOP_WRITE) && s->len > s->off) {
		n = write(s->fd, s->buf + s->off, s->len - s->off);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			mux_reset(c->mux, s->id, MUX_RST_ABORTED);
			carrier_flush(c);
			return;
		}
		if (n > 0) {
			s->off += (size_t)n;
			mux_consumed(c->mux, s->id, (size_t)n);
			if (s->off == s->len)
				s->off = s->len = 0;
		}
		if (s->len == 0 && s->fin_in)
			shutdown(s->fd, SHUT_WR);
	}
	if ((revents & LOOP_READ) && !s->eof &&
	    (room = mux_room(c->mux, s->id)) > 0) {
		n = read(s->fd, readbuf, room < sizeof(readbuf) ? room :
		    sizeof(readbuf));
		if (n == 0) {
			s->eof = 1;
			mux_fin(c->mux, s->id);
		} else if (n == -1) {
			if (errno != EAGAIN && errno != EINTR) {
				mux_reset(c->mux, s->id, MUX_RST_ABORTED);
				carrier_flush(c);
				return;
			}
		} else
			mux_write(c->mux, s->id, readbuf, (size_t)n);
	}
	stream_events(s);
	carrier_flush(c);
}

static struct stream *
stream_new(struct carrier *c, uint32_t id, int fd, int connecting,
    const char *service)
{
	struct stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->buf = malloc(STREAM_BUF)) == NULL) {
		free(s);
		return NULL;
	}
	s->c = c;
	s->id = id;
	s->fd = fd;
	s->connecting = connecting;
	s->local = !connecting;
	snprintf(s->service, sizeof(s->service), "%s", service);
	if ((s->next = c->streams) != NULL)
		s->next->prevp = &s->next;
	s->prevp = &c->streams;
	c->streams = s;
	loop_fd_add(&s->lfd, fd, connecting ? LOOP_WRITE : LOOP_READ,
	    stream_io);
	return s;
}

static int
cb_open(struct mux *m, uint32_t id, const char *service, void *arg)
{
	struct carrier *c = arg;
	struct sockaddr_storage target;
	struct stream *s;
	int r, fd;

	if ((r = c->ops->service(c->peer, service, carrier_relayed(c), &target,
	    c->arg)) != 0)
		return r;
	if ((fd = socket(target.ss_family, SOCK_STREAM, 0)) == -1 ||
	    sock_nonblock(fd) == -1 ||
	    (connect(fd, (const struct sockaddr *)&target,
	    sslen(&target)) == -1 && errno != EINPROGRESS)) {
		if (fd != -1)
			close(fd);
		return MUX_RST_SERVICE_DOWN;
	}
	if ((s = stream_new(c, id, fd, 1, service)) == NULL) {
		close(fd);
		return MUX_RST_REFUSED;
	}
	mux_set_udata(m, id, s);
	log_info("carrier: %s: a stream to %s/tcp", c->peer, service);
	return 0;
}

static void
cb_data(struct mux *m, uint32_t id, void *udata, const uint8_t *data,
    size_t len)
{
	struct stream *s = udata;

	if (s == NULL || s->fd == -1)
		return;
	/* what the client took makes room (the window bounds the rest) */
	if (s->off > 0 && s->len + len > STREAM_BUF) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + len > STREAM_BUF) {
		/* more than its window: the multiplexer never lets it */
		mux_reset(m, id, MUX_RST_PROTOCOL);
		return;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	stream_events(s);
}

static void
cb_fin(struct mux *m, uint32_t id, void *udata)
{
	struct stream *s = udata;

	(void)m;
	(void)id;
	if (s == NULL || s->fd == -1)
		return;
	s->fin_in = 1;
	if (s->len == s->off && !s->connecting)
		shutdown(s->fd, SHUT_WR);
}

static void
cb_rst(struct mux *m, uint32_t id, void *udata, uint8_t reason)
{
	struct stream *s = udata;

	(void)m;
	(void)id;
	/* the peer's relay=never or =always for the service: the
	 * administrator's business */
	if (s != NULL && (reason == MUX_RST_NO_RELAY ||
	    reason == MUX_RST_RELAY_ONLY))
		log_info("carrier: %s: a stream to %s/tcp refused by the peer: "
		    "%s", s->c->peer, s->service, mux_rst_str(reason));
	else if (s != NULL && reason != 0)
		log_debug("carrier: %s: stream %u reset: %s", s->c->peer, id,
		    mux_rst_str(reason));
	if (s != NULL)
		stream_close_fd(s, 1);
}

static void
cb_writable(struct mux *m, uint32_t id, void *udata)
{
	struct stream *s = udata;

	(void)m;
	(void)id;
	if (s != NULL)
		stream_events(s);
}

static void
cb_close(struct mux *m, uint32_t id, void *udata)
{
	struct stream *s = udata;

	(void)m;
	(void)id;
	if (s == NULL)
		return;
	/* data for the client still here: written out first */
	if (s->fd != -1 && s->len > s->off && !s->connecting) {
		s->gone = 1;
		s->c = NULL;	/* it may outlive the carrier */
		timer_init(&s->gtimer, stream_gone_timer);
		timer_set(&s->gtimer, STREAM_GONE_MS);
		stream_events(s);
		return;
	}
	stream_free(s);
}

static void
cb_pong(struct mux *m, uint64_t rtt, void *arg)
{
	(void)m;
	(void)rtt;
	(void)arg;
}

static void
cb_goaway(struct mux *m, uint8_t reason, void *arg)
{
	(void)m;
	(void)reason;
	(void)arg;
}

static const struct mux_callbacks carrier_mux_cbs = {
	.on_open = cb_open,
	.on_data = cb_data,
	.on_fin = cb_fin,
	.on_rst = cb_rst,
	.on_writable = cb_writable,
	.on_close = cb_close,
	.on_pong = cb_pong,
	.on_goaway = cb_goaway,
};

int
carrier_open_stream(struct carrier *c, int fd, const char *service)
{
	struct stream *s;
	uint32_t id;

	if (c == NULL || !c->up || sock_nonblock(fd) == -1 ||
	    (id = mux_open(c->mux, service, NULL)) == 0) {
		sock_close_reset(fd);
		return -1;
	}
	if ((s = stream_new(c, id, fd, 0, service)) == NULL) {
		mux_reset(c->mux, id, MUX_RST_REFUSED);
		sock_close_reset(fd);
		return -1;
	}
	mux_set_udata(c->mux, id, s);
	carrier_flush(c);
	return 0;
}

unsigned int
carrier_end_streams(struct carrier *c, const char *service, int local)
{
	struct stream *s, *next;
	unsigned int n = 0;

	if (c == NULL)
		return 0;
	for (s = c->streams; s != NULL; s = next) {
		next = s->next;
		if (s->local != local || strcmp(s->service, service) != 0)
			continue;
		n++;
		if (s->gone) {
			stream_free(s);
			continue;
		}
		/* the client's socket reset; on_close frees the stream */
		stream_close_fd(s, 1);
		mux_reset(c->mux, s->id, local ? MUX_RST_ABORTED :
		    MUX_RST_NOT_EXPOSED);
	}
	if (n > 0 && c->up)
		carrier_flush(c);
	return n;
}

/* ---- life ---- */

struct carrier *
carrier_start(const struct carrier_params *p, const struct carrier_ops *ops,
    void *arg)
{
	struct carrier *c;
	int i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("carrier");
		return NULL;
	}
	snprintf(c->peer, sizeof(c->peer), "%s", p->peer);
	c->port = cp.port;
	c->initiator = p->initiator;
	memcpy(c->sid, p->sid, sizeof(c->sid));
	c->attempt = p->attempt;
	c->keys = *p->keys;
	carrier_keys(p->keys, p->gen, &c->keys);
	carrier_hello(c->keys.tcp_send, c->sid, c->attempt, c->hello_out);
	carrier_hello(c->keys.tcp_recv, c->sid, c->attempt, c->hello_in);
	c->ncand = p->ncand < PUNCH_CAND_MAX ? p->ncand : PUNCH_CAND_MAX;
	for (i = 0; i < c->ncand; i++) {
		c->cand[i] = p->cand[i];
		if (c->cand[i].ss_family == AF_INET6 && carrier_port_has6())
			c->v6_until = loop_now() + CARRIER_V6_HEAD_MS;
	}
	c->deadline = p->deadline;
	c->ops = ops;
	c->arg = arg;
	c->fd = -1;
	for (i = 0; i < TRIES_MAX; i++)
		c->tries[i].fd = -1;
	timer_init(&c->timer, carrier_timer);
	waiting_set(c, 1);
	tries_start(c);
	timer_set(&c->timer, retry_wait());
	return c;
}

int
carrier_take_conn(struct carrier *c, int fd)
{
	int i;

	if (c == NULL || c->up || c->dying) {
		sock_close_reset(fd);
		return -1;
	}
	for (i = 0; i < TRIES_MAX; i++)
		if (c->tries[i].fd == -1)
			break;
	if (i == TRIES_MAX) {
		sock_close_reset(fd);
		return -1;
	}
	log_debug("carrier: %s: a connection through the relay", c->peer);
	try_take(c, fd, -1, 1);
	c->tries[i].relayed = 1;
	return 0;
}

static void
carrier_down(struct carrier *c, const char *why)
{
	if (c->dying)
		return;
	c->dying = 1;
	c->ops->down(c, why != NULL ? why : "closed", c->arg);
}

void
carrier_free(struct carrier *c)
{
	struct stream *s;
	int i;

	if (c == NULL)
		return;
	timer_stop(&c->timer);
	waiting_set(c, 0);
	for (i = 0; i < TRIES_MAX; i++)
		try_close(&c->tries[i]);
	if (c->mux != NULL)
		mux_free(c->mux);	/* every stream: on_close */
	/* those left drain on their own: no longer the carrier's */
	while ((s = c->streams) != NULL) {
		c->streams = s->next;
		s->next = NULL;
		s->prevp = NULL;
	}
	if (c->fd != -1) {
		loop_fd_del(&c->lfd);
		sock_close_reset(c->fd);
	}
	session_free(c->sess);
	crypto_wipe(&c->keys, sizeof(c->keys));
	free(c->in);
	free(c->out);
	free(c);
}

int
carrier_is_up(const struct carrier *c)
{
	return c != NULL && c->up && !c->dying;
}

int
carrier_was_up(const struct carrier *c)
{
	return c != NULL && c->up;
}

int
carrier_relayed(const struct carrier *c)
{
	return c != NULL && c->up && c->relayed;
}

const struct sockaddr_storage *
carrier_remote(const struct carrier *c)
{
	return &c->remote;
}

void
carrier_get_stats(const struct carrier *c, struct carrier_stats *st)
{
	struct mux_stats ms;

	memset(st, 0, sizeof(*st));
	st->bytes_in = c->bytes_in;
	st->bytes_out = c->bytes_out;
	if (c->mux != NULL) {
		mux_stats(c->mux, &ms);
		st->rtt = ms.rtt;
		st->streams = ms.streams;
	}
}
