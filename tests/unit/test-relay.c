/* SPDX-License-Identifier: ISC */
/*
 * The TURN client (relay.c) against a fake TURN server in the test: UDP
 * and TCP sockets on 127.0.0.1 served by the same loop, answers built
 * with turn-msg.c, a fake clock.  401 then success, 438, a bad MAC
 * dropped, retransmission and giving up, refresh timing, 437 and a new
 * allocation, permission and channel refresh, data both ways through
 * Send/Data indications and ChannelData, TCP framing cut into small
 * pieces, a TCP connection closed under the allocation, RFC 6062 Connect
 * and ConnectionAttempt.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "rdv-turn.h"
#include "relay.h"
#include "stun-msg.h"
#include "stun.h"
#include "turn-msg.h"

#define REALM		"natmapd.lab"
#define USERNAME	"4102444800:node"
#define PASSWORD	"the-password"

/* The fake server. */
struct srv_conn {
	int		fd;
	struct loop_fd	lfd;
	uint8_t		in[TURN_MAX_MSG + 4];
	size_t		inlen;
	uint8_t		out[64 * 1024];
	size_t		outlen;
};

#define SRV_CONNS	4

static struct {
	int		udp, lst;
	struct loop_fd	udp_lfd, lst_lfd;
	struct sockaddr_storage addr;	/* where it listens */
	struct sockaddr_storage from;	/* the last UDP client */
	struct srv_conn	tc[SRV_CONNS];	/* TCP connections, the first the control one */
	struct srv_conn	*cur;		/* the one whose request is served */
	size_t		chunk;		/* TCP: bytes written per pump; 0 all */
	char		nonce[32];
	int		requests[16];	/* per method */
	int		drop;		/* requests to ignore */
	int		stale_next;	/* a 438 to the next authenticated request */
	int		bad_mac_next;	/* corrupt the next success's MAC */
	int		mismatch;	/* 437 to Refresh */
	int		gone;		/* as coturn restarted: 400 to permissions
					 * and channels, 437 to Refresh */
	int		allocs;		/* made; the relayed port is 5000 + allocs */
	uint32_t	lifetime;
	int		perms;
	uint16_t	channel;	/* bound */
	struct sockaddr_storage chan_peer;
	uint32_t	last_refresh_lifetime;
	/* data the client sent */
	int		sends, chandatas;
	struct sockaddr_storage data_peer;
	uint8_t		data[128];
	size_t		datalen;
	int		unauth_ok;	/* requests with no MESSAGE-INTEGRITY */
	uint32_t	connect_cid;	/* Connect answers this CONNECTION-ID */
	int		connect_err;	/* or this error */
	int		binds;		/* ConnectionBind successes */
	uint32_t	bound_cid;
	int		server_from_creds;	/* the relay leaves conf.server unset */
} S;

/* What the client's callbacks saw. */
static struct {
	int		ups, downs, datas, conns, conn_errs;
	struct sockaddr_storage relayed;
	char		why[256];
	struct sockaddr_storage peer;
	uint8_t		data[128];
	size_t		datalen;
	int		conn_fd, incoming;
	char		conn_err[300];
} C;

static uint64_t now_ms;
static struct relay *R;		/* the test's, freed by teardown if a test failed */

static void
rfree(struct relay *r)
{
	relay_free(r);
	R = NULL;
}

static uint64_t
fake_now(void)
{
	return now_ms;
}

static void
sin_set(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void
key_of(uint8_t key[TURN_KEY_LEN])
{
	turn_key(USERNAME, strlen(USERNAME), REALM, strlen(REALM), PASSWORD,
	    strlen(PASSWORD), key);
}

static void
srv_put(const uint8_t *b, size_t n, int tcp)
{
	struct srv_conn *c;

	if (!tcp) {
		assert_int_equal(sendto(S.udp, b, n, 0,
		    (struct sockaddr *)&S.from, sizeof(struct sockaddr_in)),
		    (ssize_t)n);
		return;
	}
	c = S.cur != NULL ? S.cur : &S.tc[0];
	assert_true(c->fd != -1);
	assert_true(c->outlen + n <= sizeof(c->out));
	memcpy(c->out + c->outlen, b, n);
	c->outlen += n;
}

static void
srv_flush(void)
{
	struct srv_conn *c;
	size_t n;
	ssize_t w;

	for (c = S.tc; c < S.tc + SRV_CONNS; c++) {
		if (c->fd == -1 || c->outlen == 0)
			continue;
		n = S.chunk != 0 && S.chunk < c->outlen ? S.chunk : c->outlen;
		w = send(c->fd, c->out, n, MSG_NOSIGNAL);
		if (w <= 0)
			continue;
		memmove(c->out, c->out + w, c->outlen - (size_t)w);
		c->outlen -= (size_t)w;
	}
}

static void
srv_error(const struct turn_msg *m, int code, int challenge, int tcp)
{
	struct turn_builder b;
	uint8_t buf[512], v[64];
	const char *reason = code == 401 ? "Unauthorized" :
	    code == 438 ? "Stale Nonce" : code == 437 ? "Allocation Mismatch" :
	    "Connection Timeout or Failure";
	size_t rl = strlen(reason);
	int n;

	memset(v, 0, 4);
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rl);
	turn_begin(&b, buf, sizeof(buf), m->method, STUN_ERROR, m->tid);
	turn_add_bytes(&b, STUN_A_ERROR_CODE, v, 4 + rl);
	if (challenge) {
		turn_add_bytes(&b, TURN_A_REALM, REALM, strlen(REALM));
		turn_add_bytes(&b, TURN_A_NONCE, S.nonce, strlen(S.nonce));
	}
	n = turn_finish_key(&b, NULL, 0, 1);
	assert_true(n > 0);
	srv_put(buf, (size_t)n, tcp);
}

static void
srv_success(const struct turn_msg *m, struct turn_builder *b, uint8_t *buf,
    int tcp)
{
	uint8_t key[TURN_KEY_LEN];
	int n;

	key_of(key);
	n = turn_finish_key(b, key, sizeof(key), 1);
	assert_true(n > 0);
	if (S.bad_mac_next) {
		S.bad_mac_next = 0;
		buf[n - 12] ^= 0x40;	/* a MAC byte (the FINGERPRINT is 8 bytes) */
		/* the FINGERPRINT made right again, so only the MAC is wrong */
		stun_put_fingerprint(buf, (size_t)n - 8);
	}
	(void)m;
	srv_put(buf, (size_t)n, tcp);
}

static void
srv_request(const uint8_t *p, size_t len, int tcp)
{
	struct turn_msg m;
	struct turn_builder b;
	struct sockaddr_storage relayed;
	uint8_t buf[512], key[TURN_KEY_LEN];
	const char *err;
	uint16_t ch;
	const uint8_t *d;
	size_t dlen;

	if ((p[0] & 0xc0) == 0x40) {
		assert_int_equal(turn_parse_channel_data(p, len, tcp, &ch, &d,
		    &dlen, &err), 0);
		assert_int_equal(ch, S.channel);
		S.chandatas++;
		S.data_peer = S.chan_peer;
		S.datalen = dlen < sizeof(S.data) ? dlen : sizeof(S.data);
		memcpy(S.data, d, S.datalen);
		return;
	}
	assert_int_equal(turn_parse(p, len, &m, &err), 0);
	if (m.cls == STUN_INDICATION) {
		assert_int_equal(m.method, TURN_SEND);
		S.sends++;
		S.data_peer = m.peer;
		S.datalen = m.data_len < sizeof(S.data) ? m.data_len :
		    sizeof(S.data);
		memcpy(S.data, m.data, S.datalen);
		return;
	}
	assert_int_equal(m.cls, STUN_REQUEST);
	S.requests[m.method & 0xf]++;
	if (S.drop > 0) {
		S.drop--;
		return;
	}
	if (!m.has_integrity) {
		if (!S.unauth_ok || m.method != TURN_ALLOCATE) {
			srv_error(&m, 401, 1, tcp);
			return;
		}
	} else {
		key_of(key);
		assert_non_null(m.username);
		assert_memory_equal(m.username, USERNAME, strlen(USERNAME));
		if (turn_verify(p, len, &m, key, sizeof(key)) != 0) {
			srv_error(&m, 401, 1, tcp);
			return;
		}
		if (m.nonce_len != strlen(S.nonce) ||
		    memcmp(m.nonce, S.nonce, m.nonce_len) != 0) {
			srv_error(&m, 438, 1, tcp);
			return;
		}
		if (S.stale_next) {
			S.stale_next = 0;
			snprintf(S.nonce, sizeof(S.nonce), "nonce-%d", S.allocs + 7);
			srv_error(&m, 438, 1, tcp);
			return;
		}
	}
	turn_begin(&b, buf, sizeof(buf), m.method, STUN_SUCCESS, m.tid);
	switch (m.method) {
	case TURN_ALLOCATE:
		assert_int_equal(m.transport, S.connect_cid != 0 ||
		    S.connect_err != 0 ? TURN_TRANSPORT_TCP : TURN_TRANSPORT_UDP);
		S.allocs++;
		sin_set(&relayed, "192.0.2.1", (uint16_t)(5000 + S.allocs));
		turn_add_addr(&b, TURN_A_XOR_RELAYED_ADDRESS, &relayed);
		turn_add_u32(&b, TURN_A_LIFETIME, S.lifetime);
		turn_add_addr(&b, STUN_A_XOR_MAPPED_ADDRESS, &S.from);
		break;
	case TURN_REFRESH:
		if (S.mismatch || S.gone) {
			srv_error(&m, 437, 0, tcp);
			return;
		}
		S.last_refresh_lifetime = m.lifetime;
		turn_add_u32(&b, TURN_A_LIFETIME, m.lifetime);
		break;
	case TURN_CREATE_PERMISSION:
		if (S.gone) {
			srv_error(&m, 400, 0, tcp);
			return;
		}
		S.perms++;
		break;
	case TURN_CHANNEL_BIND:
		if (S.gone) {
			srv_error(&m, 400, 0, tcp);
			return;
		}
		S.channel = m.channel;
		S.chan_peer = m.peer;
		break;
	case TURN_CONNECT:
		if (S.connect_err) {
			srv_error(&m, S.connect_err, 0, tcp);
			return;
		}
		turn_add_u32(&b, TURN_A_CONNECTION_ID, S.connect_cid);
		break;
	case TURN_CONNECTION_BIND:
		assert_true(m.has_connection_id);
		S.binds++;
		S.bound_cid = m.connection_id;
		break;
	default:
		fail_msg("method %#x", m.method);
	}
	srv_success(&m, &b, buf, tcp);
}

static void
srv_udp_cb(struct loop_fd *lfd, int ev)
{
	socklen_t sl = sizeof(S.from);
	uint8_t buf[TURN_MAX_MSG];
	ssize_t n;

	(void)lfd;
	(void)ev;
	while ((n = recvfrom(S.udp, buf, sizeof(buf), 0,
	    (struct sockaddr *)&S.from, &sl)) > 0)
		srv_request(buf, (size_t)n, 0);
}

static void
srv_conn_close(struct srv_conn *c)
{
	if (c->fd == -1)
		return;
	loop_fd_del(&c->lfd);
	close(c->fd);
	c->fd = -1;
	c->inlen = c->outlen = 0;
}

static void
srv_tcp_cb(struct loop_fd *lfd, int ev)
{
	struct srv_conn *c = container_of(lfd, struct srv_conn, lfd);
	ssize_t n;
	int fl;

	(void)ev;
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			srv_conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	S.cur = c;
	while ((fl = turn_frame_len(c->in, c->inlen)) > 0 &&
	    (size_t)fl <= c->inlen) {
		srv_request(c->in, (size_t)fl, 1);
		memmove(c->in, c->in + fl, c->inlen - (size_t)fl);
		c->inlen -= (size_t)fl;
	}
	S.cur = NULL;
	assert_true(fl >= 0);
}

/* Close the TCP connections to the client. */
static void
srv_tcp_close(void)
{
	int i;

	for (i = 0; i < SRV_CONNS; i++)
		srv_conn_close(&S.tc[i]);
}

static void
srv_lst_cb(struct loop_fd *lfd, int ev)
{
	socklen_t sl = sizeof(S.from);
	int fd, i, one = 1;

	(void)lfd;
	(void)ev;
	if ((fd = accept4(S.lst, (struct sockaddr *)&S.from, &sl,
	    SOCK_NONBLOCK)) == -1)
		return;
	for (i = 0; i < SRV_CONNS && S.tc[i].fd != -1; i++)
		;
	assert_true(i < SRV_CONNS);
	/* no Nagle: the pieces of a cut answer go at once */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	S.tc[i].fd = fd;
	loop_fd_add(&S.tc[i].lfd, fd, LOOP_READ, srv_tcp_cb);
}

static int
srv_pending(void)
{
	int i;

	for (i = 0; i < SRV_CONNS; i++)
		if (S.tc[i].fd != -1 && S.tc[i].outlen > 0)
			return 1;
	return 0;
}

static void
pump(void)
{
	int i;

	for (i = 0; i < 40 || (srv_pending() && i < 100000); i++) {
		srv_flush();
		loop_once(0);
	}
}

/* The fake clock moved on by ms in 10 ms steps, serving what comes. */
static void
run_ms(uint64_t ms)
{
	uint64_t end = now_ms + ms;

	while (now_ms < end) {
		pump();
		now_ms += end - now_ms < 10 ? end - now_ms : 10;
	}
	pump();
}

static int
creds(void *arg, struct rdv_turn *t)
{
	(void)arg;
	memset(t, 0, sizeof(*t));
	t->relay = S.addr;
	t->expiry = 4102444800ULL;
	snprintf(t->username, sizeof(t->username), "%s", USERNAME);
	snprintf(t->password, sizeof(t->password), "%s", PASSWORD);
	return 0;
}

static void
cb_up(void *arg, const struct sockaddr_storage *relayed)
{
	(void)arg;
	C.ups++;
	C.relayed = *relayed;
}

static void
cb_down(void *arg, const char *why)
{
	(void)arg;
	C.downs++;
	snprintf(C.why, sizeof(C.why), "%s", why);
}

static void
cb_data(void *arg, const struct sockaddr_storage *peer, const uint8_t *b,
    size_t n)
{
	(void)arg;
	C.datas++;
	C.peer = *peer;
	C.datalen = n < sizeof(C.data) ? n : sizeof(C.data);
	memcpy(C.data, b, C.datalen);
}

static void
cb_conn(void *arg, int fd, const struct sockaddr_storage *peer, int incoming,
    const char *err)
{
	(void)arg;
	C.peer = *peer;
	C.incoming = incoming;
	if (fd == -1) {
		C.conn_errs++;
		snprintf(C.conn_err, sizeof(C.conn_err), "%s", err);
		return;
	}
	C.conns++;
	C.conn_fd = fd;
}

static const struct relay_cbs cbs = {
	.up = cb_up, .down = cb_down, .data = cb_data, .conn = cb_conn,
};

static int
setup(void **state)
{
	struct sockaddr_in *sin;
	socklen_t sl;
	int one = 1, tries;

	(void)state;
	memset(&S, 0, sizeof(S));
	memset(&C, 0, sizeof(C));
	C.conn_fd = -1;
	now_ms = 1000000;
	loop_set_clock(fake_now);
	S.lifetime = 600;
	snprintf(S.nonce, sizeof(S.nonce), "nonce-1");
	/*
	 * A UDP port the kernel picks, and TCP on the same number: that one
	 * may be in use (another test's connection), then another pair
	 */
	for (tries = 0;; tries++) {
		sin_set(&S.addr, "127.0.0.1", 0);
		sl = sizeof(S.addr);
		S.udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_true(S.udp >= 0);
		assert_int_equal(bind(S.udp, (struct sockaddr *)&S.addr,
		    sizeof(struct sockaddr_in)), 0);
		assert_int_equal(getsockname(S.udp,
		    (struct sockaddr *)&S.addr, &sl), 0);
		S.lst = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(S.lst >= 0);
		setsockopt(S.lst, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(S.lst, (struct sockaddr *)&S.addr,
		    sizeof(struct sockaddr_in)) == 0)
			break;
		assert_int_equal(errno, EADDRINUSE);
		assert_true(tries < 50);
		close(S.lst);
		close(S.udp);
	}
	assert_int_equal(listen(S.lst, 8), 0);
	for (one = 0; one < SRV_CONNS; one++)
		S.tc[one].fd = -1;
	loop_fd_add(&S.udp_lfd, S.udp, LOOP_READ, srv_udp_cb);
	loop_fd_add(&S.lst_lfd, S.lst, LOOP_READ, srv_lst_cb);
	sin = (struct sockaddr_in *)(void *)&S.addr;
	assert_int_not_equal(sin->sin_port, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (R != NULL)
		rfree(R);
	srv_tcp_close();
	loop_fd_del(&S.udp_lfd);
	loop_fd_del(&S.lst_lfd);
	close(S.udp);
	close(S.lst);
	if (C.conn_fd != -1)
		close(C.conn_fd);
	while (loop_run_timers() > 0)
		;
	return 0;
}

/* A relay to the fake server: TCP to it, a TCP allocation, the keepalive (0: none), the getter. */
static struct relay *
new_relay_with(int tcp, int alloc_tcp, uint32_t keepalive_ms,
    int (*getter)(void *, struct rdv_turn *))
{
	struct relay_conf conf;
	struct relay *r;

	memset(&conf, 0, sizeof(conf));
	if (!S.server_from_creds)
		conf.server = S.addr;
	conf.server_tcp = tcp;
	conf.alloc_tcp = alloc_tcp;
	conf.creds = getter;
	/* most tests count Refreshes: no keepalive of 15 s among them */
	conf.keepalive_ms = keepalive_ms != 0 ? keepalive_ms : 3600000;
	r = relay_new(&conf, &cbs, NULL);
	assert_non_null(r);
	R = r;
	return r;
}

static struct relay *
new_relay(int tcp, int alloc_tcp)
{
	return new_relay_with(tcp, alloc_tcp, 0, creds);
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return stun_addr_port(ss);
}

/* 401 with REALM and NONCE, then the authenticated Allocate succeeds. */
static void
test_allocate_401(void **state)
{
	struct relay_stats st;
	struct relay *r;

	(void)state;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(S.requests[TURN_ALLOCATE], 2);
	assert_int_equal(C.ups, 1);
	assert_int_equal(C.downs, 0);
	assert_int_equal(port_of(&C.relayed), 5001);
	relay_stats(r, &st);
	assert_int_equal(st.state, RELAY_UP);
	assert_int_equal(st.lifetime, 600);
	assert_int_equal(st.allocations, 1);
	assert_int_equal(port_of(&st.relayed), 5001);
	rfree(r);
	pump();
	/* the release: a Refresh of lifetime 0 */
	assert_int_equal(S.requests[TURN_REFRESH], 1);
	assert_int_equal(S.last_refresh_lifetime, 0);
}

/* No server in the conf: the one the credentials getter names. */
static void
test_server_from_creds(void **state)
{
	struct relay_stats st;
	struct relay *r;

	(void)state;
	S.server_from_creds = 1;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(C.ups, 1);
	relay_stats(r, &st);
	assert_true(stun_addr_eq(&st.server, &S.addr));
	rfree(r);
}

/* A 438 with a new nonce: the request again with it. */
static void
test_stale_nonce(void **state)
{
	struct relay *r;

	(void)state;
	S.stale_next = 1;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(S.requests[TURN_ALLOCATE], 3);
	assert_int_equal(C.ups, 1);
	/* a 438 to a Refresh later: again with the newer nonce */
	S.stale_next = 1;
	run_ms(481 * 1000);
	assert_int_equal(S.requests[TURN_REFRESH], 2);
	assert_int_equal(S.last_refresh_lifetime, 600);
	assert_int_equal(C.downs, 0);
	rfree(r);
}

/* A success whose MESSAGE-INTEGRITY does not verify is dropped; the retransmission's answer is taken. */
static void
test_bad_mac(void **state)
{
	struct relay *r;

	(void)state;
	S.bad_mac_next = 1;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(S.requests[TURN_ALLOCATE], 2);
	assert_int_equal(C.ups, 0);
	run_ms(499);
	assert_int_equal(S.requests[TURN_ALLOCATE], 2);
	run_ms(2);
	assert_int_equal(S.requests[TURN_ALLOCATE], 3);
	assert_int_equal(C.ups, 1);
	rfree(r);
}

/* No answer: 7 sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then 8 s more and give up; a new allocation after backoff. */
static void
test_give_up(void **state)
{
	static const uint64_t at[] = { 500, 1500, 3500, 7500, 15500, 31500 };
	struct relay *r;
	struct relay_stats st;
	uint64_t t0 = now_ms;
	size_t i;

	(void)state;
	S.drop = 7;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(S.requests[TURN_ALLOCATE], 1);
	for (i = 0; i < TU_ARRAY_LEN(at); i++) {
		run_ms(t0 + at[i] - 1 - now_ms);
		assert_int_equal(S.requests[TURN_ALLOCATE], (int)i + 1);
		run_ms(1);
		assert_int_equal(S.requests[TURN_ALLOCATE], (int)i + 2);
	}
	run_ms(t0 + 39500 - 1 - now_ms);
	assert_int_equal(C.downs, 0);
	run_ms(1);
	assert_int_equal(C.downs, 1);
	assert_non_null(strstr(C.why, "no answer to allocate (7 sends)"));
	assert_int_equal(C.ups, 0);
	relay_stats(r, &st);
	assert_int_equal(st.answers, 0);	/* UDP to it may be blocked */
	/* backoff: 1 s +-20% */
	run_ms(1300);
	assert_int_equal(C.ups, 1);
	rfree(r);
}

/* Refresh at 80% of the lifetime (and 60 s before its end when that is sooner). */
static void
test_refresh_timing(void **state)
{
	struct relay *r;
	uint64_t t0;

	(void)state;
	r = new_relay(0, 0);
	pump();
	t0 = now_ms;
	assert_int_equal(C.ups, 1);
	run_ms(480 * 1000 - 10);
	assert_int_equal(S.requests[TURN_REFRESH], 0);
	run_ms(20);
	assert_int_equal(S.requests[TURN_REFRESH], 1);
	assert_int_equal(S.last_refresh_lifetime, 600);
	/* the server grants 100 s now: the next at 80 s */
	S.lifetime = 100;
	rfree(r);
	pump();
	memset(S.requests, 0, sizeof(S.requests));
	r = new_relay(0, 0);
	pump();
	t0 = now_ms;
	run_ms(79 * 1000);
	assert_int_equal(S.requests[TURN_REFRESH], 0);
	run_ms(1010);
	assert_int_equal(S.requests[TURN_REFRESH], 1);
	(void)t0;
	rfree(r);
}

/* 437 to a Refresh: down, then a new allocation with a new relayed address. */
/*
 * The allocation was lost once, on a 437 to a Refresh; the server as it
 * was again, a new allocation after the backoff, at a new address.
 */
static void
lost_then_new(void)
{
	assert_int_equal(C.downs, 1);
	assert_non_null(strstr(C.why, "437"));
	S.mismatch = 0;
	S.gone = 0;
	run_ms(1300);
	assert_int_equal(C.ups, 2);
	assert_int_equal(port_of(&C.relayed), 5002);
}

static void
test_mismatch(void **state)
{
	struct relay *r;

	(void)state;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(port_of(&C.relayed), 5001);
	S.mismatch = 1;
	run_ms(481 * 1000);
	lost_then_new();
	rfree(r);
}

/*
 * A restarted coturn answers a permission or a channel of an allocation it
 * no longer has with 400 (after a 438 for its new nonce), and a Refresh
 * with 437: the 400 brings a Refresh at once, not after the keepalive's
 * silence (every answer counts as the server heard), so the allocation is
 * known lost within a round trip.
 */
static void
test_gone_permission(void **state)
{
	struct sockaddr_storage peer;
	struct relay *r;
	int refreshes;

	(void)state;
	r = new_relay(0, 0);
	pump();
	assert_int_equal(C.ups, 1);
	S.gone = 1;
	refreshes = S.requests[TURN_REFRESH & 0xf];
	sin_set(&peer, "198.51.100.9", 4000);
	assert_int_equal(relay_permit(r, &peer), 0);
	run_ms(100);
	assert_int_equal(S.requests[TURN_REFRESH & 0xf], refreshes + 1);
	lost_then_new();
	/* the permission made again on the new allocation */
	assert_true(S.perms >= 1);
	rfree(r);
}

/*
 * A peer unpermitted keeps its channel number while the server keeps it
 * bound: the same address sent to again binds the same number (coturn
 * refuses another for it, 400), and another address does not get it.
 */
static void
test_channel_reused(void **state)
{
	struct sockaddr_storage a, b, want;
	struct relay *r;
	uint16_t ch;

	(void)state;
	r = new_relay(0, 0);
	pump();
	sin_set(&a, "198.51.100.1", 4001);
	sin_set(&b, "198.51.100.2", 4002);
	assert_int_equal(relay_send(r, &a, "x", 1), 0);
	run_ms(100);
	ch = S.channel;
	assert_int_not_equal(ch, 0);
	relay_unpermit(r, &a);
	assert_int_equal(relay_send(r, &b, "y", 1), 0);
	run_ms(100);
	assert_int_not_equal(S.channel, ch);
	assert_int_equal(relay_send(r, &a, "z", 1), 0);
	run_ms(100);
	assert_int_equal(S.channel, ch);
	want = a;
	assert_memory_equal(&S.chan_peer, &want, sizeof(struct sockaddr_in));
	rfree(r);
}

/* The server stops answering Refreshes: the allocation is taken as lost. */
static void
test_refresh_unanswered(void **state)
{
	struct relay *r;

	(void)state;
	r = new_relay(0, 0);
	pump();
	S.drop = 7;
	run_ms(480 * 1000 + 39600);
	assert_int_equal(C.downs, 1);
	assert_non_null(strstr(C.why, "no answer to refresh"));
	run_ms(1300);
	assert_int_equal(C.ups, 2);
	rfree(r);
}

static void
srv_data_indication(const struct sockaddr_storage *peer, const char *s,
    int tcp)
{
	struct turn_builder b;
	uint8_t buf[256], tid[STUN_TID_LEN] = { 1, 2, 3 };
	int n;

	turn_begin(&b, buf, sizeof(buf), TURN_DATA, STUN_INDICATION, tid);
	turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, peer);
	turn_add_bytes(&b, TURN_A_DATA, s, strlen(s));
	n = turn_finish_key(&b, NULL, 0, 1);
	assert_true(n > 0);
	srv_put(buf, (size_t)n, tcp);
}

static void
srv_channel_data(const char *s, int tcp)
{
	uint8_t buf[256];
	int n;

	n = turn_build_channel_data(buf, sizeof(buf), S.channel, s, strlen(s),
	    tcp);
	assert_true(n > 0);
	srv_put(buf, (size_t)n, tcp);
}

/* Permissions kept and refreshed, a channel bound on first use and re-bound; data both ways. */
static void
data_both_ways(int tcp)
{
	struct sockaddr_storage peer;
	struct relay *r;

	sin_set(&peer, "198.51.100.9", 4000);
	r = new_relay(tcp, 0);
	assert_int_equal(relay_send(r, &peer, "x", 1), -1);
	assert_int_equal(errno, EAGAIN);
	run_ms(10);
	assert_int_equal(C.ups, 1);
	assert_int_equal(relay_permit(r, &peer), 0);
	pump();
	assert_int_equal(S.perms, 1);
	/* the first datagram: a Send indication, and a ChannelBind */
	assert_int_equal(relay_send(r, &peer, "hello", 5), 0);
	pump();
	assert_int_equal(S.sends, 1);
	assert_int_equal(S.datalen, 5);
	assert_memory_equal(S.data, "hello", 5);
	assert_true(stun_addr_eq(&S.data_peer, &peer));
	assert_int_equal(S.requests[TURN_CHANNEL_BIND], 1);
	assert_true(S.channel >= TURN_CHANNEL_MIN && S.channel <= TURN_CHANNEL_MAX);
	/* then ChannelData */
	assert_int_equal(relay_send(r, &peer, "world!", 6), 0);
	pump();
	assert_int_equal(S.chandatas, 1);
	assert_int_equal(S.datalen, 6);
	assert_memory_equal(S.data, "world!", 6);
	/* from the peer: a Data indication, then ChannelData */
	srv_data_indication(&peer, "from peer", tcp);
	pump();
	assert_int_equal(C.datas, 1);
	assert_true(stun_addr_eq(&C.peer, &peer));
	assert_int_equal(C.datalen, 9);
	assert_memory_equal(C.data, "from peer", 9);
	srv_channel_data("on the channel", tcp);
	pump();
	assert_int_equal(C.datas, 2);
	assert_true(stun_addr_eq(&C.peer, &peer));
	assert_int_equal(C.datalen, 14);
	assert_memory_equal(C.data, "on the channel", 14);
	/* permission refreshed before 300 s, channel before 600 s */
	run_ms(241 * 1000);
	assert_int_equal(S.perms, 2);
	assert_int_equal(S.requests[TURN_CHANNEL_BIND], 1);
	run_ms(300 * 1000);
	assert_int_equal(S.perms, 3);
	assert_int_equal(S.requests[TURN_CHANNEL_BIND], 2);
	assert_int_equal(C.downs, 0);
	{
		struct relay_stats st;

		relay_stats(r, &st);
		assert_int_equal(st.bytes_out, 11);
		assert_int_equal(st.bytes_in, 23);
		assert_int_equal(st.peers, 1);
	}
	rfree(r);
}

static void
test_data_udp(void **state)
{
	(void)state;
	data_both_ways(0);
}

/* TURN over TCP, the server's bytes written 3 at a time: frames cut across reads. */
static void
test_data_tcp_split(void **state)
{
	(void)state;
	S.chunk = 3;
	data_both_ways(1);
}

/* The TCP connection to the server closes, or sends garbage: down, a new connection and allocation. */
static void
test_tcp_closed(void **state)
{
	static const uint8_t garbage[] = { 0xc0, 0, 0, 0 };
	struct relay *r;

	(void)state;
	r = new_relay(1, 0);
	run_ms(10);
	assert_int_equal(C.ups, 1);
	srv_tcp_close();
	pump();
	assert_int_equal(C.downs, 1);
	assert_non_null(strstr(C.why, "closed the TCP connection"));
	run_ms(1300);
	assert_int_equal(C.ups, 2);
	assert_int_equal(port_of(&C.relayed), 5002);
	srv_put(garbage, sizeof(garbage), 1);
	pump();
	assert_int_equal(C.downs, 2);
	assert_non_null(strstr(C.why, "neither STUN nor ChannelData"));
	run_ms(3000);
	assert_int_equal(C.ups, 3);
	rfree(r);
}

/* Over TCP a request unanswered is not sent again; after the timeout the allocation is lost. */
static void
test_tcp_no_retransmit(void **state)
{
	struct relay *r;

	(void)state;
	S.drop = 1;
	r = new_relay(1, 0);
	run_ms(39000);
	assert_int_equal(S.requests[TURN_ALLOCATE], 1);
	assert_int_equal(C.downs, 0);
	run_ms(600);
	assert_int_equal(C.downs, 1);
	rfree(r);
}

/* RFC 6062: Connect gets a CONNECTION-ID, a new connection binds it and is handed over; a 447 is reported. */
static void
test_tcp_connect(void **state)
{
	struct sockaddr_storage peer;
	struct turn_builder b;
	struct relay *r;
	uint8_t buf[256], tid[STUN_TID_LEN] = { 9 };
	int n, data_fd;

	(void)state;
	sin_set(&peer, "198.51.100.9", 4000);
	S.connect_cid = 0x1234;
	r = new_relay(1, 1);
	run_ms(10);
	assert_int_equal(C.ups, 1);
	assert_int_equal(relay_send(r, &peer, "x", 1), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(relay_connect(r, &peer), 0);
	run_ms(10);
	/* authenticated at once, with the allocation's credentials */
	assert_int_equal(S.requests[TURN_CONNECTION_BIND & 0xf], 1);
	assert_int_equal(S.binds, 1);
	assert_int_equal(S.bound_cid, 0x1234);
	assert_int_equal(C.conns, 1);
	assert_int_equal(C.incoming, 0);
	assert_true(stun_addr_eq(&C.peer, &peer));
	/* the fd is a byte stream to the peer now */
	data_fd = C.conn_fd;
	assert_true(data_fd >= 0);
	assert_true(S.tc[1].fd != -1);
	assert_int_equal(send(S.tc[1].fd, "peer bytes", 10, 0), 10);
	pump();
	n = (int)recv(data_fd, buf, sizeof(buf), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "peer bytes", 10);
	close(data_fd);
	C.conn_fd = -1;
	rfree(r);
	srv_tcp_close();

	/* a ConnectionAttempt from a permitted peer */
	memset(&C, 0, sizeof(C));
	C.conn_fd = -1;
	r = new_relay(1, 1);
	run_ms(10);
	assert_int_equal(relay_permit(r, &peer), 0);
	run_ms(10);
	turn_begin(&b, buf, sizeof(buf), TURN_CONNECTION_ATTEMPT,
	    STUN_INDICATION, tid);
	turn_add_u32(&b, TURN_A_CONNECTION_ID, 0x5678);
	turn_add_addr(&b, TURN_A_XOR_PEER_ADDRESS, &peer);
	n = turn_finish_key(&b, NULL, 0, 1);
	assert_true(n > 0);
	srv_put(buf, (size_t)n, 1);
	run_ms(10);
	assert_int_equal(S.bound_cid, 0x5678);
	assert_int_equal(C.conns, 1);
	assert_int_equal(C.incoming, 1);
	rfree(r);
	srv_tcp_close();

	/* Connect refused: 447 */
	memset(&C, 0, sizeof(C));
	C.conn_fd = -1;
	S.connect_err = 447;
	r = new_relay(1, 1);
	run_ms(10);
	assert_int_equal(relay_connect(r, &peer), 0);
	run_ms(10);
	assert_int_equal(C.conn_errs, 1);
	assert_non_null(strstr(C.conn_err, "Connect to 198.51.100.9:4000 through TURN server"));
	assert_non_null(strstr(C.conn_err, "447"));
	assert_int_equal(C.downs, 0);
	rfree(r);
}

/* Silence from the server for keepalive_ms: a Refresh; its port unreachable: the allocation lost. */
static void
test_keepalive_unreachable(void **state)
{
	struct sockaddr_storage peer;
	struct relay *r;

	(void)state;
	r = new_relay_with(0, 0, 5000, creds);
	pump();
	assert_int_equal(C.ups, 1);
	run_ms(4990);
	assert_int_equal(S.requests[TURN_REFRESH], 0);
	run_ms(20);
	assert_int_equal(S.requests[TURN_REFRESH], 1);
	run_ms(5000);
	assert_int_equal(S.requests[TURN_REFRESH], 2);
	/* the server goes: the next datagram brings an ICMP port unreachable */
	loop_fd_del(&S.udp_lfd);
	close(S.udp);
	S.udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	loop_fd_add(&S.udp_lfd, S.udp, LOOP_READ, srv_udp_cb);
	sin_set(&peer, "198.51.100.9", 4000);
	/* over loopback the ICMP comes at once: this send or the next read sees it */
	(void)relay_send(r, &peer, "x", 1);
	pump();
	assert_int_equal(C.downs, 1);
	assert_non_null(strstr(C.why, "port unreachable"));
	rfree(r);
}

/*
 * Wrong credentials (the rendezvous's secret is not coturn's): the error
 * says the server refused them and why, names neither the username nor
 * the password; the server was heard (answers, so punch.c does not take
 * UDP for blocked); retries with backoff.
 */
static int
bad_creds(void *arg, struct rdv_turn *t)
{
	creds(arg, t);
	snprintf(t->password, sizeof(t->password), "wrong");
	return 0;
}

static void
test_wrong_creds(void **state)
{
	struct relay *r;
	struct relay_stats st;
	char want[256], a[64];

	(void)state;
	r = new_relay_with(0, 0, 0, bad_creds);
	pump();
	assert_int_equal(S.requests[TURN_ALLOCATE], 2);
	assert_int_equal(C.ups, 0);
	assert_int_equal(C.downs, 1);
	relay_stats(r, &st);
	snprintf(want, sizeof(want), "TURN server %s refused the credentials (401 Unauthorized): the rendezvous's turn-secret-file does not match coturn's static-auth-secret (or coturn's clock is an hour ahead)",
	    stun_addr_str(&S.addr, a, sizeof(a)));
	assert_string_equal(C.why, want);
	assert_null(strstr(C.why, "wrong"));
	assert_null(strstr(C.why, USERNAME));
	assert_string_equal(st.last_error, C.why);
	assert_int_equal(st.answers, 2);
	assert_int_equal(st.allocations, 0);
	/* tried again after the backoff */
	run_ms(1300);
	assert_int_equal(S.requests[TURN_ALLOCATE], 4);
	assert_int_equal(C.downs, 2);
	rfree(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allocate_401, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_from_creds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_permission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_tcp_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_no_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_creds, setup, teardown),
	};
	char err[256];

	if (getenv("TEST_RELAY_DEBUG") != NULL)
		log_init(1, 2);
	if (crypto_load(err, sizeof(err)) == -1) {
		fprintf(stderr, "test-relay: %s\n", err);
		return 1;
	}
	return TU_RUN("relay", tests);
}
