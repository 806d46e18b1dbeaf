/* SPDX-License-Identifier: ISC */
/*
 * The HTTPS echo source: echo_parse_body on hand-made answers, then (built
 * with libcurl, as root) echo_start on the real loop against an HTTP server
 * and a DNS server written here, in a network namespace of the test's own
 * with only loopback and test addresses (RFC 5737, RFC 3849), so nothing
 * can leave it.  The DNS cases also take a mount namespace, to put a
 * resolv.conf of their own over /etc/resolv.conf.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "echo.h"
#include "log.h"
#include "loop.h"
#include "testutil.h"

/* ---- echo_parse_body ---- */

struct parse_case {
	const char	*name;		/* a file in tests/data/echo, or NULL */
	const char	*body;		/* else this, of len bytes */
	size_t		 len;
	const char	*addr;		/* what it parses to, or NULL */
	int		 family;
	const char	*err;		/* else the error */
};

#define NOT_ADDR	"not an IPv4 or IPv6 address"
#define AFTER		"something after the address"
#define TOO_LONG	"answer longer than 256 bytes"

static const struct parse_case files[] = {
	{ "good-v4-lf.txt", NULL, 0, "203.0.113.7", AF_INET, NULL },
	{ "good-v6-crlf.txt", NULL, 0, "2001:db8::1", AF_INET6, NULL },
	{ "good-v4mapped.txt", NULL, 0, "198.51.100.9", AF_INET, NULL },
	{ "good-v4-tabs.txt", NULL, 0, "198.51.100.20", AF_INET, NULL },
	{ "good-v6-long.txt", NULL, 0, "2001:db8::1", AF_INET6, NULL },
	{ "good-256-bytes.txt", NULL, 0, "203.0.113.7", AF_INET, NULL },
	{ "bad-257-bytes.txt", NULL, 0, NULL, 0, TOO_LONG },
	{ "bad-blank.txt", NULL, 0, NULL, 0, "only white space in the answer" },
	{ "bad-brackets.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-digits.txt", NULL, 0, NULL, 0, TOO_LONG },
	{ "bad-empty.txt", NULL, 0, NULL, 0, "empty answer" },
	{ "bad-html.html", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-json.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-leading-zero.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-nul.bin", NULL, 0, NULL, 0, "NUL byte in the answer" },
	{ "bad-port.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-trailing.txt", NULL, 0, NULL, 0, AFTER },
	{ "bad-two.txt", NULL, 0, NULL, 0, AFTER },
	{ "bad-vtab.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-words.txt", NULL, 0, NULL, 0, NOT_ADDR },
	{ "bad-zone.txt", NULL, 0, NULL, 0, "IPv6 address with a zone id" },
};

#define S(s)	NULL, s, sizeof(s) - 1

static const struct parse_case inline_cases[] = {
	{ S("1.2.3.4"), "1.2.3.4", AF_INET, NULL },
	{ S("::1"), "::1", AF_INET6, NULL },
	{ S("::ffff:1.2.3.4"), "1.2.3.4", AF_INET, NULL },
	{ S("::FFFF:0102:0304"), "1.2.3.4", AF_INET, NULL },
	/* IPv4-compatible (deprecated), not mapped: stays IPv6 */
	{ S("::1.2.3.4"), "::1.2.3.4", AF_INET6, NULL },
	{ S("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6, NULL },
	{ S("\r\n\t 192.0.2.1\t\r\n "), "192.0.2.1", AF_INET, NULL },
	{ S("0.0.0.0"), "0.0.0.0", AF_INET, NULL },
	{ S("1.2.3"), NULL, 0, NOT_ADDR },
	{ S("1.2.3.4.5"), NULL, 0, NOT_ADDR },
	{ S("256.1.1.1"), NULL, 0, NOT_ADDR },
	{ S("0x01.2.3.4"), NULL, 0, NOT_ADDR },
	{ S("1.2.3.4/32"), NULL, 0, NOT_ADDR },
	{ S("2001:db8::1::2"), NULL, 0, NOT_ADDR },
	{ S("fe80::1%1"), NULL, 0, "IPv6 address with a zone id" },
	{ S("1.2.3.4%eth0"), NULL, 0, NOT_ADDR },
	{ S("%"), NULL, 0, NOT_ADDR },
	{ S("1.2.3.4 x"), NULL, 0, AFTER },
	{ S("2001:db8::1\n\n2001:db8::2"), NULL, 0, AFTER },
	{ S("x 1.2.3.4"), NULL, 0, NOT_ADDR },
	{ S("\n"), NULL, 0, "only white space in the answer" },
	{ S("1.2.3.4\0"), NULL, 0, "NUL byte in the answer" },
	{ S("\0001.2.3.4"), NULL, 0, "NUL byte in the answer" },
	{ S("1111111111111111111111111111111111111111111111111111111111111111"),
	    NULL, 0, NOT_ADDR },
	{ S("\xc2\xa0" "1.2.3.4"), NULL, 0, NOT_ADDR },
	{ S(""), NULL, 0, "empty answer" },
};

static void
check_parse(const struct parse_case *c, const char *body, size_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	const char *err = "unset";
	char *copy, text[INET6_ADDRSTRLEN];
	unsigned char want[16];
	size_t i;
	int r;

	/* exactly len bytes on the heap: ASan sees a read past them */
	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, body, len);
	memset(&ss, 0xa5, sizeof(ss));
	r = echo_parse_body(copy, len, &ss, &err);
	free(copy);
	if (c->addr == NULL) {
		if (r != -1)
			fail_msg("%s: parsed", c->name != NULL ? c->name : c->body);
		assert_non_null(err);
		assert_string_equal(err, c->err);
		for (i = 0; i < sizeof(ss); i++)
			assert_int_equal(((unsigned char *)&ss)[i], 0);
		return;
	}
	if (r != 0)
		fail_msg("%s: %s", c->name != NULL ? c->name : c->body, err);
	assert_null(err);
	assert_int_equal(ss.ss_family, c->family);
	/*
	 * The address's bytes against c->addr's: how inet_ntop writes one
	 * differs between C libraries (musl: "::102:304", glibc "::1.2.3.4").
	 */
	assert_int_equal(inet_pton(c->family, c->addr, want), 1);
	if (c->family == AF_INET) {
		assert_int_equal(sin->sin_port, 0);
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		if (memcmp(&sin->sin_addr, want, 4) != 0)
			fail_msg("%s: %s, not %s", c->name != NULL ? c->name :
			    c->body, text, c->addr);
	} else {
		assert_int_equal(sin6->sin6_port, 0);
		assert_int_equal(sin6->sin6_scope_id, 0);
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		if (memcmp(&sin6->sin6_addr, want, 16) != 0)
			fail_msg("%s: %s, not %s", c->name != NULL ? c->name :
			    c->body, text, c->addr);
	}
}

static void
test_parse_file(void **state)
{
	const char *rel = *state;
	const struct parse_case *c = NULL;
	char *buf;
	size_t len, i;

	assert_int_equal(strncmp(rel, "echo/", 5), 0);
	for (i = 0; i < TU_ARRAY_LEN(files); i++)
		if (strcmp(rel + 5, files[i].name) == 0)
			c = &files[i];
	assert_non_null(c);
	buf = tu_read(rel, &len);
	check_parse(c, buf, len);
	free(buf);
}

/* Every seed (they are the fuzz corpus too) has its expected answer here. */
static void
test_parse_every_seed_known(void **state)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	size_t i, n = 0;
	int known;

	(void)state;
	tu_data_path(path, sizeof(path), "echo");
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		known = 0;
		for (i = 0; i < TU_ARRAY_LEN(files); i++)
			if (strcmp(de->d_name, files[i].name) == 0)
				known = 1;
		if (!known)
			fail_msg("tests/data/echo/%s: not in files[]", de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, TU_ARRAY_LEN(files));
}

static void
test_parse_inline(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < TU_ARRAY_LEN(inline_cases); i++)
		check_parse(&inline_cases[i], inline_cases[i].body,
		    inline_cases[i].len);
}

static int	never_called;

static void
never_cb(struct echo_req *req, const struct echo_result *res, void *arg)
{
	(void)req;
	(void)res;
	(void)arg;
	never_called++;
}

/* Without libcurl: refused with ENOTSUP; with it, no scheme but http(s). */
static void
test_start_refused(void **state)
{
	static const char *bad[] = {
		"ftp://203.0.113.5/",
		"file:///etc/passwd",
		"gopher://203.0.113.5/",
		"203.0.113.5:8080/ip",
		"",
	};
	struct sockaddr_in6 ll;
	size_t i;

	(void)state;
	if (!echo_available()) {
		errno = 0;
		assert_null(echo_start("http://203.0.113.5:8080/ip", NULL, 0,
		    never_cb, NULL));
		assert_int_equal(errno, ENOTSUP);
		echo_cancel(NULL);
		echo_shutdown();
		assert_int_equal(never_called, 0);
		return;
	}
	for (i = 0; i < TU_ARRAY_LEN(bad); i++) {
		errno = 0;
		assert_null(echo_start(bad[i], NULL, 0, never_cb, NULL));
		assert_int_equal(errno, EINVAL);
	}
	/* a link-local source needs a zone, which libcurl would look up */
	memset(&ll, 0, sizeof(ll));
	ll.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", &ll.sin6_addr);
	ll.sin6_scope_id = 1;
	errno = 0;
	assert_null(echo_start("http://[fe80::2]:8080/ip",
	    (struct sockaddr *)&ll, 0, never_cb, NULL));
	assert_int_equal(errno, EINVAL);
	echo_shutdown();
	assert_int_equal(never_called, 0);
}

/* ---- on the loop, in a network namespace ---- */

#define SRV4		"203.0.113.5"
#define SRV6		"2001:db8::5"
#define SRC4		"198.51.100.1"
#define SRC6		"2001:db8::1"
#define HTTP_PORT	8080
#define CLOSED_PORT	8081
#define URL4		"http://" SRV4 ":8080"
#define URL6		"http://[" SRV6 "]:8080"
#define DNS_NAME	"echo.test"	/* RFC 6761: never a real name */
#define DNS_SILENT_NAME	"silent.echo.test"
#define BIG_BODY	10240
#define NCONN		8

struct fake_conn {
	int		fd;
	struct loop_fd	lfd;
	char		buf[4096];
	size_t		len;
	char		peer[INET6_ADDRSTRLEN];
};

enum dns_mode { DNS_ANSWER, DNS_SILENT };

static struct {
	int			 lst4, lst6, dns;
	struct loop_fd		 l4, l6, ldns;
	struct fake_conn	 conn[NCONN];
	unsigned int		 nreq;
	char			 path[16][64];
	char			 peer[INET6_ADDRSTRLEN];	/* of the last request */
	char			 ua[64];
	unsigned int		 closed;	/* connections the client closed */
	/* DNS: answers held back for dns_delay ms */
	enum dns_mode		 dns_mode;
	unsigned int		 dns_delay;
	unsigned int		 dns_queries;
	struct timer		 dns_timer;
	unsigned char		 q[4][512];
	size_t			 qlen[4];
	struct sockaddr_storage	 qfrom[4];
	socklen_t		 qfromlen[4];
	size_t			 nq;
} FK;

static const char	*skip_reason;	/* why the network cases cannot run */
static int		 have_v6, have_dns;
static const char	*dns_skip_reason;

static void
fake_close(struct fake_conn *c)
{
	loop_fd_del(&c->lfd);
	close(c->fd);
	c->fd = -1;
}

static void
fake_send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) <= 0)
			return;	/* the client gave up (the big body) */
		p += w;
		n -= (size_t)w;
	}
}

static void
fake_reply(struct fake_conn *c, int status, const char *extra,
    const char *body, size_t blen)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
	    status, status == 200 ? "OK" : status == 302 ? "Found" :
	    "Not Found", extra, blen);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	fake_send_all(c->fd, head, (size_t)n);
	fake_send_all(c->fd, body, blen);
	fake_close(c);
}

static void
fake_request(struct fake_conn *c)
{
	char path[64] = "", body[128], *ua, *big;

	sscanf(c->buf, "GET %63s HTTP/1.1", path);
	if (FK.nreq < TU_ARRAY_LEN(FK.path))
		snprintf(FK.path[FK.nreq], sizeof(FK.path[0]), "%s", path);
	FK.nreq++;
	snprintf(FK.peer, sizeof(FK.peer), "%s", c->peer);
	FK.ua[0] = '\0';
	if ((ua = strcasestr(c->buf, "\r\nUser-Agent: ")) != NULL)
		sscanf(ua + 14, "%63[^\r\n]", FK.ua);

	if (strcmp(path, "/ip") == 0) {
		snprintf(body, sizeof(body), "%s\n", c->peer);
		fake_reply(c, 200, "", body, strlen(body));
	} else if (strcmp(path, "/garbage") == 0) {
		snprintf(body, sizeof(body), "<html><body>%s</body></html>\n",
		    c->peer);
		fake_reply(c, 200, "", body, strlen(body));
	} else if (strcmp(path, "/big") == 0) {
		assert_non_null(big = malloc(BIG_BODY));
		memset(big, '7', BIG_BODY);
		fake_reply(c, 200, "", big, BIG_BODY);
		free(big);
	} else if (strcmp(path, "/hang") == 0)
		;	/* read, never answer */
	else if (strcmp(path, "/redirect") == 0)
		fake_reply(c, 302, "Location: /ip\r\n", "", 0);
	else if (strcmp(path, "/redirect-ftp") == 0)
		fake_reply(c, 302, "Location: ftp://" SRV4 "/ip\r\n", "", 0);
	else if (strcmp(path, "/loop") == 0)
		fake_reply(c, 302, "Location: /loop\r\n", "", 0);
	else
		fake_reply(c, 404, "", "no such page\n", 13);
}

static void
fake_read(struct loop_fd *lf, int ev)
{
	struct fake_conn *c = container_of(lf, struct fake_conn, lfd);
	ssize_t n;

	(void)ev;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		FK.closed++;
		fake_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") != NULL)
		fake_request(c);
}

static void
fake_accept(struct loop_fd *lf, int ev)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, i;

	(void)ev;
	if ((fd = accept(lf->fd, (struct sockaddr *)&ss, &sl)) == -1)
		return;
	for (i = 0; i < NCONN; i++) {
		if (FK.conn[i].fd != -1)
			continue;
		memset(&FK.conn[i], 0, sizeof(FK.conn[i]));
		FK.conn[i].fd = fd;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			    FK.conn[i].peer, sizeof(FK.conn[i].peer));
		else
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr,
			    FK.conn[i].peer, sizeof(FK.conn[i].peer));
		loop_fd_add(&FK.conn[i].lfd, fd, LOOP_READ, fake_read);
		return;
	}
	close(fd);
}

/* An answer to an A query: SRV4; to any other, no data. */
static void
dns_answer(const unsigned char *q, size_t qlen, const struct sockaddr *to,
    socklen_t tolen)
{
	static const unsigned char a[] = {
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 5
	};
	unsigned char out[600];
	size_t off = 12;
	int qtype;

	while (off < qlen && q[off] != 0)
		off += (size_t)q[off] + 1;
	if (off + 5 > qlen)
		return;
	qtype = q[off + 1] << 8 | q[off + 2];
	off += 5;
	memcpy(out, q, off);
	out[2] = 0x81;		/* QR, RD */
	out[3] = 0x80;		/* RA, NOERROR */
	memset(out + 6, 0, 6);	/* no answer, authority, additional yet */
	if (qtype == 1) {
		out[7] = 1;
		memcpy(out + off, a, sizeof(a));
		off += sizeof(a);
	}
	sendto(FK.dns, out, off, 0, to, tolen);
}

static void
dns_release(struct timer *t)
{
	size_t i;

	(void)t;
	for (i = 0; i < FK.nq; i++)
		dns_answer(FK.q[i], FK.qlen[i], (struct sockaddr *)&FK.qfrom[i],
		    FK.qfromlen[i]);
	FK.nq = 0;
}

static void
dns_read(struct loop_fd *lf, int ev)
{
	unsigned char buf[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	(void)lf;
	(void)ev;
	n = recvfrom(FK.dns, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fl);
	if (n < 12)
		return;
	FK.dns_queries++;
	if (FK.dns_mode == DNS_SILENT || FK.nq == TU_ARRAY_LEN(FK.q))
		return;
	memcpy(FK.q[FK.nq], buf, (size_t)n);
	FK.qlen[FK.nq] = (size_t)n;
	FK.qfrom[FK.nq] = from;
	FK.qfromlen[FK.nq] = fl;
	FK.nq++;
	if (!timer_armed(&FK.dns_timer))
		timer_set(&FK.dns_timer, FK.dns_delay);
}

static int
fake_listen(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		fail_msg("bind %s port %d: %s", addr, port, strerror(errno));
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* ---- the namespace: lo up, test addresses on it (rtnetlink) ---- */

static int
nl_addr_add(int family, const char *addr)
{
	struct {
		struct nlmsghdr		nh;
		struct ifaddrmsg	ifa;
		char			attrs[64];
	} req;
	struct {
		struct nlmsghdr		nh;
		struct nlmsgerr		err;
	} ack;
	struct rtattr *rta;
	unsigned char a[16];
	size_t alen = family == AF_INET ? 4 : 16;
	int fd, r = -1, types[2] = { IFA_LOCAL, IFA_ADDRESS }, i;

	if (inet_pton(family, addr, a) != 1)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_EXCL;
	req.ifa.ifa_family = (unsigned char)family;
	req.ifa.ifa_prefixlen = (unsigned char)(alen * 8);
	req.ifa.ifa_flags = IFA_F_NODAD | IFA_F_PERMANENT;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = if_nametoindex("lo");
	for (i = 0; i < 2; i++) {
		rta = (struct rtattr *)((char *)&req +
		    NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = (unsigned short)types[i];
		rta->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(rta), a, alen);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) +
		    RTA_ALIGN(rta->rta_len);
	}
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		return -1;
	if (send(fd, &req, req.nh.nlmsg_len, 0) == (ssize_t)req.nh.nlmsg_len &&
	    recv(fd, &ack, sizeof(ack), 0) >= (ssize_t)sizeof(ack) &&
	    ack.nh.nlmsg_type == NLMSG_ERROR && ack.err.error == 0)
		r = 0;
	close(fd);
	return r;
}

/* Names are looked up in DNS (glibc's default without nsswitch.conf). */
static int
nss_uses_dns(void)
{
	char line[512];
	FILE *fp;
	int dns = 1;

	if ((fp = fopen("/etc/nsswitch.conf", "r")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "hosts:", 6) == 0)
			dns = strstr(line, " dns") != NULL ||
			    strstr(line, "\tdns") != NULL;
	fclose(fp);
	return dns;
}

/*
 * A mount namespace of our own (private, so nothing propagates back) with
 * a resolv.conf that sends every query to the fake DNS server.
 */
static const char *
dns_setup(void)
{
	static const char conf[] = "nameserver " SRV4 "\n"
	    "options timeout:1 attempts:1\n";
	char tmp[] = "/tmp/natmapd-test-echo.XXXXXX";
	int fd;

	if (!nss_uses_dns())
		return "no dns in the hosts line of /etc/nsswitch.conf";
	if (unshare(CLONE_NEWNS) == -1)
		return "no mount namespace";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return "cannot make the mounts private";
	if ((fd = mkstemp(tmp)) == -1)
		return "no temporary file";
	if (write(fd, conf, sizeof(conf) - 1) != (ssize_t)sizeof(conf) - 1) {
		close(fd);
		unlink(tmp);
		return "cannot write the temporary resolv.conf";
	}
	close(fd);
	if (mount(tmp, "/etc/resolv.conf", NULL, MS_BIND, NULL) == -1) {
		unlink(tmp);
		return "cannot mount over /etc/resolv.conf";
	}
	unlink(tmp);	/* the mount keeps it */
	return NULL;
}

static const char *
netns_setup(void)
{
	if (!echo_available())
		return "built without libcurl";
	if (geteuid() != 0)
		return "needs root (network namespace)";
	if (tu_netns_enter() == -1)
		return "no network namespace with lo up";
	if (nl_addr_add(AF_INET, SRV4) == -1 ||
	    nl_addr_add(AF_INET, SRC4) == -1)
		return "cannot add the test addresses to lo";
	have_v6 = nl_addr_add(AF_INET6, SRV6) == 0 &&
	    nl_addr_add(AF_INET6, SRC6) == 0;
	dns_skip_reason = dns_setup();
	have_dns = dns_skip_reason == NULL;
	return NULL;
}

static int
setup(void **state)
{
	int i;

	(void)state;
	memset(&FK, 0, sizeof(FK));
	for (i = 0; i < NCONN; i++)
		FK.conn[i].fd = -1;
	FK.lst4 = fake_listen(AF_INET, SRV4, HTTP_PORT, SOCK_STREAM);
	loop_fd_add(&FK.l4, FK.lst4, LOOP_READ, fake_accept);
	FK.lst6 = -1;
	if (have_v6) {
		FK.lst6 = fake_listen(AF_INET6, SRV6, HTTP_PORT, SOCK_STREAM);
		loop_fd_add(&FK.l6, FK.lst6, LOOP_READ, fake_accept);
	}
	FK.dns = fake_listen(AF_INET, SRV4, 53, SOCK_DGRAM);
	loop_fd_add(&FK.ldns, FK.dns, LOOP_READ, dns_read);
	timer_init(&FK.dns_timer, dns_release);
	return 0;
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NCONN; i++)
		if (FK.conn[i].fd != -1)
			fake_close(&FK.conn[i]);
	loop_fd_del(&FK.l4);
	close(FK.lst4);
	if (FK.lst6 != -1) {
		loop_fd_del(&FK.l6);
		close(FK.lst6);
	}
	loop_fd_del(&FK.ldns);
	close(FK.dns);
	timer_stop(&FK.dns_timer);
	/* nothing is in flight after a test: all of libcurl goes */
	echo_shutdown();
	return 0;
}

/* ---- requests ---- */

struct outcome {
	int			 calls;
	struct echo_req		*req;
	struct echo_result	 res;
	uint64_t		 at;	/* loop_now() at the callback */
};

static void
done_cb(struct echo_req *req, const struct echo_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->req = req;
	o->res = *res;
	o->at = loop_now();
}

static void
run_until(const int *flag, unsigned int ms)
{
	uint64_t deadline = loop_now() + ms;

	while (!*flag && loop_now() < deadline)
		loop_once(50);
}

/* The source address of a request, from text (NULL: any). */
static const struct sockaddr *
src_addr(const char *text)
{
	static struct sockaddr_storage ss[4];
	static unsigned int next;
	struct sockaddr_storage *p = &ss[next++ % TU_ARRAY_LEN(ss)];
	struct sockaddr_in *sin = (struct sockaddr_in *)p;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)p;

	if (text == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return (struct sockaddr *)p;
}

static void
fetch(const char *url, const char *src, unsigned int timeout_ms,
    struct outcome *o)
{
	struct echo_req *req;

	memset(o, 0, sizeof(*o));
	req = echo_start(url, src_addr(src), timeout_ms, done_cb, o);
	if (req == NULL)
		fail_msg("echo_start %s: %s", url, strerror(errno));
	run_until(&o->calls, (timeout_ms ? timeout_ms : ECHO_TIMEOUT_MS) + 2000);
	assert_int_equal(o->calls, 1);
	assert_ptr_equal(o->req, req);
}

static void
assert_addr(const struct echo_result *res, const char *want)
{
	char text[INET6_ADDRSTRLEN];

	if (!res->ok)
		fail_msg("not ok: %s", res->err);
	assert_int_equal(res->http_status, 200);
	assert_string_equal(res->err, "");
	if (res->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&res->addr)->
		    sin_addr, text, sizeof(text));
	else {
		assert_int_equal(res->addr.ss_family, AF_INET6);
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&res->addr)->
		    sin6_addr, text, sizeof(text));
	}
	assert_string_equal(text, want);
}

static void
assert_failed(const struct echo_result *res, long status, const char *err)
{
	if (res->ok)
		fail_msg("ok, expected \"%s\"", err);
	assert_int_equal(res->http_status, status);
	if (strstr(res->err, err) == NULL)
		fail_msg("error \"%s\", expected \"%s\"", res->err, err);
}

/* The address the server saw comes back; the User-Agent says who asks. */
static void
test_fetch(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/ip", NULL, 0, &o);
	assert_addr(&o.res, FK.peer);
	assert_int_equal(FK.nreq, 1);
	assert_string_equal(FK.ua, "natmapd/" PACKAGE_VERSION);
	assert_true(o.res.ms < 1000);
}

static void
test_fetch_from_src(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/ip", SRC4, 0, &o);
	assert_string_equal(FK.peer, SRC4);
	assert_addr(&o.res, SRC4);
}

static void
test_fetch_v6_from_src(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL6 "/ip", SRC6, 0, &o);
	assert_string_equal(FK.peer, SRC6);
	assert_addr(&o.res, SRC6);
}

static void
test_404(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/nowhere", NULL, 0, &o);
	assert_failed(&o.res, 404, "HTTP 404");
	assert_string_equal(o.res.err, "HTTP 404");
}

static void
test_garbage(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/garbage", NULL, 0, &o);
	assert_failed(&o.res, 200, NOT_ADDR);
}

static void
test_big_body(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/big", NULL, 0, &o);
	assert_failed(&o.res, 200, TOO_LONG);
}

static void
test_redirect(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/redirect", SRC4, 0, &o);
	assert_addr(&o.res, SRC4);
	assert_int_equal(FK.nreq, 2);
	assert_string_equal(FK.path[1], "/ip");
}

static void
test_redirect_to_ftp(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/redirect-ftp", NULL, 0, &o);
	assert_failed(&o.res, 302, "ftp");
	assert_int_equal(FK.nreq, 1);
}

static void
test_redirect_loop(void **state)
{
	struct outcome o;

	(void)state;
	fetch(URL4 "/loop", NULL, 0, &o);
	assert_failed(&o.res, 302, "redirects");
	assert_int_equal(FK.nreq, 4);	/* the request and 3 redirects */
}

static void
test_refused(void **state)
{
	struct outcome o;

	(void)state;
	fetch("http://" SRV4 ":8081/ip", NULL, 0, &o);
	assert_failed(&o.res, 0, "onnect");
}

/*
 * A loop timer every 50 ms: how late it ever was, and how often it ran.
 * A blocked loop makes it hundreds of ms late (the hang's 500 ms, the
 * DNS answer held back 300 ms, a resolver's 1 s timeout); TICK_SLACK
 * leaves room for a busy machine's scheduling, no more.
 */
#define TICK_SLACK	100
static struct {
	struct timer	t;
	uint64_t	start, last, max_late, first;
	unsigned int	n;
} tick;

static void
tick_cb(struct timer *t)
{
	uint64_t now = loop_now(), late;

	late = now - t->deadline;
	if (late > tick.max_late)
		tick.max_late = late;
	if (tick.n++ == 0)
		tick.first = now - tick.start;
	timer_set(t, 50);
}

static void
tick_start(void)
{
	memset(&tick, 0, sizeof(tick));
	timer_init(&tick.t, tick_cb);
	tick.start = loop_now();
	timer_set(&tick.t, 50);
}

static void
tick_check(const char *what, uint64_t elapsed)
{
	uint64_t now = loop_now();

	/* a tick due but not run yet is late too (a block just now) */
	if (timer_armed(&tick.t) && now > tick.t.deadline &&
	    now - tick.t.deadline > tick.max_late)
		tick.max_late = now - tick.t.deadline;
	timer_stop(&tick.t);
	printf("# %s: first 50 ms tick after %llu ms, %u ticks in %llu ms, "
	    "at most %llu ms late\n", what, (unsigned long long)tick.first,
	    tick.n, (unsigned long long)elapsed,
	    (unsigned long long)tick.max_late);
	assert_true(tick.first >= 50 && tick.first < 50 + TICK_SLACK);
	assert_true(tick.max_late < TICK_SLACK);
	assert_true(tick.n * 50 + 2 * TICK_SLACK >= elapsed);
}

/* A server that never answers: the timeout holds, the loop runs on. */
static void
test_hang_times_out(void **state)
{
	struct outcome o;
	uint64_t t0;

	(void)state;
	tick_start();
	t0 = loop_now();
	fetch(URL4 "/hang", NULL, 500, &o);
	tick_check("hang", o.at - t0);
	assert_failed(&o.res, 0, "timed out");
	assert_true(o.res.ms >= 500 && o.res.ms <= 800);
	assert_true(o.at - t0 <= 800);
	assert_int_equal(FK.nreq, 1);
}

/* Cancelled while in flight: no callback, the connection closed. */
static void
test_cancel(void **state)
{
	struct echo_req *req;
	unsigned int zero = 0;

	(void)state;
	never_called = 0;
	req = echo_start(URL4 "/hang", src_addr(SRC4), 2000, never_cb,
	    NULL);
	assert_non_null(req);
	run_until((const int *)&FK.nreq, 1000);
	assert_int_equal(FK.nreq, 1);
	echo_cancel(req);
	run_until((const int *)&FK.closed, 1000);
	assert_int_equal(FK.closed, 1);
	/* and nothing later either, past the request's own timeout */
	run_until((const int *)&zero, 300);
	assert_int_equal(never_called, 0);
	/* cancelled before it even began (no round of the loop yet) */
	req = echo_start(URL4 "/ip", NULL, 0, never_cb, NULL);
	assert_non_null(req);
	echo_cancel(req);
	run_until((const int *)&zero, 200);
	assert_int_equal(never_called, 0);
	assert_int_equal(FK.nreq, 1);
}

/* Several at once, each to its own end; one started from a callback. */
static struct outcome	chained;

static void
chain_cb(struct echo_req *req, const struct echo_result *res, void *arg)
{
	done_cb(req, res, arg);
	assert_non_null(echo_start(URL4 "/ip", NULL, 0, done_cb, &chained));
}

static void
test_parallel(void **state)
{
	struct outcome a, b, c;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&chained, 0, sizeof(chained));
	assert_non_null(echo_start(URL4 "/hang", NULL, 400, done_cb, &a));
	assert_non_null(echo_start(URL4 "/ip", src_addr(SRC4), 0, chain_cb,
	    &b));
	assert_non_null(echo_start(URL4 "/nowhere", NULL, 0, done_cb, &c));
	run_until(&a.calls, 3000);
	run_until(&chained.calls, 3000);
	assert_int_equal(a.calls + b.calls + c.calls + chained.calls, 4);
	assert_failed(&a.res, 0, "timed out");
	assert_addr(&b.res, SRC4);
	assert_failed(&c.res, 404, "HTTP 404");
	assert_true(chained.res.ok);
	assert_int_equal(FK.nreq, 4);
}

/* A name looked up while the loop runs: the answer is held back 300 ms. */
static void
test_dns_off_the_loop(void **state)
{
	struct outcome o;
	uint64_t t0;

	(void)state;
	FK.dns_mode = DNS_ANSWER;
	FK.dns_delay = 300;
	tick_start();
	t0 = loop_now();
	fetch("http://" DNS_NAME ":8080/ip", SRC4, 2000, &o);
	tick_check("slow DNS", o.at - t0);
	assert_true(FK.dns_queries >= 1);
	assert_addr(&o.res, SRC4);
	assert_true(o.res.ms >= 300);
}

static void
test_dns_silent_times_out(void **state)
{
	struct outcome o;
	uint64_t t0;

	(void)state;
	FK.dns_mode = DNS_SILENT;
	tick_start();
	t0 = loop_now();
	fetch("http://" DNS_SILENT_NAME ":8080/ip", NULL, 500, &o);
	tick_check("silent DNS", o.at - t0);
	assert_true(FK.dns_queries >= 1);
	assert_failed(&o.res, 0, "esolv");
	assert_true(o.at - t0 <= 800);
	assert_int_equal(FK.nreq, 0);
}

/* Cancelled while its name is looked up: at once, without a callback. */
static void
test_dns_cancel(void **state)
{
	struct echo_req *req;
	uint64_t t0;
	unsigned int zero = 0;

	(void)state;
	FK.dns_mode = DNS_SILENT;
	never_called = 0;
	req = echo_start("http://" DNS_SILENT_NAME ":8080/ip", NULL, 5000,
	    never_cb, NULL);
	assert_non_null(req);
	run_until((const int *)&FK.dns_queries, 1000);
	assert_true(FK.dns_queries >= 1);
	tick_start();
	t0 = loop_now();
	echo_cancel(req);
	assert_true(loop_now() - t0 < 50);
	run_until((const int *)&zero, 200);
	tick_check("cancel in DNS", loop_now() - t0);
	assert_int_equal(never_called, 0);
	assert_int_equal(FK.nreq, 0);
}

/* ---- the runner ---- */

static void
skipped(void **state)
{
	(void)state;
}

int
main(void)
{
#define F(rel)	TU_FILE_TEST(test_parse_file, "echo/" rel)
#define T(f, need) { #f, f, setup, teardown, (void *)(need) }
	static const struct CMUnitTest parse[] = {
		F("good-v4-lf.txt"),
		F("good-v6-crlf.txt"),
		F("good-v4mapped.txt"),
		F("good-v4-tabs.txt"),
		F("good-v6-long.txt"),
		F("good-256-bytes.txt"),
		F("bad-257-bytes.txt"),
		F("bad-blank.txt"),
		F("bad-brackets.txt"),
		F("bad-digits.txt"),
		F("bad-empty.txt"),
		F("bad-html.html"),
		F("bad-json.txt"),
		F("bad-leading-zero.txt"),
		F("bad-nul.bin"),
		F("bad-port.txt"),
		F("bad-trailing.txt"),
		F("bad-two.txt"),
		F("bad-vtab.txt"),
		F("bad-words.txt"),
		F("bad-zone.txt"),
		cmocka_unit_test(test_parse_every_seed_known),
		cmocka_unit_test(test_parse_inline),
		cmocka_unit_test(test_start_refused),
	};
	/* initial_state: 0 loop and netns, 6 and IPv6, 'd' and DNS */
	static const struct CMUnitTest net[] = {
		T(test_fetch, 0),
		T(test_fetch_from_src, 0),
		T(test_fetch_v6_from_src, 6),
		T(test_404, 0),
		T(test_garbage, 0),
		T(test_big_body, 0),
		T(test_redirect, 0),
		T(test_redirect_to_ftp, 0),
		T(test_redirect_loop, 0),
		T(test_refused, 0),
		T(test_hang_times_out, 0),
		T(test_cancel, 0),
		T(test_parallel, 0),
		T(test_dns_off_the_loop, 'd'),
		T(test_dns_silent_times_out, 'd'),
		T(test_dns_cancel, 'd'),
	};
	struct CMUnitTest all[TU_ARRAY_LEN(parse) + TU_ARRAY_LEN(net)];
	static char names[TU_ARRAY_LEN(net)][128];
	const char *why;
	size_t i, n = 0;
	int r;

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	for (i = 0; i < TU_ARRAY_LEN(parse); i++)
		all[n++] = parse[i];
	skip_reason = netns_setup();
	/*
	 * cmocka 1.1.5's skip() prints "not ok N # SKIP", a failure to
	 * automake's TAP driver: a case that cannot run is renamed
	 * "NAME # SKIP why" instead, and passes ("ok N - NAME # SKIP why").
	 */
	for (i = 0; i < TU_ARRAY_LEN(net); i++) {
		intptr_t need = (intptr_t)net[i].initial_state;

		why = skip_reason;
		if (why == NULL && need == 6 && !have_v6)
			why = "no IPv6 in the namespace";
		if (why == NULL && need == 'd')
			why = dns_skip_reason;
		all[n] = net[i];
		all[n].initial_state = NULL;
		if (why != NULL) {
			snprintf(names[i], sizeof(names[i]), "%s # SKIP %s",
			    net[i].name, why);
			all[n].name = names[i];
			all[n].test_func = skipped;
			all[n].setup_func = NULL;
			all[n].teardown_func = NULL;
		}
		n++;
	}
	/* the parse cases keep their data file as initial state */
	r = tu_run("echo", all, n);
	echo_shutdown();
	return r;
}
