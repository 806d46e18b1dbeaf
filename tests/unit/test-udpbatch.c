/* SPDX-License-Identifier: ISC */
/* udpbatch.c: datagrams received and sent in batches; a batch with a forged and a replayed datagram loses only those. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto.h"
#include "session.h"
#include "udpbatch.h"

#define SLOT	2048

static const uint8_t idx_i[SESSION_INDEX_LEN] = { 1, 2, 3, 4 };
static const uint8_t idx_r[SESSION_INDEX_LEN] = { 5, 6, 7, 8 };

static void
dgram_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
}

/* 20 datagrams queued: sent in 2 sendmmsg calls, received 16, then 4. */
static void
test_batches(void **state)
{
	struct udpbatch *b;
	struct udpbatch_stats st;
	uint8_t data[20][8];
	uint64_t bytes = 0;
	int sv[2], i, n;

	(void)state;
	dgram_pair(sv);
	assert_non_null(b = udpbatch_new(SLOT));
	for (i = 0; i < 20; i++) {
		memset(data[i], i, sizeof(data[i]));
		udpbatch_add(b, sv[0], NULL, data[i], (size_t)(i % 8) + 1,
		    &bytes);
	}
	/* the 17th flushed the 16 before it */
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.send_calls, 1);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.sent, 16);
	assert_int_equal(udpbatch_flush(b), 4);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.send_calls, 2);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.send_failed, 0);
	for (i = 0, n = 0; i < 20; i++)
		n += i % 8 + 1;
	assert_int_equal(bytes, n);

	assert_int_equal(udpbatch_recv(b, sv[1], 10, 100, UDPBATCH_SLOTS),
	    16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(udpbatch_len(b, i), i % 8 + 1);
		assert_int_equal(udpbatch_cut(b, i), 0);
		assert_int_equal(udpbatch_slot(b, i)[10], i);
	}
	assert_int_equal(udpbatch_recv(b, sv[1], 0, SLOT, UDPBATCH_SLOTS),
	    4);
	assert_int_equal(udpbatch_slot(b, 3)[0], 19);
	assert_int_equal(udpbatch_recv(b, sv[1], 0, SLOT, UDPBATCH_SLOTS),
	    -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* bounds */
	assert_int_equal(udpbatch_recv(b, sv[1], SLOT, 1, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(udpbatch_recv(b, sv[1], 0, SLOT, UDPBATCH_SLOTS + 1),
	    -1);
	assert_int_equal(errno, EINVAL);
	udpbatch_free(b);
	udpbatch_free(NULL);
	close(sv[0]);
	close(sv[1]);
}

/* A UDP socket bound to 127.0.0.1, its address in *sin. */
static int
udp_bound(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

/* test_udp_runs' 16 datagrams: 14 at fa, 2 at fb, whole and in order. */
static void
runs_arrived(struct udpbatch *rcv, int fa, int fb, const size_t *lens)
{
	int i, n;

	n = udpbatch_recv(rcv, fa, 0, SLOT, UDPBATCH_SLOTS);
	assert_int_equal(n, 14);
	for (i = 0; i < n; i++) {
		int k = i < 10 ? i : i + 2;

		assert_int_equal(udpbatch_len(rcv, i), lens[k]);
		assert_int_equal(udpbatch_slot(rcv, i)[0], k);
		assert_int_equal(udpbatch_slot(rcv, i)[lens[k] - 1], 0x40 + k);
	}
	n = udpbatch_recv(rcv, fb, 0, SLOT, UDPBATCH_SLOTS);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(udpbatch_len(rcv, i), 1200);
		assert_int_equal(udpbatch_slot(rcv, i)[0], 10 + i);
	}
	assert_int_equal(udpbatch_recv(rcv, fa, 0, SLOT, UDPBATCH_SLOTS), -1);
}

/*
 * Over UDP, runs of datagrams of one length to one address go as one
 * (UDP_SEGMENT) once udpbatch_runs_check() has seen the kernel cut a run
 * apart: 16 queued to two receivers, lengths changing, come out as 16
 * datagrams, each whole and where it was sent, in order, and every byte
 * counted.  Before the check, runs are off; after it, the 5 runs of this
 * queue go as 5 messages where it says on, none where it says off (a
 * kernel before 4.18, or qemu-user for a big-endian target).
 */
static void
test_udp_runs(void **state)
{
	static const size_t lens[16] = { 1200, 1200, 1200, 1200, 1200, 800,
	    800, 1200, 1200, 1200, 1200, 1200, 1200, 1200, 1200, 1200 };
	struct sockaddr_in ra, rb;
	struct sockaddr_storage ta, tb;
	struct udpbatch *b, *rcv;
	struct udpbatch_stats st;
	uint8_t data[16][1200];
	uint64_t bytes = 0, want = 0;
	char why[128];
	int s, fa, fb, i, on;

	(void)state;
	fa = udp_bound(&ra);
	fb = udp_bound(&rb);
	memcpy(&ta, &ra, sizeof(ra));
	memcpy(&tb, &rb, sizeof(rb));
	assert_true((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	assert_non_null(b = udpbatch_new(SLOT));
	assert_non_null(rcv = udpbatch_new(SLOT));
	for (i = 0; i < 16; i++) {
		memset(data[i], 0x40 + i, sizeof(data[i]));
		data[i][0] = (uint8_t)i;
		/* 0-9 to a, 10-11 to b, 12-15 to a again */
		udpbatch_add(b, s, i >= 10 && i < 12 ? &tb : &ta, data[i],
		    lens[i], &bytes);
		want += lens[i];
	}
	assert_int_equal(udpbatch_flush(b), 16);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.runs, 0);	/* not checked yet */
	runs_arrived(rcv, fa, fb, lens);
	want *= 2;
	on = udpbatch_runs_check(why, sizeof(why));
	printf("# runs as one (UDP_SEGMENT): %s%s\n", on ? "on" : "off: ",
	    on ? "" : why);
	assert_int_equal(udpbatch_runs_check(NULL, 0), on);
	for (i = 0; i < 16; i++)
		udpbatch_add(b, s, i >= 10 && i < 12 ? &tb : &ta, data[i],
		    lens[i], &bytes);
	assert_int_equal(udpbatch_flush(b), 16);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.runs, on ? 5 : 0);
	assert_int_equal(st.send_failed, 0);
	assert_int_equal(bytes, want);
	runs_arrived(rcv, fa, fb, lens);
	udpbatch_free(b);
	udpbatch_free(rcv);
	close(s);
	close(fa);
	close(fb);
}

/* A datagram longer than room is marked cut; the others in its batch are whole. */
static void
test_cut(void **state)
{
	struct udpbatch *b;
	uint8_t big[300], small[3] = { 7, 8, 9 };
	int sv[2];

	(void)state;
	dgram_pair(sv);
	memset(big, 0xee, sizeof(big));
	assert_non_null(b = udpbatch_new(SLOT));
	udpbatch_add(b, sv[0], NULL, small, sizeof(small), NULL);
	udpbatch_add(b, sv[0], NULL, big, sizeof(big), NULL);
	udpbatch_add(b, sv[0], NULL, small, sizeof(small), NULL);
	assert_int_equal(udpbatch_flush(b), 3);
	assert_int_equal(udpbatch_recv(b, sv[1], 0, 200, UDPBATCH_SLOTS), 3);
	assert_int_equal(udpbatch_cut(b, 0), 0);
	assert_int_equal(udpbatch_cut(b, 1), 1);
	assert_int_equal(udpbatch_cut(b, 2), 0);
	assert_int_equal(udpbatch_len(b, 2), 3);
	assert_memory_equal(udpbatch_slot(b, 2), small, 3);
	udpbatch_free(b);
	close(sv[0]);
	close(sv[1]);
}

/* Datagrams for another socket flush the queue first; refused ones are counted, the rest go. */
static void
test_send_fd_and_failures(void **state)
{
	struct udpbatch *b;
	struct udpbatch_stats st;
	uint8_t x = 1;
	uint64_t ok = 0, lost = 0;
	int a[2], c[2];

	(void)state;
	dgram_pair(a);
	dgram_pair(c);
	assert_non_null(b = udpbatch_new(SLOT));
	udpbatch_add(b, a[0], NULL, &x, 1, &ok);
	udpbatch_add(b, a[0], NULL, &x, 1, &ok);
	udpbatch_add(b, c[0], NULL, &x, 1, &ok);	/* flushes a's two */
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.send_calls, 1);
	assert_int_equal(ok, 2);
	assert_int_equal(udpbatch_flush(b), 1);
	assert_int_equal(ok, 3);
	assert_int_equal(udpbatch_recv(b, a[1], 0, SLOT, UDPBATCH_SLOTS), 2);
	assert_int_equal(udpbatch_recv(b, c[1], 0, SLOT, UDPBATCH_SLOTS), 1);
	/* the receiver gone: every one refused, counted, none counted sent */
	close(c[1]);
	udpbatch_add(b, c[0], NULL, &x, 1, &lost);
	udpbatch_add(b, c[0], NULL, &x, 1, &lost);
	udpbatch_add(b, c[0], NULL, &x, 1, &lost);
	assert_int_equal(udpbatch_flush(b), 0);
	udpbatch_get_stats(b, &st);
	assert_int_equal(st.send_failed, 3);
	assert_int_equal(lost, 0);
	assert_int_equal(udpbatch_flush(b), 0);	/* empty */
	udpbatch_free(b);
	close(a[0]);
	close(a[1]);
	close(c[0]);
}

/*
 * Sealed datagrams through a socket, one batch: one with a flipped byte
 * and one sent twice.  Opened in place in their slots, as punch.c does:
 * only those two are dropped, each counted by its reason, and every other
 * payload comes out whole, in order.
 */
static void
test_forged_in_batch(void **state)
{
	struct session_keys ki, kr;
	struct session *si, *sr;
	struct session_stats st;
	struct udpbatch *b;
	uint8_t sealed[11][64], pl[16], type, *d;
	size_t len[11];
	int sv[2], i, n, m, opened = 0, seen[10] = { 0 };
	uint8_t a[CRYPTO_X25519_LEN], apub[CRYPTO_X25519_LEN],
	    bb[CRYPTO_X25519_LEN], bpub[CRYPTO_X25519_LEN];

	(void)state;
	assert_int_equal(crypto_x25519_keypair(a, apub), 0);
	assert_int_equal(crypto_x25519_keypair(bb, bpub), 0);
	assert_int_equal(session_keys_derive(&ki, 1, a, bpub,
	    (const uint8_t *)"C", 1, (const uint8_t *)"O", 1), 0);
	assert_int_equal(session_keys_derive(&kr, 0, bb, apub,
	    (const uint8_t *)"C", 1, (const uint8_t *)"O", 1), 0);
	assert_non_null(si = session_new(&ki, idx_i, idx_r));
	assert_non_null(sr = session_new(&kr, idx_r, idx_i));
	for (i = 0; i < 10; i++) {
		memset(pl, 0x40 + i, sizeof(pl));
		n = session_udp_seal(si, SESSION_UDP_TYPE_MIN, pl, sizeof(pl),
		    sealed[i], sizeof(sealed[i]));
		assert_int_equal(n, sizeof(pl) + SESSION_UDP_OVERHEAD);
		len[i] = (size_t)n;
	}
	sealed[4][20] ^= 0x01;			/* forged */
	memcpy(sealed[10], sealed[7], len[7]);	/* replayed */
	len[10] = len[7];

	dgram_pair(sv);
	assert_non_null(b = udpbatch_new(SLOT));
	for (i = 0; i < 11; i++)
		udpbatch_add(b, sv[0], NULL, sealed[i], len[i], NULL);
	assert_int_equal(udpbatch_flush(b), 11);
	assert_int_equal(udpbatch_recv(b, sv[1], 0, SLOT, UDPBATCH_SLOTS), 11);
	for (i = 0; i < 11; i++) {
		d = udpbatch_slot(b, i);
		m = session_udp_open(sr, d, udpbatch_len(b, i), &type,
		    d + SESSION_UDP_HDR_LEN, SLOT - SESSION_UDP_HDR_LEN);
		if (i == 4 || i == 10) {
			assert_int_equal(m, -1);
			continue;
		}
		assert_int_equal(m, sizeof(pl));
		memset(pl, 0x40 + i, sizeof(pl));
		assert_memory_equal(d + SESSION_UDP_HDR_LEN, pl, sizeof(pl));
		seen[i]++;
		opened++;
	}
	assert_int_equal(opened, 9);
	for (i = 0; i < 10; i++)
		assert_int_equal(seen[i], i == 4 ? 0 : 1);
	session_get_stats(sr, &st);
	assert_int_equal(st.udp_opened, 9);
	assert_int_equal(st.tag_failed, 1);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(st.malformed, 0);
	session_free(si);
	session_free(sr);
	crypto_wipe(&ki, sizeof(ki));
	crypto_wipe(&kr, sizeof(kr));
	udpbatch_free(b);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_udp_runs),
		cmocka_unit_test(test_send_fd_and_failures),
		cmocka_unit_test(test_forged_in_batch),
	};
	char err[256];

	if (crypto_load_x25519(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return TU_RUN("udpbatch", tests);
}
