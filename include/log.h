/* SPDX-License-Identifier: ISC */
/* Logging: stderr in the foreground, syslog as a daemon (OpenBSD ntpd's log API). */
#ifndef NATMAPD_LOG_H
#define NATMAPD_LOG_H

#include <stdarg.h>
#include <stddef.h>

void	log_init(int foreground, int verbose);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Copy untrusted bytes into dst as printable ASCII (vis-like); returns dst. */
char	*log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
