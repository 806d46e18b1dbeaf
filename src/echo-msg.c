/* SPDX-License-Identifier: ISC */
/* The body of an HTTP(S) echo answer: one IPv4 or IPv6 address in text, nothing else. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "echo.h"

#define ECHO_STR(x)	#x
#define ECHO_XSTR(x)	ECHO_STR(x)

/* Longer than any address inet_pton takes (45 characters for IPv6). */
#define ECHO_MAX_ADDR	64

static int
echo_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
echo_parse_body(const char *body, size_t len, struct sockaddr_storage *out,
    const char **err)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	struct in6_addr a6;
	struct in_addr a4;
	char text[ECHO_MAX_ADDR], *zone;
	size_t start, end, tok;
	int family;

	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (len == 0) {
		*err = "empty answer";
		return -1;
	}
	if (len > ECHO_MAX_BODY) {
		*err = "answer longer than " ECHO_XSTR(ECHO_MAX_BODY) " bytes";
		return -1;
	}
	if (memchr(body, '\0', len) != NULL) {
		*err = "NUL byte in the answer";
		return -1;
	}
	for (start = 0; start < len && echo_is_space(body[start]); start++)
		;
	for (end = len; end > start && echo_is_space(body[end - 1]); end--)
		;
	if (start == end) {
		*err = "only white space in the answer";
		return -1;
	}
	/* the address: up to the first white space */
	for (tok = start; tok < end && !echo_is_space(body[tok]); tok++)
		;
	if (tok - start >= sizeof(text)) {
		*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(text, body + start, tok - start);
	text[tok - start] = '\0';
	if (inet_pton(AF_INET, text, &a4) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, &a6) == 1)
		family = AF_INET6;
	else {
		if ((zone = strchr(text, '%')) != NULL)
			*zone = '\0';
		if (zone != NULL && inet_pton(AF_INET6, text, &a6) == 1)
			*err = "IPv6 address with a zone id";
		else
			*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	if (tok != end) {
		*err = "something after the address";
		return -1;
	}
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6)) {
		family = AF_INET;
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
	}
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr = a4;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
	}
	return 0;
}
