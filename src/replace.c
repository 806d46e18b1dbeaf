/* SPDX-License-Identifier: ISC */
/* Replacing a file whole: write a temporary file beside it, fsync, rename. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replace.h"

int
file_replace(const char *path, mode_t mode, int (*print)(FILE *, void *),
    void *arg)
{
	char *tmp;
	size_t plen = strlen(path);
	FILE *fp = NULL;
	int fd, saved;

	if ((tmp = malloc(plen + sizeof(".tmp.XXXXXX"))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	if ((fd = mkstemp(tmp)) == -1) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	errno = 0;
	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL)
		goto fail;
	if (print(fp, arg) == -1 || fflush(fp) != 0 || ferror(fp) ||
	    fsync(fd) == -1)
		goto fail;
	fd = -1;
	if (fclose(fp) != 0) {
		fp = NULL;
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno != 0 ? errno : EIO;
	if (fp != NULL)
		fclose(fp);
	else if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}
