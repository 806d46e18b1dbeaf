/* SPDX-License-Identifier: ISC */
/* Socket settings shared by the modules that hold sockets. */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

int
sock_send_pending(int fd, uint8_t *buf, size_t *len)
{
	ssize_t r;

	while (*len > 0) {
		r = send(fd, buf, *len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		memmove(buf, buf + r, *len - (size_t)r);
		*len -= (size_t)r;
	}
	return 0;
}
