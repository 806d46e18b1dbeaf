/* SPDX-License-Identifier: ISC */
/* Socket settings shared by the modules that hold sockets. */
#include "config.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "sock.h"

int
sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void
sock_close_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}
