/* gba_h1.c - HTTP/1.1 server requests and client replies on http-parser. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "gba_err.h"
#include "gba_h1.h"
#include "gba_mem.h"

struct h1_hidx {
	size_t noff, nlen, voff, vlen;
};

struct gba_h1_server {
	http_parser parser;               /* first: callbacks cast back */
	struct gba_http_conn_info *ci;    /* borrowed */
	struct gba_hbuf *out;             /* borrowed during recv */
	struct gba_hbuf hdr;              /* URL, then header names and values */
	size_t url_len;
	struct h1_hidx idx[GBA_HTTP_MAX_REQ_HEADERS];
	size_t nh;
	int in_value;
	struct gba_hbuf body;
	struct gba_http_header headers[GBA_HTTP_MAX_REQ_HEADERS];
	struct gba_http_response resp;
	int busy;
	int error_status;                 /* answer and close */
	int done;
	int rc;                           /* sticky internal error */
	struct gba_http_stream *held;     /* a held response: the rest of the
	                                   * connection is its chunked body */
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int append_fmt_status(struct gba_hbuf *out, int status)
{
	char line[64];
	int n;

	n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, gba_http_reason(status));
	if (n < 0 || (size_t)n >= sizeof(line))
		return GBA_EINTERNAL;
	return gba_hbuf_append(out, line, (size_t)n);
}

static int append_str(struct gba_hbuf *out, const char *s)
{
	return gba_hbuf_append(out, s, strlen(s));
}

/* Head and body of one answer.  Always a content-length (except 204,
 * which may not have one); no body for HEAD, 204 and 304. */
static int write_response(struct gba_hbuf *out, const struct gba_http_response *r, int head,
                          int close)
{
	char cl[48];
	size_t i;
	int rc, n, nobody = head || r->status == 204 || r->status == 304;

	rc = append_fmt_status(out, r->status);
	for (i = 0; rc == 0 && i < r->nheaders; i++) {
		if (gba_http_hop_header(r->headers[i].name.p))
			continue;
		rc = gba_hbuf_append(out, r->headers[i].name.p, r->headers[i].name.len);
		if (rc == 0)
			rc = append_str(out, ": ");
		if (rc == 0)
			rc = gba_hbuf_append(out, r->headers[i].value.p, r->headers[i].value.len);
		if (rc == 0)
			rc = append_str(out, "\r\n");
	}
	if (rc == 0 && r->status != 204) {
		n = snprintf(cl, sizeof(cl), "content-length: %zu\r\n", r->body_len);
		if (n < 0 || (size_t)n >= sizeof(cl))
			return GBA_EINTERNAL;
		rc = gba_hbuf_append(out, cl, (size_t)n);
	}
	if (rc == 0 && close)
		rc = append_str(out, "connection: close\r\n");
	if (rc == 0)
		rc = append_str(out, "\r\n");
	if (rc == 0 && !nobody)
		rc = gba_hbuf_append(out, r->body, r->body_len);
	return rc;
}

/* The head of a held response: chunked, never a content-length. */
static int write_held_head(struct gba_hbuf *out, const struct gba_http_response *r)
{
	size_t i;
	int rc;

	rc = append_fmt_status(out, r->status);
	for (i = 0; rc == 0 && i < r->nheaders; i++) {
		if (gba_http_hop_header(r->headers[i].name.p))
			continue;
		rc = gba_hbuf_append(out, r->headers[i].name.p, r->headers[i].name.len);
		if (rc == 0)
			rc = append_str(out, ": ");
		if (rc == 0)
			rc = gba_hbuf_append(out, r->headers[i].value.p, r->headers[i].value.len);
		if (rc == 0)
			rc = append_str(out, "\r\n");
	}
	/* The connection ends with the response. */
	if (rc == 0)
		rc = append_str(out, "transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
	return rc;
}

int gba_h1_stream_write(struct gba_h1_server *h, struct gba_hbuf *out, const void *d, size_t len)
{
	char size[24];
	int n, rc;

	if (len == 0)
		return 0;
	n = snprintf(size, sizeof(size), "%zx\r\n", len);
	if (n < 0 || (size_t)n >= sizeof(size))
		return GBA_EINTERNAL;
	if (len > out->max || (size_t)n + 2 > out->max - len ||
	    gba_hbuf_used(out) > out->max - len - (size_t)n - 2)
		return GBA_ETOOBIG;   /* nothing appended */
	rc = gba_hbuf_append(out, size, (size_t)n);
	if (rc == 0)
		rc = gba_hbuf_append(out, d, len);
	if (rc == 0)
		rc = append_str(out, "\r\n");
	if (rc < 0)
		h->done = 1;   /* a half chunk went out: end the connection */
	return rc;
}

int gba_h1_stream_end(struct gba_h1_server *h, struct gba_hbuf *out)
{
	int rc;

	if (h->done)
		return 0;
	rc = append_str(out, "0\r\n\r\n");
	h->done = 1;   /* the connection closes once this is out */
	return rc;
}

int gba_h1_server_held(const struct gba_h1_server *h)
{
	return h->held != NULL;
}

int gba_h1_simple_response(struct gba_hbuf *out, int status, int close)
{
	struct gba_http_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	return write_response(out, &r, 0, close);
}

static struct gba_h1_server *srv_of(http_parser *p)
{
	return (struct gba_h1_server *)(void *)p;
}

static void req_reset(struct gba_h1_server *h)
{
	h->hdr.off = h->hdr.len = 0;
	h->body.off = h->body.len = 0;
	h->url_len = 0;
	h->nh = 0;
	h->in_value = 0;
}

static int s_begin(http_parser *p)
{
	struct gba_h1_server *h = srv_of(p);

	req_reset(h);
	h->busy = 1;
	return 0;
}

/* Bytes of the header section so far; the URL counts too. */
static int hdr_append(struct gba_h1_server *h, const char *at, size_t len, int lc)
{
	size_t start = h->hdr.len, i;
	int rc;

	rc = gba_hbuf_append(&h->hdr, at, len);
	if (rc == GBA_ETOOBIG) {
		h->error_status = 431;
		return -1;
	}
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	if (lc)
		for (i = start; i < h->hdr.len; i++)
			h->hdr.p[i] = (uint8_t)lower(h->hdr.p[i]);
	return 0;
}

static int s_url(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_server *h = srv_of(p);

	if (hdr_append(h, at, len, 0) < 0)
		return -1;
	h->url_len += len;
	return 0;
}

static int s_field(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_server *h = srv_of(p);

	if (h->nh == 0 || h->in_value) {
		if (h->nh >= GBA_HTTP_MAX_REQ_HEADERS) {
			h->error_status = 431;
			return -1;
		}
		memset(&h->idx[h->nh], 0, sizeof(h->idx[0]));
		h->idx[h->nh].noff = h->hdr.len;
		h->nh++;
		h->in_value = 0;
	}
	if (hdr_append(h, at, len, 1) < 0)
		return -1;
	h->idx[h->nh - 1].nlen += len;
	return 0;
}

static int s_value(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_server *h = srv_of(p);

	if (h->nh == 0)
		return -1;
	if (!h->in_value) {
		h->idx[h->nh - 1].voff = h->hdr.len;
		h->in_value = 1;
	}
	if (hdr_append(h, at, len, 0) < 0)
		return -1;
	h->idx[h->nh - 1].vlen += len;
	return 0;
}

static int hdr_is(const struct gba_h1_server *h, size_t i, const char *name)
{
	size_t n = strlen(name);

	return h->idx[i].nlen == n && memcmp(h->hdr.p + h->idx[i].noff, name, n) == 0;
}

static int val_is(const struct gba_h1_server *h, size_t i, const char *v)
{
	size_t k, n = strlen(v);

	if (h->idx[i].vlen != n)
		return 0;
	for (k = 0; k < n; k++)
		if (lower(h->hdr.p[h->idx[i].voff + k]) != v[k])
			return 0;
	return 1;
}

static int s_headers_complete(http_parser *p)
{
	struct gba_h1_server *h = srv_of(p);
	size_t i;
	int chunked = (p->flags & F_CHUNKED) != 0;

	if (!chunked && p->content_length != ULLONG_MAX && p->content_length > h->ci->limits->max_body) {
		h->error_status = 413;
		return -1;
	}
	for (i = 0; i < h->nh; i++) {
		if (hdr_is(h, i, "expect")) {
			if (!val_is(h, i, "100-continue")) {
				h->error_status = 417;
				return -1;
			}
			if ((chunked || (p->content_length != ULLONG_MAX && p->content_length > 0)) &&
			    append_str(h->out, "HTTP/1.1 100 Continue\r\n\r\n") < 0) {
				h->rc = GBA_ETOOBIG;
				return -1;
			}
		}
	}
	return 0;
}

static int s_body(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_server *h = srv_of(p);
	int rc;

	rc = gba_hbuf_append(&h->body, at, len);
	if (rc == GBA_ETOOBIG) {
		h->error_status = 413;
		return -1;
	}
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	return 0;
}

static int s_message_complete(http_parser *p)
{
	struct gba_h1_server *h = srv_of(p);
	struct gba_http_request req;
	const char *base = (const char *)h->hdr.p;
	size_t i;
	int close, rc;

	memset(&req, 0, sizeof(req));
	req.version = GBA_HTTP_1_1;
	req.method = gba_str_c(http_method_str((enum http_method)p->method));
	req.path.p = base;
	req.path.len = h->url_len;
	for (i = 0; i < h->nh; i++) {
		h->headers[i].name.p = base + h->idx[i].noff;
		h->headers[i].name.len = h->idx[i].nlen;
		h->headers[i].value.p = h->idx[i].vlen > 0 ? base + h->idx[i].voff : "";
		h->headers[i].value.len = h->idx[i].vlen;
		if (hdr_is(h, i, "host") && req.authority.p == NULL)
			req.authority = h->headers[i].value;
	}
	req.headers = h->headers;
	req.nheaders = h->nh;
	req.body = h->body.len > 0 ? h->body.p : NULL;
	req.body_len = h->body.len;
	gba_http_dispatch(h->ci, &req, &h->resp, 0);
	if (h->resp.held != NULL) {
		struct gba_http_stream *st = h->resp.held;

		h->resp.held = NULL;
		rc = write_held_head(h->out, &h->resp);
		if (rc == 0 && gba_hbuf_used(&st->data) > 0)
			rc = gba_h1_stream_write(h, h->out, gba_hbuf_data(&st->data),
			                         gba_hbuf_used(&st->data));
		gba_hbuf_clear(&st->data);
		gba_http_response_reset(&h->resp);
		req_reset(h);
		/* nothing more is parsed: give the request's buffers back */
		gba_hbuf_clear(&h->hdr);
		gba_hbuf_clear(&h->body);
		h->busy = 0;
		if (rc < 0) {
			gba_http_stream_closed(st);
			h->rc = rc;
			return -1;
		}
		st->bound = 1;
		st->resp = NULL;
		h->held = st;
		if (st->ending)
			rc = gba_h1_stream_end(h, h->out);
		/* Nothing more is parsed on this connection. */
		http_parser_pause(p, 1);
		return 0;
	}
	close = !http_should_keep_alive(p) || h->ci->stopping;
	rc = write_response(h->out, &h->resp, p->method == HTTP_HEAD, close);
	gba_http_response_reset(&h->resp);
	req_reset(h);
	h->busy = 0;
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	if (close)
		h->done = 1;
	/* One request at a time: the caller drains the answer first. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings server_settings = {
	.on_message_begin = s_begin,
	.on_url = s_url,
	.on_header_field = s_field,
	.on_header_value = s_value,
	.on_headers_complete = s_headers_complete,
	.on_body = s_body,
	.on_message_complete = s_message_complete,
};

int gba_h1_server_new(struct gba_h1_server **out, struct gba_http_conn_info *ci)
{
	struct gba_h1_server *h;

	*out = NULL;
	h = gba_calloc(1, sizeof(*h));
	if (h == NULL)
		return GBA_ENOMEM;
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->ci = ci;
	gba_hbuf_init(&h->hdr, ci->limits->max_header_list);
	gba_hbuf_init(&h->body, ci->limits->max_body);
	h->resp.status = 500;
	*out = h;
	return 0;
}

void gba_h1_server_free(struct gba_h1_server *h)
{
	if (h == NULL)
		return;
	if (h->held != NULL) {
		struct gba_http_stream *st = h->held;

		h->held = NULL;
		gba_http_stream_closed(st);
	}
	gba_hbuf_clear(&h->hdr);
	gba_hbuf_clear(&h->body);
	gba_http_response_reset(&h->resp);
	gba_free(h);
}

int gba_h1_server_recv(struct gba_h1_server *h, const uint8_t *d, size_t len,
                       struct gba_hbuf *out, size_t *used)
{
	enum http_errno e;
	size_t n;
	int rc;

	*used = 0;
	if (h->held != NULL) {
		*used = len;   /* a held response owns the connection: drop input */
		return 0;
	}
	if (h->done)
		return 0;
	h->out = out;
	n = http_parser_execute(&h->parser, &server_settings, (const char *)d, len);
	e = HTTP_PARSER_ERRNO(&h->parser);
	h->out = NULL;
	if (e == HPE_PAUSED) {
		http_parser_pause(&h->parser, 0);
		/* An Upgrade (h2c, websocket) is not taken: the next bytes are
		 * parsed as HTTP/1.1 again. */
		h->parser.upgrade = 0;
		*used = n;
		return 0;
	}
	if (e == HPE_OK && !h->parser.upgrade) {
		*used = n;
		return 0;
	}
	if (h->rc < 0)
		return h->rc;
	/* Malformed, over a limit, or an upgrade we did not pause at (a
	 * CONNECT with a body): answer and close. */
	if (h->error_status == 0)
		h->error_status = 400;
	rc = gba_h1_simple_response(out, h->error_status, 1);
	h->done = 1;
	h->busy = 0;
	*used = len;
	return rc;
}

int gba_h1_server_busy(const struct gba_h1_server *h)
{
	return h->busy;
}

int gba_h1_server_done(const struct gba_h1_server *h)
{
	return h->done;
}

int gba_h1_server_errored(const struct gba_h1_server *h)
{
	return h->error_status != 0;
}

/* ---- client ---- */

struct gba_h1_client {
	http_parser parser;               /* first */
	struct gba_http_reply_store *rs;  /* borrowed */
	struct gba_hbuf field;            /* current header name, then value */
	size_t name_len;
	int in_value;
	int head;                         /* request was HEAD: no body */
	int interim;                      /* a 1xx reply is being skipped */
	int done;
	int keepalive;
	int rc;
};

static struct gba_h1_client *cli_of(http_parser *p)
{
	return (struct gba_h1_client *)(void *)p;
}

static int c_flush_field(struct gba_h1_client *h)
{
	int rc;

	if (h->field.len == 0)
		return 0;
	rc = gba_reply_header(h->rs, -1, h->field.p, h->name_len, h->field.p + h->name_len,
	                      h->field.len - h->name_len);
	h->field.off = h->field.len = 0;
	h->name_len = 0;
	h->in_value = 0;
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	return 0;
}

static int c_begin(http_parser *p)
{
	struct gba_h1_client *h = cli_of(p);

	h->field.off = h->field.len = 0;
	h->name_len = 0;
	h->in_value = 0;
	return 0;
}

static int c_field(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_client *h = cli_of(p);
	int rc;

	if (h->in_value && c_flush_field(h) < 0)
		return -1;
	rc = gba_hbuf_append(&h->field, at, len);
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	h->name_len += len;
	return 0;
}

static int c_value(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_client *h = cli_of(p);
	int rc;

	h->in_value = 1;
	rc = gba_hbuf_append(&h->field, at, len);
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	return 0;
}

static int c_headers_complete(http_parser *p)
{
	struct gba_h1_client *h = cli_of(p);
	int rc;

	if (c_flush_field(h) < 0)
		return -1;
	if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
		h->interim = 1;
		return 0;
	}
	rc = gba_reply_status(h->rs, -1, (int)p->status_code);
	if (rc == 0)
		rc = gba_reply_headers_done(h->rs);
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	return h->head || p->status_code == 204 || p->status_code == 304 ? 1 : 0;
}

static int c_body(http_parser *p, const char *at, size_t len)
{
	struct gba_h1_client *h = cli_of(p);
	int rc;

	rc = gba_reply_body(h->rs, -1, (const uint8_t *)at, len);
	if (rc < 0) {
		h->rc = rc;
		return -1;
	}
	return 0;
}

static int c_message_complete(http_parser *p)
{
	struct gba_h1_client *h = cli_of(p);

	if (h->interim) {
		h->interim = 0;
		gba_reply_restart(h->rs);
		return 0;
	}
	h->done = 1;
	h->keepalive = http_should_keep_alive(p);
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings client_settings = {
	.on_message_begin = c_begin,
	.on_header_field = c_field,
	.on_header_value = c_value,
	.on_headers_complete = c_headers_complete,
	.on_body = c_body,
	.on_message_complete = c_message_complete,
};

int gba_h1_client_new(struct gba_h1_client **out)
{
	struct gba_h1_client *h;

	*out = NULL;
	h = gba_calloc(1, sizeof(*h));
	if (h == NULL)
		return GBA_ENOMEM;
	gba_hbuf_init(&h->field, GBA_HTTP_MAX_REPLY_HDRLEN);
	*out = h;
	return 0;
}

void gba_h1_client_free(struct gba_h1_client *h)
{
	if (h == NULL)
		return;
	gba_hbuf_clear(&h->field);
	gba_free(h);
}

static int valid_token(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] >= 127)
			return 0;
	return 1;
}

/* Fields the client writes itself (or that are not end-to-end). */
static int client_skips(struct gba_str name)
{
	char lname[32];
	size_t i;

	if (name.len >= sizeof(lname))
		return 0;
	for (i = 0; i < name.len; i++)
		lname[i] = (char)lower((unsigned char)name.p[i]);
	lname[name.len] = '\0';
	return gba_http_hop_header(lname) || strcmp(lname, "host") == 0;
}

static int no_ctl(struct gba_str v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.p[i] == '\r' || v.p[i] == '\n' || v.p[i] == '\0')
			return 0;
	return 1;
}

int gba_h1_client_request(struct gba_h1_client *h, struct gba_hbuf *out, const char *method,
                          const char *authority, const char *path,
                          const struct gba_http_header *headers, size_t nheaders,
                          const void *body, size_t body_len, struct gba_http_reply_store *rs)
{
	char cl[48];
	size_t i;
	int rc, n;

	if (!valid_token(method) || !valid_token(path) || !valid_token(authority))
		return GBA_EINVAL;
	for (i = 0; i < nheaders; i++)
		if (headers[i].name.len == 0 || !no_ctl(headers[i].name) ||
		    memchr(headers[i].name.p, ':', headers[i].name.len) != NULL ||
		    !no_ctl(headers[i].value))
			return GBA_EINVAL;
	http_parser_init(&h->parser, HTTP_RESPONSE);
	h->rs = rs;
	h->head = strcmp(method, "HEAD") == 0;
	h->interim = 0;
	h->done = 0;
	h->keepalive = 0;
	h->rc = 0;
	rc = append_str(out, method);
	if (rc == 0)
		rc = append_str(out, " ");
	if (rc == 0)
		rc = append_str(out, path);
	if (rc == 0)
		rc = append_str(out, " HTTP/1.1\r\nhost: ");
	if (rc == 0)
		rc = append_str(out, authority);
	if (rc == 0)
		rc = append_str(out, "\r\n");
	for (i = 0; rc == 0 && i < nheaders; i++) {
		if (client_skips(headers[i].name))
			continue;
		rc = gba_hbuf_append(out, headers[i].name.p, headers[i].name.len);
		if (rc == 0)
			rc = append_str(out, ": ");
		if (rc == 0)
			rc = gba_hbuf_append(out, headers[i].value.p, headers[i].value.len);
		if (rc == 0)
			rc = append_str(out, "\r\n");
	}
	if (rc == 0 && (body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)) {
		n = snprintf(cl, sizeof(cl), "content-length: %zu\r\n", body_len);
		if (n < 0 || (size_t)n >= sizeof(cl))
			return GBA_EINTERNAL;
		rc = gba_hbuf_append(out, cl, (size_t)n);
	}
	if (rc == 0)
		rc = append_str(out, "\r\n");
	if (rc == 0 && body_len > 0)
		rc = gba_hbuf_append(out, body, body_len);
	return rc;
}

int gba_h1_client_recv(struct gba_h1_client *h, const uint8_t *d, size_t len)
{
	enum http_errno e;

	if (h->done)
		return 0;
	(void)http_parser_execute(&h->parser, &client_settings, (const char *)d, len);
	e = HTTP_PARSER_ERRNO(&h->parser);
	if (e == HPE_PAUSED) {
		http_parser_pause(&h->parser, 0);
		return 0;
	}
	if (h->rc < 0)
		return h->rc;
	if (e != HPE_OK)
		return GBA_ESYNTAX;
	if (len == 0 && !h->done)
		return GBA_ETRUNC;
	return 0;
}

int gba_h1_client_done(const struct gba_h1_client *h)
{
	return h->done;
}

int gba_h1_client_keepalive(const struct gba_h1_client *h)
{
	return h->keepalive;
}
