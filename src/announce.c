/* SPDX-License-Identifier: ISC */
/* A gateway's restart announcements: PCP ANNOUNCE and NAT-PMP answers multicast to 224.0.0.1:5350. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "log.h"
#include "pcp-msg.h"
#include "ssdp-msg.h"
#include "upnp-msg.h"

#define ANNOUNCE_GROUP	"224.0.0.1"

/* A UDP socket on port, in group, on the interface of local. */
static int
announce_listen_on(uint16_t port, const char *group, struct in_addr local)
{
	struct sockaddr_in sin;
	struct ip_mreq mr;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Other listeners on this host (minissdpd, a second client) may share it. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET, group, &mr.imr_multiaddr);
	mr.imr_interface = local;
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
announce_open(struct in_addr local)
{
	return announce_listen_on(PCP_CLIENT_PORT, ANNOUNCE_GROUP, local);
}

int
announce_ssdp_open(struct in_addr local)
{
	return announce_listen_on(SSDP_PORT, SSDP_MCAST_ADDR, local);
}

int
announce_ssdp_read(int fd, struct in_addr gateway, long *bootid,
    char *location, size_t loclen)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct ssdp_msg m;
	struct upnp_url u;
	const char *err;
	char buf[1536], esc[512];
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	/* Searches from other hosts and other devices' NOTIFYs are not ours. */
	if (fl < sizeof(from) || from.sin_addr.s_addr != gateway.s_addr)
		return 0;
	if (ssdp_parse(buf, (size_t)n, &m, &err) == -1) {
		if (n >= 8 && memcmp(buf, "NOTIFY", 6) == 0)
			log_debug("ssdp: dropped a NOTIFY: %s", err);
		return 0;
	}
	if (m.kind != SSDP_ALIVE)
		return 0;
	/* The gateway describes itself: a LOCATION elsewhere is not heeded. */
	if (upnp_url_parse(m.location, &u) == -1 ||
	    u.addr.s_addr != gateway.s_addr) {
		log_debug("ssdp: dropped a NOTIFY from %s: its LOCATION %s is "
		    "not on that host", inet_ntoa(from.sin_addr),
		    log_escape(esc, sizeof(esc), m.location,
		    strlen(m.location)));
		return 0;
	}
	*bootid = m.bootid;
	snprintf(location, loclen, "%s", m.location);
	return 1;
}

int
announce_read(int fd, struct in_addr gateway, struct pcp_response *r)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t buf[PCP_MAX_MSG + 4];
	const char *err;
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	/* Only the gateway speaks for the gateway. */
	if (fl < sizeof(from) || from.sin_addr.s_addr != gateway.s_addr ||
	    ntohs(from.sin_port) != PCP_SERVER_PORT) {
		log_debug("announce: dropped a datagram from %s:%u",
		    inet_ntoa(from.sin_addr), ntohs(from.sin_port));
		return 0;
	}
	if (pcp_parse_response(buf, (size_t)n, r, &err) == -1) {
		log_debug("announce: dropped: %s", err);
		return 0;
	}
	if ((r->version == PCP_VERSION && r->opcode == PCP_OP_ANNOUNCE) ||
	    (r->version == NATPMP_VERSION && r->opcode == NATPMP_OP_PUBLIC &&
	    r->result == 0))
		return 1;
	log_debug("announce: not an announcement (version %u, opcode %u)",
	    r->version, r->opcode);
	return 0;
}

int
announce_open6(unsigned int ifindex)
{
	struct sockaddr_in6 sin6;
	struct ipv6_mreq mr;
	int fd, one = 1;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(PCP_CLIENT_PORT);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		goto fail;
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET6, "ff02::1", &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = ifindex;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr,
	    sizeof(mr)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
announce_read6(int fd, const struct in6_addr *gateway, struct pcp_response *r)
{
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	uint8_t buf[PCP_MAX_MSG + 4];
	const char *err;
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	/* Only the router speaks for the router. */
	if (fl < sizeof(from) || from.sin6_family != AF_INET6 ||
	    ntohs(from.sin6_port) != PCP_SERVER_PORT ||
	    memcmp(&from.sin6_addr, gateway, sizeof(*gateway)) != 0)
		return 0;
	if (pcp_parse_response(buf, (size_t)n, r, &err) == -1) {
		log_debug("announce: dropped: %s", err);
		return 0;
	}
	if (r->version == PCP_VERSION && r->opcode == PCP_OP_ANNOUNCE)
		return 1;
	log_debug("announce: not a PCP ANNOUNCE (version %u, opcode %u)",
	    r->version, r->opcode);
	return 0;
}
