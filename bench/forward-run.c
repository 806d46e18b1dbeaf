/* SPDX-License-Identifier: ISC */
/* bench/forward.sh's forwarder: one TCP forwarder from a local port to a target, until killed. */
/* usage: forward-run LISTEN-PORT TARGET-IPV4 TARGET-PORT [rw|splice] */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "log.h"
#include "loop.h"

int
main(int argc, char *argv[])
{
	struct forward_opts o = { .copy = FORWARD_COPY_AUTO };
	struct sockaddr_in la, ta;
	struct forward *fw;
	int fd, one = 1;

	if (argc == 5 && strcmp(argv[4], "rw") == 0)
		o.copy = FORWARD_COPY_RW;
	else if (argc == 5 && strcmp(argv[4], "splice") == 0)
		o.copy = FORWARD_COPY_SPLICE;
	else if (argc != 4) {
		fprintf(stderr, "usage: forward-run LISTEN-PORT TARGET-IPV4 "
		    "TARGET-PORT [rw|splice]\n");
		return 2;
	}
	log_init(1, 0);
	memset(&la, 0, sizeof(la));
	la.sin_family = AF_INET;
	la.sin_port = htons((uint16_t)atoi(argv[1]));
	la.sin_addr.s_addr = htonl(INADDR_ANY);	/* a namespace of its own */
	memset(&ta, 0, sizeof(ta));
	ta.sin_family = AF_INET;
	ta.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &ta.sin_addr) != 1)
		fatalx("%s: not an IPv4 address", argv[2]);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&la, sizeof(la)) == -1 ||
	    listen(fd, 128) == -1)
		fatal("listen on port %s", argv[1]);
	if ((fw = forward_tcp_new(fd, (struct sockaddr *)&ta, sizeof(ta),
	    &o)) == NULL)
		fatal("forward_tcp_new");
	printf("ready\n");
	fflush(stdout);
	loop_run();
	return 0;
}
