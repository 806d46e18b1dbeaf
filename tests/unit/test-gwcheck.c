/* SPDX-License-Identifier: ISC */
/* Unit tests of gwcheck.c's pure parts: what a check's result leads to, and the node's pace of REACHes. */
#include "config.h"

#include <string.h>

#include "testutil.h"

#include "gwcheck.h"
#include "rdv-server.h"

#define T0	1000000ULL

/* Checks that pass: every 5 minutes, the failures forgotten. */
static void
test_connected(void **state)
{
	struct gwcheck_state st;
	uint64_t next = 0;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(gwcheck_next(&st, RDV_REACH_CONNECTED, T0, &next), 0);
	assert_int_equal(next, GWCHECK_INTERVAL_MS);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, T0, &next),
	    0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
	assert_int_equal(st.fails, 1);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_CONNECTED, T0, &next), 0);
	assert_int_equal(st.fails, 0);
	/* one failure again is not two in a row */
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, T0, &next),
	    0);
	assert_int_equal(st.fails, 1);
}

/* Two in a row without a connection: made again; again only 5 minutes later. */
static void
test_readd(void **state)
{
	struct gwcheck_state st;
	uint64_t next = 0, now = T0;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
	now += next;
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    1);
	assert_int_equal(next, GWCHECK_FIRST_MS);
	assert_int_equal(st.readd_at, now);
	assert_int_equal(st.fails, 0);
	/* back, and still not forwarding: not made again within 5 minutes */
	now += 4000;
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
	now += next;
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    0);
	assert_int_equal(next, T0 + GWCHECK_AGAIN_MS + GWCHECK_READD_MIN_MS -
	    now);
	now += next;
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    1);
	assert_int_equal(st.readd_at, now);
	/* near the end of the window: the wait is never under AGAIN */
	memset(&st, 0, sizeof(st));
	st.fails = 1;
	st.readd_at = T0;
	now = T0 + GWCHECK_READD_MIN_MS - 1;
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, now, &next),
	    0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
}

/* Nothing proven: the failures stand, the checks back off to the interval; a 429 waits. */
static void
test_unproven(void **state)
{
	struct gwcheck_state st;
	uint64_t next = 0, want = GWCHECK_AGAIN_MS;
	int i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 40; i++) {
		assert_int_equal(gwcheck_next(&st, i % 2 ?
		    RDV_REACH_NOT_PROVEN : RDV_REACH_NOT_TRIED, T0, &next), 0);
		assert_int_equal(next, want);
		want = want * 2 < GWCHECK_INTERVAL_MS ? want * 2 :
		    GWCHECK_INTERVAL_MS;
	}
	assert_int_equal(gwcheck_next(&st, RDV_REACH_CONNECTED, T0, &next), 0);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NOT_PROVEN, T0, &next), 0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
	/* no connection, a reset, no connection: two in a row */
	memset(&st, 0, sizeof(st));
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, T0, &next),
	    0);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NOT_PROVEN, T0, &next), 0);
	assert_int_equal(st.fails, 1);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_LIMITED, T0, &next), 0);
	assert_int_equal(next, GWCHECK_AGAIN_MS);
	assert_int_equal(st.fails, 1);
	assert_int_equal(gwcheck_next(&st, RDV_REACH_NO_CONNECTION, T0, &next),
	    1);
}

/* The pace: a burst of 3, then one every 8 s. */
static void
test_pace(void **state)
{
	struct gwcheck_pace p;
	uint64_t now = T0;
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (i = 0; i < GWCHECK_BURST; i++) {
		assert_int_equal(gwcheck_pace_wait(&p, now), 0);
		gwcheck_pace_take(&p, now);
	}
	assert_int_equal(gwcheck_pace_wait(&p, now), GWCHECK_SPACING_MS);
	assert_int_equal(gwcheck_pace_wait(&p, now + 1), GWCHECK_SPACING_MS - 1);
	now += GWCHECK_SPACING_MS;
	assert_int_equal(gwcheck_pace_wait(&p, now), 0);
	gwcheck_pace_take(&p, now);
	assert_int_equal(gwcheck_pace_wait(&p, now), GWCHECK_SPACING_MS);
	/* idle long: the burst is back, no more */
	now += 3600 * 1000;
	for (i = 0; i < GWCHECK_BURST; i++) {
		assert_int_equal(gwcheck_pace_wait(&p, now), 0);
		gwcheck_pace_take(&p, now);
	}
	assert_true(gwcheck_pace_wait(&p, now) > 0);
	/* a 429: nothing for one spacing at least, then one at a time */
	now += 3600 * 1000;
	gwcheck_pace_limited(&p, now);
	assert_int_equal(gwcheck_pace_wait(&p, now), GWCHECK_SPACING_MS);
	now += GWCHECK_SPACING_MS;
	assert_int_equal(gwcheck_pace_wait(&p, now), 0);
	gwcheck_pace_take(&p, now);
	assert_int_equal(gwcheck_pace_wait(&p, now), GWCHECK_SPACING_MS);
}

/*
 * The server's token bucket (a burst of RDV_REACH_BURST, one back every
 * RDV_REACH_INTERVAL_MS) run beside the pace, 100 mappings due at once
 * and again and again: never a 429, with 2 tokens to spare for others.
 */
static void
test_pace_under_server(void **state)
{
	struct gwcheck_pace p;
	uint64_t now = T0, last = T0, sent = 0;
	double tokens = RDV_REACH_BURST, low = RDV_REACH_BURST;
	int due = 100;

	(void)state;
	memset(&p, 0, sizeof(p));
	while (sent < 1000) {
		uint64_t w = gwcheck_pace_wait(&p, now);

		if (w > 0)
			now += w;
		tokens += (double)(now - last) / RDV_REACH_INTERVAL_MS;
		if (tokens > RDV_REACH_BURST)
			tokens = RDV_REACH_BURST;
		last = now;
		assert_true(tokens >= 1.0);
		tokens -= 1.0;
		if (tokens < low)
			low = tokens;
		gwcheck_pace_take(&p, now);
		sent++;
		if (--due == 0)
			due = 100;
	}
	assert_true(low >= RDV_REACH_BURST - GWCHECK_BURST);
	/* 1000 REACHes took 997 spacings */
	assert_int_equal(now - T0, (uint64_t)(1000 - GWCHECK_BURST) *
	    GWCHECK_SPACING_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connected),
		cmocka_unit_test(test_readd),
		cmocka_unit_test(test_unproven),
		cmocka_unit_test(test_pace),
		cmocka_unit_test(test_pace_under_server),
	};

	return TU_RUN("gwcheck", tests);
}
