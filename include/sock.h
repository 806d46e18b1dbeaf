/* SPDX-License-Identifier: ISC */
/* The two socket settings every module holding sockets wants: non-blocking, and a close that resets. */
#ifndef NATMAPD_SOCK_H
#define NATMAPD_SOCK_H

/* O_NONBLOCK added to fd's flags: 0, or -1 (errno set). */
int	sock_nonblock(int fd);

/*
 * Close a TCP socket with a reset (SO_LINGER 0): the peer learns at once
 * that the connection is gone, nothing left unsent goes on being sent,
 * and no TIME_WAIT holds the port.
 */
void	sock_close_reset(int fd);

#endif
