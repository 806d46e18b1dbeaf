/* SPDX-License-Identifier: ISC */
/* Fuzz target: the body of an HTTP(S) echo answer (echo-msg.c). */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"
#include "fuzz.h"

/* The address printed and parsed again is the same address. */
static void
check_round_trip(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin2;
	const struct sockaddr_in6 *sin62;
	struct sockaddr_storage again;
	const char *err = NULL;
	char text[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		CHECK(sin->sin_port == 0);
		CHECK(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)) !=
		    NULL);
	} else {
		CHECK(ss->ss_family == AF_INET6);
		CHECK(sin6->sin6_port == 0);
		CHECK(sin6->sin6_scope_id == 0 && sin6->sin6_flowinfo == 0);
		CHECK(!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
		CHECK(inet_ntop(AF_INET6, &sin6->sin6_addr, text,
		    sizeof(text)) != NULL);
	}
	CHECK(echo_parse_body(text, strlen(text), &again, &err) == 0);
	CHECK(err == NULL);
	CHECK(again.ss_family == ss->ss_family);
	if (ss->ss_family == AF_INET) {
		sin2 = (const struct sockaddr_in *)&again;
		CHECK(sin2->sin_addr.s_addr == sin->sin_addr.s_addr);
	} else {
		sin62 = (const struct sockaddr_in6 *)&again;
		CHECK(memcmp(&sin62->sin6_addr, &sin6->sin6_addr,
		    sizeof(sin6->sin6_addr)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss, ss2;
	const char *err = NULL, *err2 = NULL;
	int r;

	r = echo_parse_body((const char *)data, size, &ss, &err);
	CHECK(r == 0 || r == -1);
	/* pure: the same answer twice */
	CHECK(echo_parse_body((const char *)data, size, &ss2, &err2) == r);
	CHECK(memcmp(&ss, &ss2, sizeof(ss)) == 0);
	if (r == -1) {
		CHECK(err != NULL && err[0] != '\0');
		CHECK(err2 != NULL && strcmp(err, err2) == 0);
		CHECK(fuzz_all_zero(&ss, sizeof(ss)));
		return 0;
	}
	CHECK(err == NULL);
	CHECK(size > 0 && size <= ECHO_MAX_BODY);
	CHECK(memchr(data, '\0', size) == NULL);
	check_round_trip(&ss);
	return 0;
}
