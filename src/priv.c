/* SPDX-License-Identifier: ISC */
/* Dropping root: the user's ids and groups, the directories it must write, and proof that root is gone. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

int
priv_lookup(const char *name, struct priv_user *u, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (strlen(name) >= sizeof(u->name)) {
		snprintf(err, errlen, "user \"%s\": name too long", name);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			snprintf(err, errlen, "user \"%s\": no such user", name);
		else
			snprintf(err, errlen, "user \"%s\": %s", name,
			    strerror(errno));
		return -1;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/* path's directory into dir; -1 if it has none but / or is too long. */
static int
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL || slash == path)
		return -1;
	n = (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

void
priv_prepare_dir(const struct priv_user *u, const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	const char *base;
	struct stat st;
	int fd, made = 0;

	if (dir_of(path, dir, sizeof(dir)) == -1)
		return;
	base = strrchr(dir, '/') + 1;
	if (mkdir(dir, mode) == 0)
		made = 1;
	else if (errno != EEXIST) {
		log_warn("cannot make %s for user %s", dir, u->name);
		return;
	}
	/* Never through a symbolic link: it could point anywhere. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("%s", dir);
		return;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", dir);
		close(fd);
		return;
	}
	if (made || (st.st_uid == 0 && st.st_uid != u->uid &&
	    strcmp(base, "natmapd") == 0)) {
		if ((made && fchmod(fd, mode) == -1) ||
		    fchown(fd, u->uid, u->gid) == -1)
			log_warn("cannot give %s to user %s", dir, u->name);
		else
			log_debug("%s %s for user %s", dir, made ? "made" :
			    "given", u->name);
	}
	close(fd);
}

void
priv_drop(const struct priv_user *u)
{
	if (geteuid() != 0) {
		if (geteuid() == u->uid && getuid() == u->uid)
			return;		/* started as the user already */
		fatalx("cannot become user %s: natmapd runs as uid %lu, not "
		    "root", u->name, (unsigned long)geteuid());
	}
	if (initgroups(u->name, u->gid) == -1)
		fatal("initgroups %s", u->name);
	if (setgid(u->gid) == -1)
		fatal("setgid %lu", (unsigned long)u->gid);
	if (setuid(u->uid) == -1)
		fatal("setuid %lu", (unsigned long)u->uid);
	/* As root, setuid() set the saved ids too: no way back, checked. */
	if (getuid() != u->uid || geteuid() != u->uid ||
	    getgid() != u->gid || getegid() != u->gid)
		fatalx("user %s: the ids did not all change", u->name);
	if (u->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("user %s: root could be had back", u->name);
	if (u->gid != 0 && u->uid != 0 && (setgid(0) != -1 ||
	    setegid(0) != -1))
		fatalx("user %s: group 0 could be had back", u->name);
	log_info("running as user %s (uid %lu, gid %lu)", u->name,
	    (unsigned long)u->uid, (unsigned long)u->gid);
}

int
priv_check_dir(const char *path, const char *what)
{
	char dir[PATH_MAX];

	if (dir_of(path, dir, sizeof(dir)) == -1)
		snprintf(dir, sizeof(dir), "/");
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	log_warn("the %s %s cannot be written as this user: %s", what, path,
	    dir);
	return -1;
}
