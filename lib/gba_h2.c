/* gba_h2.c - HTTP/2 server and client sessions on nghttp2. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <nghttp2/nghttp2.h>

#include "gba_err.h"
#include "gba_h2.h"
#include "gba_mem.h"

#define H2_MAX_NV (GBA_HTTP_MAX_RESP_HEADERS + 8u)

struct h2_field {
	size_t noff, nlen, voff, vlen;
	int set;
};

/* One server stream: the request as it arrives, then the response body
 * being sent. */
struct h2s {
	struct h2s *prev, *next;
	int32_t id;
	struct gba_hbuf hdr;              /* names and values, capped */
	struct h2_field idx[GBA_HTTP_MAX_REQ_HEADERS];
	size_t nh;
	struct h2_field method, path, authority, scheme;
	struct gba_hbuf body;
	int error_status;
	int req_done;                     /* END_STREAM received (or a pushed stream) */
	int responded;
	size_t discarded;                 /* upload bytes dropped after an early answer */
	int reset;                        /* RST_STREAM already submitted */
	uint8_t *rbody;                   /* owned */
	size_t rlen, roff;
	struct gba_http_stream *held;     /* a held response on this stream */
	struct gba_http_stream *push_of;  /* a push promised on that held stream */
	size_t push_len;                  /* its body, counted in held_bytes */
};

/*
 * After answering before the request ended (413), the rest of the upload
 * is read and dropped, up to this many bytes, and only then is the stream
 * reset.  RFC 9113 8.1 allows resetting at once, but some clients (curl
 * 7.88) then lose the answer; the cap keeps the cost bounded.
 */
#define H2_DISCARD_MAX (1024u * 1024u)

struct gba_h2_server {
	nghttp2_session *session;
	struct gba_http_conn_info *ci;    /* borrowed */
	struct h2s *streams;              /* every live stream, for cleanup */
	struct gba_http_response resp;
	struct gba_http_header headers[GBA_HTTP_MAX_REQ_HEADERS];
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void nv_set(nghttp2_nv *nv, const char *name, size_t nlen, const char *value, size_t vlen)
{
	nv->name = (uint8_t *)(uintptr_t)name;
	nv->namelen = nlen;
	nv->value = (uint8_t *)(uintptr_t)value;
	nv->valuelen = vlen;
	nv->flags = NGHTTP2_NV_FLAG_NONE;
}

static void nv_lit(nghttp2_nv *nv, const char *name, const char *value)
{
	nv_set(nv, name, strlen(name), value, strlen(value));
}

/* Lower-case copies of header names for HTTP/2; *out is freed by the
 * caller. */
static int lower_names(const struct gba_http_header *h, size_t n, char **out)
{
	size_t i, k, total = 0, at = 0;
	char *buf;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (h[i].name.len > 256)
			return GBA_EINVAL;
		total += h[i].name.len + 1;
	}
	buf = gba_malloc(total > 0 ? total : 1);
	if (buf == NULL)
		return GBA_ENOMEM;
	for (i = 0; i < n; i++) {
		for (k = 0; k < h[i].name.len; k++)
			buf[at + k] = (char)lower((unsigned char)h[i].name.p[k]);
		buf[at + h[i].name.len] = '\0';
		at += h[i].name.len + 1;
	}
	*out = buf;
	return 0;
}

static ssize_t body_read_cb(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                            uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2s *s = src->ptr;
	size_t n;

	(void)session;
	(void)id;
	(void)user;
	n = s->rlen - s->roff;
	if (n > length)
		n = length;
	if (n > 0)
		memcpy(buf, s->rbody + s->roff, n);
	s->roff += n;
	if (s->roff == s->rlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* ---- server ---- */

static struct h2s *stream_new(struct gba_h2_server *h, int32_t id)
{
	struct h2s *s = gba_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->id = id;
	gba_hbuf_init(&s->hdr, h->ci->limits->max_header_list);
	gba_hbuf_init(&s->body, h->ci->limits->max_body);
	s->next = h->streams;
	if (h->streams != NULL)
		h->streams->prev = s;
	h->streams = s;
	return s;
}

/* Settle s's ties to held responses before it goes: a held response is
 * over (on_close runs); a push no longer counts against its stream. */
static void stream_detach(struct gba_h2_server *h, struct h2s *s)
{
	struct gba_http_conn_info *ci = h->ci;
	struct gba_http_stream *st;
	struct h2s *o;

	if (s->push_of != NULL) {
		s->push_of->pushes--;
		ci->held_bytes = ci->held_bytes > s->push_len ? ci->held_bytes - s->push_len : 0;
		s->push_of = NULL;
	}
	if (s->held == NULL)
		return;
	st = s->held;
	s->held = NULL;
	for (o = h->streams; o != NULL; o = o->next) {
		if (o->push_of != st)
			continue;
		ci->held_bytes = ci->held_bytes > o->push_len ? ci->held_bytes - o->push_len : 0;
		o->push_of = NULL;
	}
	gba_http_stream_closed(st);
}

static void stream_free(struct gba_h2_server *h, struct h2s *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	gba_hbuf_clear(&s->hdr);
	gba_hbuf_clear(&s->body);
	gba_free(s->rbody);
	gba_free(s);
}

static struct gba_str field_str(const struct h2s *s, const struct h2_field *f)
{
	struct gba_str r = { "", 0 };

	if (f->set && f->vlen > 0) {
		r.p = (const char *)s->hdr.p + f->voff;
		r.len = f->vlen;
	}
	return r;
}

/* Submit a response on stream s; the body (owned, may be NULL) moves
 * into s. */
static int submit_response(struct gba_h2_server *h, struct h2s *s, int status,
                           const struct gba_http_response *r, const char *content_type,
                           uint8_t *body, size_t body_len, int head)
{
	nghttp2_nv nva[H2_MAX_NV];
	nghttp2_data_provider prd;
	char st[8], cl[24];
	char *names = NULL;
	size_t n = 0, i, at = 0;
	int rc;

	gba_free(s->rbody);
	s->rbody = body;
	s->rlen = body_len;
	s->roff = 0;
	s->responded = 1;
	(void)snprintf(st, sizeof(st), "%d", status);
	(void)snprintf(cl, sizeof(cl), "%zu", body_len);
	nv_lit(&nva[n++], ":status", st);
	nv_lit(&nva[n++], "content-length", cl);
	if (content_type != NULL)
		nv_lit(&nva[n++], "content-type", content_type);
	if (r != NULL && r->nheaders > 0) {
		rc = lower_names(r->headers, r->nheaders, &names);
		if (rc < 0)
			return rc;
		for (i = 0; i < r->nheaders && n < H2_MAX_NV; i++) {
			const char *nm = names + at;

			at += r->headers[i].name.len + 1;
			if (gba_http_hop_header(nm))
				continue;
			nv_set(&nva[n++], nm, r->headers[i].name.len, r->headers[i].value.p,
			       r->headers[i].value.len);
		}
	}
	prd.source.ptr = s;
	prd.read_callback = body_read_cb;
	rc = nghttp2_submit_response(h->session, s->id, nva, n,
	                             body_len > 0 && !head ? &prd : NULL);
	gba_free(names);
	return rc < 0 ? (nghttp2_is_fatal(rc) ? GBA_EIO : GBA_EINVAL) : 0;
}

static int submit_error(struct gba_h2_server *h, struct h2s *s)
{
	return submit_response(h, s, s->error_status, NULL, NULL, NULL, 0, 0);
}

/* Promise `path` on stream s and send body (owned, moved) as the pushed
 * 200.  The push counts against held stream st when st is not NULL. */
static int push_one(struct gba_h2_server *h, struct h2s *s, const char *path,
                    const char *content_type, uint8_t *body, size_t len,
                    struct gba_http_stream *st)
{
	struct gba_str auth = field_str(s, &s->authority);
	struct gba_str scheme = field_str(s, &s->scheme);
	nghttp2_nv nva[4];
	int32_t pid;
	struct h2s *ps;
	int rc;

	if (scheme.len == 0)
		scheme = gba_str_c(h->ci->tls ? "https" : "http");
	nv_lit(&nva[0], ":method", "GET");
	nv_set(&nva[1], ":scheme", 7, scheme.p, scheme.len);
	nv_set(&nva[2], ":authority", 10, auth.p, auth.len);
	nv_lit(&nva[3], ":path", path);
	pid = nghttp2_submit_push_promise(h->session, NGHTTP2_FLAG_NONE, s->id, nva,
	                                  auth.len > 0 ? 4 : 3, NULL);
	if (pid < 0) {
		gba_free(body);
		return pid == NGHTTP2_ERR_NOMEM ? GBA_ENOMEM : GBA_EIO;
	}
	ps = stream_new(h, pid);
	if (ps == NULL) {
		gba_free(body);
		(void)nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, pid,
		                                NGHTTP2_INTERNAL_ERROR);
		return GBA_ENOMEM;
	}
	ps->req_done = 1;
	(void)nghttp2_session_set_stream_user_data(h->session, pid, ps);
	if (st != NULL) {
		ps->push_of = st;
		ps->push_len = len;
		st->pushes++;
		h->ci->held_bytes += len;
	}
	rc = submit_response(h, ps, 200, NULL, content_type, body, len, 0);
	if (rc < 0)
		(void)nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, pid,
		                                NGHTTP2_INTERNAL_ERROR);
	return rc;
}

static void submit_pushes(struct gba_h2_server *h, struct h2s *s, struct gba_http_response *r,
                          struct gba_http_stream *st)
{
	size_t i;
	uint8_t *body;

	for (i = 0; i < r->npushes; i++) {
		struct gba_http_push *p = &r->pushes[i];

		body = p->body;
		p->body = NULL;
		if (push_one(h, s, p->path, p->content_type, body, p->body_len, st) == GBA_EIO)
			return;
		p->body_len = 0;
	}
}

/* The body of a held response: what the stream has, or "later". */
static ssize_t held_read_cb(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                            uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2s *s = src->ptr;
	struct gba_http_stream *st = s->held;
	struct gba_h2_server *h = user;
	size_t n;

	(void)session;
	(void)id;
	if (st == NULL) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	n = gba_hbuf_used(&st->data);
	if (n > length)
		n = length;
	if (n > 0) {
		memcpy(buf, gba_hbuf_data(&st->data), n);
		gba_hbuf_consume(&st->data, n);
		h->ci->held_bytes = h->ci->held_bytes > n ? h->ci->held_bytes - n : 0;
		if (gba_hbuf_used(&st->data) == 0 && st->data.cap > 4096u)
			gba_hbuf_clear(&st->data);   /* idle streams keep no buffer */
	}
	if (gba_hbuf_used(&st->data) == 0) {
		if (st->ending) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return (ssize_t)n;
		}
		if (n == 0) {
			st->deferred = 1;
			return NGHTTP2_ERR_DEFERRED;
		}
	}
	return (ssize_t)n;
}

/* Send the held response's headers and start its open-ended body. */
static int submit_held(struct gba_h2_server *h, struct h2s *s, const struct gba_http_response *r,
                       struct gba_http_stream *st)
{
	nghttp2_nv nva[H2_MAX_NV];
	nghttp2_data_provider prd;
	char stbuf[8];
	char *names = NULL;
	size_t n = 0, i, at = 0;
	int rc;

	s->responded = 1;
	s->held = st;
	st->id = s->id;
	st->bound = 1;
	st->resp = NULL;
	(void)snprintf(stbuf, sizeof(stbuf), "%d", r->status);
	nv_lit(&nva[n++], ":status", stbuf);
	if (r->nheaders > 0) {
		rc = lower_names(r->headers, r->nheaders, &names);
		if (rc < 0)
			return rc;
		for (i = 0; i < r->nheaders && n < H2_MAX_NV; i++) {
			const char *nm = names + at;

			at += r->headers[i].name.len + 1;
			if (gba_http_hop_header(nm))
				continue;
			nv_set(&nva[n++], nm, r->headers[i].name.len, r->headers[i].value.p,
			       r->headers[i].value.len);
		}
	}
	prd.source.ptr = s;
	prd.read_callback = held_read_cb;
	rc = nghttp2_submit_response(h->session, s->id, nva, n, &prd);
	gba_free(names);
	return rc < 0 ? (nghttp2_is_fatal(rc) ? GBA_EIO : GBA_EINVAL) : 0;
}

static int handle_request(struct gba_h2_server *h, struct h2s *s)
{
	struct gba_http_request req;
	struct gba_http_response *r = &h->resp;
	struct gba_http_stream *st;
	size_t i;
	int allow, head, rc;
	uint8_t *body;

	memset(&req, 0, sizeof(req));
	req.version = GBA_HTTP_2;
	req.method = field_str(s, &s->method);
	req.path = field_str(s, &s->path);
	req.authority = field_str(s, &s->authority);
	for (i = 0; i < s->nh; i++) {
		h->headers[i].name.p = (const char *)s->hdr.p + s->idx[i].noff;
		h->headers[i].name.len = s->idx[i].nlen;
		h->headers[i].value.p = s->idx[i].vlen > 0 ? (const char *)s->hdr.p + s->idx[i].voff : "";
		h->headers[i].value.len = s->idx[i].vlen;
		if (req.authority.len == 0 && h->headers[i].name.len == 4 &&
		    memcmp(h->headers[i].name.p, "host", 4) == 0)
			req.authority = h->headers[i].value;
	}
	req.headers = h->headers;
	req.nheaders = s->nh;
	req.body = s->body.len > 0 ? s->body.p : NULL;
	req.body_len = s->body.len;
	allow = (s->id & 1) == 1 &&
	        nghttp2_session_get_remote_settings(h->session, NGHTTP2_SETTINGS_ENABLE_PUSH) == 1;
	gba_http_dispatch(h->ci, &req, r, allow);
	st = r->held;
	r->held = NULL;
	if (allow && r->npushes > 0)
		submit_pushes(h, s, r, st);
	if (st != NULL) {
		rc = submit_held(h, s, r, st);
		gba_http_response_reset(r);
		gba_hbuf_clear(&s->body);
		if (rc < 0) {
			s->held = NULL;
			gba_http_stream_closed(st);
		}
		return rc;
	}
	head = req.method.len == 4 && memcmp(req.method.p, "HEAD", 4) == 0;
	body = r->body;
	r->body = NULL;
	rc = submit_response(h, s, r->status, r, NULL, body, r->body_len, head);
	gba_http_response_reset(r);
	/* The request is answered: its bytes are no longer needed. */
	gba_hbuf_clear(&s->body);
	return rc;
}

static int s_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct gba_h2_server *h = user;
	struct h2s *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = stream_new(h, frame->hd.stream_id);
	if (s == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s) != 0) {
		stream_free(h, s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static int pseudo(struct h2s *s, const uint8_t *name, size_t nlen, struct h2_field **f)
{
	static const struct {
		const char *n;
		size_t off;
	} tab[] = {
		{ ":method", offsetof(struct h2s, method) },
		{ ":path", offsetof(struct h2s, path) },
		{ ":authority", offsetof(struct h2s, authority) },
		{ ":scheme", offsetof(struct h2s, scheme) },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].n) == nlen && memcmp(tab[i].n, name, nlen) == 0) {
			*f = (struct h2_field *)(void *)((char *)s + tab[i].off);
			return 1;
		}
	*f = NULL;
	return 0;
}

static int s_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                    size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct h2s *s;
	struct h2_field *f = NULL;
	size_t used;
	int rc;

	(void)flags;
	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (s == NULL || s->error_status != 0 || s->responded)
		return 0;
	used = gba_hbuf_used(&s->hdr);
	if (nlen > s->hdr.max || vlen > s->hdr.max - nlen || used > s->hdr.max - nlen - vlen) {
		s->error_status = 431;
		return 0;
	}
	if (nlen > 0 && name[0] == ':') {
		if (!pseudo(s, name, nlen, &f))
			return 0;
	} else {
		if (s->nh >= GBA_HTTP_MAX_REQ_HEADERS) {
			s->error_status = 431;
			return 0;
		}
		f = &s->idx[s->nh++];
	}
	f->noff = s->hdr.len;
	f->nlen = nlen;
	rc = gba_hbuf_append(&s->hdr, name, nlen);
	f->voff = s->hdr.len;
	f->vlen = vlen;
	if (rc == 0)
		rc = gba_hbuf_append(&s->hdr, value, vlen);
	if (rc < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	f->set = 1;
	return 0;
}

static int s_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct gba_h2_server *h = user;
	struct h2s *s;
	int rc = 0;

	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (s == NULL)
		return 0;
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		s->req_done = 1;
	if (s->responded)
		return 0;
	if (s->error_status != 0)
		rc = submit_error(h, s);
	else if (s->req_done)
		rc = handle_request(h, s);
	if (rc == GBA_EIO)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (rc < 0)
		(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id,
		                                NGHTTP2_INTERNAL_ERROR);
	return 0;
}

static int s_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *d,
                        size_t len, void *user)
{
	struct gba_h2_server *h = user;
	struct h2s *s;
	int rc;

	(void)flags;
	s = nghttp2_session_get_stream_user_data(session, id);
	if (s == NULL)
		return 0;
	if (s->responded || s->error_status != 0) {
		s->discarded += len;
		if (s->discarded > H2_DISCARD_MAX && !s->reset) {
			s->reset = 1;
			(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id,
			                                NGHTTP2_NO_ERROR);
		}
		return 0;
	}
	rc = gba_hbuf_append(&s->body, d, len);
	if (rc == GBA_ETOOBIG) {
		s->error_status = 413;
		rc = submit_error(h, s);
		if (rc == GBA_EIO)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		return 0;
	}
	if (rc < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int s_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2s *s;

	(void)user;
	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	/* Answered before the request ended (413, 431): the upload is
	 * dropped as it arrives (s_data_chunk), up to H2_DISCARD_MAX. */
	if (s != NULL && !s->req_done && s->discarded > H2_DISCARD_MAX && !s->reset) {
		s->reset = 1;
		(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int s_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *user)
{
	struct gba_h2_server *h = user;
	struct h2s *s;

	(void)error_code;
	s = nghttp2_session_get_stream_user_data(session, id);
	if (s != NULL) {
		(void)nghttp2_session_set_stream_user_data(session, id, NULL);
		stream_detach(h, s);
		stream_free(h, s);
	}
	return 0;
}

static int make_options(nghttp2_option **opt)
{
	if (nghttp2_option_new(opt) != 0)
		return GBA_ENOMEM;
	nghttp2_option_set_max_settings(*opt, 32);
	nghttp2_option_set_max_outbound_ack(*opt, 1000);
	nghttp2_option_set_max_reserved_remote_streams(*opt, GBA_HTTP_MAX_PUSHES);
#if HAVE_DECL_NGHTTP2_OPTION_SET_STREAM_RESET_RATE_LIMIT
	nghttp2_option_set_stream_reset_rate_limit(*opt, 1000, 33);
#endif
#if HAVE_DECL_NGHTTP2_OPTION_SET_MAX_CONTINUATIONS
	nghttp2_option_set_max_continuations(*opt, 16);
#endif
	return 0;
}

int gba_h2_server_new(struct gba_h2_server **out, struct gba_http_conn_info *ci)
{
	struct gba_h2_server *h = NULL;
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[2];
	size_t mhl = ci->limits->max_header_list;
	int rc;

	*out = NULL;
	h = gba_calloc(1, sizeof(*h));
	if (h == NULL)
		return GBA_ENOMEM;
	h->ci = ci;
	h->resp.status = 500;
	rc = make_options(&opt);
	if (rc < 0)
		goto out;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, s_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, s_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, s_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, s_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, s_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, s_stream_close);
	if (nghttp2_session_server_new2(&h->session, cbs, h, opt) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[0].value = ci->limits->max_concurrent_streams;
	iv[1].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	iv[1].value = mhl > UINT32_MAX ? UINT32_MAX : (uint32_t)mhl;
	if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, 2) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	*out = h;
	h = NULL;
	rc = 0;
out:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	gba_h2_server_free(h);
	return rc;
}

void gba_h2_server_free(struct gba_h2_server *h)
{
	struct h2s *s;

	if (h == NULL)
		return;
	for (s = h->streams; s != NULL; s = s->next)
		stream_detach(h, s);
	nghttp2_session_del(h->session);
	while (h->streams != NULL)
		stream_free(h, h->streams);
	gba_http_response_reset(&h->resp);
	gba_free(h);
}

int gba_h2_server_recv(struct gba_h2_server *h, const uint8_t *d, size_t len)
{
	ssize_t n = nghttp2_session_mem_recv(h->session, d, len);

	if (n < 0)
		return GBA_ESYNTAX;
	return 0;
}

static int mem_send(nghttp2_session *session, struct gba_hbuf *out)
{
	const uint8_t *d;
	ssize_t n;
	int rc;

	while (gba_hbuf_used(out) < GBA_HTTP_OUT_SOFT) {
		n = nghttp2_session_mem_send(session, &d);
		if (n < 0)
			return GBA_EIO;
		if (n == 0)
			break;
		rc = gba_hbuf_append(out, d, (size_t)n);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int gba_h2_server_send(struct gba_h2_server *h, struct gba_hbuf *out)
{
	return mem_send(h->session, out);
}

int gba_h2_server_want_read(const struct gba_h2_server *h)
{
	return nghttp2_session_want_read(h->session);
}

int gba_h2_server_want_write(const struct gba_h2_server *h)
{
	return nghttp2_session_want_write(h->session);
}

int gba_h2_server_busy(const struct gba_h2_server *h)
{
	const struct h2s *s;

	for (s = h->streams; s != NULL; s = s->next)
		if (!s->req_done && !s->responded)
			return 1;
	return 0;
}

void gba_h2_server_shutdown(struct gba_h2_server *h)
{
	struct h2s *s;

	(void)nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
	                            nghttp2_session_get_last_proc_stream_id(h->session),
	                            NGHTTP2_NO_ERROR, NULL, 0);
	/* Held responses end (their body is complete as it stands). */
	for (s = h->streams; s != NULL; s = s->next)
		if (s->held != NULL)
			gba_http_stream_end(s->held);
}

int gba_h2_stream_resume(struct gba_h2_server *h, struct gba_http_stream *st)
{
	int rc;

	if (!st->deferred)
		return 0;
	st->deferred = 0;
	rc = nghttp2_session_resume_data(h->session, st->id);
	if (rc != 0 && nghttp2_is_fatal(rc))
		return GBA_EIO;
	return 0;
}

int gba_h2_stream_push(struct gba_h2_server *h, struct gba_http_stream *st, const char *path,
                       const char *content_type, const void *body, size_t len)
{
	struct h2s *s = nghttp2_session_get_stream_user_data(h->session, st->id);
	uint8_t *copy;

	if (s == NULL || s->held != st)
		return GBA_EINVAL;
	copy = gba_malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return GBA_ENOMEM;
	if (len > 0)
		memcpy(copy, body, len);
	return push_one(h, s, path, content_type, copy, len, st);
}

unsigned gba_h2_push_limit(const struct gba_h2_server *h)
{
	uint32_t n = nghttp2_session_get_remote_settings(h->session,
	                                                 NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);

	return n < GBA_HTTP_MAX_PUSHES ? (unsigned)n : GBA_HTTP_MAX_PUSHES;
}

int gba_h2_stream_ping(struct gba_h2_server *h)
{
	int rc = nghttp2_submit_ping(h->session, NGHTTP2_FLAG_NONE, NULL);

	return rc == 0 ? 0 : rc == NGHTTP2_ERR_NOMEM ? GBA_ENOMEM : GBA_EIO;
}

/* ---- client ---- */

struct h2_push_map {
	int32_t id;
	int index;                        /* in the reply store, or -1 */
	int closed;
};

struct gba_h2_client {
	nghttp2_session *session;
	struct gba_http_reply_store *rs;  /* borrowed during a request */
	int32_t stream_id;
	int closed;
	uint32_t close_code;
	int got_status;
	struct h2_push_map pushes[GBA_HTTP_MAX_PUSHES];
	size_t npushes;
	struct h2s body;                  /* request body (rbody/rlen/roff only) */
	int rc;
};

static struct h2_push_map *push_find(struct gba_h2_client *c, int32_t id)
{
	size_t i;

	for (i = 0; i < c->npushes; i++)
		if (c->pushes[i].id == id)
			return &c->pushes[i];
	return NULL;
}

static int parse_status(const uint8_t *v, size_t len)
{
	if (len != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' || v[2] < '0' ||
	    v[2] > '9')
		return -1;
	return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

static int c_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct gba_h2_client *c = user;
	struct h2_push_map *m;

	size_t i = c->npushes;

	(void)session;
	if (frame->hd.type != NGHTTP2_PUSH_PROMISE)
		return 0;
	if (c->rs == NULL || frame->hd.stream_id != c->stream_id)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (gba_reply_streaming(c->rs))   /* reuse the entry of a finished push */
		for (i = 0; i < c->npushes && c->pushes[i].id != 0; i++)
			;
	if (i >= GBA_HTTP_MAX_PUSHES)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (i == c->npushes)
		c->npushes++;
	m = &c->pushes[i];
	m->id = frame->push_promise.promised_stream_id;
	m->index = -1;
	m->closed = 0;
	return 0;
}

static int c_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                    size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct gba_h2_client *c = user;
	struct h2_push_map *m;
	int rc = 0, st;

	(void)session;
	(void)flags;
	if (c->rs == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_PUSH_PROMISE) {
		m = push_find(c, frame->push_promise.promised_stream_id);
		if (m != NULL && m->index < 0 && nlen == 5 && memcmp(name, ":path", 5) == 0)
			rc = gba_reply_push_new(c->rs, value, vlen, &m->index);
		return rc < 0 ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
	}
	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (frame->hd.stream_id == c->stream_id) {
		if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
			st = parse_status(value, vlen);
			if (st < 0)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
			if (st < 200)
				return 0;     /* interim */
			c->got_status = 1;
			rc = gba_reply_status(c->rs, -1, st);
		} else if (nlen > 0 && name[0] != ':' && c->got_status) {
			rc = gba_reply_header(c->rs, -1, name, nlen, value, vlen);
		}
		if (rc < 0) {
			c->rc = rc;
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
		return 0;
	}
	m = push_find(c, frame->hd.stream_id);
	if (m == NULL || m->index < 0)
		return 0;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
		st = parse_status(value, vlen);
		if (st < 0 || gba_reply_status(c->rs, m->index, st) < 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

static int c_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *d,
                        size_t len, void *user)
{
	struct gba_h2_client *c = user;
	struct h2_push_map *m;
	int rc;

	(void)flags;
	if (c->rs == NULL)
		return 0;
	if (id == c->stream_id) {
		rc = gba_reply_body(c->rs, -1, d, len);
		if (rc < 0) {
			c->rc = rc;
			(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id,
			                                NGHTTP2_CANCEL);
		}
		return 0;
	}
	m = push_find(c, id);
	if (m != NULL && m->index >= 0 && gba_reply_body(c->rs, m->index, d, len) < 0)
		(void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	return 0;
}

static int c_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *user)
{
	struct gba_h2_client *c = user;
	struct h2_push_map *m;

	(void)session;
	if (id == c->stream_id) {
		c->closed = 1;
		c->close_code = error_code;
		return 0;
	}
	m = push_find(c, id);
	if (m != NULL) {
		m->closed = 1;
		if (c->rs != NULL && gba_reply_streaming(c->rs)) {
			/* a complete push goes to the caller now; a reset one
			 * is dropped */
			if (m->index >= 0 && error_code == NGHTTP2_NO_ERROR)
				(void)gba_reply_push_done(c->rs, m->index);
			else if (m->index >= 0)
				(void)gba_reply_push_drop(c->rs, m->index);
			m->id = 0;
			m->index = -1;
		}
	}
	return 0;
}

static int c_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct gba_h2_client *c = user;

	(void)session;
	if (c->rs != NULL && frame->hd.type == NGHTTP2_HEADERS &&
	    frame->hd.stream_id == c->stream_id && c->got_status &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
		(void)gba_reply_headers_done(c->rs);
	return 0;
}

int gba_h2_client_new(struct gba_h2_client **out, int enable_push)
{
	struct gba_h2_client *c = NULL;
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[2];
	int rc;

	*out = NULL;
	c = gba_calloc(1, sizeof(*c));
	if (c == NULL)
		return GBA_ENOMEM;
	rc = make_options(&opt);
	if (rc < 0)
		goto out;
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, c_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, c_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, c_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, c_stream_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, c_frame_recv);
	if (nghttp2_session_client_new2(&c->session, cbs, c, opt) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	iv[0].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[0].value = enable_push ? 1 : 0;
	iv[1].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[1].value = GBA_HTTP_MAX_PUSHES;
	if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 2) != 0) {
		rc = GBA_ENOMEM;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	gba_h2_client_free(c);
	return rc;
}

void gba_h2_client_free(struct gba_h2_client *c)
{
	if (c == NULL)
		return;
	nghttp2_session_del(c->session);
	gba_free(c->body.rbody);
	gba_free(c);
}

int gba_h2_client_request(struct gba_h2_client *c, const char *method, const char *scheme,
                          const char *authority, const char *path,
                          const struct gba_http_header *headers, size_t nheaders,
                          const void *body, size_t body_len, struct gba_http_reply_store *rs)
{
	nghttp2_nv *nva = NULL;
	nghttp2_data_provider prd;
	char cl[24];
	char *names = NULL;
	size_t n = 0, i, at = 0;
	int32_t id;
	int rc;

	if (nheaders > GBA_HTTP_MAX_REQ_HEADERS)
		return GBA_ETOOBIG;
	rc = lower_names(headers, nheaders, &names);
	if (rc < 0)
		return rc;
	nva = gba_calloc(nheaders + 5, sizeof(*nva));
	if (nva == NULL) {
		rc = GBA_ENOMEM;
		goto out;
	}
	nv_lit(&nva[n++], ":method", method);
	nv_lit(&nva[n++], ":scheme", scheme);
	nv_lit(&nva[n++], ":authority", authority);
	nv_lit(&nva[n++], ":path", path);
	for (i = 0; i < nheaders; i++) {
		const char *nm = names + at;

		at += headers[i].name.len + 1;
		if (gba_http_hop_header(nm) || strcmp(nm, "host") == 0 || nm[0] == '\0')
			continue;
		nv_set(&nva[n++], nm, headers[i].name.len, headers[i].value.p, headers[i].value.len);
	}
	gba_free(c->body.rbody);
	c->body.rbody = NULL;
	c->body.rlen = c->body.roff = 0;
	if (body_len > 0) {
		(void)snprintf(cl, sizeof(cl), "%zu", body_len);
		nv_lit(&nva[n++], "content-length", cl);
		c->body.rbody = gba_malloc(body_len);
		if (c->body.rbody == NULL) {
			rc = GBA_ENOMEM;
			goto out;
		}
		memcpy(c->body.rbody, body, body_len);
		c->body.rlen = body_len;
	}
	prd.source.ptr = &c->body;
	prd.read_callback = body_read_cb;
	id = nghttp2_submit_request(c->session, NULL, nva, n, body_len > 0 ? &prd : NULL, NULL);
	if (id < 0) {
		rc = id == NGHTTP2_ERR_NOMEM ? GBA_ENOMEM : GBA_EINVAL;
		goto out;
	}
	c->stream_id = id;
	c->rs = rs;
	c->closed = 0;
	c->close_code = 0;
	c->got_status = 0;
	c->npushes = 0;
	c->rc = 0;
	rc = 0;
out:
	gba_free(nva);
	gba_free(names);
	return rc;
}

int gba_h2_client_recv(struct gba_h2_client *c, const uint8_t *d, size_t len)
{
	ssize_t n = nghttp2_session_mem_recv(c->session, d, len);

	if (n < 0) {
		c->rc = GBA_ESYNTAX;
		return GBA_ESYNTAX;
	}
	return 0;
}

int gba_h2_client_send(struct gba_h2_client *c, struct gba_hbuf *out)
{
	return mem_send(c->session, out);
}

int gba_h2_client_done(struct gba_h2_client *c)
{
	size_t i;

	if (c->rc < 0)
		return c->rc;
	if (c->closed) {
		if (c->close_code != NGHTTP2_NO_ERROR || !c->got_status)
			return GBA_EIO;
		for (i = 0; i < c->npushes; i++)
			if (!c->pushes[i].closed && nghttp2_session_want_read(c->session))
				return 0;
		c->rs = NULL;
		return 1;
	}
	if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
		return GBA_EIO;
	return 0;
}

int gba_h2_client_usable(const struct gba_h2_client *c)
{
	return c->rc == 0 && nghttp2_session_want_read(c->session) &&
	       nghttp2_session_want_write(c->session) >= 0 &&
	       nghttp2_session_get_next_stream_id(c->session) < 0x7fffff00u &&
	       nghttp2_session_check_request_allowed(c->session);
}
