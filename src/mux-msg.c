/* SPDX-License-Identifier: ISC */
/* The stream multiplexer's frames and the UDP flow frame, built and parsed; no I/O (include/mux-msg.h). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mux-msg.h"
#include "wire.h"

static int
mux_name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

/* name[0..n) a service name: copy it, NUL-terminated, to out. */
static int
mux_take_name(const uint8_t *name, size_t n, char *out)
{
	size_t i;

	if (n < 1 || n > MUX_NAME_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!mux_name_byte(name[i]))
			return -1;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

int
mux_name_valid(const char *name)
{
	size_t n = strnlen(name, MUX_NAME_MAX + 1), i;

	if (n < 1 || n > MUX_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!mux_name_byte((uint8_t)name[i]))
			return 0;
	return 1;
}

size_t
mux_frame_len(const uint8_t *buf, size_t len)
{
	if (len < MUX_HDR_LEN)
		return 0;
	return MUX_HDR_LEN + (size_t)wire_get16(buf + 2);
}

/* The payload lengths a type takes: [min, max]; 0 for an unknown type. */
static int
mux_type_lens(uint8_t type, size_t *min, size_t *max)
{
	switch (type) {
	case MUX_OPEN:
		*min = 1;
		*max = MUX_NAME_MAX;
		return 1;
	case MUX_DATA:
		*min = 1;
		*max = MUX_DATA_MAX;
		return 1;
	case MUX_WINDOW:
		*min = *max = 4;
		return 1;
	case MUX_FIN:
		*min = *max = 0;
		return 1;
	case MUX_RST:
		*min = *max = 1;
		return 1;
	case MUX_PING:
	case MUX_PONG:
		*min = *max = MUX_PING_LEN;
		return 1;
	case MUX_GOAWAY:
		*min = *max = 5;
		return 1;
	default:
		return 0;
	}
}

static int
mux_carrier_frame(uint8_t type)
{
	return type == MUX_PING || type == MUX_PONG || type == MUX_GOAWAY;
}

static int
mux_refuse(struct mux_frame *f, const char **err, const char *why)
{
	memset(f, 0, sizeof(*f));
	return wire_fail(err, why);
}

int
mux_parse(const uint8_t *buf, size_t len, struct mux_frame *f,
    const char **err)
{
	const uint8_t *p = buf + MUX_HDR_LEN;
	size_t plen, min, max;

	memset(f, 0, sizeof(*f));
	if (len < MUX_HDR_LEN)
		return mux_refuse(f, err, "frame header truncated");
	plen = wire_get16(buf + 2);
	if (len != MUX_HDR_LEN + plen)
		return mux_refuse(f, err, len < MUX_HDR_LEN + plen ?
		    "frame truncated" : "bytes after the frame");
	if (!mux_type_lens(buf[0], &min, &max))
		return mux_refuse(f, err, "unknown frame type");
	if (buf[1] != 0)
		return mux_refuse(f, err, "frame flags not 0");
	if (plen < min || plen > max)
		return mux_refuse(f, err, "frame length wrong for its type");
	f->type = buf[0];
	f->id = wire_get32(buf + 4);
	if (mux_carrier_frame(f->type) != (f->id == 0))
		return mux_refuse(f, err, f->id == 0 ? "stream id 0" :
		    "stream id on a carrier frame");
	switch (f->type) {
	case MUX_OPEN:
		if (mux_take_name(p, plen, f->name) == -1)
			return mux_refuse(f, err, "bad service name");
		break;
	case MUX_DATA:
		f->data = p;
		f->len = plen;
		break;
	case MUX_WINDOW:
		f->value = wire_get32(p);
		if (f->value == 0 || f->value > MUX_WINDOW_MAX)
			return mux_refuse(f, err, "window increment out of range");
		break;
	case MUX_RST:
		f->reason = p[0];
		break;
	case MUX_PING:
	case MUX_PONG:
		memcpy(f->ping, p, MUX_PING_LEN);
		break;
	case MUX_GOAWAY:
		f->value = wire_get32(p);
		f->reason = p[4];
		break;
	}
	return 0;
}

void
mux_build_header(uint8_t *buf, uint8_t type, size_t plen, uint32_t id)
{
	buf[0] = type;
	buf[1] = 0;
	wire_put16(buf + 2, (uint16_t)plen);
	wire_put32(buf + 4, id);
}

int
mux_build_data(uint8_t *buf, size_t len, uint32_t id, const uint8_t *data,
    size_t n)
{
	if (id == 0 || n < 1 || n > MUX_DATA_MAX || len < MUX_HDR_LEN + n)
		return -1;
	mux_build_header(buf, MUX_DATA, n, id);
	memcpy(buf + MUX_HDR_LEN, data, n);
	return (int)(MUX_HDR_LEN + n);
}

int
mux_build(uint8_t *buf, size_t len, const struct mux_frame *f)
{
	uint8_t *p = buf + MUX_HDR_LEN;
	size_t plen, min, max;

	if (!mux_type_lens(f->type, &min, &max) ||
	    mux_carrier_frame(f->type) != (f->id == 0))
		return -1;
	switch (f->type) {
	case MUX_OPEN:
		if (!mux_name_valid(f->name))
			return -1;
		plen = strlen(f->name);
		break;
	case MUX_DATA:
		return mux_build_data(buf, len, f->id, f->data, f->len);
	case MUX_WINDOW:
		if (f->value == 0 || f->value > MUX_WINDOW_MAX)
			return -1;
		plen = 4;
		break;
	default:
		plen = min;
		break;
	}
	if (len < MUX_HDR_LEN + plen)
		return -1;
	mux_build_header(buf, f->type, plen, f->id);
	switch (f->type) {
	case MUX_OPEN:
		memcpy(p, f->name, plen);
		break;
	case MUX_WINDOW:
		wire_put32(p, f->value);
		break;
	case MUX_RST:
		p[0] = f->reason;
		break;
	case MUX_PING:
	case MUX_PONG:
		memcpy(p, f->ping, MUX_PING_LEN);
		break;
	case MUX_GOAWAY:
		wire_put32(p, f->value);
		p[4] = f->reason;
		break;
	}
	return (int)(MUX_HDR_LEN + plen);
}

const char *
mux_type_str(uint8_t type)
{
	static const char *const names[] = {
		[MUX_OPEN] = "OPEN", [MUX_DATA] = "DATA",
		[MUX_WINDOW] = "WINDOW", [MUX_FIN] = "FIN", [MUX_RST] = "RST",
		[MUX_PING] = "PING", [MUX_PONG] = "PONG",
		[MUX_GOAWAY] = "GOAWAY",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "unknown";
}

const char *
mux_rst_str(uint8_t reason)
{
	static const char *const names[] = {
		[MUX_RST_REFUSED] = "refused",
		[MUX_RST_NOT_EXPOSED] = "not exposed",
		[MUX_RST_NOT_ALLOWED] = "not allowed",
		[MUX_RST_SERVICE_DOWN] = "service down",
		[MUX_RST_PROTOCOL] = "protocol error",
		[MUX_RST_ABORTED] = "aborted",
		[MUX_RST_NO_RELAY] = "relay never: not through the relay",
		[MUX_RST_RELAY_ONLY] = "relay always: through the relay only",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason] != NULL)
		return names[reason];
	return "unknown reason";
}

int
mux_flow_parse(const uint8_t *buf, size_t len, struct mux_flow *fl,
    const char **err)
{
	size_t nlen;

	memset(fl, 0, sizeof(*fl));
	if (len < MUX_FLOW_HDR_LEN)
		return wire_fail(err, "flow header truncated");
	if (buf[0] != MUX_FLOW_TYPE)
		return wire_fail(err, "not a flow frame");
	if (buf[1] != MUX_FLOW_TO_SERVICE && buf[1] != MUX_FLOW_TO_CLIENT)
		return wire_fail(err, "bad flow direction");
	if (buf[3] != 0)
		return wire_fail(err, "flow reserved byte not 0");
	nlen = buf[2];
	if (len < MUX_FLOW_HDR_LEN + nlen)
		return wire_fail(err, "flow name truncated");
	if (wire_get32(buf + 4) == 0)
		return wire_fail(err, "flow id 0");
	if (mux_take_name(buf + MUX_FLOW_HDR_LEN, nlen, fl->name) == -1) {
		memset(fl, 0, sizeof(*fl));
		return wire_fail(err, "bad service name");
	}
	fl->direction = buf[1];
	fl->id = wire_get32(buf + 4);
	fl->len = len - MUX_FLOW_HDR_LEN - nlen;
	fl->payload = fl->len > 0 ? buf + MUX_FLOW_HDR_LEN + nlen : NULL;
	return 0;
}

int
mux_flow_build(uint8_t *buf, size_t len, const struct mux_flow *fl)
{
	size_t nlen;

	if (!mux_name_valid(fl->name) || fl->id == 0 ||
	    (fl->direction != MUX_FLOW_TO_SERVICE &&
	    fl->direction != MUX_FLOW_TO_CLIENT))
		return -1;
	nlen = strlen(fl->name);
	if (len < MUX_FLOW_HDR_LEN + nlen ||
	    fl->len > len - MUX_FLOW_HDR_LEN - nlen ||
	    MUX_FLOW_HDR_LEN + nlen + fl->len > INT32_MAX)
		return -1;
	buf[0] = MUX_FLOW_TYPE;
	buf[1] = fl->direction;
	buf[2] = (uint8_t)nlen;
	buf[3] = 0;
	wire_put32(buf + 4, fl->id);
	memcpy(buf + MUX_FLOW_HDR_LEN, fl->name, nlen);
	if (fl->len > 0)
		memmove(buf + MUX_FLOW_HDR_LEN + nlen, fl->payload, fl->len);
	return (int)(MUX_FLOW_HDR_LEN + nlen + fl->len);
}
