/*
 * gba_http_int.h - the response object's insides, for the HTTP layer's
 * own modules (server, HTTP/1.1, HTTP/2) only.  Handlers use gba_http.h.
 */
#ifndef GBA_HTTP_INT_H
#define GBA_HTTP_INT_H

#include "gba_http.h"

#define GBA_HTTP_MAX_RESP_HEADERS 32u
#define GBA_HTTP_MAX_RESP_BODY    (1024u * 1024u)
#define GBA_HTTP_MAX_PUSHES       16u

struct gba_http_push {
	char *path;                       /* owned */
	char *content_type;               /* owned */
	uint8_t *body;                    /* owned */
	size_t body_len;
};

struct gba_http_response {
	int status;
	struct gba_http_header headers[GBA_HTTP_MAX_RESP_HEADERS];  /* strings owned */
	size_t nheaders;
	uint8_t *body;                    /* owned */
	size_t body_len;
	int push_allowed;
	struct gba_http_push pushes[GBA_HTTP_MAX_PUSHES];
	size_t npushes;
};

/* Reset to the initial state (status 500, nothing set), freeing contents. */
void gba_http_response_reset(struct gba_http_response *resp);

#endif
