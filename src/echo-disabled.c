/* SPDX-License-Identifier: ISC */
/* The HTTPS echo source when natmapd is built without libcurl: always unavailable. */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "echo.h"

int
echo_available(void)
{
	return 0;
}

struct echo_req *
echo_start(const char *url, const struct sockaddr *src,
    unsigned int timeout_ms, echo_cb cb, void *arg)
{
	(void)url;
	(void)src;
	(void)timeout_ms;
	(void)cb;
	(void)arg;
	errno = ENOTSUP;
	return NULL;
}

void
echo_cancel(struct echo_req *req)
{
	(void)req;
}

void
echo_shutdown(void)
{
}
