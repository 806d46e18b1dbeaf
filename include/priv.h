/* SPDX-License-Identifier: ISC */
/* Dropping root for good: to the user of "user" (--user) and its groups, once what needs root is open. */
#ifndef NATMAPD_PRIV_H
#define NATMAPD_PRIV_H

#include <sys/types.h>

#include <stddef.h>

struct priv_user {
	char	name[64];
	uid_t	uid;
	gid_t	gid;
};

/* Look the user up; -1 with the reason in err if there is none. */
int	priv_lookup(const char *name, struct priv_user *, char *err,
	    size_t errlen);
/*
 * As root, before priv_drop(): make the directory of path writable by the
 * user.  A missing directory (its parent must exist) is made with mode and
 * given to the user; an existing one only if root owns it and it is named
 * "natmapd" (/var/lib/natmapd, /run/natmapd); any other is left alone.
 */
void	priv_prepare_dir(const struct priv_user *, const char *path,
	    mode_t mode);
/*
 * Become the user, with its primary and supplementary groups, for good:
 * fatal if that fails or if root could be had back.  Running as the user
 * already is fine; as another user than root, fatal.
 */
void	priv_drop(const struct priv_user *);
/* After priv_drop(): 0 if the user can write in path's directory, else warn (what: "state file"). */
int	priv_check_dir(const char *path, const char *what);

#endif
