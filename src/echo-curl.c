/* SPDX-License-Identifier: ISC */
/* The HTTPS echo source: libcurl's multi interface driven by our event loop, libcurl loaded on first use. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Called through pointers (below): no type-checking wrapper macros. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "echo.h"
#include "log.h"
#include "loop.h"

/*
 * libcurl is loaded when the first request starts, not linked: with its
 * TLS, Kerberos, LDAP... libraries it costs a process about 6 MB of
 * memory, 1 MB of it dirty (Debian 12: natmapd's RSS 7.5 MB instead of
 * 1.7 MB), for a source that only --probe uses.  Its soname has been 4
 * since libcurl 7.16.
 */
#define CURL_SONAME		"libcurl.so.4"

#define CURL_FN(name)	__typeof__(curl_##name) *name
static struct {
	void	*lib;
	int	 tried;
	CURL_FN(easy_cleanup);
	CURL_FN(easy_getinfo);
	CURL_FN(easy_init);
	CURL_FN(easy_setopt);
	CURL_FN(easy_strerror);
	CURL_FN(free);
	CURL_FN(global_cleanup);
	CURL_FN(global_init);
	CURL_FN(multi_add_handle);
	CURL_FN(multi_assign);
	CURL_FN(multi_cleanup);
	CURL_FN(multi_info_read);
	CURL_FN(multi_init);
	CURL_FN(multi_remove_handle);
	CURL_FN(multi_setopt);
	CURL_FN(multi_socket_action);
	CURL_FN(url);
	CURL_FN(url_cleanup);
	CURL_FN(url_get);
	CURL_FN(url_set);
	CURL_FN(version_info);
} libcurl;
#undef CURL_FN

#define CURL_SYM(name)	{ "curl_" #name, (void *)&libcurl.name }
static const struct {
	const char	*sym;
	void		*slot;		/* a function pointer in C */
} curl_syms[] = {
	CURL_SYM(easy_cleanup), CURL_SYM(easy_getinfo), CURL_SYM(easy_init),
	CURL_SYM(easy_setopt), CURL_SYM(easy_strerror), CURL_SYM(free),
	CURL_SYM(global_cleanup), CURL_SYM(global_init),
	CURL_SYM(multi_add_handle), CURL_SYM(multi_assign),
	CURL_SYM(multi_cleanup), CURL_SYM(multi_info_read),
	CURL_SYM(multi_init), CURL_SYM(multi_remove_handle),
	CURL_SYM(multi_setopt), CURL_SYM(multi_socket_action), CURL_SYM(url),
	CURL_SYM(url_cleanup), CURL_SYM(url_get), CURL_SYM(url_set),
	CURL_SYM(version_info),
};
#undef CURL_SYM

/* From here on, curl_x() calls go through the pointers. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup	(*libcurl.easy_cleanup)
#define curl_easy_getinfo	(*libcurl.easy_getinfo)
#define curl_easy_init		(*libcurl.easy_init)
#define curl_easy_setopt	(*libcurl.easy_setopt)
#define curl_easy_strerror	(*libcurl.easy_strerror)
#define curl_free		(*libcurl.free)
#define curl_global_cleanup	(*libcurl.global_cleanup)
#define curl_global_init	(*libcurl.global_init)
#define curl_multi_add_handle	(*libcurl.multi_add_handle)
#define curl_multi_assign	(*libcurl.multi_assign)
#define curl_multi_cleanup	(*libcurl.multi_cleanup)
#define curl_multi_info_read	(*libcurl.multi_info_read)
#define curl_multi_init		(*libcurl.multi_init)
#define curl_multi_remove_handle (*libcurl.multi_remove_handle)
#define curl_multi_setopt	(*libcurl.multi_setopt)
#define curl_multi_socket_action (*libcurl.multi_socket_action)
#define curl_url		(*libcurl.url)
#define curl_url_cleanup	(*libcurl.url_cleanup)
#define curl_url_get		(*libcurl.url_get)
#define curl_url_set		(*libcurl.url_set)
#define curl_version_info	(*libcurl.version_info)

/* dlopen libcurl once: 0, or -1 (said once in the log) with errno ELIBACC. */
static int
curl_load(void)
{
	void *lib, *p;
	size_t i;

	if (libcurl.lib != NULL)
		return 0;
	if (libcurl.tried) {
		errno = ELIBACC;
		return -1;
	}
	libcurl.tried = 1;
	if ((lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_warnx("echo: cannot load %s: %s", CURL_SONAME, dlerror());
		errno = ELIBACC;
		return -1;
	}
	for (i = 0; i < sizeof(curl_syms) / sizeof(curl_syms[0]); i++) {
		if ((p = dlsym(lib, curl_syms[i].sym)) == NULL) {
			log_warnx("echo: %s has no %s", CURL_SONAME,
			    curl_syms[i].sym);
			dlclose(lib);
			errno = ELIBACC;
			return -1;
		}
		memcpy(curl_syms[i].slot, &p, sizeof(p));
	}
	libcurl.lib = lib;
	return 0;
}

#define ECHO_MAX_REDIRS		3L
#define ECHO_USER_AGENT		"natmapd/" PACKAGE_VERSION

struct echo_req {
	CURL		*easy;
	echo_cb		 cb;
	void		*arg;
	uint64_t	 t0;
	int		 toolong;	/* past ECHO_MAX_BODY */
	int		 done;		/* in its callback */
	size_t		 len;
	char		 body[ECHO_MAX_BODY];
	char		 iface[8 + INET6_ADDRSTRLEN];	/* host!ADDR */
	char		 errbuf[CURL_ERROR_SIZE];
};

/* A socket libcurl asked us to watch (the pointer: curl_multi_assign). */
struct echo_sock {
	struct loop_fd	 lfd;
	struct echo_sock *next;
};

static CURLM		*multi;
static struct timer	 echo_timer;
static struct echo_sock	*socks;
static unsigned int	 inflight;
static int		 global_init;
static int		 features_logged;

static void	echo_complete(void);

int
echo_available(void)
{
	return 1;
}

static void
echo_sock_free(struct echo_sock *es)
{
	struct echo_sock **p;

	for (p = &socks; *p != NULL; p = &(*p)->next) {
		if (*p == es) {
			*p = es->next;
			break;
		}
	}
	loop_fd_del(&es->lfd);
	free(es);
}

static void
echo_fd_event(struct loop_fd *lf, int revents)
{
	int flags = 0, running;

	if (revents & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* This may remove lf (CURL_POLL_REMOVE): not touched after. */
	curl_multi_socket_action(multi, lf->fd, flags, &running);
	echo_complete();
}

/* CURLMOPT_SOCKETFUNCTION: what libcurl wants to hear about a socket. */
static int
echo_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct echo_sock *es = sockp;
	int events = 0;

	(void)easy;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		if (es != NULL) {
			curl_multi_assign(multi, s, NULL);
			echo_sock_free(es);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		events |= LOOP_WRITE;
	if (es == NULL) {
		if ((es = calloc(1, sizeof(*es))) == NULL) {
			log_warn("echo: socket watch");
			return -1;
		}
		es->next = socks;
		socks = es;
		loop_fd_add(&es->lfd, s, events, echo_fd_event);
		curl_multi_assign(multi, s, es);
	} else
		loop_fd_events(&es->lfd, events);
	return 0;
}

static void
echo_timeout(struct timer *t)
{
	int running;

	(void)t;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	echo_complete();
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int
echo_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (timeout_ms < 0)
		timer_stop(&echo_timer);
	else
		timer_set(&echo_timer, (uint64_t)timeout_ms); /* 0: now */
	return 0;
}

/* Our sockets are not for the hooks that natmapd runs. */
static curl_socket_t
echo_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t
echo_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct echo_req *req = arg;
	size_t n = size * nmemb;

	if (n > sizeof(req->body) - req->len) {
		req->toolong = 1;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	return n;
}

static int
echo_init(void)
{
	const curl_version_info_data *vi;

	if (multi != NULL)
		return 0;
	if (curl_load() == -1)
		return -1;
	if (!global_init) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_warnx("echo: curl_global_init failed");
			errno = ENOMEM;
			return -1;
		}
		global_init = 1;
	}
	if (!features_logged) {
		vi = curl_version_info(CURLVERSION_NOW);
		if (vi->features & CURL_VERSION_ASYNCHDNS)
			log_debug("echo: libcurl %s (%s), asynchronous name "
			    "lookups", vi->version, vi->ssl_version != NULL ?
			    vi->ssl_version : "no TLS");
		else
			log_warnx("echo: libcurl %s looks names up "
			    "synchronously: a slow DNS server will stall "
			    "natmapd", vi->version);
		features_logged = 1;
	}
	if ((multi = curl_multi_init()) == NULL) {
		log_warnx("echo: curl_multi_init failed");
		errno = ENOMEM;
		return -1;
	}
	timer_init(&echo_timer, echo_timeout);
	if (curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, echo_sock_cb) !=
	    CURLM_OK ||
	    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, echo_timer_cb) !=
	    CURLM_OK) {
		log_warnx("echo: curl_multi_setopt failed");
		curl_multi_cleanup(multi);
		multi = NULL;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* http:// or https://, as libcurl reads the URL; nothing else. */
static int
echo_url_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL;
	int ok = 0;

	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		ok = strcasecmp(scheme, "http") == 0 ||
		    strcasecmp(scheme, "https") == 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

/* "host!ADDRESS": bind to the address, never taken for an interface name. */
static int
echo_src(struct echo_req *req, const struct sockaddr *src, long *ipresolve)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)src;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)src;
	char a[INET6_ADDRSTRLEN];

	switch (src->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		*ipresolve = CURL_IPRESOLVE_V4;
		break;
	case AF_INET6:
		/* libcurl would look "fe80::1%eth0" up as a name, blocking */
		if (sin6->sin6_scope_id != 0) {
			errno = EINVAL;
			return -1;
		}
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		*ipresolve = CURL_IPRESOLVE_V6;
		break;
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
	snprintf(req->iface, sizeof(req->iface), "host!%s", a);
	return 0;
}

#define ECHO_SETOPT(h, opt, val) do {					\
	if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) {		\
		what = #opt;						\
		goto fail;						\
	}								\
} while (0)

struct echo_req *
echo_start(const char *url, const struct sockaddr *src,
    unsigned int timeout_ms, echo_cb cb, void *arg)
{
	struct echo_req *req;
	const char *what = NULL;
	long ipresolve = CURL_IPRESOLVE_WHATEVER;
	CURL *h;

	if (echo_init() == -1)
		return NULL;
	if (url == NULL || cb == NULL || !echo_url_ok(url)) {
		errno = EINVAL;
		return NULL;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	if (src != NULL && echo_src(req, src, &ipresolve) == -1) {
		free(req);
		return NULL;
	}
	if ((h = req->easy = curl_easy_init()) == NULL) {
		free(req);
		errno = ENOMEM;
		return NULL;
	}
	req->cb = cb;
	req->arg = arg;
	if (timeout_ms == 0)
		timeout_ms = ECHO_TIMEOUT_MS;

	ECHO_SETOPT(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	ECHO_SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	ECHO_SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	ECHO_SETOPT(h, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	ECHO_SETOPT(h, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	ECHO_SETOPT(h, CURLOPT_FOLLOWLOCATION, 1L);
	ECHO_SETOPT(h, CURLOPT_MAXREDIRS, ECHO_MAX_REDIRS);
	ECHO_SETOPT(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	ECHO_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	ECHO_SETOPT(h, CURLOPT_USERAGENT, ECHO_USER_AGENT);
	/* A proxy's address is not ours: none, whatever the environment. */
	ECHO_SETOPT(h, CURLOPT_PROXY, "");
	/* A fresh connection each time, from the source asked for. */
	ECHO_SETOPT(h, CURLOPT_FRESH_CONNECT, 1L);
	ECHO_SETOPT(h, CURLOPT_FORBID_REUSE, 1L);
	ECHO_SETOPT(h, CURLOPT_IPRESOLVE, ipresolve);
#if LIBCURL_VERSION_NUM >= 0x075700	/* 7.87.0 */
	/*
	 * A transfer that times out or is cancelled while its name is looked
	 * up would otherwise wait for the resolver thread (getaddrinfo, up to
	 * the resolv.conf timeouts) before returning to the loop.  Instead
	 * the thread is left to finish alone and frees its own state.
	 */
	ECHO_SETOPT(h, CURLOPT_QUICK_EXIT, 1L);
#endif
	if (src != NULL)
		ECHO_SETOPT(h, CURLOPT_INTERFACE, req->iface);
	ECHO_SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, echo_open_socket);
	ECHO_SETOPT(h, CURLOPT_WRITEFUNCTION, echo_write);
	ECHO_SETOPT(h, CURLOPT_WRITEDATA, req);
	ECHO_SETOPT(h, CURLOPT_ERRORBUFFER, req->errbuf);
	ECHO_SETOPT(h, CURLOPT_PRIVATE, req);

	req->t0 = loop_now();
	if (curl_multi_add_handle(multi, h) != CURLM_OK) {
		what = "curl_multi_add_handle";
		goto fail;
	}
	inflight++;
	log_debug("echo: GET %s%s%s, timeout %u ms", url,
	    src != NULL ? " from " : "", src != NULL ? req->iface + 5 : "",
	    timeout_ms);
	return req;

fail:
	log_warnx("echo: %s refused by libcurl", what);
	curl_easy_cleanup(h);
	free(req);
	errno = EINVAL;
	return NULL;
}

static void
echo_release(struct echo_req *req)
{
	curl_multi_remove_handle(multi, req->easy);
	curl_easy_cleanup(req->easy);
	req->easy = NULL;
	inflight--;
}

static void
echo_log_result(struct echo_req *req, const struct echo_result *res)
{
	char url[256] = "?", addr[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&res->addr;
	const struct sockaddr_in6 *sin6 =
	    (const struct sockaddr_in6 *)&res->addr;
	char *eff = NULL;

	/* after redirects, the URL is the server's word: escaped */
	if (curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &eff) ==
	    CURLE_OK && eff != NULL)
		log_escape(url, sizeof(url), eff, strlen(eff));
	if (!res->ok) {
		log_debug("echo: %s failed in %llu ms: %s", url,
		    (unsigned long long)res->ms, res->err);
		return;
	}
	if (res->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
	log_debug("echo: %s answered %s in %llu ms", url, addr,
	    (unsigned long long)res->ms);
}

static void
echo_finish(struct echo_req *req, CURLcode code)
{
	struct echo_result res;
	const char *perr = NULL;
	long status = 0;

	memset(&res, 0, sizeof(res));
	if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	res.http_status = status;
	res.ms = loop_now() - req->t0;

	if (status != 0 && status != 200 && (code == CURLE_OK || req->toolong))
		snprintf(res.err, sizeof(res.err), "HTTP %ld", status);
	else if (req->toolong)
		snprintf(res.err, sizeof(res.err),
		    "answer longer than %d bytes", ECHO_MAX_BODY);
	else if (code != CURLE_OK) {
		/* It may quote the server (a Location): escaped. */
		if (req->errbuf[0] != '\0')
			log_escape(res.err, sizeof(res.err), req->errbuf,
			    strnlen(req->errbuf, sizeof(req->errbuf)));
		else
			snprintf(res.err, sizeof(res.err), "%s",
			    curl_easy_strerror(code));
	} else if (status != 200)
		snprintf(res.err, sizeof(res.err), "HTTP %ld", status);
	else if (echo_parse_body(req->body, req->len, &res.addr, &perr) == -1)
		snprintf(res.err, sizeof(res.err), "%s", perr);
	else
		res.ok = 1;

	if (log_getverbose())
		echo_log_result(req, &res);
	echo_release(req);
	req->done = 1;
	req->cb(req, &res, req->arg);
	free(req);
}

/* Hand the finished transfers to their callbacks. */
static void
echo_complete(void)
{
	CURLMsg *msg;
	void *p;
	int left;

	while (multi != NULL && (msg = curl_multi_info_read(multi, &left)) !=
	    NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p) !=
		    CURLE_OK || p == NULL)
			fatalx("echo: a transfer without its request");
		/* msg is gone once its handle is removed: read it first */
		echo_finish(p, msg->data.result);
	}
}

void
echo_cancel(struct echo_req *req)
{
	if (req == NULL || req->done)
		return;
	log_debug("echo: cancelled after %llu ms",
	    (unsigned long long)(loop_now() - req->t0));
	echo_release(req);
	free(req);
}

void
echo_shutdown(void)
{
	struct echo_sock *es;

	if (inflight > 0)
		return;
	if (multi != NULL) {
		curl_multi_cleanup(multi);
		multi = NULL;
		timer_stop(&echo_timer);
	}
	while ((es = socks) != NULL)
		echo_sock_free(es);
	if (global_init) {
		curl_global_cleanup();
		global_init = 0;
	}
}
