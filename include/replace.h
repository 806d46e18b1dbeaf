/* SPDX-License-Identifier: ISC */
/* Replacing a file whole: a reader sees the old one or the new one, never half. */
#ifndef NATMAPD_REPLACE_H
#define NATMAPD_REPLACE_H

#include <sys/types.h>

#include <stdio.h>

/*
 * Write path's new contents through print (0, or -1 on error) into a
 * temporary file beside it with the given mode, fsync it and rename it
 * over path.  0, or -1 with errno set and nothing left behind.
 */
int	file_replace(const char *path, mode_t mode,
	    int (*print)(FILE *, void *), void *arg);

#endif
