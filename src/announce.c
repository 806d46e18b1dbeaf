/* SPDX-License-Identifier: ISC */
/* A gateway's restart announcements: PCP ANNOUNCE and NAT-PMP answers multicast to 224.0.0.1:5350. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "log.h"
#include "pcp-msg.h"

#define ANNOUNCE_GROUP	"224.0.0.1"

int
announce_open(struct in_addr local)
{
	struct sockaddr_in sin;
	struct ip_mreq mr;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Other clients on this host may listen too. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(PCP_CLIENT_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET, ANNOUNCE_GROUP, &mr.imr_multiaddr);
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
