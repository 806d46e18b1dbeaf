/* SPDX-License-Identifier: ISC */
/* TURN client (RFC 8656, RFC 6062): one allocation kept on a TURN server, its permissions, channels and data connections, on the event loop. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
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
#include "sock.h"
#include "stun-msg.h"
#include "stun.h"
#include "turn-msg.h"

#define RELAY_REQ_MAX		2048	/* a request we build: credentials and one address */
#define RELAY_TCP_IN_MAX	(TURN_MAX_MSG + 4)
#define RELAY_TCP_OUT_MAX	(256 * 1024)
#define RELAY_AUTH_TRIES	3	/* 401/438 answers taken per request */
#define RELAY_PERM_MS		(240 * 1000)	/* permissions last 300 s */
#define RELAY_CHAN_MS		(540 * 1000)	/* channels last 600 s */
#define RELAY_CHAN_LIFE_MS	(600 * 1000)	/* a channel unbound lapses */
#define RELAY_RETRY_MS		(30 * 1000)	/* a refused permission or channel */
#define RELAY_DCONN_MS		10000		/* a data connection's bind */
#define RELAY_DCONN_IN		2048		/* a ConnectionBind answer */

static const char *const state_names[] = {
	[RELAY_IDLE] = "idle",
	[RELAY_CONNECTING] = "connecting",
	[RELAY_ALLOCATING] = "allocating",
	[RELAY_UP] = "up",
};

/* Credentials as the requests carry them (the password is never kept). */
struct relay_auth {
	char		 username[RDV_TURN_USER_MAX + 1];
	size_t		 ulen;
	uint8_t		 realm[TURN_REALM_MAX];
	size_t		 realm_len;
	uint8_t		 nonce[TURN_NONCE_MAX];
	size_t		 nonce_len;
	uint8_t		 key[TURN_KEY_LEN];
	int		 has_key;
};

struct relay_txn {
	struct relay		*r;
	struct relay_txn	*next;
	uint16_t		 method;
	uint8_t			 tid[STUN_TID_LEN];
	int			 authed;	/* sent with MESSAGE-INTEGRITY */
	unsigned int		 sends;
	unsigned int		 auth_tries;
	uint64_t		 started;
	struct timer		 t;
	struct sockaddr_storage	 peer;
	uint16_t		 channel;
	uint32_t		 lifetime;
	size_t			 len;
	uint8_t			 msg[RELAY_REQ_MAX];
};

struct relay_peer {
	struct relay		*r;
	struct relay_peer	*next;
	struct sockaddr_storage	 addr;
	int			 perm_ok;
	int			 perm_pending;
	uint16_t		 channel;	/* 0 until one is asked for */
	int			 chan_ok;
	int			 chan_pending;
	struct timer		 perm_t;
	struct timer		 chan_t;
};

/* An RFC 6062 data connection being bound. */
struct relay_dconn {
	struct relay		*r;
	struct relay_dconn	*next;
	int			 fd;
	struct loop_fd		 lfd;
	struct timer		 t;
	struct sockaddr_storage	 peer;
	uint32_t		 cid;
	int			 incoming;
	int			 connected;
	uint8_t			 tid[STUN_TID_LEN];
	struct relay_auth	 auth;		/* the allocation's, as it was */
	uint8_t			 out[RELAY_REQ_MAX];
	size_t			 outlen, outoff;
	uint8_t			 in[RELAY_DCONN_IN];
	size_t			 inlen;
};

struct relay {
	struct relay_conf	 conf;
	struct relay_cbs	 cbs;
	void			*arg;
	enum relay_state	 state;
	struct sockaddr_storage	 server;
	char			 sname[64];	/* the server, for logs */
	int			 fd;
	int			 tcp;
	struct loop_fd		 lfd;
	uint8_t			*in;		/* TCP */
	size_t			 inlen;
	uint8_t			*out;		/* TCP */
	size_t			 outlen, outoff;
	struct timer		 start_t;
	struct timer		 refresh_t;
	struct timer		 keep_t;
	uint64_t		 backoff;
	uint64_t		 last_heard;
	struct relay_auth	 auth;
	struct relay_txn	*txns;
	struct relay_peer	*peers;
	unsigned int		 npeers;
	uint16_t		 next_channel;
	/*
	 * Channels of peers unpermitted, still bound on the server (10
	 * minutes from the last ChannelBind): the same number for the same
	 * address if it comes again (the server refuses another, 400), and
	 * not for another address.
	 */
	struct {
		struct sockaddr_storage	 addr;
		uint16_t		 channel;	/* 0: free */
		uint64_t		 until;		/* loop clock */
	}			 lapsed[RELAY_MAX_PEERS];
	struct relay_dconn	*dconns;
	struct sockaddr_storage	 relayed;
	struct sockaddr_storage	 mapped;
	uint32_t		 lifetime;
	uint64_t		 rtt_ms;
	uint64_t		 bytes_in, bytes_out;
	unsigned int		 allocations;
	unsigned int		 answers;	/* answers taken, errors too */
	char			 last_error[256];
};

static uint8_t	rbuf[RELAY_TCP_IN_MAX];		/* one datagram read */
static uint8_t	sbuf[TURN_MAX_MSG];		/* one message sent */

static void	relay_start(struct relay *);
static void	relay_lost(struct relay *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	txn_start(struct relay *, uint16_t, const struct sockaddr_storage *,
		    uint16_t, uint32_t);
static void	peer_permit(struct relay_peer *);
static void	peer_bind(struct relay_peer *);
static void	dconn_start(struct relay *, const struct sockaddr_storage *,
		    uint32_t, int);
static void	dconn_free(struct relay_dconn *, int);

const char *
relay_state_name(enum relay_state s)
{
	if ((size_t)s < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[s];
	return "unknown";
}

static socklen_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

static const char *
addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	return stun_addr_str(ss, buf, len);
}

static uint32_t
conf_ms(uint32_t v, uint32_t dflt)
{
	return v != 0 ? v : dflt;
}

/* ---- credentials ---- */

static void
auth_clear(struct relay_auth *a)
{
	crypto_wipe(a, sizeof(*a));
}

/* REALM and NONCE of a 401 or 438 answer into a: 0, or -1 (absent). */
static int
auth_challenge(struct relay_auth *a, const struct turn_msg *m)
{
	if (m->nonce == NULL || m->nonce_len == 0 ||
	    m->nonce_len > sizeof(a->nonce))
		return -1;
	if (m->realm != NULL) {
		if (m->realm_len > sizeof(a->realm))
			return -1;
		if (a->has_key && (m->realm_len != a->realm_len ||
		    memcmp(m->realm, a->realm, m->realm_len) != 0))
			a->has_key = 0;	/* the key was made with the other realm */
		memcpy(a->realm, m->realm, m->realm_len);
		a->realm_len = m->realm_len;
	} else if (a->realm_len == 0)
		return -1;
	memcpy(a->nonce, m->nonce, m->nonce_len);
	a->nonce_len = m->nonce_len;
	return 0;
}

/* A fresh pair from the getter made into a's key: 0, or -1. */
static int
auth_fetch(struct relay *r, struct relay_auth *a)
{
	struct rdv_turn t;
	size_t ulen, plen;

	memset(&t, 0, sizeof(t));
	if (r->conf.creds == NULL || r->conf.creds(r->conf.creds_arg, &t) != 0) {
		rdv_turn_wipe(&t);
		return -1;
	}
	ulen = strnlen(t.username, sizeof(t.username));
	plen = strnlen(t.password, sizeof(t.password));
	if (ulen == 0 || ulen >= sizeof(a->username) ||
	    plen == sizeof(t.password)) {
		rdv_turn_wipe(&t);
		return -1;
	}
	memcpy(a->username, t.username, ulen);
	a->username[ulen] = '\0';
	a->ulen = ulen;
	turn_key(a->username, ulen, a->realm, a->realm_len, t.password, plen,
	    a->key);
	a->has_key = 1;
	rdv_turn_wipe(&t);
	return 0;
}

static const struct turn_auth *
auth_wire(const struct relay_auth *a, struct turn_auth *w)
{
	if (!a->has_key)
		return NULL;
	w->username = a->username;
	w->username_len = a->ulen;
	w->realm = a->realm;
	w->realm_len = a->realm_len;
	w->nonce = a->nonce;
	w->nonce_len = a->nonce_len;
	w->key = a->key;
	w->key_len = sizeof(a->key);
	return w;
}

/*
 * An answer to a request sent with credentials must carry a
 * MESSAGE-INTEGRITY that verifies under them; an error without one is
 * taken (a 401 or 438 is never signed, nor are some of coturn's errors).
 */
static int
answer_verified(const struct relay_auth *a, int authed, const uint8_t *buf,
    size_t len, const struct turn_msg *m)
{
	if (m->has_integrity && a->has_key)
		return turn_verify(buf, len, m, a->key, sizeof(a->key)) == 0;
	if (!m->has_integrity && authed && m->cls == STUN_SUCCESS)
		return 0;
	return 1;
}

/* ---- the connection to the server ---- */

static void
conn_close(struct relay *r)
{
	if (r->fd == -1)
		return;
	loop_fd_del(&r->lfd);
	if (r->tcp)
		sock_close_reset(r->fd);
	else
		close(r->fd);
	r->fd = -1;
	r->inlen = 0;
	r->outlen = r->outoff = 0;
}

static void
conn_want_write(struct relay *r)
{
	if (r->fd != -1 && r->tcp)
		loop_fd_events(&r->lfd, LOOP_READ |
		    (r->outlen > r->outoff || r->state == RELAY_CONNECTING ?
		    LOOP_WRITE : 0));
}

/* Flush the TCP output: 0, or -1 (the connection is lost; r->last_error says why). */
static int
conn_flush(struct relay *r)
{
	ssize_t n;

	while (r->outoff < r->outlen) {
		n = send(r->fd, r->out + r->outoff, r->outlen - r->outoff,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			return -1;
		}
		r->outoff += (size_t)n;
	}
	if (r->outoff == r->outlen)
		r->outoff = r->outlen = 0;
	else if (r->outoff > RELAY_TCP_OUT_MAX / 2) {
		memmove(r->out, r->out + r->outoff, r->outlen - r->outoff);
		r->outlen -= r->outoff;
		r->outoff = 0;
	}
	conn_want_write(r);
	return 0;
}

/*
 * One message or frame to the server: 0, or -1 (errno ENOBUFS when the
 * TCP output is full; over UDP a send error other than a full buffer or
 * a refusal).
 */
static int
conn_write(struct relay *r, const uint8_t *buf, size_t len)
{
	if (r->fd == -1) {
		errno = EAGAIN;
		return -1;
	}
	if (!r->tcp) {
		if (send(r->fd, buf, len, 0) < 0) {
			if (errno == ECONNREFUSED && r->state == RELAY_UP) {
				relay_lost(r, "TURN server %s: port unreachable (is it running?)",
				    r->sname);
				errno = EAGAIN;
				return -1;
			}
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS || errno == ECONNREFUSED ? 0 : -1;
		}
		return 0;
	}
	if (r->outlen + len > RELAY_TCP_OUT_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(r->out + r->outlen, buf, len);
	r->outlen += len;
	if (r->state != RELAY_CONNECTING && conn_flush(r) == -1) {
		relay_lost(r, "TURN server %s: sending: %s", r->sname,
		    strerror(errno));
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

/* ---- peers ---- */

static struct relay_peer *
peer_find(struct relay *r, const struct sockaddr_storage *a)
{
	struct relay_peer *p;

	for (p = r->peers; p != NULL; p = p->next)
		if (stun_addr_eq(&p->addr, a))
			return p;
	return NULL;
}

static struct relay_peer *
peer_find_ip(struct relay *r, const struct sockaddr_storage *a)
{
	struct relay_peer *p;

	for (p = r->peers; p != NULL; p = p->next)
		if (stun_addr_eq_ip(&p->addr, a))
			return p;
	return NULL;
}

static struct relay_peer *
peer_by_channel(struct relay *r, uint16_t ch)
{
	struct relay_peer *p;

	for (p = r->peers; p != NULL; p = p->next)
		if (p->channel == ch && p->chan_ok)
			return p;
	return NULL;
}

static void
perm_timer(struct timer *t)
{
	peer_permit(container_of(t, struct relay_peer, perm_t));
}

static void
chan_timer(struct timer *t)
{
	peer_bind(container_of(t, struct relay_peer, chan_t));
}

static struct relay_peer *
peer_add(struct relay *r, const struct sockaddr_storage *a)
{
	struct relay_peer *p;

	if ((p = peer_find(r, a)) != NULL)
		return p;
	if (a->ss_family != AF_INET && a->ss_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (r->npeers >= RELAY_MAX_PEERS) {
		errno = ENOSPC;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->r = r;
	p->addr = *a;
	timer_init(&p->perm_t, perm_timer);
	timer_init(&p->chan_t, chan_timer);
	p->next = r->peers;
	r->peers = p;
	r->npeers++;
	return p;
}

/* The peer's state on the server forgotten (a new allocation comes). */
static void
peer_reset(struct relay_peer *p)
{
	timer_stop(&p->perm_t);
	timer_stop(&p->chan_t);
	p->perm_ok = p->perm_pending = 0;
	p->chan_ok = p->chan_pending = 0;
	p->channel = 0;
}

static void
peer_permit(struct relay_peer *p)
{
	if (p->r->state != RELAY_UP || p->perm_pending)
		return;
	p->perm_pending = 1;
	txn_start(p->r, TURN_CREATE_PERMISSION, &p->addr, 0, 0);
}

/* The lapsing channel bound to a (take: and forget it), or to any address. */
static uint16_t
lapsed_find(struct relay *r, const struct sockaddr_storage *a,
    uint16_t channel, int take)
{
	size_t i;
	uint16_t ch;

	for (i = 0; i < RELAY_MAX_PEERS; i++) {
		if (r->lapsed[i].channel == 0)
			continue;
		if (loop_now() >= r->lapsed[i].until) {
			r->lapsed[i].channel = 0;
			continue;
		}
		if ((a != NULL && stun_addr_eq(&r->lapsed[i].addr, a)) ||
		    (a == NULL && r->lapsed[i].channel == channel)) {
			ch = r->lapsed[i].channel;
			if (take)
				r->lapsed[i].channel = 0;
			return ch;
		}
	}
	return 0;
}

/* p unpermitted: its channel, if any, lapses on the server. */
static void
lapsed_add(struct relay *r, const struct relay_peer *p)
{
	size_t i, slot = 0;

	if (p->channel == 0 || r->state != RELAY_UP)
		return;
	for (i = 0; i < RELAY_MAX_PEERS; i++) {
		if (r->lapsed[i].channel == 0 ||
		    loop_now() >= r->lapsed[i].until) {
			slot = i;
			break;
		}
		if (r->lapsed[i].until < r->lapsed[slot].until)
			slot = i;
	}
	r->lapsed[slot].addr = p->addr;
	r->lapsed[slot].channel = p->channel;
	r->lapsed[slot].until = loop_now() + RELAY_CHAN_LIFE_MS;
}

static void
peer_bind(struct relay_peer *p)
{
	struct relay *r = p->r;
	unsigned int n;

	if (r->state != RELAY_UP || p->chan_pending || r->conf.alloc_tcp)
		return;
	if (p->channel == 0)
		p->channel = lapsed_find(r, &p->addr, 0, 1);
	for (n = 0; p->channel == 0 && n <= TURN_CHANNEL_MAX -
	    TURN_CHANNEL_MIN; n++) {
		p->channel = r->next_channel++;
		if (r->next_channel > TURN_CHANNEL_MAX)
			r->next_channel = TURN_CHANNEL_MIN;
		if (lapsed_find(r, NULL, p->channel, 0) != 0)
			p->channel = 0;	/* still another address's */
	}
	if (p->channel == 0)
		return;
	p->chan_pending = 1;
	txn_start(r, TURN_CHANNEL_BIND, &p->addr, p->channel, 0);
}

/* ---- transactions ---- */

static uint64_t
txn_wait(const struct relay_txn *t)
{
	const struct relay *r = t->r;
	uint64_t rto = conf_ms(r->conf.rto_ms, 500);
	unsigned int sends = r->conf.sends != 0 ? r->conf.sends : 7;

	if (r->tcp)
		return conf_ms(r->conf.tcp_timeout_ms, 39500);
	if (t->sends >= sends)
		return rto * 16;	/* RFC 8489 6.2.1: Rm times RTO after the last */
	return rto << (t->sends - 1 < 16 ? t->sends - 1 : 16);
}

static void
txn_unlink(struct relay_txn *t)
{
	struct relay_txn **pp;

	for (pp = &t->r->txns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	timer_stop(&t->t);
}

static int
txn_build(struct relay_txn *t)
{
	struct relay *r = t->r;
	struct turn_builder b;
	struct turn_auth w;
	const struct turn_auth *a;
	int n;

	turn_begin(&b, t->msg, sizeof(t->msg), t->method, STUN_REQUEST,
	    t->tid);
	switch (t->method) {
	case TURN_ALLOCATE:
		turn_add_transport(&b, r->conf.alloc_tcp ? TURN_TRANSPORT_TCP :
		    TURN_TRANSPORT_UDP);
		if (r->conf.lifetime != 0)
			turn_add_u32(&b, TURN_A_LIFETIME, r->conf.lifetime);
		break;
	case TURN_REFRESH:
		turn_add_u32(&b, TURN_A_LIFETIME, t->lifetime);
		break;
	case TURN_CREATE_PERMISSION:
	case TURN_CONNECT:
		turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &t->peer);
		break;
	case TURN_CHANNEL_BIND:
		turn_add_channel(&b, t->channel);
		turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &t->peer);
		break;
	}
	a = auth_wire(&r->auth, &w);
	t->authed = a != NULL;
	if ((n = turn_finish(&b, a, 1)) < 0)
		return -1;
	t->len = (size_t)n;
	return 0;
}

static void txn_timer(struct timer *);

/* (Re)send t: a new transaction ID when fresh is set (new credentials). */
static void
txn_send(struct relay_txn *t, int fresh)
{
	struct relay *r = t->r;

	if (fresh) {
		if (crypto_random(t->tid, sizeof(t->tid)) == -1)
			fatal("getrandom");
		t->sends = 0;
		t->started = loop_now();
		if (txn_build(t) == -1) {
			txn_unlink(t);
			relay_lost(r, "TURN server %s: %s request does not fit",
			    r->sname, turn_method_name(t->method));
			free(t);
			return;
		}
	}
	t->sends++;
	timer_set(&t->t, txn_wait(t));
	log_debug("relay %s: %s request, send %u", r->sname,
	    turn_method_name(t->method), t->sends);
	if (conn_write(r, t->msg, t->len) == -1 && errno != EAGAIN)
		log_debug("relay %s: send: %s", r->sname, strerror(errno));
}

static void
txn_start(struct relay *r, uint16_t method, const struct sockaddr_storage *peer,
    uint16_t channel, uint32_t lifetime)
{
	struct relay_txn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("relay");
		return;
	}
	t->r = r;
	t->method = method;
	if (peer != NULL)
		t->peer = *peer;
	t->channel = channel;
	t->lifetime = lifetime;
	timer_init(&t->t, txn_timer);
	t->next = r->txns;
	r->txns = t;
	txn_send(t, 1);
}

/* A request that failed: the peer's flags put back, Connect reported. */
static void
txn_failed(struct relay_txn *t, const char *why)
{
	struct relay *r = t->r;
	struct relay_peer *p;

	switch (t->method) {
	case TURN_CREATE_PERMISSION:
		if ((p = peer_find(r, &t->peer)) != NULL) {
			p->perm_pending = 0;
			p->perm_ok = 0;
			timer_set(&p->perm_t, RELAY_RETRY_MS);
		}
		log_warnx("%s", why);
		break;
	case TURN_CHANNEL_BIND:
		if ((p = peer_find(r, &t->peer)) != NULL) {
			p->chan_pending = 0;
			p->chan_ok = 0;
			timer_set(&p->chan_t, RELAY_RETRY_MS);
		}
		log_warnx("%s", why);
		break;
	case TURN_CONNECT:
		log_warnx("%s", why);
		if (r->cbs.conn != NULL)
			r->cbs.conn(r->arg, -1, &t->peer, 0, why);
		break;
	}
}

static void
txn_timer(struct timer *tm)
{
	struct relay_txn *t = container_of(tm, struct relay_txn, t);
	struct relay *r = t->r;
	unsigned int sends = r->conf.sends != 0 ? r->conf.sends : 7;

	if (!r->tcp && t->sends < sends) {
		txn_send(t, 0);
		return;
	}
	txn_unlink(t);
	/* no answer: the server, or the way to it, is gone */
	relay_lost(r, "TURN server %s: no answer to %s (%u %s)", r->sname,
	    turn_method_name(t->method), t->sends,
	    r->tcp ? "over TCP" : "sends");
	free(t);
}

static void
peers_up(struct relay *r)
{
	struct relay_peer *p;

	for (p = r->peers; p != NULL; p = p->next) {
		peer_reset(p);
		peer_permit(p);
	}
}

static void
refresh_timer(struct timer *tm)
{
	struct relay *r = container_of(tm, struct relay, refresh_t);

	if (r->state == RELAY_UP)
		txn_start(r, TURN_REFRESH, NULL, 0,
		    r->conf.lifetime != 0 ? r->conf.lifetime : r->lifetime);
}

static int
refresh_pending(const struct relay *r)
{
	const struct relay_txn *t;

	for (t = r->txns; t != NULL; t = t->next)
		if (t->method == TURN_REFRESH)
			return 1;
	return 0;
}

static void
keep_timer(struct timer *tm)
{
	struct relay *r = container_of(tm, struct relay, keep_t);
	uint64_t every = conf_ms(r->conf.keepalive_ms, 15000);

	if (r->state != RELAY_UP)
		return;
	if (loop_now() - r->last_heard >= every && !refresh_pending(r))
		refresh_timer(&r->refresh_t);
	timer_set(&r->keep_t, every);
}

static void
arm_refresh(struct relay *r, uint32_t lifetime)
{
	uint64_t ms = (uint64_t)lifetime * 1000;

	r->lifetime = lifetime;
	/* at 80% of the lifetime, and at least 60 s before it ends when it is long */
	ms = ms * 4 / 5;
	if ((uint64_t)lifetime * 1000 > 300000 &&
	    ms > (uint64_t)lifetime * 1000 - 60000)
		ms = (uint64_t)lifetime * 1000 - 60000;
	timer_set(&r->refresh_t, ms > 1000 ? ms : 1000);
}

static void
txn_success(struct relay_txn *t, const struct turn_msg *m)
{
	struct relay *r = t->r;
	struct relay_peer *p;
	char s[64];

	switch (t->method) {
	case TURN_ALLOCATE:
		if (m->relayed.ss_family == AF_UNSPEC) {
			relay_lost(r, "TURN server %s: Allocate success without XOR-RELAYED-ADDRESS",
			    r->sname);
			return;
		}
		r->relayed = m->relayed;
		r->mapped = m->xor_mapped;
		r->state = RELAY_UP;
		r->backoff = 0;
		r->allocations++;
		r->next_channel = TURN_CHANNEL_MIN;
		memset(r->lapsed, 0, sizeof(r->lapsed));	/* a new allocation */
		r->last_error[0] = '\0';
		arm_refresh(r, m->has_lifetime ? m->lifetime : 600);
		timer_set(&r->keep_t, conf_ms(r->conf.keepalive_ms, 15000));
		log_info("TURN server %s: relayed address %s (%s, lifetime %us)",
		    r->sname, addr_str(&r->relayed, s, sizeof(s)),
		    r->conf.alloc_tcp ? "tcp" : "udp", r->lifetime);
		peers_up(r);
		if (r->state == RELAY_UP && r->cbs.up != NULL)
			r->cbs.up(r->arg, &r->relayed);
		break;
	case TURN_REFRESH:
		if (t->lifetime != 0 && r->state == RELAY_UP)
			arm_refresh(r, m->has_lifetime ? m->lifetime : t->lifetime);
		break;
	case TURN_CREATE_PERMISSION:
		if ((p = peer_find(r, &t->peer)) != NULL) {
			p->perm_pending = 0;
			p->perm_ok = 1;
			timer_set(&p->perm_t, RELAY_PERM_MS);
		}
		break;
	case TURN_CHANNEL_BIND:
		if ((p = peer_find(r, &t->peer)) != NULL &&
		    p->channel == t->channel) {
			p->chan_pending = 0;
			p->chan_ok = 1;
			p->perm_ok = 1;	/* a ChannelBind installs the permission too */
			timer_set(&p->chan_t, RELAY_CHAN_MS);
			log_debug("relay %s: channel 0x%04x bound to %s", r->sname,
			    t->channel, addr_str(&t->peer, s, sizeof(s)));
		}
		break;
	case TURN_CONNECT:
		if (!m->has_connection_id) {
			txn_failed(t, "Connect success without CONNECTION-ID");
			break;
		}
		dconn_start(r, &t->peer, m->connection_id, 0);
		break;
	}
}

/* An error answer to t (unlinked): sent again, failed or the allocation lost. */
static void
txn_error(struct relay_txn *t, const struct turn_msg *m)
{
	struct relay *r = t->r;
	char why[300], s[64];
	int code = m->error_code;

	if ((code == TURN_ERR_UNAUTHORIZED || code == TURN_ERR_STALE_NONCE) &&
	    t->auth_tries < RELAY_AUTH_TRIES) {
		t->auth_tries++;
		if (code == TURN_ERR_UNAUTHORIZED && t->authed) {
			if (t->method == TURN_ALLOCATE)
				relay_lost(r, "TURN server %s refused the credentials (401 Unauthorized): the rendezvous's turn-secret-file does not match coturn's static-auth-secret (or coturn's clock is an hour ahead)",
				    r->sname);
			else
				relay_lost(r, "TURN server %s: 401 Unauthorized to %s: the allocation's credentials are no longer taken",
				    r->sname, turn_method_name(t->method));
			free(t);
			return;
		}
		if (auth_challenge(&r->auth, m) == -1) {
			relay_lost(r, "TURN server %s: %d to %s without REALM and NONCE",
			    r->sname, code, turn_method_name(t->method));
			free(t);
			return;
		}
		if (!r->auth.has_key && auth_fetch(r, &r->auth) == -1) {
			relay_lost(r, "TURN server %s: asks for credentials (%d) and none are at hand (the rendezvous offered none, or they expired)",
			    r->sname, code);
			free(t);
			return;
		}
		log_debug("relay %s: %d to %s: again with %s", r->sname, code,
		    turn_method_name(t->method),
		    code == TURN_ERR_STALE_NONCE ? "the new nonce" : "credentials");
		t->next = r->txns;
		r->txns = t;
		txn_send(t, 1);
		return;
	}
	snprintf(why, sizeof(why), "TURN server %s: %s: %d %s", r->sname,
	    turn_method_name(t->method), code, m->error_reason);
	switch (t->method) {
	case TURN_ALLOCATE:
	case TURN_REFRESH:
		if (t->method == TURN_REFRESH && t->lifetime == 0)
			break;
		if (code == TURN_ERR_MISMATCH)
			relay_lost(r, "%s (the allocation is gone: the server restarted?)",
			    why);
		else if (code == 441)
			relay_lost(r, "%s (wrong credentials for the allocation)",
			    why);
		else
			relay_lost(r, "%s", why);
		break;
	case TURN_CREATE_PERMISSION:
	case TURN_CHANNEL_BIND:
		if (code == TURN_ERR_MISMATCH || code == 441) {
			relay_lost(r, "%s", why);
			break;
		}
		txn_failed(t, why);
		/*
		 * Is the allocation still there?  A restarted coturn answers a
		 * permission or channel of one it no longer has with 400 (after
		 * a 438 for its new nonce), and such answers count as the
		 * server heard, holding the keepalive Refresh back: a Refresh
		 * now, which it answers with 437.
		 */
		if (r->state == RELAY_UP && !refresh_pending(r))
			refresh_timer(&r->refresh_t);
		break;
	case TURN_CONNECT:
		snprintf(why, sizeof(why), "Connect to %s through TURN server %s: %d %s",
		    addr_str(&t->peer, s, sizeof(s)), r->sname, code,
		    m->error_reason);
		txn_failed(t, why);
		break;
	}
	free(t);
}

/* ---- what the server sends ---- */

static void
deliver(struct relay *r, const struct sockaddr_storage *peer,
    const uint8_t *buf, size_t len)
{
	r->bytes_in += len;
	if (r->cbs.data != NULL)
		r->cbs.data(r->arg, peer, buf, len);
}

static void
dispatch(struct relay *r, const uint8_t *buf, size_t len)
{
	struct turn_msg m;
	struct relay_txn *t;
	struct relay_peer *p;
	const uint8_t *d;
	const char *err;
	uint16_t ch;
	size_t dlen;

	if (len == 0)
		return;
	if ((buf[0] & 0xc0) == 0x40) {
		if (turn_parse_channel_data(buf, len, r->tcp, &ch, &d, &dlen,
		    &err) == -1) {
			log_debug("relay %s: ChannelData dropped: %s", r->sname,
			    err);
			return;
		}
		if ((p = peer_by_channel(r, ch)) == NULL) {
			log_debug("relay %s: ChannelData on unbound channel 0x%04x",
			    r->sname, ch);
			return;
		}
		r->last_heard = loop_now();
		deliver(r, &p->addr, d, dlen);
		return;
	}
	if (turn_parse(buf, len, &m, &err) == -1) {
		log_debug("relay %s: message dropped: %s", r->sname, err);
		return;
	}
	if (m.cls == STUN_INDICATION) {
		if (m.method == TURN_DATA && m.peer.ss_family != AF_UNSPEC &&
		    m.data != NULL && r->state == RELAY_UP) {
			r->last_heard = loop_now();
			deliver(r, &m.peer, m.data, m.data_len);
		} else if (m.method == TURN_CONNECTION_ATTEMPT &&
		    r->state == RELAY_UP && r->conf.alloc_tcp &&
		    m.has_connection_id && m.peer.ss_family != AF_UNSPEC) {
			r->last_heard = loop_now();
			if (peer_find_ip(r, &m.peer) == NULL) {
				log_debug("relay %s: ConnectionAttempt from a peer not permitted",
				    r->sname);
				return;
			}
			dconn_start(r, &m.peer, m.connection_id, 1);
		} else
			log_debug("relay %s: %s indication dropped", r->sname,
			    turn_method_name(m.method));
		return;
	}
	if (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR)
		return;
	for (t = r->txns; t != NULL; t = t->next)
		if (memcmp(t->tid, m.tid, STUN_TID_LEN) == 0)
			break;
	if (t == NULL) {
		log_debug("relay %s: an answer to no request of ours", r->sname);
		return;
	}
	if (m.method != t->method) {
		log_debug("relay %s: %s answer to a %s request dropped", r->sname,
		    turn_method_name(m.method), turn_method_name(t->method));
		return;
	}
	if (!answer_verified(&r->auth, t->authed, buf, len, &m)) {
		log_debug("relay %s: %s answer with a bad MESSAGE-INTEGRITY dropped",
		    r->sname, turn_method_name(m.method));
		return;
	}
	r->last_heard = loop_now();
	r->rtt_ms = loop_now() - t->started;
	r->answers++;
	txn_unlink(t);
	if (m.cls == STUN_SUCCESS) {
		txn_success(t, &m);
		free(t);
	} else
		txn_error(t, &m);
}

static void
conn_read_udp(struct relay *r)
{
	ssize_t n;
	int i;

	for (i = 0; i < 64 && r->fd != -1; i++) {
		n = recv(r->fd, rbuf, sizeof(rbuf), 0);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				if (r->state == RELAY_UP) {
					relay_lost(r, "TURN server %s: port unreachable (is it running?)",
					    r->sname);
					return;
				}
				continue;
			}
			return;
		}
		dispatch(r, rbuf, (size_t)n);
	}
}

static void
conn_read_tcp(struct relay *r)
{
	ssize_t n;
	int fl;

	n = recv(r->fd, r->in + r->inlen, RELAY_TCP_IN_MAX - r->inlen, 0);
	if (n == 0) {
		relay_lost(r, "TURN server %s closed the TCP connection",
		    r->sname);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno == ECONNRESET)
			relay_lost(r, "TURN server %s closed the TCP connection (reset)",
			    r->sname);
		else
			relay_lost(r, "TURN server %s: TCP: %s", r->sname,
			    strerror(errno));
		return;
	}
	r->inlen += (size_t)n;
	while (r->fd != -1 && r->inlen > 0) {
		fl = turn_frame_len(r->in, r->inlen);
		if (fl < 0 || (size_t)fl > RELAY_TCP_IN_MAX) {
			relay_lost(r, "TURN server %s sent bytes that are neither STUN nor ChannelData",
			    r->sname);
			return;
		}
		if (fl == 0 || (size_t)fl > r->inlen)
			return;
		/* the frame is copied out: dispatch may end the connection */
		memcpy(rbuf, r->in, (size_t)fl);
		memmove(r->in, r->in + fl, r->inlen - (size_t)fl);
		r->inlen -= (size_t)fl;
		dispatch(r, rbuf, (size_t)fl);
	}
}

static void
allocate(struct relay *r)
{
	r->state = RELAY_ALLOCATING;
	auth_clear(&r->auth);
	txn_start(r, TURN_ALLOCATE, NULL, 0, 0);
}

static void
conn_event(struct loop_fd *lfd, int revents)
{
	struct relay *r = container_of(lfd, struct relay, lfd);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (r->state == RELAY_CONNECTING) {
		if (!(revents & (LOOP_WRITE | LOOP_READ)))
			return;
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			relay_lost(r, "TURN server %s: TCP connect: %s",
			    r->sname, strerror(err));
			return;
		}
		allocate(r);
		if (r->fd != -1 && conn_flush(r) == -1)
			relay_lost(r, "TURN server %s: sending: %s", r->sname,
			    strerror(errno));
		return;
	}
	if ((revents & LOOP_WRITE) && r->tcp && conn_flush(r) == -1) {
		relay_lost(r, "TURN server %s: sending: %s", r->sname,
		    strerror(errno));
		return;
	}
	if (revents & LOOP_READ) {
		if (r->tcp)
			conn_read_tcp(r);
		else
			conn_read_udp(r);
	}
}

static void
start_timer(struct timer *tm)
{
	relay_start(container_of(tm, struct relay, start_t));
}

static void
relay_start(struct relay *r)
{
	struct rdv_turn t;
	int fd;

	if (r->conf.server.ss_family != AF_UNSPEC)
		r->server = r->conf.server;
	else {
		memset(&t, 0, sizeof(t));
		if (r->conf.creds == NULL ||
		    r->conf.creds(r->conf.creds_arg, &t) != 0) {
			rdv_turn_wipe(&t);
			relay_lost(r, "no TURN server known yet (no credentials from the rendezvous)");
			return;
		}
		r->server = t.relay;
		rdv_turn_wipe(&t);
	}
	addr_str(&r->server, r->sname, sizeof(r->sname));
	fd = socket(r->server.ss_family, (r->tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		relay_lost(r, "TURN server %s: socket: %s", r->sname,
		    strerror(errno));
		return;
	}
	r->fd = fd;
	loop_fd_add(&r->lfd, fd, LOOP_READ, conn_event);
	if (connect(fd, (const struct sockaddr *)&r->server,
	    ss_len(&r->server)) == -1 && errno != EINPROGRESS) {
		relay_lost(r, "TURN server %s: connect: %s", r->sname,
		    strerror(errno));
		return;
	}
	r->last_heard = loop_now();
	if (r->tcp) {
		r->state = RELAY_CONNECTING;
		conn_want_write(r);
		return;
	}
	allocate(r);
}

static void
relay_lost(struct relay *r, const char *fmt, ...)
{
	struct relay_txn *t;
	struct relay_peer *p;
	va_list ap;
	uint64_t wait;

	va_start(ap, fmt);
	vsnprintf(r->last_error, sizeof(r->last_error), fmt, ap);
	va_end(ap);
	log_warnx("%s", r->last_error);
	while ((t = r->txns) != NULL) {
		txn_unlink(t);
		if (t->method == TURN_CONNECT && r->cbs.conn != NULL)
			r->cbs.conn(r->arg, -1, &t->peer, 0,
			    "the TURN allocation was lost");
		free(t);
	}
	for (p = r->peers; p != NULL; p = p->next)
		peer_reset(p);
	timer_stop(&r->refresh_t);
	timer_stop(&r->keep_t);
	conn_close(r);
	auth_clear(&r->auth);
	memset(&r->relayed, 0, sizeof(r->relayed));
	r->state = RELAY_IDLE;
	wait = loop_backoff(&r->backoff, conf_ms(r->conf.backoff_min_ms, 1000),
	    conf_ms(r->conf.backoff_max_ms, 60000));
	timer_set(&r->start_t, wait);
	log_debug("relay: a new allocation in %llu ms", (unsigned long long)wait);
	if (r->cbs.down != NULL)
		r->cbs.down(r->arg, r->last_error);
}

/* ---- RFC 6062 data connections ---- */

static void
dconn_unlink(struct relay_dconn *c)
{
	struct relay_dconn **pp;

	for (pp = &c->r->dconns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
}

/* c gone; its fd closed unless keep. */
static void
dconn_free(struct relay_dconn *c, int keep)
{
	dconn_unlink(c);
	timer_stop(&c->t);
	if (c->fd != -1) {
		loop_fd_del(&c->lfd);
		if (!keep)
			sock_close_reset(c->fd);
	}
	crypto_wipe(&c->auth, sizeof(c->auth));
	free(c);
}

static void
dconn_fail(struct relay_dconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dconn_fail(struct relay_dconn *c, const char *fmt, ...)
{
	struct relay *r = c->r;
	struct sockaddr_storage peer = c->peer;
	int incoming = c->incoming;
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("%s", why);
	dconn_free(c, 0);
	if (!incoming && r->cbs.conn != NULL)
		r->cbs.conn(r->arg, -1, &peer, 0, why);
}

static void
dconn_timer(struct timer *tm)
{
	struct relay_dconn *c = container_of(tm, struct relay_dconn, t);
	char s[64];

	dconn_fail(c, "TURN server %s: data connection to %s: no ConnectionBind answer",
	    c->r->sname, addr_str(&c->peer, s, sizeof(s)));
}

static int
dconn_send_bind(struct relay_dconn *c)
{
	struct turn_builder b;
	struct turn_auth w;
	int n;

	if (crypto_random(c->tid, sizeof(c->tid)) == -1)
		fatal("getrandom");
	turn_begin(&b, c->out, sizeof(c->out), TURN_CONNECTION_BIND,
	    STUN_REQUEST, c->tid);
	turn_add_u32(&b, TURN_A_CONNECTION_ID, c->cid);
	if ((n = turn_finish(&b, auth_wire(&c->auth, &w), 1)) < 0)
		return -1;
	c->outlen = (size_t)n;
	c->outoff = 0;
	loop_fd_events(&c->lfd, LOOP_READ | LOOP_WRITE);
	return 0;
}

static void
dconn_answer(struct relay_dconn *c)
{
	struct relay *r = c->r;
	struct turn_msg m;
	const char *err;
	char s[64];
	int fd;

	addr_str(&c->peer, s, sizeof(s));
	if (turn_parse(c->in, c->inlen, &m, &err) == -1 ||
	    memcmp(m.tid, c->tid, STUN_TID_LEN) != 0 ||
	    m.method != TURN_CONNECTION_BIND ||
	    (m.cls != STUN_SUCCESS && m.cls != STUN_ERROR)) {
		dconn_fail(c, "TURN server %s: data connection to %s: not an answer to ConnectionBind",
		    r->sname, s);
		return;
	}
	if (m.cls == STUN_ERROR) {
		/* coturn closes the connection after an error: the next one takes the new nonce */
		if (m.error_code == TURN_ERR_STALE_NONCE && r->auth.has_key)
			(void)auth_challenge(&r->auth, &m);
		dconn_fail(c, "TURN server %s: data connection to %s: ConnectionBind: %d %s",
		    r->sname, s, m.error_code, m.error_reason);
		return;
	}
	fd = c->fd;
	log_debug("relay %s: data connection to %s bound", r->sname, s);
	{
		struct sockaddr_storage peer = c->peer;
		int incoming = c->incoming;

		dconn_free(c, 1);
		if (r->cbs.conn != NULL)
			r->cbs.conn(r->arg, fd, &peer, incoming, NULL);
		else
			close(fd);
	}
}

static void
dconn_event(struct loop_fd *lfd, int revents)
{
	struct relay_dconn *c = container_of(lfd, struct relay_dconn, lfd);
	struct relay *r = c->r;
	struct turn_msg m;
	const char *perr;
	ssize_t n;
	size_t need;
	int err = 0, fl;
	socklen_t elen = sizeof(err);

	if (!c->connected) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			dconn_fail(c, "TURN server %s: data connection: %s",
			    r->sname, strerror(err));
			return;
		}
		c->connected = 1;
	}
	if ((revents & LOOP_WRITE) && c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			dconn_fail(c, "TURN server %s: data connection: %s",
			    r->sname, strerror(errno));
			return;
		}
		if (n > 0)
			c->outoff += (size_t)n;
		if (c->outoff == c->outlen)
			loop_fd_events(&c->lfd, LOOP_READ);
	}
	if (!(revents & LOOP_READ))
		return;
	/* read exactly the answer: what follows a success is the peer's */
	if (c->inlen < STUN_HDR_LEN)
		need = STUN_HDR_LEN - c->inlen;
	else {
		fl = stun_frame_len(c->in, c->inlen);
		if (fl <= 0 || (size_t)fl > sizeof(c->in)) {
			dconn_fail(c, "TURN server %s: data connection: not a STUN answer",
			    r->sname);
			return;
		}
		need = (size_t)fl - c->inlen;
	}
	n = recv(c->fd, c->in + c->inlen, need, 0);
	if (n == 0) {
		dconn_fail(c, "TURN server %s: data connection closed before ConnectionBind's answer",
		    r->sname);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dconn_fail(c, "TURN server %s: data connection: %s",
			    r->sname, strerror(errno));
		return;
	}
	c->inlen += (size_t)n;
	if (c->inlen < STUN_HDR_LEN)
		return;
	fl = stun_frame_len(c->in, c->inlen);
	if (fl <= 0 || (size_t)fl > sizeof(c->in)) {
		dconn_fail(c, "TURN server %s: data connection: not a STUN answer",
		    r->sname);
		return;
	}
	if ((size_t)fl > c->inlen)
		return;
	/* a success must verify under the credentials it was asked with */
	if (turn_parse(c->in, c->inlen, &m, &perr) == 0 &&
	    m.cls == STUN_SUCCESS && c->auth.has_key &&
	    turn_verify(c->in, c->inlen, &m, c->auth.key,
	    sizeof(c->auth.key)) != 0) {
		dconn_fail(c, "TURN server %s: ConnectionBind answer with a bad MESSAGE-INTEGRITY",
		    r->sname);
		return;
	}
	dconn_answer(c);
}

static void
dconn_start(struct relay *r, const struct sockaddr_storage *peer, uint32_t cid,
    int incoming)
{
	struct relay_dconn *c;
	char s[64];
	int fd;

	addr_str(peer, s, sizeof(s));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("relay");
		return;
	}
	c->r = r;
	c->peer = *peer;
	c->cid = cid;
	c->incoming = incoming;
	c->fd = -1;
	timer_init(&c->t, dconn_timer);
	c->next = r->dconns;
	r->dconns = c;
	fd = socket(r->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		dconn_fail(c, "TURN server %s: data connection to %s: socket: %s",
		    r->sname, s, strerror(errno));
		return;
	}
	c->fd = fd;
	loop_fd_add(&c->lfd, fd, LOOP_READ | LOOP_WRITE, dconn_event);
	if (connect(fd, (const struct sockaddr *)&r->server,
	    ss_len(&r->server)) == -1 && errno != EINPROGRESS) {
		dconn_fail(c, "TURN server %s: data connection to %s: connect: %s",
		    r->sname, s, strerror(errno));
		return;
	}
	/*
	 * coturn takes a ConnectionBind only with the allocation's own
	 * credentials and nonce (it checks it in the allocation's session:
	 * another username is 441, none is a 401 and the connection closed),
	 * so it goes authenticated at once.
	 */
	if (!r->auth.has_key) {
		dconn_fail(c, "TURN server %s: data connection to %s: no credentials",
		    r->sname, s);
		return;
	}
	c->auth = r->auth;
	timer_set(&c->t, RELAY_DCONN_MS);
	log_debug("relay %s: %s data connection for %s", r->sname,
	    incoming ? "incoming" : "outgoing", s);
	if (dconn_send_bind(c) == -1)
		dconn_fail(c, "TURN server %s: ConnectionBind does not fit",
		    r->sname);
}

/* ---- the API ---- */

struct relay *
relay_new(const struct relay_conf *conf, const struct relay_cbs *cbs,
    void *arg)
{
	struct relay *r;

	if (conf->creds == NULL || (conf->server.ss_family != AF_UNSPEC &&
	    conf->server.ss_family != AF_INET &&
	    conf->server.ss_family != AF_INET6)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->conf = *conf;
	if (r->conf.alloc_tcp)
		r->conf.server_tcp = 1;
	r->tcp = r->conf.server_tcp;
	if (cbs != NULL)
		r->cbs = *cbs;
	r->arg = arg;
	r->fd = -1;
	if (r->tcp && ((r->in = malloc(RELAY_TCP_IN_MAX)) == NULL ||
	    (r->out = malloc(RELAY_TCP_OUT_MAX)) == NULL)) {
		free(r->in);
		free(r);
		return NULL;
	}
	timer_init(&r->start_t, start_timer);
	timer_init(&r->refresh_t, refresh_timer);
	timer_init(&r->keep_t, keep_timer);
	snprintf(r->sname, sizeof(r->sname), "-");
	timer_set(&r->start_t, 0);
	return r;
}

void
relay_free(struct relay *r)
{
	struct relay_txn *t;
	struct relay_peer *p;
	struct turn_builder b;
	struct turn_auth w;
	uint8_t tid[STUN_TID_LEN];
	int n;

	if (r == NULL)
		return;
	if (r->state == RELAY_UP && r->auth.has_key &&
	    crypto_random(tid, sizeof(tid)) == 0) {
		turn_begin(&b, sbuf, sizeof(sbuf), TURN_REFRESH, STUN_REQUEST,
		    tid);
		turn_add_u32(&b, TURN_A_LIFETIME, 0);
		if ((n = turn_finish(&b, auth_wire(&r->auth, &w), 1)) > 0) {
			r->cbs.down = NULL;	/* no callback from here on */
			r->cbs.conn = NULL;
			if (conn_write(r, sbuf, (size_t)n) == 0 && r->tcp)
				(void)conn_flush(r);
		}
	}
	while ((t = r->txns) != NULL) {
		txn_unlink(t);
		free(t);
	}
	while ((p = r->peers) != NULL) {
		r->peers = p->next;
		peer_reset(p);
		free(p);
	}
	while (r->dconns != NULL)
		dconn_free(r->dconns, 0);
	timer_stop(&r->start_t);
	timer_stop(&r->refresh_t);
	timer_stop(&r->keep_t);
	conn_close(r);
	auth_clear(&r->auth);
	free(r->in);
	free(r->out);
	free(r);
}

int
relay_permit(struct relay *r, const struct sockaddr_storage *peer)
{
	struct relay_peer *p;

	if ((p = peer_find(r, peer)) != NULL)
		return 0;
	if ((p = peer_add(r, peer)) == NULL)
		return -1;
	peer_permit(p);
	return 0;
}

void
relay_unpermit(struct relay *r, const struct sockaddr_storage *peer)
{
	struct relay_peer **pp, *p;

	for (pp = &r->peers; (p = *pp) != NULL; pp = &p->next)
		if (stun_addr_eq(&p->addr, peer)) {
			*pp = p->next;
			lapsed_add(r, p);
			peer_reset(p);
			free(p);
			r->npeers--;
			return;
		}
}

int
relay_send(struct relay *r, const struct sockaddr_storage *peer,
    const void *buf, size_t len)
{
	struct relay_peer *p;
	struct turn_builder b;
	uint8_t tid[STUN_TID_LEN];
	int n;

	if (r->conf.alloc_tcp) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (r->state != RELAY_UP) {
		errno = EAGAIN;
		return -1;
	}
	if (len > 65535 - 64) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((p = peer_add(r, peer)) == NULL)
		return -1;
	if (p->chan_ok) {
		n = turn_build_channel_data(sbuf, sizeof(sbuf), p->channel, buf,
		    len, r->tcp);
	} else {
		if (!p->chan_pending)
			peer_bind(p);
		if (crypto_random(tid, sizeof(tid)) == -1)
			return -1;
		turn_begin(&b, sbuf, sizeof(sbuf), TURN_SEND, STUN_INDICATION,
		    tid);
		turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, peer);
		turn_add_bytes(&b, TURN_A_DATA, buf, len);
		n = turn_finish(&b, NULL, 1);
	}
	if (n < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	if (conn_write(r, sbuf, (size_t)n) == -1)
		return -1;
	r->bytes_out += len;
	return 0;
}

int
relay_connect(struct relay *r, const struct sockaddr_storage *peer)
{
	struct relay_peer *p;

	if (!r->conf.alloc_tcp) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (r->state != RELAY_UP) {
		errno = EAGAIN;
		return -1;
	}
	if ((p = peer_add(r, peer)) == NULL)
		return -1;
	if (!p->perm_ok)
		peer_permit(p);
	txn_start(r, TURN_CONNECT, peer, 0, 0);
	return 0;
}

void
relay_stats(const struct relay *r, struct relay_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->state = r->state;
	s->server = r->server;
	if (r->state == RELAY_UP) {
		s->relayed = r->relayed;
		s->mapped = r->mapped;
		s->lifetime = r->lifetime;
	}
	s->rtt_ms = r->rtt_ms;
	s->bytes_in = r->bytes_in;
	s->bytes_out = r->bytes_out;
	s->allocations = r->allocations;
	s->answers = r->answers;
	s->peers = r->npeers;
	snprintf(s->last_error, sizeof(s->last_error), "%s", r->last_error);
}
