/* SPDX-License-Identifier: ISC */
/* Hole punching between two natmapd nodes: --expose and --connect over a direct, encrypted path. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrclass.h"
#include "carrier.h"
#include "conf.h"
#include "crypto.h"
#include "driver.h"
#include "fallback-rung.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "mux-msg.h"
#include "mux.h"
#include "osdep.h"
#include "punch-msg.h"
#include "punch.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "relay.h"
#include "session.h"
#include "sock.h"
#include "status.h"
#include "stun-msg.h"
#include "stun.h"
#include "udpbatch.h"

/* What the first byte of a datagram's plaintext says it holds. */
#define KIND_PROBE	0x01	/* seq (4), flags (1): PROBE_WANTED */
#define KIND_ACK	0x02	/* seq (4), the probe's source: family (1), port (2), address (16) */
/* MUX_FLOW_TYPE (0x10): a UDP flow frame */

#define PROBE_LEN	6
#define PROBE_LEN_OLD	5	/* no flags: taken as PROBE_WANTED */
#define PROBE_WANTED	0x01	/* the sender connects to the receiver */
#define ACK_LEN		24
#define DGRAM_MAX	SESSION_UDP_MAX
#define STUN_RTO_MS	500
#define STUN_REFRESH_MS	25000	/* the srflx asked again: a NAT keeps it, it may move */
#define SWEEP_MS	10000
#define ADDRS6_MAX	4	/* IPv6 addresses offered, 2 candidates each */
#define ADDRS6_READ	64	/* of the host's, looked at */
#define READ_ROUNDS	4	/* batches a socket is read per wake-up */
#define RELAY_UDP_WAIT_MS 3000	/* no UDP allocation by then: TURN over TCP */
/*
 * A Refresh after this much silence from the TURN server (relay.c's
 * keepalive, looked at as often): a restarted server answers it with 437,
 * so that a lost allocation is noticed within twice this, not 15 to 30 s.
 */
#define RELAY_KEEPALIVE_MS 2000
/*
 * Our CONNECT offered a relayed address and the OFFER none: the peer's
 * relay is not up yet (it is being made, as ours was): punch again this
 * much later, once per relay up, not at the attempt's end.
 */
#define RELAY_PEER_WAIT_MS 1500
/*
 * Our relay being made (a few ms in the lab): the first CONNECT of a
 * session that is to offer our relayed address, and the OFFER to a
 * CONNECT that offers one, wait for it this long at most, then go
 * without it.
 */
#define RELAY_HOLD_MS	1000

enum peer_state {
	P_IDLE,		/* nothing under way */
	P_CONNECTING,	/* initiator: CONNECT sent, waiting for the OFFER */
	P_OFFERED,	/* responder: OFFER sent, waiting for the ANSWER or a probe */
	P_WAITING,	/* initiator: ANSWER sent, starting half a round trip later */
	P_PROBING,
	P_UP,
	P_FAILED,	/* the attempts are spent; again after a while */
};

static const char *const state_names[] = {
	[P_IDLE] = "idle",
	[P_CONNECTING] = "connecting",
	[P_OFFERED] = "offered",
	[P_WAITING] = "waiting",
	[P_PROBING] = "probing",
	[P_UP] = "up",
	[P_FAILED] = "failed",
};

struct peer {
	char			 node[RDV_NODE_MAX + 1];
	enum peer_state		 state;
	int			 wanted;	/* a connect statement names it */
	uint64_t		 used_at;	/* last in use (peer_in_use) */
	int			 had_path;	/* up once, since known */
	int			 opener;	/* this side sent attempt 1 */
	int			 initiator;	/* this side leads this attempt */
	uint8_t			 sid[PUNCH_SESSION_ID_LEN];
	uint8_t			 attempt;
	int			 signals;	/* CONNECTs sent this attempt */
	uint8_t			 priv[CRYPTO_X25519_LEN];
	uint8_t			 pub[CRYPTO_X25519_LEN];
	uint8_t			 own_index[SESSION_INDEX_LEN];
	uint8_t			 peer_index[SESSION_INDEX_LEN];
	uint8_t			 connect[PUNCH_MSG_MAX];
	size_t			 connect_len;
	uint8_t			 offer[PUNCH_MSG_MAX];
	size_t			 offer_len;
	uint64_t		 connect_sent;
	uint64_t		 rtt;		/* through the rendezvous, ms */
	struct rdv_signal_op	 sig;
	struct session		*sess;
	struct rdv_cand		 cand[PUNCH_CAND_MAX];
	int			 ncand;
	struct sockaddr_storage	 prflx[4];	/* where probes came from */
	int			 nprflx;
	struct sockaddr_storage	 path;		/* P_UP: where to send */
	uint64_t		 last_ack;	/* the last acknowledgement, loop clock */
	uint64_t		 probing_since;
	uint64_t		 probe_every;
	uint32_t		 seq;
	uint64_t		 path_rtt;	/* the last probe's round trip, ms */
	uint64_t		 probe_sent_at;
	uint32_t		 probe_seq_timed;
	uint64_t		 retry;		/* loop_backoff's state */
	uint64_t		 rx_bytes, tx_bytes;
	uint64_t		 dropped;	/* datagrams refused */
	const char		*via;		/* P_UP: the path's candidate kind */
	int			 relayed;	/* P_UP: path goes out through our relay */
	int			 peer_relay;	/* the peer offered a relayed address */
	struct sockaddr_storage	 trelay;	/* its TCP relayed address; AF_UNSPEC none */
	int			 trelay_beside;	/* ... for a carrier beside only */
	uint64_t		 direct_retry;	/* loop_backoff's state, while relayed */
	uint64_t		 direct_next;	/* loop clock: direct probes again */
	uint64_t		 triggered_at;	/* a probe back to a direct one */
	uint64_t		 probe_in_at;	/* P_PROBING: the peer's last probe */
	int			 relay_waited;	/* RELAY_PEER_WAIT_MS used */
	int			 connect_held;	/* the first CONNECT waits for our relay */
	int			 offer_held;	/* P_OFFERED: the OFFER waits for it */
	uint8_t			 peer_pub[CRYPTO_X25519_LEN];	/* the CONNECT's, held */
	uint64_t		 held_since;	/* loop clock: held from */
	int			 failed_over;	/* the direct path given up for the relay */
	/*
	 * relay=always for a UDP service of the peer's, the path direct: a
	 * relayed path kept beside it for that service's datagrams
	 */
	struct sockaddr_storage	 rpath;		/* AF_UNSPEC: none */
	int			 rpath_relayed;	/* out through our relay */
	uint64_t		 rpath_ack;	/* loop clock: its last ACK */
	uint64_t		 rpath_since;	/* loop clock: up from */
	uint64_t		 rpath_retry;	/* loop_backoff's state */
	uint64_t		 rpath_next;	/* loop clock: punch again for it */
	unsigned int		 unacked;	/* P_UP: keep-alives without an answer */
	uint64_t		 unacked_since;	/* loop clock: the first of them */
	uint64_t		 ka_sent_at;	/* loop clock: the last keep-alive */
	struct timer		 relay_wait;	/* then punch again */
	struct timer		 timer;
	/* TCP: the carrier, made beside the UDP probes */
	struct sockaddr_storage	 tcand[PUNCH_CAND_MAX];	/* the peer's TCP candidates */
	int			 ntcand;
	struct session_keys	 keys;		/* the attempt's, for the carrier */
	int			 have_keys;
	/* PUNCH_CIPHER_* our CONNECT or OFFER offered, and the peer's */
	uint8_t			 own_ciphers, peer_ciphers;
	struct carrier		*carrier;	/* new streams go here */
	int			 carrier_dead;	/* freed by reap */
	/*
	 * The direct path found while the carrier went through the relay: a
	 * direct carrier (number 1 of the keys, carrier_keys) made beside it,
	 * the relayed one kept here for its streams until they end.
	 */
	struct carrier		*rcarrier;
	int			 rcarrier_dead;	/* freed by reap */
	int			 upgraded;	/* number 1 made with these keys */
	int			 rcarrier_idle;	/* drain checks without a stream */
	/*
	 * relay=always for a TCP service, the carrier direct: a carrier
	 * through the relays beside it (number 2 of the keys, once per set
	 * of keys), for that service's streams only
	 */
	struct carrier		*acarrier;
	int			 acarrier_dead;	/* freed by reap */
	int			 amade;		/* number 2 made with these keys */
	int			 aours;		/* this side asked for it */
	uint64_t		 aretry;	/* loop_backoff's state */
	uint64_t		 anext;		/* loop clock: a new session for it */
	struct timer		 drain;
	struct timer		 reap;
	uint64_t		 carrier_up_at;	/* loop_now() it came up */
	/*
	 * An RFC 6062 connection from the peer's TCP relayed address that
	 * came before this attempt's carrier (the initiator connects at
	 * the OFFER, we make the carrier at the ANSWER): kept for it;
	 * -1 none
	 */
	int			 held_fd;
	uint64_t		 held_at;
	uint64_t		 recarrier;	/* loop_backoff's state */
	struct timer		 recarrier_timer;	/* a new session for it */
	char			 why[256];	/* why there is no path; "" none */
	struct peer		*next;
};

struct listener {	/* a connect statement's UDP or TCP socket */
	struct conf_connect	 c;
	int			 tcp;
	int			 fd;
	struct loop_fd		 lfd;
	struct listener		*next;
};

/*
 * A client of a TCP connect that came before the carrier: it waits for
 * it, PUNCH_CLIENT_WAIT_MS at most, rather than being reset at once.
 */
struct waiter {
	int			 fd;
	const struct listener	*l;
	uint64_t		 since;
	struct waiter		*next;
};

struct cflow {		/* the connecting side's flow: one client endpoint */
	uint32_t		 id;
	struct sockaddr_storage	 client;
	struct listener		*l;
	uint64_t		 last;
	struct cflow		*next;
};

/* A service's streams and datagrams kept off the relay (relay=never). */
struct svc_kept {
	uint64_t		 streams, datagrams;
	uint64_t		 logged_at;	/* a datagram's line, loop clock */
	uint64_t		 pushed_at;	/* the status told, loop clock */
	char			 why[160];	/* the last reason */
};

struct sflow {		/* the exposing side's flow: a socket to the service */
	struct peer		*p;
	uint32_t		 id;
	char			 name[CONF_SERVICE_MAX + 1];
	int			 fd;
	struct loop_fd		 lfd;
	uint64_t		 last;
	/*
	 * Where its last datagram came from, through a relay (in_relay),
	 * through ours (from_relayed): answers go back the same way when
	 * the peer's path is direct (the peer's relay=always)
	 */
	struct sockaddr_storage	 from;
	int			 in_relay, from_relayed;
	struct sflow		*next;
};

static struct {
	int			 running;
	int			 enabled;	/* punch_start() called, not punch_stop() */
	int			 configured;	/* rendezvous, network, key, node */
	char			 network[RDV_NETWORK_MAX + 1];
	char			 node[RDV_NODE_MAX + 1];
	uint8_t			 peer_key[CRYPTO_KEY_LEN];	/* never logged */
	/* the configuration's services and natmapctl's (runtime) */
	struct conf_expose	 expose[CONF_MAX_PEER];
	int			 expose_rt[CONF_MAX_PEER];
	size_t			 nexpose;
	struct conf_connect	 connect[CONF_MAX_PEER];
	int			 connect_rt[CONF_MAX_PEER];
	size_t			 nconnect;
	/* relay=never: what each service kept off the relay (services_push) */
	struct svc_kept		 expose_kept[CONF_MAX_PEER];
	struct svc_kept		 connect_kept[CONF_MAX_PEER];
	uint16_t		 port_first, port_last;
	/* the punching sockets */
	int			 fd;
	struct loop_fd		 lfd;
	uint16_t		 port;
	int			 fd6;		/* IPv6; -1 none */
	struct loop_fd		 lfd6;
	uint16_t		 port6;
	uint16_t		 tcp_port;	/* the carrier port; 0: none */
	/* the gateway's mappings of port and tcp_port asked for (mapping_own_add) */
	int			 own_udp, own_tcp;
	int			 nomap;		/* punch-map no */
	int			 cipher;	/* CONF_CIPHER_* */
	int			 aes_fast;	/* crypto_aes_fast(), once */
	int			 subscribed;	/* to the status's events */
	int			 gw_found;	/* the gateway, at its last event */
	struct sockaddr_storage	 srflx;		/* AF_UNSPEC: not known */
	struct in_addr		 local;
	struct fb_servers	 servers;	/* the rendezvous servers, for STUN */
	size_t			 stun_srv;
	uint8_t			 stun_tid[STUN_TID_LEN];
	/*
	 * RFC 5780's mapping test, once: a Binding to the server's
	 * OTHER-ADDRESS; another mapped port than the first server saw is a
	 * NAT that maps per destination (endpoint-dependent).
	 */
	uint8_t			 edm_tid[STUN_TID_LEN];
	int			 edm;		/* -1 unknown, 0 no, 1 yes */
	uint64_t		 stun_rto;
	struct timer		 stun_timer;
	struct punch_replay	 replay;
	struct peer		*peers;
	size_t			 npeers;
	struct listener		*listeners;
	struct waiter		*waiters;	/* oldest first */
	size_t			 nwaiters;
	struct timer		 waiter_timer;
	struct cflow		*cflows;
	struct sflow		*sflows;
	size_t			 nflows;
	struct timer		 sweep;
	/* the TURN relay: one UDP allocation for every peer (doc/relay.md) */
	int			 relay_policy;	/* enum conf_relay */
	int			 some_always;	/* a service says relay=always */
	/*
	 * The relay carries whole paths and carriers (relay always, or
	 * fallback for a reason of its own), not only the relayed path
	 * beside a direct one that relay=always services take
	 */
	int			 relay_paths;
	int			 node_relay;	/* the node's, services' default */
	struct relay		*relay;		/* NULL: none held */
	int			 relay_tcp;	/* TURN over TCP to the server */
	struct sockaddr_storage	 relayed;	/* AF_UNSPEC: not up */
	struct timer		 relay_timer;	/* UDP not up in time: TCP */
	/* an RFC 6062 TCP allocation beside it, for the carriers */
	struct relay		*trelay;
	struct sockaddr_storage	 trelayed;	/* AF_UNSPEC: not up */
	int			 trelay_failed;	/* down since its last up */
	int			 repunch_pending;	/* waiting for it */
	int			 relay_none_said;	/* "no relay offered" logged */
} pu;	/* zero: in .bss, touched only when used; punch_init() */

static uint8_t dgram[DGRAM_MAX + 1];

/*
 * The data path's datagrams, UDPBATCH_SLOTS at a time (one recvmmsg, one
 * sendmmsg): opened and sealed in place in their slots.  Each read
 * callback takes at most READ_ROUNDS batches, then lets the loop go on.
 */
static struct udpbatch *batch;

static void	peer_timer_cb(struct timer *);
static int	carrier_direct_up(const struct peer *);
static void	acarrier_start(struct peer *);
static void	acarrier_try(struct peer *);
static int	acarrier_keep(struct peer *);
static struct carrier *connect_carrier(const struct peer *,
		    const struct conf_connect *);
static void	waiters_settle(const char *, struct carrier *,
		    const struct listener *, int);
static void	peer_attempt(struct peer *);
static void	peer_recarrier_cb(struct timer *);
static void	peer_drain_cb(struct timer *);
static void	peer_relay_wait_cb(struct timer *);
static int	offer_send(struct peer *);
static void	attempt_over(struct peer *, const char *);
static void	peer_clear_session(struct peer *);
static void	peer_fail(struct peer *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	probe_round(struct peer *);
static void	status_push(void);
static int	path_is_relay(const struct peer *);
static int	rpath_up(const struct peer *);
static const char *relay_server_str(char *, size_t);

/* ---- small helpers ---- */

static const char *
addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	return stun_addr_str(ss, buf, len);
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

static socklen_t
addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/* The punching socket for the family of to; -1 none. */
static int
fd_for(const struct sockaddr_storage *to)
{
	return to->ss_family == AF_INET6 ? pu.fd6 : pu.fd;
}

static struct peer *
peer_find(const char *node)
{
	struct peer *p;

	for (p = pu.peers; p != NULL; p = p->next)
		if (strcmp(p->node, node) == 0)
			return p;
	return NULL;
}

/* A carrier that went down is freed here, out of its own callbacks. */
static void
peer_reap_cb(struct timer *t)
{
	struct peer *p = container_of(t, struct peer, reap);

	if (p->acarrier_dead) {
		carrier_free(p->acarrier);
		p->acarrier = NULL;
		p->acarrier_dead = 0;
		status_push();
	}
	if (p->rcarrier_dead) {
		carrier_free(p->rcarrier);
		p->rcarrier = NULL;
		p->rcarrier_dead = 0;
		timer_stop(&p->drain);
		status_push();
	}
	if (p->carrier_dead) {
		carrier_free(p->carrier);
		p->carrier = NULL;
		p->carrier_dead = 0;
		/* the direct one lost: new streams go back through the relay */
		if (p->rcarrier != NULL) {
			p->carrier = p->rcarrier;
			p->rcarrier = NULL;
			timer_stop(&p->drain);
		}
		status_push();
	}
}

/* The carrier the next stream goes over: NULL when none is up. */
static struct carrier *
peer_carrier(const struct peer *p)
{
	if (carrier_is_up(p->carrier))
		return p->carrier;
	if (carrier_is_up(p->rcarrier))
		return p->rcarrier;
	return NULL;
}

/* The relayed carrier and what went with it, when a session ends. */
static void
peer_rcarrier_free(struct peer *p)
{
	carrier_free(p->rcarrier);
	p->rcarrier = NULL;
	p->rcarrier_dead = 0;
	timer_stop(&p->drain);
}

static struct peer *
peer_get(const char *node)
{
	struct peer *p;

	if ((p = peer_find(node)) != NULL)
		return p;
	if (pu.npeers >= PUNCH_PEERS_MAX)
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("punch");
		return NULL;
	}
	snprintf(p->node, sizeof(p->node), "%s", node);
	p->used_at = loop_now();
	timer_init(&p->timer, peer_timer_cb);
	timer_init(&p->reap, peer_reap_cb);
	timer_init(&p->drain, peer_drain_cb);
	timer_init(&p->recarrier_timer, peer_recarrier_cb);
	timer_init(&p->relay_wait, peer_relay_wait_cb);
	rdv_client_signal_init(&p->sig, NULL);
	p->trelay.ss_family = AF_UNSPEC;
	p->held_fd = -1;
	p->next = pu.peers;
	pu.peers = p;
	pu.npeers++;
	return p;
}

/* p, out of the list already: its timers, carrier, signal and keys go. */
static void	peer_unpermit(struct peer *, const struct punch_msg *);

static void
peer_free(struct peer *p)
{
	peer_unpermit(p, NULL);
	timer_stop(&p->relay_wait);
	timer_stop(&p->timer);
	timer_stop(&p->reap);
	timer_stop(&p->recarrier_timer);
	carrier_free(p->carrier);
	carrier_free(p->acarrier);
	peer_rcarrier_free(p);
	if (rdv_client_signal_busy(&p->sig))
		rdv_client_signal_cancel(&p->sig);
	peer_clear_session(p);
	free(p);
}

/* Every peer's state into the status (natmapctl status, the status file). */
static void
status_push(void)
{
	struct status_peer st[STATUS_MAX_PEERS];
	struct carrier_stats cs;
	struct carrier *c;
	struct peer *p;
	size_t n = 0;
	char a[64];

	memset(st, 0, sizeof(st));
	for (p = pu.peers; p != NULL && n < STATUS_MAX_PEERS; p = p->next, n++) {
		snprintf(st[n].node, sizeof(st[n].node), "%s", p->node);
		snprintf(st[n].state, sizeof(st[n].state), "%s",
		    state_names[p->state]);
		st[n].rtt_ms = -1;
		st[n].carrier_rtt_ms = -1;
		if (p->state == P_UP) {
			snprintf(st[n].path, sizeof(st[n].path), "%s",
			    path_is_relay(p) ? "relay" :
			    p->path.ss_family == AF_INET6 ? "direct-v6" :
			    "direct-v4");
			if (path_is_relay(p))
				snprintf(st[n].relay, sizeof(st[n].relay),
				    "%s", relay_server_str(a, sizeof(a)));
			snprintf(st[n].endpoint, sizeof(st[n].endpoint), "%s",
			    addr_str(&p->path, a, sizeof(a)));
			st[n].rtt_ms = (int64_t)p->path_rtt;
			snprintf(st[n].via, sizeof(st[n].via), "%s",
			    p->via != NULL ? p->via : "");
			if (!path_is_relay(p) && rpath_up(p))
				snprintf(st[n].relay_beside,
				    sizeof(st[n].relay_beside), "%s",
				    addr_str(&p->rpath, a, sizeof(a)));
		}
		st[n].bytes_in = p->rx_bytes;
		st[n].bytes_out = p->tx_bytes;
		st[n].dropped = p->dropped;
		if (p->sess != NULL)
			snprintf(st[n].cipher, sizeof(st[n].cipher), "%s",
			    crypto_cipher_name(session_cipher(p->sess)));
		if ((c = peer_carrier(p)) != NULL) {
			carrier_get_stats(c, &cs);
			snprintf(st[n].carrier, sizeof(st[n].carrier), "%s",
			    addr_str(carrier_remote(c), a, sizeof(a)));
			snprintf(st[n].carrier_via, sizeof(st[n].carrier_via),
			    "%s", carrier_relayed(c) ? "relay" : "direct");
			st[n].carrier_rtt_ms = cs.rtt > 0 ? (int64_t)cs.rtt : -1;
			st[n].streams = cs.streams;
			st[n].bytes_in += cs.bytes_in;
			st[n].bytes_out += cs.bytes_out;
		}
		/* the relayed one beside it, until its streams end */
		if (c == p->carrier && carrier_is_up(p->rcarrier)) {
			carrier_get_stats(p->rcarrier, &cs);
			st[n].relay_streams = cs.streams;
			st[n].streams += cs.streams;
			st[n].bytes_in += cs.bytes_in;
			st[n].bytes_out += cs.bytes_out;
		}
		/* relay=always TCP services' carrier beside the direct one */
		if (carrier_is_up(p->acarrier)) {
			carrier_get_stats(p->acarrier, &cs);
			snprintf(st[n].carrier_beside,
			    sizeof(st[n].carrier_beside), "%s", addr_str(
			    carrier_remote(p->acarrier), a, sizeof(a)));
			st[n].relay_streams += cs.streams;
			st[n].streams += cs.streams;
			st[n].bytes_in += cs.bytes_in;
			st[n].bytes_out += cs.bytes_out;
		}
		st[n].attempt = p->attempt;
		snprintf(st[n].error, sizeof(st[n].error), "%s", p->why);
	}
	status_peers_update(st, n);
}

static void
peer_set_state(struct peer *p, enum peer_state s)
{
	if (p->state != s)
		log_debug("punch: %s: %s -> %s", p->node, state_names[p->state],
		    state_names[s]);
	p->state = s;
	if (s == P_UP) {
		p->why[0] = '\0';
		p->had_path = 1;
	}
	status_push();
}

/* Forget the attempt's keys and ephemeral secret. */
static void
peer_clear_session(struct peer *p)
{
	if (p->held_fd != -1) {
		close(p->held_fd);
		p->held_fd = -1;
	}
	session_free(p->sess);
	p->sess = NULL;
	crypto_wipe(p->priv, sizeof(p->priv));
	crypto_wipe(&p->keys, sizeof(p->keys));
	p->have_keys = 0;
	p->nprflx = 0;
	p->rpath.ss_family = AF_UNSPEC;
}

/* Is node allowed to use at least one exposed service (or the one named)? */
static int
exposed_to(const char *node, const char *name, int proto)
{
	size_t i, j;

	for (i = 0; i < pu.nexpose; i++) {
		const struct conf_expose *e = &pu.expose[i];

		if (name != NULL && (strcmp(e->name, name) != 0 ||
		    e->proto != proto))
			continue;
		if (e->nallow == 0)
			return 1;
		for (j = 0; j < e->nallow; j++)
			if (strcmp(e->allow[j], node) == 0)
				return 1;
	}
	return 0;
}

static const struct conf_expose *
expose_find(const char *name, int proto)
{
	size_t i;

	for (i = 0; i < pu.nexpose; i++)
		if (strcmp(pu.expose[i].name, name) == 0 &&
		    pu.expose[i].proto == proto)
			return &pu.expose[i];
	return NULL;
}

/* A service's relay policy: its relay= word, else the node's. */
static int
expose_relay(const struct conf_expose *e)
{
	return config_service_relay(e->relay_set, e->relay, pu.node_relay);
}

static int
connect_relay(const struct conf_connect *c)
{
	return config_service_relay(c->relay_set, c->relay, pu.node_relay);
}

/* What connect statement c (a listener's copy) keeps off the relay; NULL none. */
static struct svc_kept *
connect_kept(const struct conf_connect *c)
{
	size_t i;

	for (i = 0; i < pu.nconnect; i++)
		if (memcmp(&pu.connect[i], c, sizeof(*c)) == 0)
			return &pu.connect_kept[i];
	return NULL;
}

static void	services_push(void);
static void	kept_off(struct svc_kept *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * A stream (stream set) or a datagram of a relay=never service kept off
 * the relay: counted, why said in the log and the status.  A stream's
 * line every time; a datagram's once a minute at most (debug between);
 * the status told of a stream at once, of datagrams once a second at
 * most (then the sweep's push).
 */
static void
kept_off(struct svc_kept *k, int stream, const char *fmt, ...)
{
	va_list ap;
	uint64_t now = loop_now();
	int first;

	if (k == NULL)
		return;
	first = k->streams == 0 && k->datagrams == 0;
	va_start(ap, fmt);
	vsnprintf(k->why, sizeof(k->why), fmt, ap);
	va_end(ap);
	if (stream)
		k->streams++;
	else
		k->datagrams++;
	if (stream || first || now - k->logged_at >= 60000) {
		if (!stream)
			k->logged_at = now;
		log_info("punch: %s%s", k->why, stream ? "" :
		    " (datagrams dropped and counted)");
	} else
		log_debug("punch: %s", k->why);
	if (stream || first || now - k->pushed_at >= 1000) {
		k->pushed_at = now;
		services_push();
	}
}

/* ---- the punching socket and its public endpoint ---- */

static void
stun_send(void)
{
	uint8_t buf[64];
	int n;

	if (fb_servers_next(&pu.servers, &pu.stun_srv) == -1)
		return;
	if (crypto_random(pu.stun_tid, sizeof(pu.stun_tid)) == -1 ||
	    (n = stun_build_binding(buf, sizeof(buf), pu.stun_tid, 0, 1)) < 0)
		return;
	if (sendto(fd_for(&pu.servers.addr[pu.stun_srv]), buf, (size_t)n, 0,
	    (const struct sockaddr *)&pu.servers.addr[pu.stun_srv],
	    addr_len(&pu.servers.addr[pu.stun_srv])) == -1)
		log_debug("punch: STUN to the rendezvous: %s", strerror(errno));
}

static void
stun_timer_cb(struct timer *t)
{
	(void)t;
	/* unanswered: the next server, the interval doubling to 8 s */
	stun_send();
	timer_set(&pu.stun_timer, loop_jitter(pu.stun_rto, 10));
	pu.stun_rto = pu.stun_rto < 8000 ? pu.stun_rto * 2 : 8000;
}

static void
stun_start(void)
{
	pu.stun_rto = STUN_RTO_MS;
	pu.stun_srv = (size_t)-1;
	stun_send();
	timer_set(&pu.stun_timer, pu.stun_rto);
}

static void
servers_resolved(void)
{
	struct in_addr local;
	size_t i = (size_t)-1;

	if (fb_servers_next(&pu.servers, &i) == 0) {
		if (fb_local_toward(&pu.servers.addr[i], &local) == 0)
			pu.local = local;
		if (pu.tcp_port != 0)
			carrier_stun_start(&pu.servers.addr[i]);
	}
	stun_start();
}

static int	relay_ensure(const char *);
static int	relay_ensure_beside(const char *);

/* The second Binding of the mapping test, to the server's other address. */
static void
edm_send(const struct sockaddr_storage *other)
{
	uint8_t buf[64];
	int n;

	if (other->ss_family != AF_INET ||
	    crypto_random(pu.edm_tid, sizeof(pu.edm_tid)) == -1 ||
	    (n = stun_build_binding(buf, sizeof(buf), pu.edm_tid, 0, 1)) < 0)
		return;
	if (sendto(pu.fd, buf, (size_t)n, 0, (const struct sockaddr *)other,
	    addr_len(other)) == -1)
		log_debug("punch: STUN to %s: %s", "the other address",
		    strerror(errno));
}

/* The mapping test's answer: the NAT maps per destination, or not. */
static void
edm_answer(const struct sockaddr_storage *mapped)
{
	char a[64], b[64];

	memset(pu.edm_tid, 0, sizeof(pu.edm_tid));
	if (pu.srflx.ss_family != AF_INET)
		return;
	pu.edm = !same_addr(mapped, &pu.srflx);
	log_info("punch: the punching socket is seen at %s by the rendezvous's "
	    "other address, at %s by its first: %s", addr_str(mapped, a,
	    sizeof(a)), addr_str(&pu.srflx, b, sizeof(b)), pu.edm ?
	    "the NAT maps per destination (endpoint-dependent)" :
	    "one mapping for all destinations");
	if (pu.edm && pu.relay_policy == CONF_RELAY_FALLBACK)
		(void)relay_ensure("this node's NAT maps per destination");
}

static void
stun_answer(const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	const struct sockaddr_storage *mapped;
	char a[64];

	if (stun_parse(buf, len, &m, NULL) == -1 || m.cls != STUN_SUCCESS ||
	    (mapped = stun_msg_mapped(&m)) == NULL ||
	    mapped->ss_family != AF_INET)
		return;
	if (pu.edm < 0 && memcmp(m.tid, pu.edm_tid, STUN_TID_LEN) == 0) {
		edm_answer(mapped);
		return;
	}
	if (memcmp(m.tid, pu.stun_tid, STUN_TID_LEN) != 0)
		return;
	if (!same_addr(mapped, &pu.srflx))
		log_info("punch: the punching socket (port %u) is seen at %s",
		    pu.port, addr_str(mapped, a, sizeof(a)));
	pu.srflx = *mapped;
	memset(pu.stun_tid, 0, sizeof(pu.stun_tid));
	/* the mapping test, once (the Binding is not retransmitted) */
	if (pu.edm < 0 && m.other.ss_family == AF_INET &&
	    !same_addr(&m.other, &pu.servers.addr[pu.stun_srv]))
		edm_send(&m.other);
	timer_set(&pu.stun_timer, loop_jitter(STUN_REFRESH_MS, 10));
	pu.stun_rto = STUN_RTO_MS;
}

/*
 * The host's IPv6 addresses as candidates of transport at port: the ones
 * addrclass6_pick takes (no NAT66 assumed: no STUN over IPv6).
 */
static int
own_candidates6(struct rdv_cand *c, int transport, uint16_t port,
    const struct in6_addr *a, size_t na)
{
	struct sockaddr_in6 *sin6;
	size_t i;
	int n = 0;

	for (i = 0; i < na; i++) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_HOST;
		c[n].transport = (uint8_t)transport;
		sin6 = (struct sockaddr_in6 *)&c[n].addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a[i];
		sin6->sin6_port = htons(port);
		n++;
	}
	return n;
}

/* The host's IPv6 addresses to offer (none without an IPv6 socket). */
static size_t
own_addrs6(struct in6_addr a6[ADDRS6_MAX])
{
	struct osdep_addr6 all[ADDRS6_READ];
	int k;

	if (pu.fd6 == -1 || (k = osdep_addrs6(all, ADDRS6_READ)) <= 0)
		return 0;
	return addrclass6_pick(all, (size_t)k, a6, ADDRS6_MAX);
}

/* ---- the gateway's mappings of the punching ports ---- */

/* Our status row for the gateway's mapping of port (proto DRV_*) into *m: 0, or -1 for none. */
static int
own_row(int proto, uint16_t port, struct status_map *m)
{
	size_t i;

	for (i = 0; i < status_map_count(); i++)
		if (status_map_get(i, m) == 0 && m->proto == proto &&
		    m->int_port == port && m->ext_want == port &&
		    strcmp(m->owner, "punch") == 0)
			return 0;
	return -1;
}

/*
 * Where the gateway forwards port (proto DRV_*) to us, into out: 0, or -1
 * when it does not (yet): not mapped, not up, the gateway lost (it
 * stopped answering: a renewal failed), a gateway behind another
 * NAT (its mapping reaches no one outside), or the gateway check found
 * that the router does not forward its TCP mapping (then the UDP one is
 * not trusted either: the same router).
 */
static int
own_mapped(int proto, uint16_t port, struct sockaddr_storage *out)
{
	struct status_map m, t;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	if ((proto == DRV_UDP && !pu.own_udp) ||
	    (proto == DRV_TCP && !pu.own_tcp))
		return -1;
	if (port == 0 || !status_gateway()->found ||
	    own_row(proto, port, &m) == -1 ||
	    (m.state != STATUS_UP && m.state != STATUS_RENEWING) ||
	    m.ext_port == 0 || m.ext_addr.s_addr == INADDR_ANY ||
	    status_gateway_behind_nat(status_gateway()))
		return -1;
	if (m.reach == STATUS_REACH_NOT_FORWARDING ||
	    (own_row(DRV_TCP, pu.tcp_port, &t) == 0 &&
	    t.reach == STATUS_REACH_NOT_FORWARDING))
		return -1;
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_addr = m.ext_addr;
	sin->sin_port = htons(m.ext_port);
	return 0;
}

static void	mapping_lost(void);

/*
 * Our mappings' rows changed: one that went down (the router lost it,
 * stopped, or does not forward) ends the paths over it, and punching
 * is what is left; one that came up is offered from the next attempt.
 */
static void
on_map_event(int event, const struct status_map *m)
{
	char a[32];

	if (!pu.running || strcmp(m->owner, "punch") != 0 ||
	    (m->proto == DRV_UDP && m->int_port != pu.port) ||
	    (m->proto == DRV_TCP && m->int_port != pu.tcp_port))
		return;
	snprintf(a, sizeof(a), "%s:%u", inet_ntoa(m->ext_addr), m->ext_port);
	if (event == STATUS_EVENT_UP)
		log_info("punch: the gateway maps %s port %u at %s: offered "
		    "as a candidate (mapped) from the next attempt",
		    m->proto == DRV_UDP ? "UDP" : "TCP", m->int_port, a);
	else if (event == STATUS_EVENT_DOWN) {
		log_info("punch: the gateway's mapping of %s port %u (%s) is "
		    "gone: punching only", m->proto == DRV_UDP ? "UDP" : "TCP",
		    m->int_port, a);
		mapping_lost();
	}
}

/*
 * The gateway lost (a renewal got no answer): its mappings may be gone
 * with it, though their rows stay up until it answers again or not.
 */
static void
on_gateway_event(const struct status_gateway *g)
{
	if (pu.running && pu.gw_found && !g->found &&
	    (pu.own_udp || pu.own_tcp)) {
		log_info("punch: the gateway is lost: its mappings of the "
		    "punching ports are not offered; punching only");
		mapping_lost();
	}
	pu.gw_found = g->found;
}

/* Ask the gateway for the punching ports, with the rest of the mappings. */
static void
own_map(void)
{
	if (!pu.subscribed) {
		status_subscribe(on_map_event);
		status_subscribe_gateway(on_gateway_event);
		pu.subscribed = 1;
	}
	if (mapping_own_add(DRV_UDP, pu.port, "punch") == 0)
		pu.own_udp = 1;
	else
		log_info("punch: UDP port %u not mapped on the gateway: %s",
		    pu.port, strerror(errno));
	if (pu.tcp_port == 0)
		return;
	if (mapping_own_add(DRV_TCP, pu.tcp_port, "punch") == 0)
		pu.own_tcp = 1;
	else
		log_info("punch: TCP port %u not mapped on the gateway: %s",
		    pu.tcp_port, strerror(errno));
}

static void
own_unmap(void)
{
	if (pu.own_udp)
		mapping_own_remove(DRV_UDP, pu.port);
	if (pu.own_tcp)
		mapping_own_remove(DRV_TCP, pu.tcp_port);
	pu.own_udp = pu.own_tcp = 0;
}

/* ---- the TURN relay: one allocation, a path for every peer ---- */

static void	punch_in(uint8_t *, size_t, size_t,
		    const struct sockaddr_storage *, int);

/* The credentials getter relay.c calls: the rendezvous's latest pair. */
static int
relay_creds(void *arg, struct rdv_turn *t)
{
	(void)arg;
	return rdv_client_turn(t);
}

static int
relay_is_up(void)
{
	return pu.relay != NULL && pu.relayed.ss_family != AF_UNSPEC;
}

/*
 * Our relayed addresses are there to offer: the UDP allocation up, and
 * the TCP one beside it up too, or failed (or none).
 */
static int
relay_ready(void)
{
	return relay_is_up() && (pu.trelay == NULL ||
	    pu.trelayed.ss_family != AF_UNSPEC || pu.trelay_failed);
}

/* The TURN server's address, for the status and the logs ("" none). */
static const char *
relay_server_str(char *buf, size_t len)
{
	struct relay_stats rs;

	buf[0] = '\0';
	if (pu.relay == NULL)
		return buf;
	relay_stats(pu.relay, &rs);
	return addr_str(&rs.server, buf, len);
}

/* Why our relay lost (or never made) its allocation: 1 and buf, or 0. */
static int
relay_error(char *buf, size_t len)
{
	struct relay_stats rs;

	if (pu.relay == NULL)
		return 0;
	relay_stats(pu.relay, &rs);
	if (rs.last_error[0] == '\0')
		return 0;
	snprintf(buf, len, "%s", rs.last_error);
	return 1;
}

/* Is the path to p through a relay: ours, or the peer's relayed address? */
static int
path_is_relay(const struct peer *p)
{
	return p->state == P_UP && (p->relayed || (p->via != NULL &&
	    strcmp(p->via, "relay") == 0));
}

/*
 * A service's own relay=always (the node's relay always needs nothing
 * beside: every path goes through the relay).
 */
static int
svc_always(int relay_set, int relay)
{
	return relay_set && relay == CONF_RELAY_ALWAYS &&
	    pu.relay_policy != CONF_RELAY_ALWAYS;
}

/* Does this node connect to one of p's services with relay=always? */
static int
peer_wants_rpath(const struct peer *p)
{
	size_t i;

	if (!pu.some_always)
		return 0;
	for (i = 0; i < pu.nconnect; i++)
		if (strcmp(pu.connect[i].node, p->node) == 0 &&
		    svc_always(pu.connect[i].relay_set, pu.connect[i].relay))
			return 1;
	return 0;
}

/* The relayed path beside a direct one answered lately. */
static int
rpath_up(const struct peer *p)
{
	return p->state == P_UP && p->rpath.ss_family != AF_UNSPEC &&
	    loop_now() - p->rpath_ack < PUNCH_PATH_DEAD_MS;
}

/*
 * Where a service's datagram to p goes: p's path, or for a relay=always
 * service (always) whose path is direct, the relayed path beside it.  0,
 * or -1: that one is not up.
 */
static int
route(const struct peer *p, int always, const struct sockaddr_storage **to,
    int *relayed)
{
	if (!always || path_is_relay(p)) {
		*to = &p->path;
		*relayed = p->relayed;
		return 0;
	}
	if (!rpath_up(p))
		return -1;
	*to = &p->rpath;
	*relayed = p->rpath_relayed;
	return 0;
}

/*
 * Our relay is up (again, maybe at a new relayed address): the peer's
 * relayed addresses are permitted, and every peer this node connects to
 * that has no direct path punches again at once, the relayed address
 * among the candidates.
 */
static void	relay_repunch(void);

static void
relay_on_up(void *arg, const struct sockaddr_storage *relayed)
{
	char a[64], b[64];

	(void)arg;
	pu.relayed = *relayed;
	timer_stop(&pu.relay_timer);
	log_info("punch: relay up: %s on TURN server %s (over %s)",
	    addr_str(relayed, a, sizeof(a)), relay_server_str(b, sizeof(b)),
	    pu.relay_tcp ? "TCP" : "UDP");
	relay_repunch();
}

/*
 * The TCP allocation up: the carriers' relayed address.  Both up (or the
 * UDP one alone, where there is no TCP one): punch again.
 */
static void
trelay_on_up(void *arg, const struct sockaddr_storage *relayed)
{
	char a[64];

	(void)arg;
	pu.trelayed = *relayed;
	pu.trelay_failed = 0;
	log_info("punch: relay up: %s (TCP, RFC 6062) for the carriers",
	    addr_str(relayed, a, sizeof(a)));
	relay_repunch();
}

static void
trelay_on_down(void *arg, const char *why)
{
	(void)arg;
	log_warnx("punch: relay (TCP allocation) down: %s", why);
	pu.trelayed.ss_family = AF_UNSPEC;
	pu.trelay_failed = 1;
	/* the UDP one waited for it: it goes alone */
	if (pu.repunch_pending)
		relay_repunch();
}

/* An RFC 6062 data connection to or from a peer's TCP relayed address. */
static void
trelay_on_conn(void *arg, int fd, const struct sockaddr_storage *peer,
    int incoming, const char *err)
{
	struct peer *p;
	char a[64];

	(void)arg;
	if (fd == -1) {
		log_info("punch: relay: %s", err != NULL ? err : "a connection "
		    "failed");
		return;
	}
	for (p = pu.peers; p != NULL; p = p->next)
		if (p->trelay.ss_family != AF_UNSPEC &&
		    same_addr(&p->trelay, peer))
			break;
	/*
	 * The carrier direct: one for the carrier through the relays
	 * beside it (relay=always TCP services; the peer's, or ours)
	 */
	if (p != NULL && carrier_direct_up(p)) {
		if (incoming)
			acarrier_start(p);
		log_debug("punch: %s: a TCP connection through the relay (%s), "
		    "for the carrier beside the direct one", p->node,
		    incoming ? "theirs" : "ours");
		(void)carrier_take_conn(p->acarrier, fd);
		return;
	}
	/* theirs before our carrier of the attempt: kept for it */
	if (p != NULL && incoming && p->rcarrier == NULL &&
	    (p->carrier == NULL || p->carrier_dead)) {
		log_debug("punch: %s: a TCP connection through the relay "
		    "before the attempt's carrier: kept for it", p->node);
		if (p->held_fd != -1)
			close(p->held_fd);
		p->held_fd = fd;
		p->held_at = loop_now();
		return;
	}
	if (p == NULL || p->carrier == NULL || p->rcarrier != NULL) {
		log_debug("punch: relay: a TCP connection %s %s, no carrier "
		    "for it", incoming ? "from" : "to",
		    addr_str(peer, a, sizeof(a)));
		close(fd);
		return;
	}
	log_debug("punch: %s: a TCP connection through the relay (%s)",
	    p->node, incoming ? "theirs" : "ours");
	(void)carrier_take_conn(p->carrier, fd);
}

static void
relay_repunch(void)
{
	struct peer *p;
	int i;

	if (!relay_is_up())
		return;
	if (!relay_ready()) {
		pu.repunch_pending = 1;	/* the TCP allocation first */
		return;
	}
	pu.repunch_pending = 0;
	for (p = pu.peers; p != NULL; p = p->next) {
		p->relay_waited = 0;
		/* new allocations: the carriers lost before do not count */
		p->recarrier = 0;
		for (i = 0; i < p->ncand; i++)
			if (p->cand[i].kind == RDV_CAND_RELAY)
				(void)relay_permit(pu.relay, &p->cand[i].addr);
		/* an OFFER that waited for our relay: it goes, with it */
		if (p->offer_held) {
			if (offer_send(p) == -1)
				attempt_over(p, "no OFFER made");
			continue;
		}
		/*
		 * A relayed path beside a direct one: the peer permits our
		 * relayed address only once a CONNECT has offered it
		 */
		if (p->wanted && (p->state != P_UP || path_is_relay(p) ||
		    peer_wants_rpath(p))) {
			p->attempt = 0;
			peer_attempt(p);
		}
	}
	status_push();
}

/*
 * Our relay lost its allocation, or could not make it (why: never a
 * credential); relay.c makes a new one by itself.  A path through it goes
 * silent and is probed again as any silent path, unless the relay is back
 * first (relay_on_up punches again).
 */
static void
relay_on_down(void *arg, const char *why)
{
	struct peer *p;

	(void)arg;
	log_warnx("punch: relay down: %s", why);
	pu.relayed.ss_family = AF_UNSPEC;
	for (p = pu.peers; p != NULL; p = p->next) {
		if (path_is_relay(p))
			snprintf(p->why, sizeof(p->why), "the relay is down: "
			    "%.100s", why);
		/* what waited for it goes without it */
		if (p->offer_held && offer_send(p) == -1)
			attempt_over(p, "no OFFER made");
		else if (p->connect_held && p->state == P_IDLE &&
		    p->attempt == 0)
			peer_attempt(p);
	}
	status_push();
}

/* A datagram from a peer through our relay: as one on a punching socket. */
static void
relay_on_data(void *arg, const struct sockaddr_storage *peer,
    const uint8_t *buf, size_t len)
{
	static uint8_t rbuf[DGRAM_MAX + 1];

	(void)arg;
	if (len == 0 || len > DGRAM_MAX || batch == NULL)
		return;
	memcpy(rbuf, buf, len);
	punch_in(rbuf, len, sizeof(rbuf), peer, 1);
	udpbatch_flush(batch);	/* what flow_in queued */
}

static void
relay_make(void)
{
	static const struct relay_cbs cbs = {
		.up = relay_on_up,
		.down = relay_on_down,
		.data = relay_on_data,
	};
	struct relay_conf rc;

	memset(&rc, 0, sizeof(rc));
	rc.server.ss_family = AF_UNSPEC;	/* the one the rendezvous names */
	rc.server_tcp = pu.relay_tcp;
	rc.creds = relay_creds;
	rc.keepalive_ms = RELAY_KEEPALIVE_MS;
	pu.relayed.ss_family = AF_UNSPEC;
	if ((pu.relay = relay_new(&rc, &cbs, NULL)) == NULL) {
		log_warn("punch: relay");
		return;
	}
	/* RFC 6062 for the carriers, always over TCP to the server */
	if (pu.trelay == NULL) {
		static const struct relay_cbs tcbs = {
			.up = trelay_on_up,
			.down = trelay_on_down,
			.conn = trelay_on_conn,
		};

		rc.alloc_tcp = 1;
		rc.server_tcp = 1;
		pu.trelayed.ss_family = AF_UNSPEC;
		if ((pu.trelay = relay_new(&rc, &tcbs, NULL)) == NULL)
			log_warn("punch: relay (TCP allocation)");
	}
	if (!pu.relay_tcp)
		timer_set(&pu.relay_timer, RELAY_UDP_WAIT_MS);
}

/* No UDP allocation yet: UDP to the server may be blocked; TCP then. */
static void
relay_timer_cb(struct timer *t)
{
	struct relay_stats rs;

	(void)t;
	if (pu.relay == NULL || pu.relay_tcp)
		return;
	relay_stats(pu.relay, &rs);
	if (rs.allocations > 0 || rs.answers > 0)
		return;		/* UDP reaches the server (it may refuse us) */
	log_info("punch: relay: no allocation over UDP in %d s; TURN over TCP",
	    RELAY_UDP_WAIT_MS / 1000);
	relay_free(pu.relay);
	pu.relay = NULL;
	pu.relay_tcp = 1;
	relay_make();
}

/*
 * Hold a relay, if the policy allows and the rendezvous offers one (why
 * says what asked for it, for the log).  0 if one is held, -1 if not.
 */
static int
relay_ensure(const char *why)
{
	if (pu.relay_policy != CONF_RELAY_NEVER)
		pu.relay_paths = 1;
	return relay_ensure_beside(why);
}

/*
 * relay_ensure, for the relayed path beside direct ones only: the main
 * paths and the carriers stay direct (the TCP relayed address is not
 * offered, a relayed ACK while probing does not make the path).
 */
static int
relay_ensure_beside(const char *why)
{
	struct rdv_turn t;
	char a[64];

	if (pu.relay != NULL)
		return 0;
	if (pu.relay_policy == CONF_RELAY_NEVER || !pu.running)
		return -1;
	if (rdv_client_turn(&t) == -1) {
		if (!pu.relay_none_said)
			log_info("punch: no relay: the rendezvous offers no "
			    "TURN server (natmapd-rendezvous --turn), or none "
			    "yet");
		pu.relay_none_said = 1;
		return -1;
	}
	log_info("punch: relay: an allocation on TURN server %s (%s)",
	    addr_str(&t.relay, a, sizeof(a)), why);
	rdv_turn_wipe(&t);
	pu.relay_tcp = 0;
	relay_make();
	return pu.relay != NULL ? 0 : -1;
}

static void
relay_drop(void)
{
	timer_stop(&pu.relay_timer);
	relay_free(pu.relay);
	pu.relay = NULL;
	pu.relayed.ss_family = AF_UNSPEC;
	relay_free(pu.trelay);
	pu.trelay = NULL;
	pu.trelayed.ss_family = AF_UNSPEC;
	pu.trelay_failed = 0;
	pu.repunch_pending = 0;
}

/* One of c[0..n) is at addr already (a mapping, where STUN saw the port). */
static int
cand_has(const struct rdv_cand *c, int n, int transport,
    const struct sockaddr_storage *addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (c[i].transport == transport && same_addr(&c[i].addr, addr))
			return 1;
	return 0;
}

/*
 * Our candidates: the gateway's mappings (UDP and TCP: the peer reaches
 * them without punching, so first), the host's IPv6 addresses (UDP and
 * TCP), the IPv4 host address, the server-reflexive ones (UDP and TCP).
 */
static int
own_candidates(struct rdv_cand *c, int relay)
{
	struct in6_addr a6[ADDRS6_MAX];
	struct sockaddr_in *sin;
	size_t na;
	int n = 0;

	/* relay always: the relayed address alone */
	if (pu.relay_policy == CONF_RELAY_ALWAYS) {
		(void)relay_ensure("relay always");
		relay = 1;
	}
	if (relay && relay_is_up()) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_RELAY;
		c[n].transport = RDV_UDP;
		c[n].addr = pu.relayed;
		n++;
		if (pu.trelayed.ss_family != AF_UNSPEC) {
			/* a relay beside direct paths: for a carrier beside */
			memset(&c[n], 0, sizeof(c[n]));
			c[n].kind = pu.relay_paths || pu.relay_policy ==
			    CONF_RELAY_ALWAYS ? RDV_CAND_RELAY :
			    PUNCH_CAND_RELAY_BESIDE;
			c[n].transport = RDV_TCP;
			c[n].addr = pu.trelayed;
			n++;
		}
	}
	if (pu.relay_policy == CONF_RELAY_ALWAYS)
		return n;
	memset(&c[n], 0, sizeof(c[n]));
	if (own_mapped(DRV_UDP, pu.port, &c[n].addr) == 0) {
		c[n].kind = RDV_CAND_MAPPED;
		c[n].transport = RDV_UDP;
		n++;
	}
	memset(&c[n], 0, sizeof(c[n]));
	if (own_mapped(DRV_TCP, pu.tcp_port, &c[n].addr) == 0) {
		c[n].kind = RDV_CAND_MAPPED;
		c[n].transport = RDV_TCP;
		n++;
	}

	na = own_addrs6(a6);
	if (pu.fd6 != -1)
		n += own_candidates6(&c[n], RDV_UDP, pu.port6, a6, na);
	if (pu.tcp_port != 0 && carrier_port_has6())
		n += own_candidates6(&c[n], RDV_TCP, pu.tcp_port, a6, na);

	if (pu.local.s_addr != INADDR_ANY) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_HOST;
		c[n].transport = RDV_UDP;
		sin = (struct sockaddr_in *)&c[n].addr;
		sin->sin_family = AF_INET;
		sin->sin_addr = pu.local;
		sin->sin_port = htons(pu.port);
		n++;
	}
	if (pu.srflx.ss_family == AF_INET &&
	    !cand_has(c, n, RDV_UDP, &pu.srflx)) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_SRFLX;
		c[n].transport = RDV_UDP;
		c[n].addr = pu.srflx;
		n++;
	}
	if (pu.tcp_port != 0 && pu.local.s_addr != INADDR_ANY) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_HOST;
		c[n].transport = RDV_TCP;
		sin = (struct sockaddr_in *)&c[n].addr;
		sin->sin_family = AF_INET;
		sin->sin_addr = pu.local;
		sin->sin_port = htons(pu.tcp_port);
		n++;
	}
	if (pu.tcp_port != 0 && carrier_srflx()->ss_family == AF_INET &&
	    !cand_has(c, n, RDV_TCP, carrier_srflx())) {
		memset(&c[n], 0, sizeof(c[n]));
		c[n].kind = RDV_CAND_SRFLX;
		c[n].transport = RDV_TCP;
		c[n].addr = *carrier_srflx();
		n++;
	}
	return n;
}

/*
 * The ciphers to offer beside ChaCha20-Poly1305 in a payload with ncand
 * candidates: AES-256-GCM where the CPU makes it fast (crypto_aes_fast)
 * and the configuration does not say chacha20-poly1305, and while the
 * payload has room for the record that says so (16 candidates at most,
 * it among them).
 */
static uint8_t
own_ciphers(int ncand)
{
	if (pu.cipher == CONF_CIPHER_CHACHA || !pu.aes_fast ||
	    ncand >= PUNCH_CAND_MAX)
		return 0;
	return PUNCH_CIPHER_AES256GCM;
}

/* ---- the payloads through the rendezvous ---- */

static void
signal_done(struct rdv_signal_op *op, const struct rdv_client_answer *a)
{
	struct peer *p = container_of(op, struct peer, sig);

	if (a == NULL) {
		log_debug("punch: %s: no rendezvous server answered the SIGNAL",
		    p->node);
		return;
	}
	if (a->ok)
		return;
	log_info("punch: %s: the rendezvous says %d %s", p->node,
	    a->error_code, a->reason);
	/* nobody of that name in the network: no use asking again soon */
	if (a->error_code == 404 && p->state == P_CONNECTING)
		peer_fail(p, "no node %s registered in network %s (%s)",
		    p->node, pu.network, a->reason);
}

static int
signal_send(struct peer *p, const uint8_t *buf, size_t len)
{
	if (rdv_client_signal_busy(&p->sig))
		rdv_client_signal_cancel(&p->sig);
	rdv_client_signal_init(&p->sig, signal_done);
	if (rdv_client_signal(&p->sig, p->node, buf, len) == -1) {
		log_debug("punch: %s: SIGNAL not sent: %s", p->node,
		    errno == ENOTCONN ? "not registered yet" : strerror(errno));
		return -1;
	}
	return 0;
}

static void
msg_init(struct punch_msg *m, struct peer *p, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->attempt = p->attempt;
	memcpy(m->session, p->sid, sizeof(m->session));
	snprintf(m->network, sizeof(m->network), "%s", pu.network);
	snprintf(m->from, sizeof(m->from), "%s", pu.node);
	snprintf(m->to, sizeof(m->to), "%s", p->node);
	m->clock_ms = rdv_client_wall_ms();
}

/*
 * A CONNECT or an OFFER begun: a new nonce, our new index and key pair
 * (the private key in p->priv until the session is made).
 */
static int
msg_init_keyed(struct punch_msg *m, struct peer *p, uint8_t type)
{
	msg_init(m, p, type);
	if (crypto_random(m->nonce, sizeof(m->nonce)) == -1 ||
	    crypto_random(p->own_index, sizeof(p->own_index)) == -1 ||
	    crypto_x25519_keypair(p->priv, p->pub) == -1)
		return -1;
	memcpy(m->index, p->own_index, sizeof(m->index));
	memcpy(m->pub, p->pub, sizeof(m->pub));
	return 0;
}

/* A CONNECT for this attempt, new keys; sent, and again until the OFFER. */
static int
send_connect(struct peer *p)
{
	struct punch_msg m;
	int n;

	peer_clear_session(p);
	if (msg_init_keyed(&m, p, PUNCH_CONNECT) == -1)
		return -1;
	m.ncand = own_candidates(m.cand, 1);
	m.ciphers = p->own_ciphers = own_ciphers(m.ncand);
	if ((n = punch_build(p->connect, sizeof(p->connect), &m,
	    pu.peer_key)) < 0)
		return -1;
	p->connect_len = (size_t)n;
	p->offer_len = 0;
	p->connect_sent = loop_now();
	p->initiator = 1;
	p->signals = 1;
	peer_set_state(p, P_CONNECTING);
	timer_set(&p->timer, PUNCH_SIGNAL_WAIT_MS);
	return signal_send(p, p->connect, p->connect_len);
}

/*
 * Our relay is being made, not up, and has not failed since its last up
 * (relay.c's last error is cleared when an allocation comes up).
 */
static int
relay_coming(void)
{
	char err[8];

	return pu.relay_policy != CONF_RELAY_NEVER && pu.relay != NULL &&
	    !relay_ready() && !relay_error(err, sizeof(err));
}

/* A CONNECT or an OFFER held for our relay goes now (held: its flag). */
static void
hold_end(struct peer *p, int *held, const char *what)
{
	*held = 0;
	log_info("punch: %s: the %s goes %llu ms later, %s", p->node, what,
	    (unsigned long long)(loop_now() - p->held_since), relay_ready() ?
	    "our relay up" : "without our relayed address");
}

/*
 * The first CONNECT of a session that offers our relayed address waits
 * for our relay while it is being made, RELAY_HOLD_MS at most (the timer,
 * or relay_repunch when it is up, or relay_on_down, calls peer_attempt
 * again): sent without it, the peer answers without its own too, and a
 * second round is needed.  1 if held.
 */
static int
connect_hold(struct peer *p)
{
	if (p->connect_held) {
		hold_end(p, &p->connect_held, "CONNECT");
		return 0;
	}
	if (pu.relay_policy == CONF_RELAY_ALWAYS)
		(void)relay_ensure("relay always");
	else if (peer_wants_rpath(p))
		(void)relay_ensure_beside("relay=always for a service");
	/* fallback: only where the relay was begun at once, for our NAT */
	else if (pu.edm != 1)
		return 0;
	if (!relay_coming())
		return 0;
	p->connect_held = 1;
	p->held_since = loop_now();
	peer_set_state(p, P_IDLE);
	timer_set(&p->timer, RELAY_HOLD_MS);
	log_info("punch: %s: the first CONNECT waits for our relay (%d ms at "
	    "most)", p->node, RELAY_HOLD_MS);
	return 1;
}

/* Start the next attempt (or the first), if this side leads it. */
static void
peer_attempt(struct peer *p)
{
	if (p->attempt == 0 && connect_hold(p))
		return;
	if (p->attempt == 0) {
		if (crypto_random(p->sid, sizeof(p->sid)) == -1) {
			peer_fail(p, "no random bytes");
			return;
		}
		p->opener = 1;
	}
	p->attempt++;
	log_info("punch: %s: attempt %u of %d, through the rendezvous",
	    p->node, p->attempt, PUNCH_ATTEMPTS);
	if (send_connect(p) == -1) {
		/* not registered yet: this attempt is not spent */
		p->attempt--;
		if (p->attempt == 0)
			p->opener = 0;
		peer_set_state(p, P_IDLE);
		timer_set(&p->timer, 1000);
	}
}

/* Does this side lead attempt n? The opener does, but for the last. */
static int
leads(const struct peer *p, unsigned int n)
{
	return n < PUNCH_ATTEMPTS ? p->opener : !p->opener;
}

/* The attempt failed: the next one, or give up for a while. */
static void
attempt_over(struct peer *p, const char *why)
{
	peer_clear_session(p);
	/* relay fallback: a relay for the next attempts */
	if (pu.relay_policy == CONF_RELAY_FALLBACK)
		(void)relay_ensure("a punching attempt failed");
	if (p->attempt >= PUNCH_ATTEMPTS) {
		peer_fail(p, "%s; %d attempts made", why, PUNCH_ATTEMPTS);
		return;
	}
	log_info("punch: %s: attempt %u failed: %s", p->node, p->attempt, why);
	snprintf(p->why, sizeof(p->why), "attempt %u: %s", p->attempt, why);
	if (leads(p, p->attempt + 1u)) {
		peer_attempt(p);
		return;
	}
	/* the other side leads the next: wait for its CONNECT */
	peer_set_state(p, P_IDLE);
	p->initiator = 0;
	timer_set(&p->timer, PUNCH_ATTEMPT_MS + 2 * PUNCH_SIGNAL_WAIT_MS);
}

static void
peer_fail(struct peer *p, const char *fmt, ...)
{
	char why[256], rerr[256];
	va_list ap;
	uint64_t again;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* why the relay did not carry it either */
	if (pu.relay_policy == CONF_RELAY_NEVER)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; relay never: no relayed path tried");
	else if (pu.relay == NULL)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; no relay: the rendezvous offers no TURN server");
	else if (!relay_is_up() && relay_error(rerr, sizeof(rerr)))
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; no relay: %.200s", rerr);
	else if (!relay_is_up())
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; the relay is not up");
	else if (!p->peer_relay)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
		    "; %s offered no relayed address", p->node);
	snprintf(p->why, sizeof(p->why), "%.*s", (int)sizeof(p->why) - 1, why);
	peer_clear_session(p);
	peer_set_state(p, P_FAILED);
	p->attempt = 0;
	p->opener = 0;
	if (p->wanted) {
		again = loop_backoff(&p->retry, PUNCH_RETRY_MS,
		    PUNCH_RETRY_MAX_MS);
		log_warnx("punch: %s: no direct path: %s; trying again in %llu s",
		    p->node, why, (unsigned long long)(again / 1000));
		timer_set(&p->timer, again);
	} else {
		log_info("punch: %s: no direct path: %s", p->node, why);
		timer_stop(&p->timer);
	}
}

/*
 * A REJECT for a CONNECT refused.  Sent from one op kept for the purpose:
 * a refusal waiting for its answer is replaced by the next (a repeat of
 * the CONNECT is refused again).
 */
static struct rdv_signal_op reject_op;

static void
reject_done(struct rdv_signal_op *op, const struct rdv_client_answer *a)
{
	if (a != NULL && !a->ok)
		log_debug("punch: %s: REJECT: the rendezvous says %d %s",
		    op->peer, a->error_code, a->reason);
}

static void
send_reject(const char *to, const struct punch_msg *in, const uint8_t *buf,
    size_t len, uint8_t reason)
{
	struct punch_msg m;
	struct peer tmp;
	uint8_t out[PUNCH_MSG_MAX];
	int n;

	memset(&tmp, 0, sizeof(tmp));
	snprintf(tmp.node, sizeof(tmp.node), "%s", to);
	memcpy(tmp.sid, in->session, sizeof(tmp.sid));
	tmp.attempt = in->attempt;
	msg_init(&m, &tmp, PUNCH_REJECT);
	if (crypto_random(m.nonce, sizeof(m.nonce)) == -1)
		return;
	punch_hash(buf, len, m.hash);
	m.reason = reason;
	if ((n = punch_build(out, sizeof(out), &m, pu.peer_key)) < 0)
		return;
	if (rdv_client_signal_busy(&reject_op))
		rdv_client_signal_cancel(&reject_op);
	rdv_client_signal_init(&reject_op, reject_done);
	if (rdv_client_signal(&reject_op, to, out, (size_t)n) == -1)
		log_debug("punch: %s: REJECT not sent: %s", to,
		    strerror(errno));
}

/*
 * The peer's candidates we can use: IPv4 ones, and IPv6 ones that a
 * packet can reach (global or unique local: not link-local, which needs
 * an interface, nor multicast, loopback or IPv4-mapped) where we have a
 * socket of that family and an IPv6 address of our own to offer (without
 * one, no packet of ours would get there, and the carrier would hold its
 * IPv4 HELLO for nothing).
 */
static int
cand_usable(const struct rdv_cand *c, int have6)
{
	const struct sockaddr_in6 *sin6 = (const void *)&c->addr;

	if (c->addr.ss_family == AF_INET)
		return 1;
	if (c->addr.ss_family != AF_INET6 || !have6 ||
	    addrclass6_of(&sin6->sin6_addr) == ADDRCLASS6_LOCAL)
		return 0;
	return c->transport == RDV_UDP ? pu.fd6 != -1 :
	    carrier_port_has6();
}

/*
 * The peer's relayed addresses that m no longer offers (a new allocation
 * of the peer's; m NULL: none, the peer goes) no longer permitted on our
 * relays.  One it still offers is kept as it is.
 */
static void
peer_unpermit(struct peer *p, const struct punch_msg *m)
{
	int i, j, kept;

	for (i = 0; i < p->ncand && pu.relay != NULL; i++) {
		if (p->cand[i].kind != RDV_CAND_RELAY)
			continue;
		for (j = 0, kept = 0; m != NULL && j < m->ncand; j++)
			if (same_addr(&m->cand[j].addr, &p->cand[i].addr))
				kept = 1;
		if (!kept)
			relay_unpermit(pu.relay, &p->cand[i].addr);
	}
	if (pu.trelay == NULL || p->trelay.ss_family == AF_UNSPEC)
		return;
	for (j = 0, kept = 0; m != NULL && j < m->ncand; j++)
		if (same_addr(&m->cand[j].addr, &p->trelay))
			kept = 1;
	if (!kept)
		relay_unpermit(pu.trelay, &p->trelay);
}


/* m offers a TCP relayed address (its node's relay carries whole paths). */
static int
cand_has_trelay(const struct punch_msg *m)
{
	int i;

	for (i = 0; i < m->ncand; i++)
		if (m->cand[i].kind == RDV_CAND_RELAY &&
		    m->cand[i].transport == RDV_TCP)
			return 1;
	return 0;
}

static void
take_candidates(struct peer *p, const struct punch_msg *m)
{
	struct in6_addr a6[ADDRS6_MAX];
	int i, have6 = own_addrs6(a6) > 0;

	peer_unpermit(p, m);	/* the last session's, gone */
	p->ncand = 0;
	p->ntcand = 0;
	p->peer_relay = 0;
	p->peer_ciphers = m->ciphers;
	p->trelay.ss_family = AF_UNSPEC;
	p->trelay_beside = 0;
	for (i = 0; i < m->ncand; i++) {
		if (!cand_usable(&m->cand[i], have6))
			continue;
		/*
		 * Its TCP relayed address, for a carrier beside the direct
		 * one (relay=always TCP services): not a reason for whole
		 * paths through the relay; a relayed one of the carrier's
		 * own (cand_has_trelay) goes first
		 */
		if (m->cand[i].kind == PUNCH_CAND_RELAY_BESIDE) {
			if (pu.relay_policy == CONF_RELAY_NEVER ||
			    cand_has_trelay(m))
				continue;
			p->trelay = m->cand[i].addr;
			p->trelay_beside = 1;
			if (pu.trelay != NULL)
				(void)relay_permit(pu.trelay,
				    &m->cand[i].addr);
			continue;
		}
		if (m->cand[i].kind == RDV_CAND_RELAY) {
			p->peer_relay = 1;
			if (pu.relay_policy == CONF_RELAY_NEVER)
				continue;
			if (m->cand[i].transport == RDV_TCP) {
				/* the carrier's, through our TCP allocation */
				p->trelay = m->cand[i].addr;
				if (pu.trelay != NULL)
					(void)relay_permit(pu.trelay,
					    &m->cand[i].addr);
				continue;
			}
			/*
			 * The peer wants a relayed path: ours for it, as a
			 * path of its own when it offers its carrier's too
			 */
			if ((cand_has_trelay(m) ? relay_ensure("the peer "
			    "offers a relayed address") : relay_ensure_beside(
			    "the peer offers a relayed address")) == 0)
				(void)relay_permit(pu.relay, &m->cand[i].addr);
		} else if (pu.relay_policy == CONF_RELAY_ALWAYS)
			continue;	/* through the relay only */
		if (m->cand[i].transport == RDV_UDP)
			p->cand[p->ncand++] = m->cand[i];
		else if (m->cand[i].transport == RDV_TCP)
			p->tcand[p->ntcand++] = m->cand[i].addr;
	}
}

static void carrier_begin(struct peer *);
static void carrier_upgrade(struct peer *);

static void
start_probing(struct peer *p)
{
	carrier_begin(p);
	p->probing_since = loop_now();
	p->probe_every = PUNCH_PROBE_FIRST_MS;
	p->probe_in_at = 0;
	peer_set_state(p, P_PROBING);
	probe_round(p);
}

/*
 * The attempt's keys from our private key and the peer's public one, over
 * the CONNECT and the OFFER (initiator: this side sent the CONNECT), and
 * its session (p->sess; NULL if none could be made); our private key
 * wiped.  -1 if the keys make no shared secret.
 */
static int
session_make(struct peer *p, int initiator, const uint8_t *peer_pub)
{
	struct session_keys k;

	if (session_keys_derive(&k, initiator, p->priv, peer_pub, p->connect,
	    p->connect_len, p->offer, p->offer_len) == -1) {
		crypto_wipe(&k, sizeof(k));
		return -1;
	}
	/* both offered it: AES-256-GCM; ChaCha20-Poly1305 otherwise */
	k.cipher = p->own_ciphers & p->peer_ciphers & PUNCH_CIPHER_AES256GCM ?
	    CRYPTO_AES256_GCM : CRYPTO_CHACHA20_POLY1305;
	p->sess = session_new(&k, p->own_index, p->peer_index);
	if (p->sess != NULL)
		log_debug("punch: %s: session keys made, %s", p->node,
		    crypto_cipher_name(k.cipher));
	p->keys = k;
	p->have_keys = 1;
	p->upgraded = 0;
	p->amade = 0;
	crypto_wipe(&k, sizeof(k));
	crypto_wipe(p->priv, sizeof(p->priv));
	return 0;
}

/*
 * The OFFER to the CONNECT in p->connect (its key in p->peer_pub): new
 * keys, the session, sent.  0, or -1 if none was made.
 */
static int
offer_send(struct peer *p)
{
	struct punch_msg o;
	int n;

	if (p->offer_held)
		hold_end(p, &p->offer_held, "OFFER");
	if (msg_init_keyed(&o, p, PUNCH_OFFER) == -1)
		return -1;
	punch_hash(p->connect, p->connect_len, o.hash);
	/* our relayed address only to a node that knows the kind */
	o.ncand = own_candidates(o.cand, p->peer_relay);
	o.ciphers = p->own_ciphers = own_ciphers(o.ncand);
	if ((n = punch_build(p->offer, sizeof(p->offer), &o, pu.peer_key)) < 0)
		return -1;
	p->offer_len = (size_t)n;
	if (session_make(p, 0, p->peer_pub) == -1) {
		p->offer_len = 0;
		log_info("punch: %s: refused a CONNECT: its key makes no "
		    "shared secret", p->node);
		return -1;
	}
	if (p->sess == NULL)
		return -1;
	peer_set_state(p, P_OFFERED);
	log_info("punch: %s: CONNECT (attempt %u), answering with %d "
	    "candidate%s", p->node, p->attempt, o.ncand, o.ncand == 1 ? "" : "s");
	signal_send(p, p->offer, p->offer_len);
	timer_set(&p->timer, PUNCH_ATTEMPT_MS + PUNCH_SIGNAL_WAIT_MS);
	return 0;
}

static void
got_connect(struct peer *p, const struct punch_msg *m, const uint8_t *buf,
    size_t len)
{
	int same_session = memcmp(m->session, p->sid, sizeof(p->sid)) == 0;

	p->used_at = loop_now();	/* the peer wants a path */
	/* a repeat of the CONNECT answered: the OFFER again (none yet: held) */
	if (p->state == P_OFFERED && p->connect_len == len &&
	    memcmp(p->connect, buf, len) == 0) {
		if (!p->offer_held)
			signal_send(p, p->offer, p->offer_len);
		return;
	}
	/*
	 * Both sides opened at once: the node whose name sorts first keeps
	 * its session, the other answers it.
	 */
	if (!same_session && p->opener && p->state == P_CONNECTING &&
	    strcmp(pu.node, p->node) < 0) {
		log_debug("punch: %s: both opened; ours is kept", p->node);
		return;
	}
	if (!same_session || p->attempt == 0) {
		/* a new session: the old one's carrier is done */
		if (p->carrier != NULL && !same_session) {
			carrier_free(p->carrier);
			p->carrier = NULL;
			p->carrier_dead = 0;
			timer_stop(&p->reap);
		}
		if (!same_session)
			peer_rcarrier_free(p);
		memcpy(p->sid, m->session, sizeof(p->sid));
		p->opener = 0;
	} else if (m->attempt <= p->attempt && p->state != P_IDLE &&
	    p->state != P_FAILED) {
		log_debug("punch: %s: CONNECT for attempt %u, at %u already",
		    p->node, m->attempt, p->attempt);
		return;
	}
	peer_clear_session(p);
	p->attempt = m->attempt;
	p->initiator = 0;
	memcpy(p->connect, buf, len);
	p->connect_len = len;
	memcpy(p->peer_index, m->index, sizeof(p->peer_index));
	memcpy(p->peer_pub, m->pub, sizeof(p->peer_pub));
	p->connect_held = 0;
	p->offer_held = 0;
	p->offer_len = 0;
	take_candidates(p, m);
	/*
	 * It offers a relayed address and ours is being made (take_candidates
	 * started it, if need be): the OFFER waits for it, RELAY_HOLD_MS at
	 * most (the timer, relay_repunch or relay_on_down sends it), so that
	 * it offers ours, and the path needs no second round.
	 */
	if (p->peer_relay && relay_coming()) {
		p->offer_held = 1;
		p->held_since = loop_now();
		peer_set_state(p, P_OFFERED);
		timer_set(&p->timer, RELAY_HOLD_MS);
		log_info("punch: %s: CONNECT (attempt %u) with a relayed address: "
		    "the OFFER waits for our relay (%d ms at most)", p->node,
		    p->attempt, RELAY_HOLD_MS);
		return;
	}
	(void)offer_send(p);
}

static void
got_offer(struct peer *p, const struct punch_msg *m, const uint8_t *buf,
    size_t len)
{
	struct punch_msg a;
	uint8_t h[PUNCH_HASH_LEN], out[PUNCH_MSG_MAX];
	int n;

	if (p->state != P_CONNECTING ||
	    memcmp(m->session, p->sid, sizeof(p->sid)) != 0 ||
	    m->attempt != p->attempt)
		return;
	punch_hash(p->connect, p->connect_len, h);
	if (!crypto_equal(h, m->hash, sizeof(h))) {
		log_debug("punch: %s: an OFFER for another CONNECT", p->node);
		return;
	}
	memcpy(p->offer, buf, len);
	p->offer_len = len;
	memcpy(p->peer_index, m->index, sizeof(p->peer_index));
	take_candidates(p, m);
	/* our relayed address offered, none back: the peer's relay is coming */
	if (!p->peer_relay && relay_is_up() && !p->relay_waited &&
	    pu.relay_policy != CONF_RELAY_NEVER) {
		p->relay_waited = 1;
		timer_set(&p->relay_wait, RELAY_PEER_WAIT_MS);
	}
	if (session_make(p, 1, m->pub) == -1) {
		attempt_over(p, "the OFFER's key makes no shared secret");
		return;
	}
	if (p->sess == NULL)
		return;
	p->rtt = loop_now() - p->connect_sent;
	msg_init(&a, p, PUNCH_ANSWER);
	if (crypto_random(a.nonce, sizeof(a.nonce)) == -1)
		return;
	punch_hash(buf, len, a.hash);
	if ((n = punch_build(out, sizeof(out), &a, pu.peer_key)) < 0)
		return;
	signal_send(p, out, (size_t)n);
	log_info("punch: %s: OFFER with %d candidate%s, %llu ms through the "
	    "rendezvous; probing in %llu ms", p->node, p->ncand,
	    p->ncand == 1 ? "" : "s", (unsigned long long)p->rtt,
	    (unsigned long long)(p->rtt / 2));
	peer_set_state(p, P_WAITING);
	timer_set(&p->timer, p->rtt / 2);
}

static void
got_answer(struct peer *p, const struct punch_msg *m)
{
	uint8_t h[PUNCH_HASH_LEN];

	if (p->state != P_OFFERED ||
	    memcmp(m->session, p->sid, sizeof(p->sid)) != 0 ||
	    m->attempt != p->attempt)
		return;
	punch_hash(p->offer, p->offer_len, h);
	if (!crypto_equal(h, m->hash, sizeof(h)))
		return;
	start_probing(p);
}

static void
got_reject(struct peer *p, const struct punch_msg *m)
{
	uint8_t h[PUNCH_HASH_LEN];

	if (p->state != P_CONNECTING)
		return;
	punch_hash(p->connect, p->connect_len, h);
	if (!crypto_equal(h, m->hash, sizeof(h)))
		return;
	peer_fail(p, "%s refused: %s", p->node,
	    m->reason == PUNCH_REJECT_NOT_EXPOSED ? "it exposes nothing to "
	    "this node" : m->reason == PUNCH_REJECT_NOT_ALLOWED ? "this node "
	    "is not allowed" : m->reason == PUNCH_REJECT_BUSY ? "too many "
	    "sessions" : "another reason");
}

static void
on_signal(const char *from, const uint8_t *buf, size_t len, void *arg)
{
	struct punch_msg m;
	struct peer *p;
	const char *err;

	(void)arg;
	if (punch_parse(buf, len, &m, &err) == -1) {
		log_debug("punch: a payload from %s dropped: %s", from, err);
		return;
	}
	if (punch_verify(buf, len, &m, pu.peer_key, pu.network, from, pu.node,
	    &err) == -1) {
		log_info("punch: a payload from %s refused: %s", from, err);
		return;
	}
	switch (punch_replay_check(&pu.replay, &m, rdv_client_wall_ms())) {
	case PUNCH_REPLAY_NEW:
		break;
	case PUNCH_REPLAY_SEEN:
		/* a CONNECT repeated (our OFFER was lost): answered again */
		if (m.type == PUNCH_CONNECT && (p = peer_find(from)) != NULL &&
		    p->state == P_OFFERED && !p->offer_held &&
		    p->connect_len == len &&
		    memcmp(p->connect, buf, len) == 0)
			signal_send(p, p->offer, p->offer_len);
		return;
	default:
		log_info("punch: a %s from %s refused: stale or replayed",
		    punch_type_name(m.type), from);
		return;
	}
	log_debug("punch: %s from %s (attempt %u)", punch_type_name(m.type),
	    from, m.attempt);
	if (m.type == PUNCH_CONNECT) {
		p = peer_find(from);
		if (!exposed_to(from, NULL, 0) && !(p != NULL &&
		    memcmp(p->sid, m.session, sizeof(p->sid)) == 0)) {
			log_info("punch: %s: CONNECT refused: %s", from,
			    pu.nexpose > 0 ? "not allowed" : "nothing exposed");
			send_reject(from, &m, buf, len, pu.nexpose > 0 ?
			    PUNCH_REJECT_NOT_ALLOWED : PUNCH_REJECT_NOT_EXPOSED);
			return;
		}
		if (p == NULL && (p = peer_get(from)) == NULL) {
			send_reject(from, &m, buf, len, PUNCH_REJECT_BUSY);
			return;
		}
		got_connect(p, &m, buf, len);
		return;
	}
	if ((p = peer_find(from)) == NULL)
		return;
	switch (m.type) {
	case PUNCH_OFFER:
		got_offer(p, &m, buf, len);
		break;
	case PUNCH_ANSWER:
		got_answer(p, &m);
		break;
	case PUNCH_REJECT:
		got_reject(p, &m);
		break;
	}
}

/* ---- datagrams on the punched path ---- */

/* Sealed to `to`, out of the punching socket, or through our relay. */
static int
seal_send(struct peer *p, const struct sockaddr_storage *to, int relayed,
    const uint8_t *pl, size_t len)
{
	int n;

	if (p->sess == NULL)
		return -1;
	if ((n = session_udp_seal(p->sess, SESSION_UDP_TYPE_MIN, pl, len,
	    dgram, sizeof(dgram))) < 0)
		return -1;
	if (relayed) {
		if (!relay_is_up() ||
		    relay_send(pu.relay, to, dgram, (size_t)n) == -1)
			return -1;
	} else if (sendto(fd_for(to), dgram, (size_t)n, 0, (const struct sockaddr *)to,
	    addr_len(to)) == -1) {
		log_debug("punch: %s: send: %s", p->node, strerror(errno));
		return -1;
	}
	p->tx_bytes += (uint64_t)n;
	return 0;
}

static void
send_probe(struct peer *p, const struct sockaddr_storage *to, int relayed)
{
	uint8_t b[PROBE_LEN];

	b[0] = KIND_PROBE;
	p->seq++;
	b[1] = (uint8_t)(p->seq >> 24);
	b[2] = (uint8_t)(p->seq >> 16);
	b[3] = (uint8_t)(p->seq >> 8);
	b[4] = (uint8_t)p->seq;
	b[5] = p->wanted ? PROBE_WANTED : 0;
	if (p->probe_seq_timed == 0 || p->state == P_UP) {
		p->probe_seq_timed = p->seq;
		p->probe_sent_at = loop_now();
	}
	seal_send(p, to, relayed, b, sizeof(b));
}

/* A probe to each candidate and prflx address of family (AF_UNSPEC: all). */
static void
probe_family(struct peer *p, int family)
{
	char a[64];
	int i;

	for (i = 0; i < p->ncand; i++) {
		if (family != AF_UNSPEC && p->cand[i].addr.ss_family != family)
			continue;
		/* a relayed address: from ours (it permits no other) */
		if (p->cand[i].kind == RDV_CAND_RELAY && !relay_is_up())
			continue;
		log_debug("punch: %s: probe to %s%s", p->node,
		    addr_str(&p->cand[i].addr, a, sizeof(a)),
		    p->cand[i].kind == RDV_CAND_RELAY ? " through the relay" :
		    "");
		send_probe(p, &p->cand[i].addr,
		    p->cand[i].kind == RDV_CAND_RELAY);
	}
	for (i = 0; i < p->nprflx; i++)
		if (family == AF_UNSPEC || p->prflx[i].ss_family == family)
			send_probe(p, &p->prflx[i], 0);
}

/* The next round of probes, a little later each time. */
static void
probe_again(struct peer *p)
{
	timer_set(&p->timer, p->probe_every);
	p->probe_every += p->probe_every / 2;
	if (p->probe_every > PUNCH_PROBE_MAX_MS)
		p->probe_every = PUNCH_PROBE_MAX_MS;
}

static void
probe_round(struct peer *p)
{
	probe_family(p, AF_UNSPEC);
	probe_again(p);
}

/* The peer's relayed address a is (one of its RDV_CAND_RELAY)? */
static int
is_peer_relay(const struct peer *p, const struct sockaddr_storage *a)
{
	int i;

	for (i = 0; i < p->ncand; i++)
		if (p->cand[i].kind == RDV_CAND_RELAY &&
		    same_addr(&p->cand[i].addr, a))
			return 1;
	return 0;
}

/*
 * An IPv6 path is preferred to an IPv4 one, a direct one to one through a
 * relay: the higher rank wins.
 */
static int
path_rank(const struct peer *p, const struct sockaddr_storage *a,
    int relayed)
{
	if (relayed || is_peer_relay(p, a))
		return -1;
	return a->ss_family == AF_INET6;
}

/*
 * Up over IPv4 and the peer has IPv6 addresses: IPv6 is probed still
 * (with each keep-alive, and as often as at first during the attempt's
 * probing time), and taken if it answers.
 */
static int
v6_wanted(const struct peer *p)
{
	int i;

	if (p->state != P_UP || path_rank(p, &p->path, p->relayed) > 0)
		return 0;
	for (i = 0; i < p->ncand; i++)
		if (p->cand[i].addr.ss_family == AF_INET6)
			return 1;
	for (i = 0; i < p->nprflx; i++)
		if (p->prflx[i].ss_family == AF_INET6)
			return 1;
	return 0;
}

static int
v6_pending(const struct peer *p)
{
	return v6_wanted(p) &&
	    loop_now() - p->probing_since < PUNCH_ATTEMPT_MS;
}

static void
learn_prflx(struct peer *p, const struct sockaddr_storage *from)
{
	int i;

	for (i = 0; i < p->ncand; i++)
		if (same_addr(&p->cand[i].addr, from))
			return;
	for (i = 0; i < p->nprflx; i++)
		if (same_addr(&p->prflx[i], from))
			return;
	if (p->nprflx < (int)(sizeof(p->prflx) / sizeof(p->prflx[0])))
		p->prflx[p->nprflx++] = *from;
}

static void
got_probe(struct peer *p, const uint8_t *b, size_t len,
    const struct sockaddr_storage *from, int relayed)
{
	uint8_t ack[ACK_LEN];

	if (len != PROBE_LEN && len != PROBE_LEN_OLD)
		return;
	/* the peer connects to us (an older node's probe says nothing: it may) */
	if (len == PROBE_LEN_OLD || (b[5] & PROBE_WANTED))
		p->used_at = loop_now();
	memset(ack, 0, sizeof(ack));
	ack[0] = KIND_ACK;
	memcpy(ack + 1, b + 1, 4);
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)from;

		ack[5] = 4;
		memcpy(ack + 6, &s->sin_port, 2);
		memcpy(ack + 8, &s->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s = (const void *)from;

		ack[5] = 6;
		memcpy(ack + 6, &s->sin6_port, 2);
		memcpy(ack + 8, &s->sin6_addr, 16);
	}
	seal_send(p, from, relayed, ack, sizeof(ack));
	if (!relayed)
		learn_prflx(p, from);
	/*
	 * Probing: a probe of ours back to where the peer's came from at
	 * once (a triggered check), not at the next paced round.  The peer
	 * is up on our ACK; without it, a peer whose probes began to arrive
	 * late in our attempt (its NAT's mapping or our gateway's came
	 * late) would be up while our attempt ends unanswered, and its data
	 * would go nowhere until its keep-alives went unanswered.
	 */
	if (p->state == P_PROBING) {
		p->probe_in_at = loop_now();
		if (loop_now() - p->triggered_at >= PUNCH_TRIGGERED_MS) {
			p->triggered_at = loop_now();
			send_probe(p, from, relayed);
		}
	}
	/*
	 * Relayed, and the peer's direct probe got here: ours back at once
	 * (at most one a second), so that both sides find the direct path
	 * together, not each at its own retry time, and make the direct
	 * carrier at the same time.
	 */
	if (!relayed && p->state == P_UP && path_rank(p, &p->path,
	    p->relayed) < 0 && pu.relay_policy != CONF_RELAY_ALWAYS &&
	    loop_now() - p->triggered_at >= 1000) {
		p->triggered_at = loop_now();
		send_probe(p, from, 0);
	}
	/* the responder whose ANSWER is late: the probe says go */
	if (p->state == P_OFFERED)
		start_probing(p);
}

/*
 * The candidate kind of the path to from, the ACK b having come from
 * there: "mapped" when from is the peer's gateway mapping or when the
 * peer saw our probe come from ours (the ACK says where from), else the
 * kind of the peer's candidate it is, or "prflx" (learnt from a probe).
 */
static const char *
path_via(const struct peer *p, const uint8_t *b,
    const struct sockaddr_storage *from)
{
	struct sockaddr_storage mine;
	const struct sockaddr_in *sm = (const void *)&mine;
	int i;

	if (is_peer_relay(p, from))
		return "relay";
	for (i = 0; i < p->ncand; i++)
		if (p->cand[i].kind == RDV_CAND_MAPPED &&
		    same_addr(&p->cand[i].addr, from))
			return "mapped";
	if (b[5] == 4 && own_mapped(DRV_UDP, pu.port, &mine) == 0 &&
	    memcmp(b + 6, &sm->sin_port, 2) == 0 &&
	    memcmp(b + 8, &sm->sin_addr, 4) == 0)
		return "mapped";
	for (i = 0; i < p->ncand; i++)
		if (same_addr(&p->cand[i].addr, from))
			return p->cand[i].kind == RDV_CAND_HOST ? "host" :
			    "srflx";
	return "prflx";
}

static int	relay_standby(const struct peer *);

/*
 * An ACK through the relay while the path is direct: the relayed path
 * beside it, for the peer's relay=always services (else nothing).
 */
static void	rpath_said(struct peer *);

static void
rpath_acked(struct peer *p, const struct sockaddr_storage *from, int relayed)
{
	int was = rpath_up(p);

	if (!peer_wants_rpath(p))
		return;
	p->rpath = *from;
	p->rpath_relayed = relayed;
	p->rpath_ack = loop_now();
	p->rpath_retry = 0;
	if (!was && p->state == P_UP)
		rpath_said(p);
}

static void
rpath_said(struct peer *p)
{
	char a[64], srv[64];

	log_info("punch: %s: relayed path up beside the direct one, to %s "
	    "through TURN server %s, for its relay=always services", p->node,
	    addr_str(&p->rpath, a, sizeof(a)),
	    relay_server_str(srv, sizeof(srv)));
	status_push();
}

/* A probe to each of the peer's relayed addresses, through our relay. */
static int
rpath_probe(struct peer *p)
{
	int i, n = 0;

	if (!relay_is_up())
		return 0;
	for (i = 0; i < p->ncand; i++)
		if (p->cand[i].kind == RDV_CAND_RELAY) {
			send_probe(p, &p->cand[i].addr, 1);
			n++;
		}
	return n;
}

/*
 * The keep-alive of the relayed path beside a direct one.  None up for
 * PUNCH_PATH_DEAD_MS (the peer's relay had no allocation at the OFFER, or
 * made a new one since): the side that connects punches again through
 * the rendezvous, for both sides' relayed addresses, 30 s doubling to
 * 10 min between tries.  -1 when an attempt began.
 */
static int
rpath_keep(struct peer *p)
{
	int n = rpath_probe(p);

	if (rpath_up(p) || !p->wanted || !relay_is_up() ||
	    loop_now() - p->rpath_since < PUNCH_PATH_DEAD_MS ||
	    loop_now() < p->rpath_next)
		return 0;
	p->rpath_next = loop_now() + loop_backoff(&p->rpath_retry,
	    PUNCH_RETRY_MS, PUNCH_RETRY_MAX_MS);
	log_info("punch: %s: no relayed path beside the direct one for its "
	    "relay=always services (%s); punching again through the "
	    "rendezvous", p->node, n == 0 ? "it offered no relayed address" :
	    "its relayed address does not answer");
	p->attempt = 0;
	peer_attempt(p);
	return -1;
}

static void
got_ack(struct peer *p, const uint8_t *b, size_t len,
    const struct sockaddr_storage *from, int relayed)
{
	char a[64], srv[64];
	const char *via;
	uint32_t seq;
	int upgrade, rank, was_relayed;

	if (len != ACK_LEN)
		return;
	seq = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 8 | b[4];
	if (seq == p->probe_seq_timed && p->probe_sent_at != 0) {
		p->path_rtt = loop_now() - p->probe_sent_at;
		p->probe_seq_timed = 0;
	}
	if (p->state == P_UP && same_addr(from, &p->path) &&
	    relayed == p->relayed) {
		p->last_ack = loop_now();
		p->failed_over = 0;
		p->unacked = 0;
		/*
		 * The same address, another kind: a path punched to our
		 * server-reflexive endpoint before our gateway mapping of
		 * it came back is over the mapping now (and ends with it)
		 */
		via = path_via(p, b, from);
		if (p->via == NULL || strcmp(via, p->via) != 0) {
			log_info("punch: %s: the path to %s is now via %s "
			    "(was %s)", p->node, addr_str(from, a, sizeof(a)),
			    via, p->via != NULL ? p->via : "none");
			p->via = via;
			status_push();
		}
		return;
	}
	if (p->state != P_PROBING && p->state != P_UP)
		return;
	/*
	 * An IPv6 path is kept over IPv4, IPv6 replaces IPv4; a direct path
	 * replaces one through a relay, never the other way round.
	 */
	rank = path_rank(p, from, relayed);
	if (p->state == P_UP && rank < path_rank(p, &p->path, p->relayed)) {
		if (rank < 0)
			rpath_acked(p, from, relayed);
		return;
	}
	/* a relay only for the relayed path beside: not the path itself */
	if (rank < 0 && !pu.relay_paths &&
	    pu.relay_policy != CONF_RELAY_ALWAYS) {
		rpath_acked(p, from, relayed);
		return;
	}
	upgrade = p->state == P_UP && rank > path_rank(p, &p->path,
	    p->relayed);
	was_relayed = p->state == P_UP && path_rank(p, &p->path,
	    p->relayed) < 0;
	/* the relayed path stays beside the direct one, if wanted */
	if (was_relayed && rank >= 0 && p->relayed)
		rpath_acked(p, &p->path, p->relayed);
	if (p->state != P_UP)
		p->rpath_since = loop_now();
	p->last_ack = loop_now();
	p->path = *from;
	p->relayed = relayed;
	p->via = path_via(p, b, from);
	p->retry = 0;
	p->failed_over = 0;
	p->unacked = 0;
	peer_set_state(p, P_UP);
	status_push();
	if (rank < 0) {
		p->direct_retry = 0;
		p->direct_next = loop_now() + loop_backoff(&p->direct_retry,
		    PUNCH_RETRY_MS, PUNCH_RETRY_MAX_MS);
		log_info("punch: %s: relayed path up, to %s through TURN "
		    "server %s (attempt %u, %llu ms after the first probe)",
		    p->node, addr_str(from, a, sizeof(a)),
		    relay_server_str(srv, sizeof(srv)), p->attempt,
		    (unsigned long long)(loop_now() - p->probing_since));
	} else
		log_info("punch: %s: direct path %s, to %s via %s (attempt %u, "
		    "%llu ms after the first probe)", p->node, upgrade ?
		    (from->ss_family == AF_INET6 ? "now over IPv6" :
		    "up, the relay left") : "up", addr_str(from, a, sizeof(a)),
		    p->via, p->attempt,
		    (unsigned long long)(loop_now() - p->probing_since));
	/* the relay left: new streams go direct too, once a carrier is */
	if (upgrade && rank >= 0 && was_relayed)
		carrier_upgrade(p);
	if (rank >= 0 && peer_wants_rpath(p)) {
		if (rpath_up(p))
			rpath_said(p);	/* acknowledged while probing */
		else
			rpath_probe(p);
	}
	if (v6_pending(p))
		probe_again(p);
	else
		timer_set(&p->timer, loop_jitter(relay_standby(p) ?
		    PUNCH_KEEPALIVE_STANDBY_MS : PUNCH_KEEPALIVE_MS, 10));
}

static void	flow_in(struct peer *, const uint8_t *, size_t,
		    const struct sockaddr_storage *, int);

static struct peer *
peer_by_index(const uint8_t idx[SESSION_INDEX_LEN])
{
	struct peer *p;

	for (p = pu.peers; p != NULL; p = p->next)
		if (p->sess != NULL &&
		    memcmp(p->own_index, idx, SESSION_INDEX_LEN) == 0)
			return p;
	return NULL;
}

/*
 * One datagram on a punching socket, in slot memory, or through our relay
 * (relayed): d, n bytes, in cap bytes it is opened in.
 */
static void
punch_in(uint8_t *d, size_t n, size_t cap, const struct sockaddr_storage *from,
    int relayed)
{
	uint8_t idx[SESSION_INDEX_LEN], type, *pl = d + SESSION_UDP_HDR_LEN;
	struct peer *p;
	int m;

	if (n > 0 && d[0] <= 3) {
		if (relayed)
			return;
		stun_answer(d, n);
		return;
	}
	if (session_udp_index(d, n, idx) == -1 ||
	    (p = peer_by_index(idx)) == NULL)
		return;
	/* opened in place: the payload where the ciphertext was */
	m = session_udp_open(p->sess, d, n, &type, pl,
	    cap - SESSION_UDP_HDR_LEN);
	if (m < 1) {
		p->dropped++;
		return;
	}
	p->rx_bytes += (uint64_t)n;
	switch (pl[0]) {
	case KIND_PROBE:
		got_probe(p, pl, (size_t)m, from, relayed);
		break;
	case KIND_ACK:
		got_ack(p, pl, (size_t)m, from, relayed);
		break;
	case MUX_FLOW_TYPE:
		/* through a relay: ours, or from the peer's relayed address */
		if (p->state == P_UP)
			flow_in(p, pl, (size_t)m, from, relayed);
		break;
	default:
		p->dropped++;
	}
}

static void
punch_read(struct loop_fd *lfd, int revents)
{
	int r, i, n;

	(void)revents;
	for (r = 0; r < READ_ROUNDS; r++) {
		n = udpbatch_recv(batch, lfd->fd, 0, udpbatch_slot_size(batch),
		    UDPBATCH_SLOTS);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_debug("punch: receive: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++)
			if (!udpbatch_cut(batch, i))
				punch_in(udpbatch_slot(batch, i),
				    udpbatch_len(batch, i),
				    udpbatch_slot_size(batch),
				    udpbatch_from(batch, i), 0);
		/* what flow_in queued for the services and clients */
		udpbatch_flush(batch);
		if (n < UDPBATCH_SLOTS)
			return;
	}
}

/*
 * Could the relay carry p's path if its direct one ended: relay fallback,
 * the path direct, and the rendezvous offering a TURN server?
 */
static int
relay_standby(const struct peer *p)
{
	struct rdv_turn t;

	if (pu.relay_policy != CONF_RELAY_FALLBACK || p->state != P_UP ||
	    path_rank(p, &p->path, p->relayed) < 0)
		return 0;
	if (pu.relay != NULL)
		return 1;
	if (rdv_client_turn(&t) == -1)
		return 0;
	rdv_turn_wipe(&t);
	return 1;
}

/*
 * The direct path went silent while a relay could carry it: a relay, and
 * the side that connects punches again at once through the rendezvous,
 * our relayed address among the candidates (relay_on_up does when the
 * allocation comes; PUNCH_FAILOVER_RELAY_WAIT_MS at most).  The other side
 * makes its relay ready for that CONNECT and keeps the path till then (it
 * ends as every silent path if none comes).
 */
static void
path_failover(struct peer *p)
{
	char a[64];

	p->failed_over = 1;
	log_warnx("punch: %s: no answer on the direct path to %s for %d s; "
	    "to the relay", p->node, addr_str(&p->path, a, sizeof(a)),
	    PUNCH_PATH_FAILOVER_MS / 1000);
	snprintf(p->why, sizeof(p->why), "the direct path to %s went silent",
	    a);
	if (relay_ensure("a direct path went silent") == -1 || !p->wanted)
		return;
	/* the carrier went over the same path: the new session makes one */
	if (p->carrier != NULL) {
		carrier_free(p->carrier);
		p->carrier = NULL;
		p->carrier_dead = 0;
		timer_stop(&p->reap);
	}
	peer_rcarrier_free(p);
	p->attempt = 0;
	if (relay_is_up()) {
		peer_attempt(p);
		return;
	}
	peer_set_state(p, P_IDLE);
	status_push();
	timer_set(&p->timer, PUNCH_FAILOVER_RELAY_WAIT_MS);
}

static void
peer_timer_cb(struct timer *t)
{
	struct peer *p = container_of(t, struct peer, timer);
	int standby;

	switch (p->state) {
	case P_IDLE:
		/* waiting for the other side's attempt, or for a registration */
		if (p->attempt > 0 && !leads(p, p->attempt + 1u)) {
			peer_fail(p, "the other side's attempt %u never came",
			    p->attempt + 1u);
			return;
		}
		if (p->wanted)
			peer_attempt(p);
		break;
	case P_FAILED:
		if (p->wanted)
			peer_attempt(p);
		break;
	case P_CONNECTING:
		if (p->signals < 3) {
			p->signals++;
			signal_send(p, p->connect, p->connect_len);
			timer_set(&p->timer, PUNCH_SIGNAL_WAIT_MS);
		} else
			attempt_over(p, "no OFFER came back through the "
			    "rendezvous");
		break;
	case P_OFFERED:
		if (p->offer_held) {
			if (offer_send(p) == -1)
				attempt_over(p, "no OFFER made");
			break;
		}
		attempt_over(p, "no ANSWER came and no probe arrived");
		break;
	case P_WAITING:
		start_probing(p);
		break;
	case P_PROBING:
		/* (a probe of the peer's just in: a little longer, for its ACK) */
		if (loop_now() - p->probing_since >= PUNCH_ATTEMPT_MS &&
		    p->probe_in_at != 0 &&
		    loop_now() - p->probe_in_at < PUNCH_TRIGGERED_GRACE_MS &&
		    loop_now() - p->probing_since < PUNCH_ATTEMPT_MS +
		    PUNCH_TRIGGERED_GRACE_MS) {
			timer_set(&p->timer, PUNCH_TRIGGERED_MS);
			break;
		}
		if (loop_now() - p->probing_since >= PUNCH_ATTEMPT_MS) {
			attempt_over(p, p->nprflx > 0 ? "probes arrived but "
			    "none of ours was acknowledged" : "no probe "
			    "arrived either way");
			return;
		}
		probe_round(p);
		break;
	case P_UP:
		standby = relay_standby(p) && !p->failed_over;
		/* the look half-way: the keep-alive answered, the next in time */
		if (standby && p->unacked == 0 && !v6_pending(p) &&
		    loop_now() - p->ka_sent_at < PUNCH_KEEPALIVE_STANDBY_MS) {
			timer_set(&p->timer, loop_jitter(
			    PUNCH_KEEPALIVE_STANDBY_MS -
			    (loop_now() - p->ka_sent_at), 10));
			break;
		}
		/*
		 * Silent, and probed without an answer for long enough: a
		 * timer that fired late (a loaded machine) is not silence
		 */
		if (standby &&
		    loop_now() - p->last_ack >= PUNCH_PATH_FAILOVER_MS &&
		    p->unacked >= PUNCH_FAILOVER_PROBES &&
		    loop_now() - p->unacked_since >= PUNCH_PATH_FAILOVER_MS -
		    PUNCH_KEEPALIVE_STANDBY_MS) {
			path_failover(p);
			if (p->state != P_UP)
				return;
		}
		if (loop_now() - p->last_ack >= PUNCH_PATH_DEAD_MS) {
			char a[64];

			log_warnx("punch: %s: the path to %s is silent; "
			    "probing again", p->node,
			    addr_str(&p->path, a, sizeof(a)));
			if (!p->relayed)
				learn_prflx(p, &p->path);
			start_probing(p);
			/* probing ends in a new attempt through the rendezvous */
			p->attempt = 0;
			p->opener = p->wanted;
			return;
		}
		if (v6_wanted(p))
			probe_family(p, AF_INET6);
		/* relayed: the direct candidates again, 30 s doubling */
		if (path_rank(p, &p->path, p->relayed) < 0 &&
		    pu.relay_policy != CONF_RELAY_ALWAYS &&
		    loop_now() >= p->direct_next) {
			log_debug("punch: %s: relayed; probing for a direct "
			    "path", p->node);
			probe_family(p, AF_UNSPEC);
			p->direct_next = loop_now() + loop_backoff(
			    &p->direct_retry, PUNCH_RETRY_MS,
			    PUNCH_RETRY_MAX_MS);
		}
		if (peer_wants_rpath(p) && path_rank(p, &p->path,
		    p->relayed) >= 0 && rpath_keep(p) == -1)
			return;
		if (acarrier_keep(p) == -1)
			return;
		send_probe(p, &p->path, p->relayed);	/* the one timed: last */
		p->ka_sent_at = loop_now();
		if (p->unacked++ == 0)
			p->unacked_since = p->ka_sent_at;
		if (v6_pending(p))
			probe_again(p);
		else if (standby)
			/* a look half-way, then every PUNCH_PROBE_LATE_MS */
			timer_set(&p->timer, p->unacked > 1 ?
			    PUNCH_PROBE_LATE_MS :
			    PUNCH_KEEPALIVE_STANDBY_MS / 2);
		else
			timer_set(&p->timer, loop_jitter(PUNCH_KEEPALIVE_MS,
			    10));
		break;
	}
}

/*
 * Our gateway mapping went: a path over it goes with it.  The side that
 * connects punches again at once through the rendezvous (the candidates
 * now without the mapping); the other waits for its CONNECT, and a path
 * left silent is probed and ends as every silent path does.
 */
static void
mapping_lost(void)
{
	struct peer *p;
	int i, peers;

	for (p = pu.peers; p != NULL; p = p->next) {
		if (p->state != P_UP || p->via == NULL ||
		    strcmp(p->via, "mapped") != 0)
			continue;
		for (i = 0, peers = 0; i < p->ncand; i++)
			if (p->cand[i].kind == RDV_CAND_MAPPED &&
			    same_addr(&p->cand[i].addr, &p->path))
				peers = 1;
		if (peers)
			continue;	/* over the peer's mapping, not ours */
		log_info("punch: %s: the path was over our gateway mapping%s",
		    p->node, p->wanted ? "; punching again" : "");
		snprintf(p->why, sizeof(p->why), "our gateway mapping is "
		    "gone: punching");
		if (p->wanted) {
			p->attempt = 0;
			peer_attempt(p);
		}
	}
}

/* The peer's relay was not up at its OFFER: punch again, if still no path. */
static void
peer_relay_wait_cb(struct timer *t)
{
	struct peer *p = container_of(t, struct peer, relay_wait);

	if (p->state == P_UP || !p->wanted || !relay_is_up())
		return;
	log_info("punch: %s: its relay was not up; punching again", p->node);
	p->attempt = 0;
	peer_attempt(p);
}

/* ---- the TCP carrier ---- */

static int
carrier_service(const char *peer, const char *name, int relayed,
    struct sockaddr_storage *target, void *arg)
{
	const struct conf_expose *e;

	(void)arg;
	if ((e = expose_find(name, CONF_TCP)) == NULL) {
		log_info("punch: %s: a stream to %s/tcp refused: not exposed",
		    peer, name);
		return MUX_RST_NOT_EXPOSED;
	}
	if (!exposed_to(peer, name, CONF_TCP)) {
		log_info("punch: %s: a stream to %s/tcp refused: not allowed",
		    peer, name);
		return MUX_RST_NOT_ALLOWED;
	}
	/* defence: the peer may be older, or say otherwise */
	if (!config_relay_allows(expose_relay(e), relayed)) {
		kept_off(&pu.expose_kept[e - pu.expose], 1, "%s: a stream to "
		    "%s/tcp refused: it is relay=never and came over the TCP "
		    "carrier through the relay", peer, name);
		return MUX_RST_NO_RELAY;
	}
	if (svc_always(e->relay_set, e->relay) && !relayed) {
		kept_off(&pu.expose_kept[e - pu.expose], 1, "%s: a stream to "
		    "%s/tcp refused: it is relay=always and came over the "
		    "direct TCP carrier", peer, name);
		return MUX_RST_RELAY_ONLY;
	}
	*target = e->target;
	return 0;
}

static void
carrier_up_cb(struct carrier *c, void *arg)
{
	struct peer *p = arg;
	char a[64];

	if (c == p->acarrier) {
		log_info("punch: %s: TCP carrier through the relay up beside "
		    "the direct one, to %s, for its relay=always services",
		    p->node, addr_str(carrier_remote(c), a, sizeof(a)));
		p->aretry = 0;
		waiters_settle(p->node, c, NULL, 0);
		status_push();
		return;
	}
	log_info("punch: %s: TCP carrier up, to %s (attempt %u)%s", p->node,
	    addr_str(carrier_remote(c), a, sizeof(a)), p->attempt,
	    c == p->carrier && p->rcarrier != NULL ? ", direct, beside the "
	    "one through the relay: new streams go over it" : "");
	p->carrier_up_at = loop_now();
	if (c == p->carrier && p->rcarrier != NULL) {
		p->rcarrier_idle = 0;
		timer_set(&p->drain, PUNCH_DRAIN_MS);
	}
	/* the clients that came before it */
	waiters_settle(p->node, peer_carrier(p), NULL, 0);
	acarrier_try(p);
	status_push();
}

/* A connect statement of ours to p is TCP: it needs the carrier. */
static int
wants_tcp(const struct peer *p)
{
	const struct listener *l;

	for (l = pu.listeners; l != NULL; l = l->next)
		if (l->tcp && strcmp(l->c.node, p->node) == 0)
			return 1;
	return 0;
}

/*
 * A try toward p found the carrier port's four numbers toward it held by
 * an earlier connection of ours (carrier_held: a half-open one from the
 * peer, whose SYN-ACK was lost): no SYN of ours leaves on them until it
 * ends, and the NATs keep the peer's SYNs from passing meanwhile.  The
 * next session punches from another port.
 */
static void
tcp_port_move(const struct peer *p)
{
	uint16_t old = pu.tcp_port, port;

	if (old == 0 || carrier_port_move(&port) == -1)
		return;
	pu.tcp_port = port;
	log_info("punch: %s: TCP port %u is held toward it by an earlier "
	    "connection; punching TCP from port %u now", p->node, old, port);
	if (pu.own_tcp) {
		mapping_own_remove(DRV_TCP, old);
		pu.own_tcp = 0;
		if (mapping_own_add(DRV_TCP, port, "punch") == 0)
			pu.own_tcp = 1;
	}
	status_push();
}

static void
carrier_down_cb(struct carrier *c, const char *why, void *arg)
{
	struct peer *p = arg;
	struct carrier *other;
	uint64_t d;

	if (c == p->acarrier) {
		log_info("punch: %s: TCP carrier through the relay beside the "
		    "direct one %s: %s", p->node, carrier_was_up(c) ? "down" :
		    "not made", why);
		p->acarrier_dead = 1;
		timer_set(&p->reap, 0);
		status_push();
		return;
	}
	log_info("punch: %s: TCP carrier%s %s: %s", p->node,
	    c == p->rcarrier ? " through the relay" : "",
	    carrier_was_up(c) ? "down" : "not made", why);
	if (c == p->rcarrier) {
		p->rcarrier_dead = 1;
		other = p->carrier;
	} else {
		p->carrier_dead = 1;
		other = p->rcarrier;
		if (!carrier_was_up(c) && carrier_held(c))
			tcp_port_move(p);
	}
	timer_set(&p->reap, 0);
	/* the other one of an upgrade carries new streams: nothing lost */
	if (carrier_is_up(other)) {
		log_info("punch: %s: new streams go over the TCP carrier %s",
		    p->node, carrier_relayed(other) ? "through the relay" :
		    "direct");
		status_push();
		return;
	}
	/*
	 * The side that connects wants it back: new keys, so a new session.
	 * One not made while the UDP path came up too, if a TCP connect
	 * needs it (a NAT that reset every SYN of the attempt; TCP blocked
	 * for a while): tried again the same way, the waits doubling, so
	 * that a carrier missed once is not missed until the path ends.
	 */
	if (p->wanted && p->state == P_UP &&
	    (carrier_was_up(c) || wants_tcp(p))) {
		if (carrier_was_up(c) &&
		    loop_now() - p->carrier_up_at >= PUNCH_RECARRIER_STABLE_MS)
			p->recarrier = 0;
		d = loop_backoff(&p->recarrier, PUNCH_RECARRIER_MS,
		    PUNCH_RETRY_MAX_MS);
		log_info("punch: %s: a new session for a new carrier in %llu "
		    "ms", p->node, (unsigned long long)d);
		timer_set(&p->recarrier_timer, d);
	}
	status_push();
}

/* The carrier lost while the path is up: a new session makes a new one. */
static void
peer_recarrier_cb(struct timer *t)
{
	struct peer *p = container_of(t, struct peer, recarrier_timer);

	if (p->state != P_UP || !p->wanted || peer_carrier(p) != NULL)
		return;
	log_info("punch: %s: a new session through the rendezvous, for the "
	    "TCP carrier", p->node);
	p->attempt = 0;
	peer_attempt(p);
}

static const struct carrier_ops carrier_ops = {
	.service = carrier_service,
	.up = carrier_up_cb,
	.down = carrier_down_cb,
};

/* The session's carrier parameters: number 0, a try of within_ms. */
static void
carrier_params_of(const struct peer *p, struct carrier_params *cp,
    uint64_t within_ms)
{
	memset(cp, 0, sizeof(*cp));
	cp->peer = p->node;
	cp->initiator = p->initiator;
	memcpy(cp->sid, p->sid, sizeof(cp->sid));
	cp->attempt = p->attempt;
	cp->keys = &p->keys;
	cp->cand = p->tcand;
	cp->ncand = p->ntcand;
	cp->deadline = loop_now() + within_ms;
}

/*
 * The peer offered no TCP candidate for a carrier this session (its TCP
 * relayed address not up when it answered, as after a TURN server's
 * restart), while a TCP connect of ours needs one and none is up: a new
 * session later, as for a carrier not made, so that the connects do not
 * wait for a carrier that no event would bring.
 */
static void
carrier_none(struct peer *p)
{
	uint64_t d;

	if (!p->wanted || !wants_tcp(p) || peer_carrier(p) != NULL ||
	    timer_armed(&p->recarrier_timer))
		return;
	d = loop_backoff(&p->recarrier, PUNCH_RECARRIER_MS,
	    PUNCH_RETRY_MAX_MS);
	log_info("punch: %s: no TCP candidate of its for a carrier; a new "
	    "session in %llu ms", p->node, (unsigned long long)d);
	timer_set(&p->recarrier_timer, d);
}

/*
 * Beside the UDP probes, the TCP simultaneous open, when both sides have
 * a carrier port and no carrier is up already.
 */
static void
carrier_begin(struct peer *p)
{
	struct carrier_params cp;

	if (pu.tcp_port == 0 || !p->have_keys)
		return;
	if (p->ntcand == 0 && (p->trelay.ss_family == AF_UNSPEC ||
	    p->trelay_beside)) {
		carrier_none(p);
		return;
	}
	/* an upgrade's pair: the one up carries on (carrier number 0 of
	 * these keys may be the relayed one's: not made twice) */
	if (p->rcarrier != NULL)
		return;
	if (p->carrier != NULL) {
		if (carrier_is_up(p->carrier))
			return;
		carrier_free(p->carrier);
		p->carrier = NULL;
		p->carrier_dead = 0;
		timer_stop(&p->reap);
	}
	carrier_params_of(p, &cp, PUNCH_ATTEMPT_MS);
	p->carrier = carrier_start(&cp, &carrier_ops, p);
	/* the peer's connection through the relay that came first */
	if (p->held_fd != -1) {
		if (p->carrier != NULL &&
		    loop_now() - p->held_at < PUNCH_ATTEMPT_MS)
			(void)carrier_take_conn(p->carrier, p->held_fd);
		else
			close(p->held_fd);
		p->held_fd = -1;
	}
	/*
	 * Through the relays too (RFC 6062): the attempt's initiator
	 * connects from its TCP allocation to the peer's, which takes it as
	 * a ConnectionAttempt; the HELLOs then as on any connection.
	 */
	if (p->carrier != NULL && p->initiator && pu.trelay != NULL &&
	    pu.trelayed.ss_family != AF_UNSPEC && (pu.relay_paths ||
	    pu.relay_policy == CONF_RELAY_ALWAYS) &&
	    p->trelay.ss_family != AF_UNSPEC && !p->trelay_beside &&
	    relay_connect(pu.trelay, &p->trelay) == -1)
		log_debug("punch: %s: relay connect: %s", p->node,
		    strerror(errno));
}

/*
 * The path went direct while the carrier runs through the relay: a direct
 * carrier beside it, number 1 of the session's keys (carrier_keys), so
 * that new streams go direct once it is up; the relayed one keeps its
 * streams until they end (peer_drain_cb).  Once per set of keys: number 1
 * is not made twice.  Not made: new streams stay on the relayed one.
 */
static void
carrier_upgrade(struct peer *p)
{
	struct carrier_params cp;
	struct carrier *c;
	const char *why = NULL;

	if (!carrier_relayed(p->carrier) || p->rcarrier != NULL)
		return;
	if (p->upgraded)
		why = "a direct one was made with this session's keys already";
	else if (!p->have_keys)
		why = "no keys";
	else if (pu.tcp_port == 0 || p->ntcand == 0)
		why = "no direct TCP candidate";
	if (why != NULL) {
		log_info("punch: %s: the TCP carrier stays through the relay: "
		    "%s", p->node, why);
		return;
	}
	carrier_params_of(p, &cp, PUNCH_UPGRADE_MS);
	cp.gen = 1;
	if ((c = carrier_start(&cp, &carrier_ops, p)) == NULL)
		return;
	p->upgraded = 1;
	p->rcarrier = p->carrier;
	p->carrier = c;
	log_info("punch: %s: making a direct TCP carrier beside the one "
	    "through the relay", p->node);
}

/* Does this node connect to a TCP service of p's with relay=always? */
static int
peer_wants_acarrier(const struct peer *p)
{
	const struct listener *l;

	if (!pu.some_always)
		return 0;
	for (l = pu.listeners; l != NULL; l = l->next)
		if (l->tcp && strcmp(l->c.node, p->node) == 0 &&
		    svc_always(l->c.relay_set, l->c.relay))
			return 1;
	return 0;
}

/* p's carrier is up and direct: a carrier beside it may be made. */
static int
carrier_direct_up(const struct peer *p)
{
	return p->state == P_UP && carrier_is_up(p->carrier) &&
	    !carrier_relayed(p->carrier) && p->rcarrier == NULL;
}

/*
 * The carrier through the relays beside a direct one, number 2 of the
 * session's keys (carrier_keys): no candidate of its own, it takes the
 * RFC 6062 connection that our TCP allocation makes to the peer's, or
 * that the peer's makes to ours.  Once per set of keys: number 2 is not
 * made twice.
 */
static void
acarrier_start(struct peer *p)
{
	struct carrier_params cp;

	if (p->acarrier != NULL || p->amade || !p->have_keys)
		return;
	carrier_params_of(p, &cp, PUNCH_ATTEMPT_MS);
	cp.cand = NULL;
	cp.ncand = 0;
	cp.gen = 2;
	if ((p->acarrier = carrier_start(&cp, &carrier_ops, p)) == NULL)
		return;
	p->amade = 1;
	p->aours = 0;
	p->acarrier_dead = 0;
}

/*
 * relay=always for a TCP service of p's that this node connects to, the
 * carrier direct: the carrier beside it made, when both sides' TCP
 * relayed addresses are known and number 2 of these keys is unused.
 */
static void
acarrier_try(struct peer *p)
{
	if (p->acarrier != NULL || p->amade || !p->have_keys ||
	    !carrier_direct_up(p) || !peer_wants_acarrier(p) ||
	    pu.trelay == NULL || pu.trelayed.ss_family == AF_UNSPEC ||
	    p->trelay.ss_family == AF_UNSPEC)
		return;
	acarrier_start(p);
	if (p->acarrier == NULL)
		return;
	p->aours = 1;
	log_info("punch: %s: making a TCP carrier through the relay beside "
	    "the direct one, for its relay=always services", p->node);
	if (relay_connect(pu.trelay, &p->trelay) == -1)
		log_debug("punch: %s: relay connect: %s", p->node,
		    strerror(errno));
}

/*
 * At each keep-alive of the path: the carrier beside a direct one for
 * p's relay=always TCP services, made (acarrier_try), or, when it cannot
 * be made with this session (the peer offered no TCP relayed address,
 * number 2 of its keys is spent), a new session through the rendezvous
 * from the side that connects, 30 s doubling to 10 min.  -1 when an
 * attempt began.
 */
static int
acarrier_keep(struct peer *p)
{
	struct carrier_stats cs;
	const char *why;

	/* ours, and no relay=always TCP connect left: closed once idle */
	if (p->acarrier != NULL && p->aours && !p->acarrier_dead &&
	    !peer_wants_acarrier(p)) {
		carrier_get_stats(p->acarrier, &cs);
		if (cs.streams == 0) {
			log_info("punch: %s: the TCP carrier through the relay "
			    "beside the direct one closed: no relay=always "
			    "TCP connect to it left", p->node);
			p->acarrier_dead = 1;
			timer_set(&p->reap, 0);
			status_push();
		}
		return 0;
	}
	if (p->acarrier != NULL || !p->wanted || !carrier_direct_up(p) ||
	    !peer_wants_acarrier(p) || pu.trelay == NULL ||
	    pu.trelayed.ss_family == AF_UNSPEC)
		return 0;
	acarrier_try(p);
	if (p->acarrier != NULL || loop_now() < p->anext)
		return 0;
	p->anext = loop_now() + loop_backoff(&p->aretry, PUNCH_RETRY_MS,
	    PUNCH_RETRY_MAX_MS);
	why = p->trelay.ss_family == AF_UNSPEC ? "it offered no TCP relayed "
	    "address" : p->amade ? "the one of this session is gone" :
	    "no session keys";
	log_info("punch: %s: no TCP carrier through the relay beside the "
	    "direct one for its relay=always services (%s); punching again "
	    "through the rendezvous", p->node, why);
	p->attempt = 0;
	peer_attempt(p);
	return -1;
}

/*
 * The relayed carrier beside a direct one: closed once no stream is left
 * on it for two checks in a row (a stream the peer opened on it just
 * before its own direct carrier came up has arrived by then), while the
 * path is direct.  The peer sees it close; its own check would too.
 */
static void
peer_drain_cb(struct timer *t)
{
	struct peer *p = container_of(t, struct peer, drain);
	struct carrier_stats cs;

	if (p->rcarrier == NULL || p->rcarrier_dead)
		return;
	timer_set(t, PUNCH_DRAIN_MS);
	if (!carrier_is_up(p->carrier) || p->state != P_UP ||
	    path_is_relay(p)) {
		p->rcarrier_idle = 0;
		return;
	}
	carrier_get_stats(p->rcarrier, &cs);
	if (cs.streams > 0) {
		p->rcarrier_idle = 0;
		return;
	}
	if (++p->rcarrier_idle < 2)
		return;
	log_info("punch: %s: the TCP carrier through the relay closed: no "
	    "stream left on it", p->node);
	peer_rcarrier_free(p);
	status_push();
}

/*
 * A client that waited PUNCH_CLIENT_WAIT_MS for a carrier, reset: why,
 * logged, and counted when its relay policy kept it off the carrier up.
 */
static void
waiter_expired(const struct waiter *w)
{
	const struct conf_connect *c = &w->l->c;
	const struct peer *p = peer_find(c->node);
	unsigned long long s = PUNCH_CLIENT_WAIT_MS / 1000;
	int never = connect_relay(c) == CONF_RELAY_NEVER;

	if (p != NULL && peer_carrier(p) != NULL &&
	    (never || svc_always(c->relay_set, c->relay)))
		kept_off(connect_kept(c), 1, "connect %s/%s: relay=%s, and no "
		    "%sTCP carrier %sto %s in %llu s (the one up %s); "
		    "connection reset", c->node, c->service, never ? "never" :
		    "always", never ? "direct " : "", never ? "" : "through "
		    "the relay ", c->node, s, never ? "goes through the relay" :
		    "is direct");
	else
		log_info("punch: connect %s/%s: no TCP carrier to %s in %llu s; "
		    "connection reset", c->node, c->service, c->node, s);
}

/*
 * The clients waiting for a carrier: node's (NULL: any) go to its
 * carrier c when there is one; with c NULL, those of listener l (NULL:
 * all) or that waited long enough (l and node NULL, expired set) are
 * reset.  The timer runs while any wait.
 */
static void
waiters_settle(const char *node, struct carrier *c, const struct listener *l,
    int expired)
{
	struct waiter **wp, *w;
	struct carrier *k;
	struct peer *p;
	uint64_t now = loop_now();

	for (wp = &pu.waiters; (w = *wp) != NULL;) {
		if (c != NULL && node != NULL &&
		    strcmp(w->l->c.node, node) == 0 &&
		    (p = peer_find(node)) != NULL &&
		    (k = connect_carrier(p, &w->l->c)) != NULL)
			carrier_open_stream(k, w->fd, w->l->c.service);
		else if (c == NULL && (l == NULL || w->l == l) && (!expired ||
		    now - w->since >= PUNCH_CLIENT_WAIT_MS)) {
			if (expired)
				waiter_expired(w);
			sock_close_reset(w->fd);
		} else {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		free(w);
		pu.nwaiters--;
	}
	if (pu.waiters == NULL)
		timer_stop(&pu.waiter_timer);
}

static void
waiter_timer_cb(struct timer *t)
{
	(void)t;
	waiters_settle(NULL, NULL, NULL, 1);
	if (pu.waiters != NULL)
		timer_set(&pu.waiter_timer, 1000);
}

/*
 * The carrier a stream of a connect statement c goes over: the one new
 * streams go over, or, when c is relay=never and that one runs through
 * the relay, a direct one up beside it.  NULL: none (yet).
 */
static struct carrier *
connect_carrier(const struct peer *p, const struct conf_connect *c)
{
	struct carrier *k = peer_carrier(p), *other;

	/*
	 * relay=always: the carrier through the relay beside a direct one,
	 * or the relayed one an upgrade keeps until its streams end
	 */
	if (k != NULL && !carrier_relayed(k) &&
	    svc_always(c->relay_set, c->relay)) {
		if (carrier_is_up(p->acarrier))
			return p->acarrier;
		if (carrier_is_up(p->rcarrier) && carrier_relayed(p->rcarrier))
			return p->rcarrier;
		return NULL;
	}
	if (k == NULL || config_relay_allows(connect_relay(c),
	    carrier_relayed(k)))
		return k;
	other = k == p->carrier ? p->rcarrier : p->carrier;
	if (carrier_is_up(other) && !carrier_relayed(other))
		return other;
	return NULL;
}

/* A client connected to a connect statement's TCP port: a stream. */
static void
tcp_accept(struct loop_fd *lfd, int revents)
{
	struct listener *l = container_of(lfd, struct listener, lfd);
	struct waiter *w, **wp;
	struct peer *p;
	int fd, i;

	(void)revents;
	for (i = 0; i < 64; i++) {
		if ((fd = accept(l->fd, NULL, NULL)) == -1)
			return;
		p = peer_find(l->c.node);
		if (p != NULL && connect_carrier(p, &l->c) != NULL) {
			carrier_open_stream(connect_carrier(p, &l->c), fd,
			    l->c.service);
			continue;
		}
		/* no carrier yet: the client waits for one, a while */
		if (pu.nwaiters >= PUNCH_CLIENT_WAIT_MAX ||
		    (w = calloc(1, sizeof(*w))) == NULL) {
			log_info("punch: connect %s/%s: no TCP carrier to %s "
			    "yet, and %zu clients wait already; connection "
			    "reset", l->c.node, l->c.service, l->c.node,
			    pu.nwaiters);
			sock_close_reset(fd);
			continue;
		}
		if (p != NULL && peer_carrier(p) != NULL)
			log_info("punch: connect %s/%s: relay=never, and the "
			    "TCP carrier to %s goes through the relay; the "
			    "connection waits for a direct one (%llu s at most)",
			    l->c.node, l->c.service, l->c.node,
			    (unsigned long long)(PUNCH_CLIENT_WAIT_MS / 1000));
		else
			log_info("punch: connect %s/%s: no TCP carrier to %s "
			    "yet; the connection waits for it (%llu s at most)",
			    l->c.node, l->c.service, l->c.node,
			    (unsigned long long)(PUNCH_CLIENT_WAIT_MS / 1000));
		w->fd = fd;
		w->l = l;
		w->since = loop_now();
		for (wp = &pu.waiters; *wp != NULL; wp = &(*wp)->next)
			;
		*wp = w;
		pu.nwaiters++;
		if (!timer_armed(&pu.waiter_timer))
			timer_set(&pu.waiter_timer, 1000);
	}
}

/* ---- UDP flows ---- */

static struct cflow *
cflow_by_client(const struct listener *l, const struct sockaddr_storage *c)
{
	struct cflow *f;

	for (f = pu.cflows; f != NULL; f = f->next)
		if (f->l == l && same_addr(&f->client, c))
			return f;
	return NULL;
}

/*
 * A batch of datagrams from a client's or a service's socket, each put in
 * its slot where a flow frame of a name of nlen bytes will carry it, so
 * that the frame is built and sealed in place (flow_out).
 */
static int
flow_recv(int fd, size_t nlen)
{
	size_t off = SESSION_UDP_HDR_LEN + MUX_FLOW_HDR_LEN + nlen;

	return udpbatch_recv(batch, fd, off,
	    SESSION_UDP_MAX - CRYPTO_AEAD_TAG_LEN - off, UDPBATCH_SLOTS);
}

/* Slot i's datagram (flow_recv) in fl's frame, sealed, queued to `to`. */
static void
flow_out(struct peer *p, int i, struct mux_flow *fl,
    const struct sockaddr_storage *to, int relayed)
{
	uint8_t *d = udpbatch_slot(batch, i);
	int m, n;

	fl->payload = d + SESSION_UDP_HDR_LEN + MUX_FLOW_HDR_LEN +
	    strlen(fl->name);
	fl->len = udpbatch_len(batch, i);
	if (p->sess == NULL || udpbatch_cut(batch, i) ||
	    (m = mux_flow_build(d + SESSION_UDP_HDR_LEN, udpbatch_slot_size(batch) -
	    SESSION_UDP_OVERHEAD, fl)) < 0 ||
	    (n = session_udp_seal(p->sess, SESSION_UDP_TYPE_MIN,
	    d + SESSION_UDP_HDR_LEN, (size_t)m, d, udpbatch_slot_size(batch))) < 0) {
		p->dropped++;
		return;
	}
	if (relayed) {
		if (!relay_is_up() ||
		    relay_send(pu.relay, to, d, (size_t)n) == -1)
			p->dropped++;
		else
			p->tx_bytes += (uint64_t)n;
		return;
	}
	udpbatch_add(batch, fd_for(to), to, d, (size_t)n, &p->tx_bytes);
}

static void
listener_read(struct loop_fd *lfd, int revents)
{
	struct listener *l = container_of(lfd, struct listener, lfd);
	const struct sockaddr_storage *from, *to;
	struct mux_flow fl;
	struct cflow *f;
	struct peer *p;
	int r, i, n, rel, always = svc_always(l->c.relay_set, l->c.relay);

	(void)revents;
	memset(&fl, 0, sizeof(fl));
	fl.direction = MUX_FLOW_TO_SERVICE;
	snprintf(fl.name, sizeof(fl.name), "%s", l->c.service);
	for (r = 0; r < READ_ROUNDS; r++) {
		if ((n = flow_recv(l->fd, strlen(fl.name))) == -1)
			return;
		p = peer_find(l->c.node);
		for (i = 0; i < n; i++) {
			if (p == NULL || p->state != P_UP) {
				if (p != NULL)
					p->dropped++;
				continue;
			}
			if (!config_relay_allows(connect_relay(&l->c),
			    path_is_relay(p))) {
				kept_off(connect_kept(&l->c), 0, "connect "
				    "%s/%s: relay=never, and the path to %s "
				    "goes through the relay: a datagram dropped",
				    l->c.node, l->c.service, l->c.node);
				continue;
			}
			if (route(p, always, &to, &rel) == -1) {
				kept_off(connect_kept(&l->c), 0, "connect "
				    "%s/%s: relay=always, and no relayed path "
				    "to %s is up: a datagram dropped",
				    l->c.node, l->c.service, l->c.node);
				continue;
			}
			from = udpbatch_from(batch, i);
			if ((f = cflow_by_client(l, from)) == NULL) {
				if (pu.nflows >= PUNCH_FLOWS_MAX ||
				    (f = calloc(1, sizeof(*f))) == NULL)
					continue;
				do
					f->id = loop_random(UINT32_MAX);
				while (f->id == 0);
				f->client = *from;
				f->l = l;
				f->next = pu.cflows;
				pu.cflows = f;
				pu.nflows++;
			}
			f->last = loop_now();
			fl.id = f->id;
			flow_out(p, i, &fl, to, rel);
		}
		udpbatch_flush(batch);
		if (n < UDPBATCH_SLOTS)
			return;
	}
}

static void
sflow_close(struct sflow *f)
{
	struct sflow **pp;

	for (pp = &pu.sflows; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	loop_fd_del(&f->lfd);
	close(f->fd);
	free(f);
	pu.nflows--;
}

static void
sflow_read(struct loop_fd *lfd, int revents)
{
	struct sflow *f = container_of(lfd, struct sflow, lfd);
	const struct conf_expose *e = expose_find(f->name, CONF_UDP);
	const struct sockaddr_storage *to;
	struct mux_flow fl;
	int r, i, n, rel, back;

	(void)revents;
	memset(&fl, 0, sizeof(fl));
	fl.direction = MUX_FLOW_TO_CLIENT;
	fl.id = f->id;
	snprintf(fl.name, sizeof(fl.name), "%s", f->name);
	for (r = 0; r < READ_ROUNDS; r++) {
		if ((n = flow_recv(f->fd, strlen(fl.name))) == -1)
			return;
		f->last = loop_now();
		/* the way the flow came, through the relay beside */
		back = f->in_relay && !path_is_relay(f->p);
		to = back ? &f->from : &f->p->path;
		rel = back ? f->from_relayed : f->p->relayed;
		for (i = 0; i < n && f->p->state == P_UP; i++) {
			if (e != NULL && !config_relay_allows(expose_relay(e),
			    back || path_is_relay(f->p))) {
				kept_off(&pu.expose_kept[e - pu.expose], 0,
				    "%s: %s/udp is relay=never, and the path "
				    "goes through the relay: an answer dropped",
				    f->p->node, f->name);
				continue;
			}
			flow_out(f->p, i, &fl, to, rel);
		}
		udpbatch_flush(batch);
		if (n < UDPBATCH_SLOTS)
			return;
	}
}

static struct sflow *
sflow_open(struct peer *p, const struct mux_flow *fl)
{
	const struct conf_expose *e;
	struct sflow *f;
	int fd;

	if ((e = expose_find(fl->name, CONF_UDP)) == NULL ||
	    !exposed_to(p->node, fl->name, CONF_UDP)) {
		log_info("punch: %s: a flow to %s/udp refused: %s", p->node,
		    fl->name, e == NULL ? "not exposed" : "not allowed");
		return NULL;
	}
	if (pu.nflows >= PUNCH_FLOWS_MAX)
		return NULL;
	if ((fd = socket(e->target.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    sock_nonblock(fd) == -1 ||
	    connect(fd, (const struct sockaddr *)&e->target,
	    addr_len(&e->target)) == -1) {
		log_warn("punch: %s: a socket to %s", p->node, e->name);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		close(fd);
		return NULL;
	}
	f->p = p;
	f->id = fl->id;
	snprintf(f->name, sizeof(f->name), "%s", fl->name);
	f->fd = fd;
	loop_fd_add(&f->lfd, fd, LOOP_READ, sflow_read);
	f->next = pu.sflows;
	pu.sflows = f;
	pu.nflows++;
	log_info("punch: %s: a new flow to %s/udp", p->node, f->name);
	return f;
}

static void
flow_in(struct peer *p, const uint8_t *b, size_t len,
    const struct sockaddr_storage *from, int ours)
{
	int relayed = ours || is_peer_relay(p, from);
	const struct conf_expose *e;
	struct mux_flow fl;
	const char *err;
	struct cflow *c;
	struct sflow *s;

	if (mux_flow_parse(b, len, &fl, &err) == -1) {
		p->dropped++;
		return;
	}
	if (fl.direction == MUX_FLOW_TO_SERVICE) {
		/* defence: the peer may be older, or say otherwise */
		e = expose_find(fl.name, CONF_UDP);
		if (relayed && e != NULL &&
		    !config_relay_allows(expose_relay(e), 1)) {
			kept_off(&pu.expose_kept[e - pu.expose], 0, "%s: %s/udp "
			    "is relay=never: a datagram that came through the "
			    "relay dropped", p->node, e->name);
			return;
		}
		if (!relayed && e != NULL && svc_always(e->relay_set, e->relay)) {
			kept_off(&pu.expose_kept[e - pu.expose], 0, "%s: %s/udp "
			    "is relay=always: a datagram that came direct "
			    "dropped", p->node, e->name);
			return;
		}
		for (s = pu.sflows; s != NULL; s = s->next)
			if (s->p == p && s->id == fl.id &&
			    strcmp(s->name, fl.name) == 0)
				break;
		if (s == NULL && (s = sflow_open(p, &fl)) == NULL)
			return;
		s->last = loop_now();
		s->from = *from;
		s->in_relay = relayed;
		s->from_relayed = ours;
		/* the payload stays in its slot till punch_read flushes */
		udpbatch_add(batch, s->fd, NULL, fl.payload, fl.len, NULL);
		return;
	}
	for (c = pu.cflows; c != NULL; c = c->next)
		if (c->id == fl.id && strcmp(c->l->c.node, p->node) == 0 &&
		    strcmp(c->l->c.service, fl.name) == 0)
			break;
	if (c == NULL)
		return;
	if (!config_relay_allows(connect_relay(&c->l->c), relayed)) {
		kept_off(connect_kept(&c->l->c), 0, "connect %s/%s: relay=never:"
		    " a datagram that came through the relay dropped",
		    c->l->c.node, c->l->c.service);
		return;
	}
	c->last = loop_now();
	udpbatch_add(batch, c->l->fd, &c->client, fl.payload, fl.len, NULL);
}

/*
 * Is the path to p in use: this node connects to p, an attempt is under
 * way (not the probing of a silent path: the side that connects makes an
 * attempt of it), the carrier has streams open (either way), or p said in
 * a probe that it connects to this node (p->used_at, got_probe and
 * got_connect)?  A carrier up without the UDP path counts as in use: the
 * peer's word comes in probes, and the peer closes its own side when it
 * has no use for it.
 * A UDP flow, either way, counts as use when its last datagram went
 * (p->used_at raised to it): a flow is kept PUNCH_FLOW_IDLE_MS after its
 * last datagram, but only its datagrams say that it is used.
 */
static int
peer_in_use(struct peer *p)
{
	struct carrier_stats cs;
	struct cflow *c;
	struct sflow *f;

	for (f = pu.sflows; f != NULL; f = f->next)
		if (f->p == p && f->last > p->used_at)
			p->used_at = f->last;
	for (c = pu.cflows; c != NULL; c = c->next)
		if (strcmp(c->l->c.node, p->node) == 0 && c->last > p->used_at)
			p->used_at = c->last;
	if (p->wanted)
		return 1;
	switch (p->state) {
	case P_CONNECTING:
	case P_OFFERED:
	case P_WAITING:
		return 1;
	case P_PROBING:
		/* an attempt; not a silent path probed again (attempt 0) */
		if (p->attempt > 0)
			return 1;
		break;
	default:
		break;
	}
	if (carrier_is_up(p->rcarrier)) {
		carrier_get_stats(p->rcarrier, &cs);
		if (cs.streams > 0)
			return 1;
	}
	if (peer_carrier(p) != NULL) {
		/* without the UDP path, no probe brings the peer's word */
		if (p->state != P_UP)
			return 1;
		carrier_get_stats(peer_carrier(p), &cs);
		if (cs.streams > 0)
			return 1;
	}
	return 0;
}

/*
 * p was not used for PUNCH_UNUSED_MS: its path and carrier close, and p
 * is forgotten (gone from the status).  The other node sees its carrier
 * end, and closes its side as unused too (it is the same rule there); a
 * connect to p later punches a new path.
 */
static void
peer_forget(struct peer *p)
{
	struct peer **pp;
	struct sflow *f, *fn;

	if (p->had_path)
		log_info("punch: path to %s closed: no longer used (%d s "
		    "without a connect, a stream or a flow either way)",
		    p->node, PUNCH_UNUSED_MS / 1000);
	else
		log_debug("punch: %s: forgotten, %s and not used for %d s",
		    p->node, state_names[p->state], PUNCH_UNUSED_MS / 1000);
	for (pp = &pu.peers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pu.npeers--;
	for (f = pu.sflows; f != NULL; f = fn) {
		fn = f->next;
		if (f->p == p)
			sflow_close(f);
	}
	peer_free(p);
}

static void
sweep_cb(struct timer *t)
{
	struct cflow **cp = &pu.cflows, *c;
	struct sflow *s, *sn;
	struct peer *p, *pn;
	uint64_t now = loop_now();

	for (p = pu.peers; p != NULL; p = pn) {
		pn = p->next;
		if (peer_in_use(p))
			p->used_at = now;
		else if (now - p->used_at >= PUNCH_UNUSED_MS)
			peer_forget(p);
	}

	while ((c = *cp) != NULL) {
		if (now - c->last >= PUNCH_FLOW_IDLE_MS) {
			*cp = c->next;
			free(c);
			pu.nflows--;
		} else
			cp = &c->next;
	}
	for (s = pu.sflows; s != NULL; s = sn) {
		sn = s->next;
		if (now - s->last >= PUNCH_FLOW_IDLE_MS)
			sflow_close(s);
	}
	status_push();	/* the counters, the round trips */
	services_push();	/* what relay=never services kept off the relay */
	timer_set(t, SWEEP_MS);
}

/* ---- services, one at a time: natmapctl and reloads ---- */

static int	listener_open(const struct conf_connect *, int tcp);

static void
svc_kept_status(const struct svc_kept *k, struct status_service *st)
{
	st->relay_refused_streams = k->streams;
	st->relay_refused_datagrams = k->datagrams;
	snprintf(st->relay_refused, sizeof(st->relay_refused), "%s", k->why);
}

/* Every expose and connect statement into the status. */
static void
services_push(void)
{
	static struct status_service st[STATUS_MAX_SERVICES];
	size_t i, n = 0;

	for (i = 0; i < pu.nexpose && n < STATUS_MAX_SERVICES; i++, n++) {
		/* entry by entry: the unused ones are never touched */
		memset(&st[n], 0, sizeof(st[n]));
		snprintf(st[n].kind, sizeof(st[n].kind), "expose");
		config_format_expose(&pu.expose[i], st[n].spec,
		    sizeof(st[n].spec));
		st[n].runtime = pu.expose_rt[i];
		svc_kept_status(&pu.expose_kept[i], &st[n]);
	}
	for (i = 0; i < pu.nconnect && n < STATUS_MAX_SERVICES; i++, n++) {
		memset(&st[n], 0, sizeof(st[n]));
		snprintf(st[n].kind, sizeof(st[n].kind), "connect");
		config_format_connect(&pu.connect[i], st[n].spec,
		    sizeof(st[n].spec));
		st[n].runtime = pu.connect_rt[i];
		svc_kept_status(&pu.connect_kept[i], &st[n]);
	}
	status_services_update(st, n);
}

static void
expose_add(const struct conf_expose *e, int runtime)
{
	char a[700];

	pu.expose[pu.nexpose] = *e;
	pu.expose_rt[pu.nexpose] = runtime;
	memset(&pu.expose_kept[pu.nexpose], 0, sizeof(pu.expose_kept[0]));
	pu.nexpose++;
	config_format_expose(e, a, sizeof(a));
	log_info("punch: expose %s%s", a, runtime ? " (at run time)" : "");
}

/* Expose statement i gone: no new stream or flow for it, the live ones end. */
static void
expose_drop(size_t i)
{
	struct conf_expose e = pu.expose[i];
	struct sflow *f, *fn;
	struct peer *p;
	unsigned int n = 0;

	memmove(&pu.expose[i], &pu.expose[i + 1], (pu.nexpose - i - 1) *
	    sizeof(pu.expose[0]));
	memmove(&pu.expose_rt[i], &pu.expose_rt[i + 1], (pu.nexpose - i - 1) *
	    sizeof(pu.expose_rt[0]));
	memmove(&pu.expose_kept[i], &pu.expose_kept[i + 1],
	    (pu.nexpose - i - 1) * sizeof(pu.expose_kept[0]));
	pu.nexpose--;
	if (pu.running && e.proto == CONF_TCP)
		for (p = pu.peers; p != NULL; p = p->next)
			n += carrier_end_streams(p->carrier, e.name, 0) +
			    carrier_end_streams(p->rcarrier, e.name, 0) +
			    carrier_end_streams(p->acarrier, e.name, 0);
	if (pu.running && e.proto == CONF_UDP)
		for (f = pu.sflows; f != NULL; f = fn) {
			fn = f->next;
			if (strcmp(f->name, e.name) == 0) {
				sflow_close(f);
				n++;
			}
		}
	log_info("punch: expose %s/%s removed; %u %s%s ended", e.name,
	    e.proto == CONF_TCP ? "tcp" : "udp", n,
	    e.proto == CONF_TCP ? "stream" : "flow", n == 1 ? "" : "s");
}

/* The connect statement's node wanted: a path to it is made, if none. */
static void
peer_want(const char *node)
{
	struct peer *p;

	if ((p = peer_get(node)) == NULL || p->wanted)
		return;
	p->wanted = 1;
	/* an attempt under way (or the other side's awaited), a path up: as it is */
	if (p->state == P_FAILED)
		timer_set(&p->timer, 1);
	else if (p->state == P_IDLE && p->attempt == 0)
		timer_set(&p->timer, 1000);
}

/* Listen for c (running): 0, or -1 with err set and nothing open. */
static int
connect_listen(const struct conf_connect *c, char *err, size_t errlen)
{
	struct listener *l;
	int tcp, e;
	char a[128];

	for (tcp = 0; tcp < 2; tcp++) {
		if ((tcp && c->proto == CONF_UDP) ||
		    (!tcp && c->proto == CONF_TCP))
			continue;
		if (listener_open(c, tcp) == 0)
			continue;
		e = errno;
		if (tcp && c->proto == CONF_ANY_PROTO &&
		    (l = pu.listeners) != NULL) {
			/* the UDP one opened just now */
			pu.listeners = l->next;
			loop_fd_del(&l->lfd);
			close(l->fd);
			free(l);
		}
		config_format_connect(c, a, sizeof(a));
		config_seterr(err, errlen, "connect %s: cannot listen (%s): %s",
		    a, tcp ? "TCP" : "UDP", strerror(e));
		return -1;
	}
	return 0;
}

static void
connect_add(const struct conf_connect *c, int runtime)
{
	char a[128];

	pu.connect[pu.nconnect] = *c;
	pu.connect_rt[pu.nconnect] = runtime;
	memset(&pu.connect_kept[pu.nconnect], 0, sizeof(pu.connect_kept[0]));
	pu.nconnect++;
	config_format_connect(c, a, sizeof(a));
	log_info("punch: connect %s%s", a, runtime ? " (at run time)" : "");
	if (pu.running)
		peer_want(c->node);
}

/*
 * Connect statement i gone: its listeners close, their flows and streams
 * end (the streams unless another statement carries the same service),
 * and its node is no longer wanted unless another names it.
 */
static void
connect_drop(size_t i)
{
	struct conf_connect c = pu.connect[i];
	struct listener **lp, *l;
	struct cflow **cp, *f;
	struct peer *p;
	unsigned int n = 0;
	int node_left = 0, tcp_left = 0;
	size_t j;
	char a[128];

	memmove(&pu.connect[i], &pu.connect[i + 1], (pu.nconnect - i - 1) *
	    sizeof(pu.connect[0]));
	memmove(&pu.connect_rt[i], &pu.connect_rt[i + 1],
	    (pu.nconnect - i - 1) * sizeof(pu.connect_rt[0]));
	memmove(&pu.connect_kept[i], &pu.connect_kept[i + 1],
	    (pu.nconnect - i - 1) * sizeof(pu.connect_kept[0]));
	pu.nconnect--;
	config_format_connect(&c, a, sizeof(a));
	for (j = 0; j < pu.nconnect; j++) {
		if (strcmp(pu.connect[j].node, c.node) != 0)
			continue;
		node_left = 1;
		if (strcmp(pu.connect[j].service, c.service) == 0 &&
		    pu.connect[j].proto != CONF_UDP)
			tcp_left = 1;
	}
	for (lp = &pu.listeners; (l = *lp) != NULL;) {
		if (memcmp(&l->c, &c, sizeof(c)) != 0) {
			lp = &l->next;
			continue;
		}
		for (cp = &pu.cflows; (f = *cp) != NULL;) {
			if (f->l == l) {
				*cp = f->next;
				free(f);
				pu.nflows--;
				n++;
			} else
				cp = &f->next;
		}
		*lp = l->next;
		waiters_settle(NULL, NULL, l, 0);
		loop_fd_del(&l->lfd);
		close(l->fd);
		free(l);
	}
	if ((p = peer_find(c.node)) != NULL) {
		if (c.proto != CONF_UDP && !tcp_left)
			n += carrier_end_streams(p->carrier, c.service, 1) +
			    carrier_end_streams(p->rcarrier, c.service, 1) +
			    carrier_end_streams(p->acarrier, c.service, 1);
		if (!node_left) {
			p->wanted = 0;
			/* unused from now: PUNCH_UNUSED_MS, then closed */
			p->used_at = loop_now();
		}
	}
	log_info("punch: connect %s removed; its port closed, %u %s ended", a,
	    n, n == 1 ? "stream or flow" : "streams and flows");
}

/* Here already, as it is? */
static int
expose_here(const struct conf_expose *e)
{
	size_t i;

	for (i = 0; i < pu.nexpose; i++)
		if (memcmp(&pu.expose[i], e, sizeof(*e)) == 0)
			return 1;
	return 0;
}

static int
connect_here(const struct conf_connect *c)
{
	size_t i;

	for (i = 0; i < pu.nconnect; i++)
		if (memcmp(&pu.connect[i], c, sizeof(*c)) == 0)
			return 1;
	return 0;
}

/* The sockets listening for c. */
static int
listening(const struct conf_connect *c)
{
	struct listener *l;
	int n = 0;

	for (l = pu.listeners; l != NULL; l = l->next)
		if (memcmp(&l->c, c, sizeof(*c)) == 0)
			n++;
	return n;
}

/* The same NODE/NAME over a transport in common: natmapctl disconnect could not tell them apart. */
static int
connect_same_name(const struct conf_connect *a, const struct conf_connect *b)
{
	return strcmp(a->node, b->node) == 0 &&
	    strcmp(a->service, b->service) == 0 &&
	    (a->proto == CONF_ANY_PROTO || b->proto == CONF_ANY_PROTO ||
	    a->proto == b->proto);
}

/* Is e among the configuration's expose statements, as it is? */
static int
conf_has_expose(const struct config *conf, const struct conf_expose *e)
{
	size_t i;

	for (i = 0; i < conf->nexpose; i++)
		if (memcmp(&conf->expose[i], e, sizeof(*e)) == 0)
			return 1;
	return 0;
}

static int
conf_has_connect(const struct config *conf, const struct conf_connect *c)
{
	size_t i;

	for (i = 0; i < conf->nconnect; i++)
		if (memcmp(&conf->connect[i], c, sizeof(*c)) == 0)
			return 1;
	return 0;
}

/*
 * The configuration's services in place of the last one's, one at a
 * time: the others' paths, carriers, listeners and flows stay.  What
 * natmapctl added stays too, as natmapctl add's mappings do, unless the
 * configuration names it now (then it is the configuration's) or names
 * another in its place.
 */
static void
services_reconcile(const struct config *conf)
{
	char err[256];
	size_t i, j;

	for (i = pu.nexpose; i-- > 0;) {
		const struct conf_expose *e = &pu.expose[i];
		int clash = 0;

		if (conf_has_expose(conf, e)) {
			pu.expose_rt[i] = 0;	/* the configuration's now */
			continue;
		}
		for (j = 0; j < conf->nexpose; j++)
			clash |= config_expose_clash(&conf->expose[j], e);
		if (!pu.expose_rt[i] || clash)
			expose_drop(i);
	}
	for (i = 0; i < conf->nexpose; i++)
		if (!expose_here(&conf->expose[i]) &&
		    pu.nexpose < CONF_MAX_PEER)
			expose_add(&conf->expose[i], 0);
	for (i = pu.nconnect; i-- > 0;) {
		const struct conf_connect *c = &pu.connect[i];
		int clash = 0;

		if (conf_has_connect(conf, c)) {
			pu.connect_rt[i] = 0;
			continue;
		}
		for (j = 0; j < conf->nconnect; j++)
			clash |= config_connect_clash(&conf->connect[j], c) ||
			    connect_same_name(&conf->connect[j], c);
		if (!pu.connect_rt[i] || clash)
			connect_drop(i);
	}
	for (i = 0; i < conf->nconnect; i++) {
		if (connect_here(&conf->connect[i]) ||
		    pu.nconnect == CONF_MAX_PEER)
			continue;
		if (pu.running && connect_listen(&conf->connect[i], err,
		    sizeof(err)) == -1) {
			log_warnx("punch: %s", err);
			continue;
		}
		connect_add(&conf->connect[i], 0);
	}
	services_push();
}

/*
 * The relay's policy: the node's, or fallback where the node's is never
 * and a service says relay=fallback (its word wins: the relay is made;
 * the services without a word keep off it, being relay never).
 */
static void
relay_policy_update(void)
{
	int want = config_relay_node(pu.node_relay, pu.expose, pu.nexpose,
	    pu.connect, pu.nconnect);
	size_t i;

	pu.some_always = 0;
	for (i = 0; i < pu.nexpose; i++)
		if (pu.expose[i].relay_set &&
		    pu.expose[i].relay == CONF_RELAY_ALWAYS)
			pu.some_always = 1;
	for (i = 0; i < pu.nconnect; i++)
		if (pu.connect[i].relay_set &&
		    pu.connect[i].relay == CONF_RELAY_ALWAYS)
			pu.some_always = 1;
	if (pu.relay_policy == want)
		return;
	pu.relay_policy = want;
	if (want == CONF_RELAY_NEVER)
		pu.relay_paths = 0;
	if (pu.relay != NULL && want == CONF_RELAY_NEVER) {
		log_info("punch: relay never: the relay released");
		relay_drop();
	}
}

/* ---- natmapctl expose, unexpose, connect, disconnect ---- */

static int
runtime_ok(char *err, size_t errlen)
{
	if (!pu.configured) {
		config_seterr(err, errlen, "no rendezvous configured: hole "
		    "punching needs rendezvous, network, key-file and a node "
		    "name");
		return 0;
	}
	return 1;
}

int
punch_runtime_expose(const struct conf_expose *e, char *err, size_t errlen)
{
	size_t i;
	char a[700];

	if (!runtime_ok(err, errlen))
		return -1;
	for (i = 0; i < pu.nexpose; i++)
		if (config_expose_clash(&pu.expose[i], e)) {
			config_format_expose(&pu.expose[i], a, sizeof(a));
			config_seterr(err, errlen, "expose %s: name in use "
			    "(%s, %s)", e->name, a, pu.expose_rt[i] ?
			    "added at run time" : "in the configuration");
			return -1;
		}
	if (pu.nexpose == CONF_MAX_PEER) {
		config_seterr(err, errlen, "expose %s: %d services exposed "
		    "already", e->name, CONF_MAX_PEER);
		return -1;
	}
	expose_add(e, 1);
	relay_policy_update();
	services_push();
	if (pu.enabled)
		punch_start();
	return 0;
}

int
punch_runtime_unexpose(const char *name, char *err, size_t errlen)
{
	size_t i;
	int found = 0, conf = 0;

	for (i = pu.nexpose; i-- > 0;) {
		if (strcmp(pu.expose[i].name, name) != 0)
			continue;
		if (!pu.expose_rt[i]) {
			conf = 1;
			continue;
		}
		expose_drop(i);
		found = 1;
	}
	if (found) {
		relay_policy_update();
		services_push();
		return 0;
	}
	if (conf)
		config_seterr(err, errlen, "expose %s is in the configuration "
		    "file: remove it there and reload", name);
	else
		config_seterr(err, errlen, "no such service: nothing exposed "
		    "as %s", name);
	return -1;
}

int
punch_runtime_connect(const struct conf_connect *c, char *err, size_t errlen)
{
	size_t i;
	char a[128];

	if (!runtime_ok(err, errlen))
		return -1;
	for (i = 0; i < pu.nconnect; i++) {
		const struct conf_connect *o = &pu.connect[i];
		const char *why = NULL;

		if (connect_same_name(o, c))
			why = "name in use";
		else if (config_connect_clash(o, c))
			why = "address and port in use";
		if (why == NULL)
			continue;
		config_format_connect(o, a, sizeof(a));
		config_seterr(err, errlen, "connect %s/%s: %s (%s, %s)",
		    c->node, c->service, why, a, pu.connect_rt[i] ?
		    "added at run time" : "in the configuration");
		return -1;
	}
	if (strcmp(c->node, pu.node) == 0) {
		config_seterr(err, errlen, "connect %s/%s: %s is this node",
		    c->node, c->service, c->node);
		return -1;
	}
	if (pu.nconnect == CONF_MAX_PEER) {
		config_seterr(err, errlen, "connect %s/%s: %d connect "
		    "statements already", c->node, c->service, CONF_MAX_PEER);
		return -1;
	}
	if (pu.running && connect_listen(c, err, errlen) == -1)
		return -1;
	connect_add(c, 1);
	relay_policy_update();
	services_push();
	if (pu.enabled && !pu.running) {
		punch_start();
		if (!pu.running || listening(c) < (c->proto ==
		    CONF_ANY_PROTO ? 2 : 1)) {
			/* no use keeping what does not work */
			connect_drop(pu.nconnect - 1);
			relay_policy_update();
			services_push();
			config_seterr(err, errlen, "connect %s/%s: %s (see the "
			    "log)", c->node, c->service, pu.running ?
			    "cannot listen" : "hole punching did not start");
			return -1;
		}
	}
	return 0;
}

int
punch_runtime_disconnect(const char *node, const char *service, char *err,
    size_t errlen)
{
	size_t i;
	int found = 0, conf = 0;

	for (i = pu.nconnect; i-- > 0;) {
		if (strcmp(pu.connect[i].node, node) != 0 ||
		    strcmp(pu.connect[i].service, service) != 0)
			continue;
		if (!pu.connect_rt[i]) {
			conf = 1;
			continue;
		}
		connect_drop(i);
		found = 1;
	}
	if (found) {
		relay_policy_update();
		services_push();
		return 0;
	}
	if (conf)
		config_seterr(err, errlen, "connect %s/%s is in the "
		    "configuration file: remove it there and reload", node,
		    service);
	else
		config_seterr(err, errlen, "no such service: nothing connected "
		    "as %s/%s", node, service);
	return -1;
}

/* ---- configuration, start, stop ---- */

/*
 * The settings in use now, the services aside (those change one at a
 * time, services_reconcile()): a reload keeps the paths and carriers.
 */
static int
same_settings(const struct config *conf)
{
	uint8_t key[CRYPTO_KEY_LEN];
	int same;

	if (!pu.configured || !conf->have_key || conf->network == NULL ||
	    conf->node == NULL)
		return 0;
	crypto_peer_key(conf->key, key);
	same = crypto_equal(key, pu.peer_key, sizeof(key)) &&
	    strcmp(conf->network, pu.network) == 0 &&
	    strcmp(conf->node, pu.node) == 0 &&
	    conf->nrdv > 0 &&
	    (conf->fb_port_first ? conf->fb_port_first : 40000) ==
	    pu.port_first &&
	    (conf->fb_port_last ? conf->fb_port_last : 59999) ==
	    pu.port_last &&
	    fb_servers_same(&pu.servers, conf->rdv, conf->nrdv);
	crypto_wipe(key, sizeof(key));
	return same;
}

void
punch_init(void)
{
	pu.fd = -1;
	pu.fd6 = -1;
	pu.aes_fast = crypto_aes_fast();
}

void
punch_configure(const struct config *conf)
{
	int was = pu.enabled, same = same_settings(conf);

	/* a reload that changes none of the settings keeps the paths and carriers */
	if (!same && pu.running) {
		log_info("punch: new settings: every path starts again");
		punch_stop();
	}
	services_reconcile(conf);
	/* punch-map changed by a reload: the mappings asked for or dropped */
	if (pu.running && conf->punch_nomap != pu.nomap) {
		if (conf->punch_nomap)
			own_unmap();
		else {
			pu.nomap = 0;
			own_map();
		}
	}
	pu.nomap = conf->punch_nomap;
	pu.cipher = conf->punch_cipher;	/* from the next session */
	pu.node_relay = conf->relay_policy;
	relay_policy_update();
	if (same) {
		if (was)
			punch_start();	/* the first service: a start */
		return;
	}
	crypto_wipe(pu.peer_key, sizeof(pu.peer_key));
	pu.configured = conf->nrdv > 0 && conf->have_key &&
	    conf->network != NULL && conf->node != NULL;
	if (!pu.configured) {
		if (was)
			pu.enabled = 1;
		return;
	}
	snprintf(pu.network, sizeof(pu.network), "%s", conf->network);
	snprintf(pu.node, sizeof(pu.node), "%s", conf->node);
	crypto_peer_key(conf->key, pu.peer_key);
	pu.port_first = conf->fb_port_first ? conf->fb_port_first : 40000;
	pu.port_last = conf->fb_port_last ? conf->fb_port_last : 59999;
	fb_servers_set(&pu.servers, conf->rdv, conf->nrdv, SOCK_DGRAM,
	    "rendezvous", servers_resolved);
	if (was)
		punch_start();
}

/*
 * The IPv6 punching socket (IPv6 only, a stable source address
 * preferred), on the IPv4 one's port number if free, else another of
 * fallback-ports; none where the system has no IPv6.
 */
static void
socket_open6(void)
{
	struct sockaddr_in6 sin6;
	uint32_t span = (uint32_t)(pu.port_last - pu.port_first) + 1;
	int fd, i, on = 1;

	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1 ||
	    sock_nonblock(fd) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1) {
		log_debug("punch: no IPv6 socket: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	if (osdep_prefer_public_src(fd) == -1)
		log_debug("punch: IPv6 source preference: %s", strerror(errno));
	for (i = 0; i < 64; i++) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(i == 0 ? pu.port : (uint16_t)(
		    pu.port_first + loop_random(span)));
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0) {
			pu.fd6 = fd;
			pu.port6 = ntohs(sin6.sin6_port);
			loop_fd_add(&pu.lfd6, fd, LOOP_READ, punch_read);
			return;
		}
		if (errno != EADDRINUSE)
			break;
	}
	log_debug("punch: no IPv6 punching socket: %s", strerror(errno));
	close(fd);
}

/* The punching socket, on a random port of fallback-ports. */
static int
socket_open(void)
{
	struct sockaddr_in sin;
	uint32_t span = (uint32_t)(pu.port_last - pu.port_first) + 1;
	int fd, i;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    sock_nonblock(fd) == -1) {
		log_warn("punch: socket");
		if (fd != -1)
			close(fd);
		return -1;
	}
	for (i = 0; i < 64; i++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)(pu.port_first +
		    loop_random(span)));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			pu.fd = fd;
			pu.port = ntohs(sin.sin_port);
			loop_fd_add(&pu.lfd, fd, LOOP_READ, punch_read);
			return 0;
		}
	}
	log_warn("punch: no free UDP port in %u-%u", pu.port_first,
	    pu.port_last);
	close(fd);
	return -1;
}

/* A connect statement's TCP or UDP socket: 0, or -1 with errno (not logged). */
static int
listener_open(const struct conf_connect *c, int tcp)
{
	struct listener *l;
	int fd, on = 1, e;
	char a[128];

	if ((fd = socket(c->listen.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM,
	    0)) == -1)
		return -1;
	if (sock_nonblock(fd) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)&c->listen,
	    addr_len(&c->listen)) == -1 ||
	    (tcp && listen(fd, 64) == -1)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("calloc");
	l->c = *c;
	l->tcp = tcp;
	l->fd = fd;
	loop_fd_add(&l->lfd, fd, LOOP_READ, tcp ? tcp_accept : listener_read);
	l->next = pu.listeners;
	pu.listeners = l;
	config_format_connect(c, a, sizeof(a));
	log_info("punch: connect %s: listening (%s)", a, tcp ? "TCP" : "UDP");
	return 0;
}

static void
listeners_open(void)
{
	size_t i;
	char a[128];

	for (i = 0; i < 2 * pu.nconnect; i++) {
		const struct conf_connect *c = &pu.connect[i / 2];
		int tcp = i % 2;

		if ((tcp && c->proto == CONF_UDP) ||
		    (!tcp && c->proto == CONF_TCP))
			continue;
		if (listener_open(c, tcp) == -1) {
			config_format_connect(c, a, sizeof(a));
			log_warn("punch: connect %s: cannot listen (%s)", a,
			    tcp ? "TCP" : "UDP");
		}
	}
}

void
punch_start(void)
{
	struct peer *p;
	size_t i;

	pu.enabled = 1;
	if (pu.running || !pu.configured || pu.nexpose + pu.nconnect == 0)
		return;
	{
		char err[256];

		if (crypto_load_x25519(err, sizeof(err)) == -1) {
			log_warnx("punch: %s: no hole punching", err);
			return;
		}
	}
	if ((batch = udpbatch_new(DGRAM_MAX + 1)) == NULL) {
		log_warn("punch: no hole punching");
		return;
	}
	{
		char why[128];

		if (udpbatch_runs_check(why, sizeof(why)))
			log_debug("punch: runs of datagrams go to the kernel "
			    "as one (UDP_SEGMENT)");
		else
			log_debug("punch: datagrams go to the kernel one by "
			    "one (UDP_SEGMENT: %s)", why);
	}
	if (socket_open() == -1) {
		udpbatch_free(batch);
		batch = NULL;
		return;
	}
	socket_open6();
	if (carrier_port_open(pu.port_first, pu.port_last, &pu.tcp_port) == -1)
		pu.tcp_port = 0;
	pu.running = 1;
	punch_replay_init(&pu.replay);
	timer_init(&pu.stun_timer, stun_timer_cb);
	timer_init(&pu.sweep, sweep_cb);
	timer_set(&pu.sweep, SWEEP_MS);
	timer_init(&pu.relay_timer, relay_timer_cb);
	timer_init(&pu.waiter_timer, waiter_timer_cb);
	pu.relay_none_said = 0;
	pu.edm = -1;
	memset(pu.edm_tid, 0, sizeof(pu.edm_tid));
	rdv_client_on_signal(on_signal, NULL);
	fb_servers_resolve(&pu.servers);
	if (!pu.nomap)
		own_map();
	listeners_open();
	/* a path to every node connected to, ready before the first client */
	for (i = 0; i < pu.nconnect; i++)
		if ((p = peer_get(pu.connect[i].node)) != NULL && !p->wanted) {
			p->wanted = 1;
			timer_set(&p->timer, 1000);
		}
	log_info("punch: node %s: %zu service%s exposed, %zu connect%s, "
	    "punching from UDP port %u and TCP port %u (IPv6: %s)", pu.node,
	    pu.nexpose, pu.nexpose == 1 ? "" : "s", pu.nconnect,
	    pu.nconnect == 1 ? "" : "s", pu.port, pu.tcp_port,
	    pu.fd6 == -1 ? "none" : carrier_port_has6() ? "UDP and TCP" :
	    "UDP");
}

void
punch_stop(void)
{
	struct peer *p;
	struct listener *l;
	struct cflow *c;

	pu.enabled = 0;
	if (!pu.running)
		return;
	rdv_client_on_signal(NULL, NULL);
	while ((p = pu.peers) != NULL) {
		pu.peers = p->next;
		peer_free(p);
	}
	pu.npeers = 0;
	while (pu.sflows != NULL)
		sflow_close(pu.sflows);
	while ((c = pu.cflows) != NULL) {
		pu.cflows = c->next;
		free(c);
	}
	pu.nflows = 0;
	waiters_settle(NULL, NULL, NULL, 0);
	while ((l = pu.listeners) != NULL) {
		pu.listeners = l->next;
		loop_fd_del(&l->lfd);
		close(l->fd);
		free(l);
	}
	timer_stop(&pu.stun_timer);
	timer_stop(&pu.sweep);
	relay_drop();
	fb_servers_cancel(&pu.servers);
	loop_fd_del(&pu.lfd);
	close(pu.fd);
	pu.fd = -1;
	if (pu.fd6 != -1) {
		loop_fd_del(&pu.lfd6);
		close(pu.fd6);
		pu.fd6 = -1;
		pu.port6 = 0;
	}
	own_unmap();
	carrier_port_close();
	udpbatch_free(batch);
	batch = NULL;
	pu.tcp_port = 0;
	pu.srflx.ss_family = AF_UNSPEC;
	pu.running = 0;
	status_peers_update(NULL, 0);
}
