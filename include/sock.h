/* SPDX-License-Identifier: ISC */
/* What every module holding sockets wants: non-blocking, a close that resets, a stream's pending output sent. */
#ifndef NATMAPD_SOCK_H
#define NATMAPD_SOCK_H

#include <stddef.h>
#include <stdint.h>

/* O_NONBLOCK added to fd's flags: 0, or -1 (errno set). */
int	sock_nonblock(int fd);

/*
 * Close a TCP socket with a reset (SO_LINGER 0): the peer learns at once
 * that the connection is gone, nothing left unsent goes on being sent,
 * and no TIME_WAIT holds the port.
 */
void	sock_close_reset(int fd);

/*
 * Send what the kernel takes of the *len bytes waiting in buf (a
 * non-blocking stream socket), moving what is left to the front: 0 (all
 * sent, or the kernel's buffer full), or -1 with errno when the
 * connection is gone.
 */
int	sock_send_pending(int fd, uint8_t *buf, size_t *len);

#endif
