/* SPDX-License-Identifier: ISC */
/*
 * The UPnP driver against a scripted fake IGD, for the router answers that
 * miniupnpd never gives (725, 402, 501, 606, IGD:1 any-port, hangs).  It runs
 * in a network namespace of its own with only loopback up, so nothing it
 * sends can leave the test; without root it is skipped.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

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

#include "testutil.h"

#include "driver.h"
#include "log.h"
#include "loop.h"
#include "upnp.h"

#define FAKE_HTTP_PORT	5000
#define FAKE_HTTP_PORT_S "5000"
#define HANG		-1	/* accept, read, never answer */
#define CLOSE		-2	/* close without a word */

struct answer {
	const char	*action;	/* the SOAPAction expected */
	int		 status;	/* HTTP status, HANG or CLOSE */
	const char	*out;		/* out arguments, or an errorCode */
};

static const char desc_igd2[] =
    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
    "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>"
    "<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2"
    "</deviceType><serviceList><service><serviceType>urn:schemas-upnp-org:"
    "service:WANCommonInterfaceConfig:1</serviceType><controlURL>/ctl/CmnIfCfg"
    "</controlURL><eventSubURL>/evt/CmnIfCfg</eventSubURL><SCPDURL>/WANCfg.xml"
    "</SCPDURL></service></serviceList><deviceList><device><deviceType>urn:"
    "schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList>"
    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2"
    "</serviceType><controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn"
    "</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>"
    "</device></deviceList></device></deviceList></device></root>";

/* A PPP and an IP service, as on DSL routers: WANIPConnection:1 must win. */
static const char desc_igd1[] =
    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
    "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    "</deviceType><deviceList><device><deviceType>urn:schemas-upnp-org:device:"
    "WANDevice:1</deviceType><deviceList><device><deviceType>urn:schemas-upnp-"
    "org:device:WANConnectionDevice:1</deviceType><serviceList><service>"
    "<serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>"
    "<controlURL>/ctl/PPPConn</controlURL></service><service><serviceType>urn:"
    "schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>"
    "/ctl/IPConn</controlURL></service></serviceList></device></deviceList>"
    "</device></deviceList></device></root>";

/* An IGD:1 whose control URL is absolute: on host HOST. */
#define DESC_CONTROL_AT(host) \
    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">" \
    "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1" \
    "</deviceType><deviceList><device><deviceType>urn:schemas-upnp-org:device:" \
    "WANDevice:1</deviceType><deviceList><device><deviceType>urn:schemas-upnp-" \
    "org:device:WANConnectionDevice:1</deviceType><serviceList><service>" \
    "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>" \
    "<controlURL>http://" host ":" FAKE_HTTP_PORT_S "/ctl/IPConn</controlURL>" \
    "</service></serviceList></device></deviceList></device></deviceList>" \
    "</device></root>"

static const char desc_none[] =
    "<?xml version=\"1.0\"?><root><device><deviceType>urn:schemas-upnp-org:"
    "device:MediaServer:1</deviceType></device></root>";

struct fake_conn {
	int		fd;
	struct loop_fd	lfd;
	char		buf[8192];
	size_t		len;
	char		*out;		/* the answer being written */
	size_t		outlen, off;
};

static struct {
	int			 udp;
	struct loop_fd		 ulfd;
	int			 lst;
	struct loop_fd		 llfd;
	struct fake_conn	 conn[8];
	const char		*desc;
	const struct answer	*script;
	size_t			 next;
	char			 seen[16][48];	/* actions in order */
	char			 body[16][1024];
	size_t			 nseen;
	int			 desc_fetches;
	int			 desc_hang;	/* GETs left unanswered first */
	int			 extaddr_asked;	/* GetExternalIPAddress read */
	int			 extaddr_hang;	/* of them, left unanswered first */
	int			 accepts[256];	/* by the last byte of 127.0.x.y */
	int			 silent;	/* 127.0.0.1 does not answer M-SEARCH */
	int			 liar;		/* a second SSDP answer, from: */
	const char		*liar_from;
	const char		*liar_location;
	int			 liar_urls;	/* > 1: as many, LOCATION0, 1, ... */
	const char		*redirect;	/* the description is a 301 to it */
} FK;

static void
fake_close(struct fake_conn *c)
{
	loop_fd_del(&c->lfd);
	close(c->fd);
	c->fd = -1;
}

/* Write what is left of the answer as the socket takes it; then close. */
static void
fake_write(struct loop_fd *lf, int ev)
{
	struct fake_conn *c = container_of(lf, struct fake_conn, lfd);
	ssize_t w;

	(void)ev;
	w = send(c->fd, c->out + c->off, c->outlen - c->off, MSG_NOSIGNAL);
	if (w == -1 && errno == EAGAIN)
		return;
	if (w > 0)
		c->off += (size_t)w;
	if (w <= 0 || c->off == c->outlen) {
		free(c->out);
		c->out = NULL;
		fake_close(c);
	}
}

static void
fake_send(struct fake_conn *c, int status, const char *body)
{
	size_t len = strlen(body);
	int n;

	c->out = malloc(512 + len);
	assert_non_null(c->out);
	n = snprintf(c->out, 512 + len, "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/xml; charset=\"utf-8\"\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status,
	    status == 200 ? "OK" : "Internal Server Error", len, body);
	assert_true(n > 0 && (size_t)n < 512 + len);
	c->outlen = (size_t)n;
	c->off = 0;
	loop_fd_del(&c->lfd);
	loop_fd_add(&c->lfd, c->fd, LOOP_WRITE, fake_write);
	fake_write(&c->lfd, LOOP_WRITE);
}

static void
fake_soap(struct fake_conn *c, const char *action, const char *reqbody)
{
	const struct answer *a;
	char body[4096];

	if (strcmp(action, "GetExternalIPAddress") == 0) {
		FK.extaddr_asked++;
		if (FK.extaddr_hang > 0) {
			FK.extaddr_hang--;
			return;
		}
		snprintf(body, sizeof(body), "<?xml version=\"1.0\"?><s:Envelope "
		    "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
		    "<u:GetExternalIPAddressResponse xmlns:u=\"x\"><NewExternalIPAddress>"
		    "198.51.100.7</NewExternalIPAddress></u:GetExternalIPAddressResponse>"
		    "</s:Body></s:Envelope>");
		fake_send(c, 200, body);
		return;
	}
	if (FK.nseen < 16) {
		snprintf(FK.seen[FK.nseen], sizeof(FK.seen[0]), "%s", action);
		snprintf(FK.body[FK.nseen], sizeof(FK.body[0]), "%s", reqbody);
		FK.nseen++;
	}
	a = &FK.script[FK.next];
	assert_non_null(a->action);
	assert_string_equal(action, a->action);
	FK.next++;
	if (a->status == HANG)
		return;
	if (a->status == CLOSE) {
		fake_close(c);
		return;
	}
	if (a->status == 200)
		snprintf(body, sizeof(body), "<?xml version=\"1.0\"?><s:Envelope "
		    "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
		    "<u:%sResponse xmlns:u=\"x\">%s</u:%sResponse></s:Body>"
		    "</s:Envelope>", action, a->out, action);
	else if (strncmp(a->out, "<", 1) == 0 || a->out[0] == '\0' ||
	    strchr(a->out, ' ') != NULL)
		snprintf(body, sizeof(body), "%s", a->out);
	else
		snprintf(body, sizeof(body), "<?xml version=\"1.0\"?><s:Envelope "
		    "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
		    "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError"
		    "</faultstring><detail><UPnPError xmlns=\"urn:schemas-upnp-org:"
		    "control-1-0\"><errorCode>%s</errorCode><errorDescription>x"
		    "</errorDescription></UPnPError></detail></s:Fault></s:Body>"
		    "</s:Envelope>", a->out);
	fake_send(c, a->status, body);
}

static void
fake_read(struct loop_fd *lf, int ev)
{
	struct fake_conn *c = container_of(lf, struct fake_conn, lfd);
	char *end, *cl, *sa, action[48] = "";
	ssize_t n;
	size_t need;

	(void)ev;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		fake_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return;
	need = (size_t)(end + 4 - c->buf);
	if ((cl = strcasestr(c->buf, "Content-Length:")) != NULL)
		need += strtoul(cl + 15, NULL, 10);
	if (c->len < need)
		return;
	if (strncmp(c->buf, "GET ", 4) == 0) {
		FK.desc_fetches++;
		if (FK.desc_hang > 0) {
			FK.desc_hang--;
			return;
		}
		if (FK.redirect != NULL) {
			dprintf(c->fd, "HTTP/1.1 301 Moved Permanently\r\n"
			    "Location: %s\r\nConnection: close\r\n"
			    "Content-Length: 0\r\n\r\n", FK.redirect);
			fake_close(c);
			return;
		}
		fake_send(c, 200, FK.desc);
		return;
	}
	if ((sa = strcasestr(c->buf, "SOAPAction:")) != NULL &&
	    (sa = strchr(sa, '#')) != NULL)
		sscanf(sa + 1, "%47[A-Za-z]", action);
	fake_soap(c, action, end + 4);
}

static void
fake_accept(struct loop_fd *lf, int ev)
{
	int fd, i;
	struct sockaddr_in to;
	socklen_t tl = sizeof(to);

	(void)lf;
	(void)ev;
	if ((fd = accept4(FK.lst, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	if (getsockname(fd, (struct sockaddr *)&to, &tl) == 0)
		FK.accepts[ntohl(to.sin_addr.s_addr) & 0xff]++;
	for (i = 0; i < 8; i++) {
		if (FK.conn[i].fd == -1) {
			memset(&FK.conn[i], 0, sizeof(FK.conn[i]));
			FK.conn[i].fd = fd;
			loop_fd_add(&FK.conn[i].lfd, fd, LOOP_READ, fake_read);
			return;
		}
	}
	close(fd);
}

static int
ssdp_answer(char *out, size_t len, const char *location)
{
	int n;

	n = snprintf(out, len, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: "
	    "max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:"
	    "1\r\nUSN: uuid:fake::urn:schemas-upnp-org:device:InternetGatewayDevice:"
	    "1\r\nEXT:\r\nLOCATION: %s\r\n\r\n", location);
	assert_true(n > 0 && (size_t)n < len);
	return n;
}

static void
fake_ssdp(struct loop_fd *lf, int ev)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[1500], out[512];
	ssize_t n;
	int len, i;

	(void)lf;
	(void)ev;
	n = recvfrom(FK.udp, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
	    &fl);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strncmp(buf, "M-SEARCH", 8) != 0 || strstr(buf,
	    "InternetGatewayDevice:1") == NULL)
		return;
	for (i = 0; FK.liar != -1 && i < (FK.liar_urls > 1 ? FK.liar_urls :
	    1); i++) {
		char loc[256];

		snprintf(loc, sizeof(loc), "%s", FK.liar_location);
		if (FK.liar_urls > 1)
			snprintf(loc, sizeof(loc), "%s%d", FK.liar_location, i);
		len = ssdp_answer(out, sizeof(out), loc);
		sendto(FK.liar, out, (size_t)len, 0, (struct sockaddr *)&from,
		    fl);
	}
	if (FK.silent)
		return;
	len = ssdp_answer(out, sizeof(out),
	    "http://127.0.0.1:" FAKE_HTTP_PORT_S "/rootDesc.xml");
	sendto(FK.udp, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
}

/* A second device answering M-SEARCH from address from, naming location. */
static void
liar_start(const char *from, const char *location)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, from, &sin.sin_addr), 1);
	FK.liar = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(FK.liar, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	FK.liar_from = from;
	FK.liar_location = location;
}

static int	probed, probe_status;
static char	probe_name[64];

static void
probe_cb(const struct mapping_driver *drv, int status,
    const struct drv_gateway *gw, const char *detail)
{
	(void)detail;
	assert_ptr_equal(drv, &upnp_driver);
	probed = 1;
	probe_status = status;
	if (gw != NULL)
		snprintf(probe_name, sizeof(probe_name), "%s", gw->name);
}

static struct drv_result	result;
static int			done;

static void
op_done(struct drv_op *op, const struct drv_result *r)
{
	(void)op;
	result = *r;
	done = 1;
}

static void
run_until(int *flag, unsigned int ms)
{
	uint64_t deadline = loop_now() + ms;

	while (!*flag && loop_now() < deadline)
		loop_once(50);
}

static int
group_setup(void **state)
{
	if (tu_netns_enter() == 0)
		*(int *)state = 1;	/* else the tests skip themselves */
	return 0;
}

static int	in_netns;

static int
setup(void **state)
{
	struct sockaddr_in sin;
	int one = 1, i;

	(void)state;
	if (!in_netns)
		return 0;
	memset(&FK, 0, sizeof(FK));
	for (i = 0; i < 8; i++)
		FK.conn[i].fd = -1;
	FK.liar = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(1900);
	FK.udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(FK.udp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	loop_fd_add(&FK.ulfd, FK.udp, LOOP_READ, fake_ssdp);
	FK.lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(FK.lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Any 127.x address: the answering host, and those named by others. */
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(FAKE_HTTP_PORT);
	assert_int_equal(bind(FK.lst, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(FK.lst, 8), 0);
	loop_fd_add(&FK.llfd, FK.lst, LOOP_READ, fake_accept);
	done = probed = 0;
	memset(&result, 0, sizeof(result));
	return 0;
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	if (!in_netns)
		return 0;
	upnp_driver.probe_cancel();
	for (i = 0; i < 8; i++) {
		if (FK.conn[i].fd != -1)
			fake_close(&FK.conn[i]);
		free(FK.conn[i].out);
		FK.conn[i].out = NULL;
	}
	loop_fd_del(&FK.ulfd);
	loop_fd_del(&FK.llfd);
	close(FK.udp);
	close(FK.lst);
	if (FK.liar != -1)
		close(FK.liar);
	return 0;
}

/* Every test runs in the namespace (main skips them all without one). */
static void
need_netns(void)
{
	assert_true(in_netns);
}

/* A probe from 127.0.0.1 on a subnet of netmask (0.0.0.0: unknown). */
static void
probe_in_for(const char *desc, const char *netmask, unsigned int ms)
{
	struct drv_env env;

	memset(&env, 0, sizeof(env));
	snprintf(env.ifname, sizeof(env.ifname), "lo");
	env.local.s_addr = htonl(INADDR_LOOPBACK);
	env.gateway.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(inet_pton(AF_INET, netmask, &env.netmask), 1);
	FK.desc = desc;
	probed = 0;
	assert_int_equal(upnp_driver.probe(&env, probe_cb), 0);
	run_until(&probed, ms);
	assert_true(probed);
	/* Connections still in the accept queue count too. */
	loop_once(0);
}

static void
probe_in(const char *desc, const char *netmask)
{
	probe_in_for(desc, netmask, 5000);
}

static void
probe(const char *desc)
{
	probe_in(desc, "255.0.0.0");
}

static struct drv_op	op = { .done = op_done };

static void
map(const struct answer *script, int any_port, unsigned int ms)
{
	struct drv_map m;

	memset(&m, 0, sizeof(m));
	m.proto = DRV_TCP;
	m.int_addr.s_addr = htonl(INADDR_LOOPBACK);
	m.int_port = 8080;
	m.ext_port = 8080;
	m.lease = 3600;
	m.any_port = any_port;
	snprintf(m.desc, sizeof(m.desc), "natmapd tcp 8080");
	FK.script = script;
	FK.next = 0;
	done = 0;
	assert_int_equal(upnp_driver.map(&op, &m), 0);
	run_until(&done, ms);
	assert_true(done);
}

#define OURS(lease) "<NewInternalPort>8080</NewInternalPort><NewInternalClient>" \
	"127.0.0.1</NewInternalClient><NewEnabled>1</NewEnabled>" \
	"<NewPortMappingDescription>natmapd tcp 8080</NewPortMappingDescription>" \
	"<NewLeaseDuration>" lease "</NewLeaseDuration>"
#define THEIRS "<NewInternalPort>8080</NewInternalPort><NewInternalClient>" \
	"192.168.1.20</NewInternalClient><NewEnabled>1</NewEnabled>" \
	"<NewPortMappingDescription>x</NewPortMappingDescription>" \
	"<NewLeaseDuration>0</NewLeaseDuration>"

static void
test_probe_igd2(void **state)
{
	(void)state;
	need_netns();
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_OK);
	assert_string_equal(probe_name, "UPnP (WANIPConnection:2)");
}

static void
test_probe_prefers_ip_over_ppp(void **state)
{
	(void)state;
	need_netns();
	probe(desc_igd1);
	assert_int_equal(probe_status, DRV_OK);
	assert_string_equal(probe_name, "UPnP (WANIPConnection:1)");
}

static void
test_probe_no_wan_service(void **state)
{
	(void)state;
	need_netns();
	probe(desc_none);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.desc_fetches, 1);
}

/*
 * A description padded to 40 KiB (an XML comment) is read whole, though
 * answers start in a small buffer; one past the answer cap is refused.
 */
static char *
padded_desc(size_t pad)
{
	static const char head[] = "<?xml version=\"1.0\"?><!--";
	size_t hl = sizeof(head) - 1, dl = strlen(desc_igd2 + 21);
	char *d;

	/* desc_igd2 without its own <?xml ...?> declaration (21 bytes) */
	assert_true(strncmp(desc_igd2, "<?xml version=\"1.0\"?>", 21) == 0);
	d = malloc(hl + pad + 3 + dl + 1);
	assert_non_null(d);
	memcpy(d, head, hl);
	memset(d + hl, 'x', pad);
	memcpy(d + hl + pad, "-->", 3);
	memcpy(d + hl + pad + 3, desc_igd2 + 21, dl + 1);
	return d;
}

static void
test_probe_large_description(void **state)
{
	char *d;

	(void)state;
	need_netns();
	d = padded_desc(40 * 1024);
	probe(d);
	assert_int_equal(probe_status, DRV_OK);
	assert_string_equal(probe_name, "UPnP (WANIPConnection:2)");
	free(d);

	d = padded_desc(80 * 1024);
	probe(d);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.desc_fetches, 2);	/* once each */
	free(d);
}

/*
 * A LAN host (127.0.0.2) answers for another (127.0.0.3), the gateway is
 * silent: nothing is fetched, no IGD.  The same host naming itself is
 * fetched, so the refusal is what kept 127.0.0.3 untouched.
 */
static void
test_location_not_the_answering_host(void **state)
{
	(void)state;
	need_netns();
	FK.silent = 1;
	liar_start("127.0.0.2", "http://127.0.0.3:" FAKE_HTTP_PORT_S
	    "/rootDesc.xml");
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.accepts[3], 0);
	assert_int_equal(FK.accepts[2], 0);
	assert_int_equal(FK.desc_fetches, 0);

	FK.liar_location = "http://127.0.0.2:" FAKE_HTTP_PORT_S "/rootDesc.xml";
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_OK);
	assert_true(FK.accepts[2] > 0);
	assert_int_equal(FK.accepts[3], 0);
}

/* A genuine gateway answering as well is found, the liar still not fetched. */
static void
test_liar_beside_the_gateway(void **state)
{
	(void)state;
	need_netns();
	liar_start("127.0.0.2", "http://127.0.0.3:" FAKE_HTTP_PORT_S
	    "/rootDesc.xml");
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_OK);
	assert_int_equal(FK.accepts[3], 0);
	assert_true(FK.accepts[1] > 0);
}

/* A host off the subnet (127.0.1.5 to a 127.0.0.0/24) naming itself. */
static void
test_answer_off_the_subnet(void **state)
{
	(void)state;
	need_netns();
	FK.silent = 1;
	liar_start("127.0.1.5", "http://127.0.1.5:" FAKE_HTTP_PORT_S
	    "/rootDesc.xml");
	probe_in(desc_igd2, "255.255.255.0");
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.accepts[5], 0);
	/* Netmask unknown: the gateway alone. */
	probe_in(desc_igd2, "0.0.0.0");
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.accepts[5], 0);
	/* In a /8 it is on the subnet, and fetched. */
	probe_in(desc_igd2, "255.0.0.0");
	assert_int_equal(probe_status, DRV_OK);
	assert_true(FK.accepts[5] > 0);
}

/* The description names a control URL on another host: not used. */
static void
test_control_url_on_another_host(void **state)
{
	static const char elsewhere[] = DESC_CONTROL_AT("127.0.0.3");
	static const char here[] = DESC_CONTROL_AT("127.0.0.1");

	(void)state;
	need_netns();
	probe(elsewhere);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.desc_fetches, 1);
	assert_int_equal(FK.accepts[3], 0);
	/* The same URL on the description's host is fine. */
	probe(here);
	assert_int_equal(probe_status, DRV_OK);
	assert_string_equal(probe_name, "UPnP (WANIPConnection:1)");
}

/* A 3xx answer to the description is not followed, even to the same host. */
static void
test_redirect_not_followed(void **state)
{
	(void)state;
	need_netns();
	FK.redirect = "http://127.0.0.3:" FAKE_HTTP_PORT_S "/rootDesc.xml";
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.desc_fetches, 1);
	assert_int_equal(FK.accepts[3], 0);
	FK.redirect = "http://127.0.0.1:" FAKE_HTTP_PORT_S "/other.xml";
	FK.desc_fetches = 0;
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.desc_fetches, 1);
}

/* The log at info (stderr, without debug) while two probes run. */
static void
probe_twice_logged(char *buf, size_t len)
{
	int saved, v = log_getverbose();
	FILE *f;
	size_t n;

	assert_non_null(f = tmpfile());
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fileno(f), STDERR_FILENO) != -1);
	log_setverbose(0);
	probe(desc_igd2);
	probe(desc_igd2);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_setverbose(v);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int
count_in(const char *buf, const char *what)
{
	const char *p;
	int n;

	for (n = 0, p = buf; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* The refusal is said at info once, however often the liar answers. */
static void
test_refusal_logged_once(void **state)
{
	static const char line[] = "upnp: LOCATION http://127.0.0.3:"
	    FAKE_HTTP_PORT_S "/once.xml from 127.0.0.2 is not the answering "
	    "host; not fetched";
	char buf[8192];

	(void)state;
	need_netns();
	FK.silent = 1;
	liar_start("127.0.0.2", "http://127.0.0.3:" FAKE_HTTP_PORT_S
	    "/once.xml");
	probe_twice_logged(buf, sizeof(buf));
	if (count_in(buf, line) != 1)
		fprintf(stderr, "# log:\n%s", buf);
	assert_int_equal(count_in(buf, line), 1);
	assert_int_equal(FK.accepts[3], 0);
}

/* A liar naming ever new URLs: at most 4 info lines a probe. */
static void
test_refusals_do_not_flood(void **state)
{
	char buf[16384];

	(void)state;
	need_netns();
	FK.silent = 1;
	FK.liar_urls = 20;
	liar_start("127.0.0.2", "http://127.0.0.3:" FAKE_HTTP_PORT_S
	    "/flood.xml?");
	probe_twice_logged(buf, sizeof(buf));
	if (count_in(buf, "is not the answering host") != 8)
		fprintf(stderr, "# log:\n%s", buf);
	assert_int_equal(count_in(buf, "is not the answering host"), 8);
	assert_int_equal(FK.accepts[3], 0);
}

static void
test_map_ok_reads_granted_lease(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("1800") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(result.lease, 1800);
	assert_int_equal(result.ext_port, 8080);
	assert_non_null(strstr(FK.body[0], "<NewLeaseDuration>3600<"));
	assert_non_null(strstr(FK.body[0],
	    "<NewPortMappingDescription>natmapd tcp 8080<"));
	assert_non_null(strstr(FK.body[0], "<NewInternalClient>127.0.0.1<"));
}

/* Routers report the lease left: a second gone by is not a shorter grant. */
static void
test_lease_left_after_a_tick(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("3599") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(result.lease, 3600);
}

static void
test_725_only_permanent(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "725" },
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("0") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(result.lease, 0);
	assert_non_null(strstr(FK.body[1], "<NewLeaseDuration>0<"));
}

static void
test_402_on_lease(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "402" },
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("0") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd1);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(result.lease, 0);
}

static void
test_402_twice_fails(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "402" },
		{ "AddPortMapping", 500, "402" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd1);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_FAILED);
	assert_non_null(strstr(result.detail, "(402)"));
}

static void
test_718_names_holder(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "718" },
		{ "GetSpecificPortMappingEntry", 200, THEIRS },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_CONFLICT);
	assert_string_equal(result.detail, "external port 8080 is held by "
	    "192.168.1.20:8080 (ConflictInMappingEntry)");
}

static void
test_501_used_for_conflict(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "501" },
		{ "GetSpecificPortMappingEntry", 200, THEIRS },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd1);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_CONFLICT);
	assert_non_null(strstr(result.detail, "held by 192.168.1.20:8080"));
}

static void
test_501_not_a_conflict(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "501" },
		{ "GetSpecificPortMappingEntry", 500, "714" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd1);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_FAILED);
	assert_non_null(strstr(result.detail, "(501)"));
}

static void
test_anyport_igd2_uses_addany(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "718" },
		{ "GetSpecificPortMappingEntry", 200, THEIRS },
		{ "AddAnyPortMapping", 200, "<NewReservedPort>40000</NewReservedPort>" },
		{ "GetSpecificPortMappingEntry", 200, OURS("3600") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 1, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(result.ext_port, 40000);
	assert_non_null(strstr(FK.body[3], "<NewExternalPort>40000<"));
}

static void
test_anyport_igd1_picks_a_port(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "718" },
		{ "GetSpecificPortMappingEntry", 200, THEIRS },
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("3600") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd1);
	map(s, 1, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_true(result.ext_port >= 1024 && result.ext_port != 8080);
	assert_null(strstr(FK.body[2], "<NewExternalPort>8080<"));
}

static void
test_606_denied(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "606" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_DENIED);
	assert_non_null(strstr(result.detail, "(606)"));
}

static void
test_verify_not_listed(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 500, "714" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_FAILED);
	assert_non_null(strstr(result.detail, "does not list it"));
}

static void
test_unreadable_answer(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", 500, "this is not xml at all" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_FAILED);
	assert_non_null(strstr(result.detail, "unreadable"));
}

/*
 * The probe on a lossy link: a description fetch and a GetExternalIPAddress
 * that time out once are asked again (before, the one timeout ended the
 * candidate, and with it the probe: "no usable UPnP IGD answered").
 */
static void
test_probe_timeouts_asked_again(void **state)
{
	(void)state;
	need_netns();
	FK.desc_hang = 1;
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_OK);
	assert_int_equal(FK.desc_fetches, 2);
	assert_int_equal(FK.extaddr_asked, 1);
}

static void
test_probe_extaddr_timeout_asked_again(void **state)
{
	(void)state;
	need_netns();
	FK.extaddr_hang = 1;
	probe(desc_igd2);
	assert_int_equal(probe_status, DRV_OK);
	assert_int_equal(FK.desc_fetches, 2);
	assert_int_equal(FK.extaddr_asked, 2);
	assert_string_equal(probe_name, "UPnP (WANIPConnection:2)");
}

/* Twice: the candidate is given up (and with no other, the probe fails). */
static void
test_probe_timeouts_twice_give_up(void **state)
{
	(void)state;
	need_netns();
	FK.desc_hang = 2;
	probe_in_for(desc_igd2, "255.0.0.0", 9000);
	assert_int_not_equal(probe_status, DRV_OK);
	assert_int_equal(FK.desc_fetches, 2);
	assert_int_equal(FK.extaddr_asked, 0);
}

/* Closed three times without a word: the gateway is gone. */
static void
test_closed_without_answer(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", CLOSE, "" },
		{ "AddPortMapping", CLOSE, "" },
		{ "AddPortMapping", CLOSE, "" },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_ERR_GATEWAY);
}

/* Once lost (a dropped SYN, a lossy link): sent again, and answered. */
static void
test_closed_once_then_answered(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", CLOSE, "" },
		{ "AddPortMapping", 200, "" },
		{ "GetSpecificPortMappingEntry", 200, OURS("3600") },
		{ NULL, 0, NULL },
	};

	(void)state;
	need_netns();
	probe(desc_igd2);
	map(s, 0, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_int_equal(FK.next, 3);
}

/* A router that accepts and never answers: three sends of 3 s, then gone. */
static void
test_hung_router_times_out(void **state)
{
	static const struct answer s[] = {
		{ "AddPortMapping", HANG, "" },
		{ "AddPortMapping", HANG, "" },
		{ "AddPortMapping", HANG, "" },
		{ NULL, 0, NULL },
	};
	uint64_t t0;

	(void)state;
	need_netns();
	probe(desc_igd2);
	t0 = loop_now();
	map(s, 0, 12000);
	assert_int_equal(result.status, DRV_ERR_GATEWAY);
	assert_int_equal(FK.next, 3);
	assert_true(loop_now() - t0 < 10000);
}

/* The periodic look: there and ours is fine; NoSuchEntryInArray means gone. */
static void
test_verify(void **state)
{
	static const struct answer there[] = {
		{ "GetSpecificPortMappingEntry", 200, OURS("1200") },
		{ NULL, 0, NULL },
	};
	static const struct answer gone[] = {
		{ "GetSpecificPortMappingEntry", 500, "714" },
		{ NULL, 0, NULL },
	};
	struct drv_map m;

	(void)state;
	need_netns();
	probe(desc_igd2);
	memset(&m, 0, sizeof(m));
	m.proto = DRV_TCP;
	m.int_addr.s_addr = htonl(INADDR_LOOPBACK);
	m.int_port = m.ext_port = 8080;
	m.lease = 3600;
	FK.script = there;
	FK.next = 0;
	done = 0;
	assert_int_equal(upnp_driver.verify(&op, &m), 0);
	run_until(&done, 5000);
	assert_int_equal(result.status, DRV_OK);
	assert_non_null(strstr(FK.body[0], "<NewExternalPort>8080<"));
	FK.script = gone;
	FK.next = 0;
	done = 0;
	assert_int_equal(upnp_driver.verify(&op, &m), 0);
	run_until(&done, 5000);
	assert_int_equal(result.status, DRV_ERR_FAILED);
	assert_string_equal(result.detail, "no longer on the gateway");
}

static void
test_delete_already_gone(void **state)
{
	static const struct answer s[] = {
		{ "DeletePortMapping", 500, "714" },
		{ NULL, 0, NULL },
	};
	struct drv_map m;

	(void)state;
	need_netns();
	probe(desc_igd2);
	memset(&m, 0, sizeof(m));
	m.proto = DRV_UDP;
	m.int_addr.s_addr = htonl(INADDR_LOOPBACK);
	m.int_port = m.ext_port = 9000;
	FK.script = s;
	FK.next = 0;
	done = 0;
	assert_int_equal(upnp_driver.unmap(&op, &m), 0);
	run_until(&done, 5000);
	assert_true(done);
	assert_int_equal(result.status, DRV_OK);
	assert_non_null(strstr(FK.body[0], "<NewProtocol>UDP<"));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	struct CMUnitTest tests[] = {
		T(test_probe_igd2),
		T(test_probe_prefers_ip_over_ppp),
		T(test_probe_no_wan_service),
		T(test_probe_large_description),
		T(test_location_not_the_answering_host),
		T(test_liar_beside_the_gateway),
		T(test_answer_off_the_subnet),
		T(test_control_url_on_another_host),
		T(test_redirect_not_followed),
		T(test_refusal_logged_once),
		T(test_refusals_do_not_flood),
		T(test_map_ok_reads_granted_lease),
		T(test_lease_left_after_a_tick),
		T(test_725_only_permanent),
		T(test_402_on_lease),
		T(test_402_twice_fails),
		T(test_718_names_holder),
		T(test_501_used_for_conflict),
		T(test_501_not_a_conflict),
		T(test_anyport_igd2_uses_addany),
		T(test_anyport_igd1_picks_a_port),
		T(test_606_denied),
		T(test_verify_not_listed),
		T(test_unreadable_answer),
		T(test_probe_timeouts_asked_again),
		T(test_probe_extaddr_timeout_asked_again),
		T(test_probe_timeouts_twice_give_up),
		T(test_closed_without_answer),
		T(test_closed_once_then_answered),
		T(test_hung_router_times_out),
		T(test_verify),
		T(test_delete_already_gone),
	};
	int ok = 0;

	log_init(1, getenv("NATMAPD_TEST_VERBOSE") != NULL);
	if (group_setup((void **)&ok) == 0)
		in_netns = ok;
	if (!in_netns)
		tu_skip_tests(tests, TU_ARRAY_LEN(tests),
		    "needs root (network namespace)");
	return TU_RUN("upnp-driver", tests);
}
