/* gba_zn.c - Nbsp_GBA JSON on jansson (the only includer of jansson). */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <jansson.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_zn.h"

/* ---- allocator: gba_mem, wiped on free ---- */

/* A size header in front of each block, kept at max alignment. */
#define ZN_HDR 16u

static void *zn_malloc(size_t n)
{
	uint8_t *p;

	if (n > SIZE_MAX - ZN_HDR)
		return NULL;
	p = gba_malloc(n + ZN_HDR);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + ZN_HDR;
}

static void zn_free(void *q)
{
	uint8_t *p;
	size_t n;

	if (q == NULL)
		return;
	p = (uint8_t *)q - ZN_HDR;
	memcpy(&n, p, sizeof(n));
	gba_wipe(p, n + ZN_HDR);
	gba_free(p);
}

static pthread_once_t zn_once = PTHREAD_ONCE_INIT;

static void zn_init_once(void)
{
	json_set_alloc_funcs(zn_malloc, zn_free);
}

static void zn_init(void)
{
	(void)pthread_once(&zn_once, zn_init_once);
}

void gba_zn_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	gba_wipe(p, len);
	gba_free(p);
}

/* ---- helpers ---- */

/* Map a jansson load error.  Duplicate keys and trailing data are
 * syntax errors; so is everything else jansson refuses. */
static int load(const uint8_t *body, size_t len, size_t cap, json_t **out)
{
	json_error_t err;

	*out = NULL;
	if (body == NULL && len > 0)
		return GBA_EINVAL;
	if (len > cap)
		return GBA_ETOOBIG;
	zn_init();
	*out = json_loadb((const char *)(body != NULL ? body : (const uint8_t *)""), len,
	                  JSON_REJECT_DUPLICATES, &err);
	if (*out == NULL)
		return json_error_code(&err) == json_error_out_of_memory ? GBA_ENOMEM : GBA_ESYNTAX;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return GBA_EINVAL;
	}
	return 0;
}

/* Dump o into a fresh gba_malloc buffer (compact, member order kept). */
static int dump(const json_t *o, size_t cap, char **out, size_t *outlen)
{
	size_t n;
	char *buf = NULL;

	*out = NULL;
	*outlen = 0;
	n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0)
		return GBA_ENOMEM;
	if (n > cap)
		return GBA_ETOOBIG;
	buf = gba_malloc(n + 1);
	if (buf == NULL)
		return GBA_ENOMEM;
	if (json_dumpb(o, buf, n, JSON_COMPACT | JSON_PRESERVE_ORDER) != n) {
		gba_zn_free(buf, n + 1);
		return GBA_ENOMEM;   /* the only way the second pass differs */
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/* Set a member; jansson steals the new reference.  NULL (allocation
 * failed) is reported once at the end through *err. */
static void put(json_t *o, const char *key, json_t *v, int *err)
{
	if (*err)
		goto drop;
	if (v == NULL) {
		*err = GBA_ENOMEM;
		return;
	}
	if (json_object_set_new(o, key, v) != 0)
		*err = GBA_ENOMEM;
	return;
drop:
	json_decref(v);
}

static void append(json_t *a, json_t *v, int *err)
{
	if (*err) {
		json_decref(v);
		return;
	}
	if (v == NULL || json_array_append_new(a, v) != 0)
		*err = GBA_ENOMEM;
}

/* A string member: required or not, 1..maxlen octets, no NUL. */
static int get_str(const json_t *o, const char *key, int required, size_t maxlen,
                   const char **s, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	*s = NULL;
	*len = 0;
	if (v == NULL)
		return required ? GBA_EMISSING : 0;
	if (!json_is_string(v))
		return GBA_EINVAL;
	*len = json_string_length(v);
	if (*len == 0)
		return GBA_EINVAL;
	if (*len > maxlen)
		return GBA_ETOOBIG;
	*s = json_string_value(v);
	return 0;
}

static int get_u32(const json_t *v, uint32_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return GBA_EINVAL;
	i = json_integer_value(v);
	if (i < 0 || i > (json_int_t)UINT32_MAX)
		return GBA_EINVAL;
	*out = (uint32_t)i;
	return 0;
}

static int is_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* RFC 1123 host name: labels of 1..63 letters, digits and '-', not
 * starting or ending with '-'; an optional final dot is refused. */
static int is_fqdn(const char *s, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len > GBA_MAX_FQDN_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
		if (c == '-' && lab == 0)
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && s[len - 1] != '-';
}

/* ---- BootstrappingInfoRequest ---- */

int gba_zn_request_parse(const uint8_t *body, size_t len, struct gba_zn_request *out)
{
	json_t *root = NULL;
	const json_t *naf, *v, *g;
	const char *s;
	size_t n, i;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = load(body, len, GBA_ZN_MAX_BODY, &root);
	if (ret < 0)
		goto out;

	ret = get_str(root, "btId", 1, GBA_MAX_BTID_LEN, &s, &n);
	if (ret < 0)
		goto out;
	if (!is_printable(s, n)) {
		ret = GBA_EINVAL;
		goto out;
	}
	memcpy(out->btid, s, n);

	naf = json_object_get(root, "nafId");
	if (naf == NULL) {
		ret = GBA_EMISSING;
		goto out;
	}
	if (!json_is_object(naf)) {
		ret = GBA_EINVAL;
		goto out;
	}
	ret = get_str(naf, "nafFqdn", 1, GBA_MAX_FQDN_LEN, &s, &n);
	if (ret < 0)
		goto out;
	if (!is_fqdn(s, n)) {
		ret = GBA_EINVAL;
		goto out;
	}
	memcpy(out->naf_fqdn, s, n);
	ret = get_str(naf, "uaSecProtId", 1, 2 * GBA_UA_ID_LEN, &s, &n);
	if (ret == GBA_ETOOBIG)
		ret = GBA_EINVAL;
	if (ret < 0)
		goto out;
	if (n != 2 * GBA_UA_ID_LEN || gba_hex_decode(s, n, out->ua_id, GBA_UA_ID_LEN) != 0) {
		ret = GBA_EINVAL;
		goto out;
	}

	v = json_object_get(root, "gbaUAware");
	if (v != NULL) {
		if (!json_is_boolean(v)) {
			ret = GBA_EINVAL;
			goto out;
		}
		out->gba_u_aware = json_is_true(v);
	}

	g = json_object_get(root, "gsIds");
	if (g != NULL) {
		if (!json_is_array(g) || json_array_size(g) == 0) {
			ret = GBA_EINVAL;  /* minItems 1 */
			goto out;
		}
		if (json_array_size(g) > GBA_ZN_MAX_GSIDS) {
			ret = GBA_ETOOBIG;
			goto out;
		}
		for (i = 0; i < json_array_size(g); i++) {
			ret = get_u32(json_array_get(g, i), &out->gsids[i]);
			if (ret < 0)
				goto out;
		}
		out->ngsids = json_array_size(g);
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

int gba_zn_request_build(const struct gba_zn_request *req, char **out, size_t *outlen)
{
	json_t *root = NULL, *naf = NULL, *g = NULL;
	char hex[2 * GBA_UA_ID_LEN + 1];
	size_t i;
	int err = 0;

	*out = NULL;
	*outlen = 0;
	if (req->ngsids > GBA_ZN_MAX_GSIDS)
		return GBA_ETOOBIG;
	zn_init();
	root = json_object();
	naf = json_object();
	if (root == NULL || naf == NULL) {
		json_decref(naf);
		err = GBA_ENOMEM;
		goto out;
	}
	gba_hex_encode(req->ua_id, GBA_UA_ID_LEN, hex);
	put(root, "btId", json_string(req->btid), &err);
	put(naf, "nafFqdn", json_string(req->naf_fqdn), &err);
	put(naf, "uaSecProtId", json_string(hex), &err);
	put(root, "nafId", naf, &err);
	if (req->gba_u_aware)
		put(root, "gbaUAware", json_true(), &err);
	if (req->ngsids > 0) {
		g = json_array();
		for (i = 0; g != NULL && i < req->ngsids; i++)
			append(g, json_integer((json_int_t)req->gsids[i]), &err);
		put(root, "gsIds", g, &err);
	}
	if (err)
		goto out;
	err = dump(root, GBA_ZN_MAX_BODY, out, outlen);
out:
	json_decref(root);
	return err;
}

/* ---- GUSS ---- */

static int has_gsid(const uint32_t *gsids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gsids[i] == id)
			return 1;
	return 0;
}

/* Validate one stored USS ({"gsId","gsType","ueIds":[str],"flags":[u32],
 * "nafGroup","keyChoice"}) and, when wire is not NULL, produce its
 * 29.309 form in *wire. */
static int uss_convert(const json_t *u, uint32_t *gsid, json_t **wire)
{
	const json_t *ids, *flags, *v;
	json_t *w = NULL, *arr = NULL, *item = NULL;
	uint32_t gstype, f;
	const char *s;
	size_t n, i;
	int err = 0, ret;

	if (wire != NULL)
		*wire = NULL;
	if (!json_is_object(u))
		return GBA_EINVAL;
	v = json_object_get(u, "gsId");
	if (v == NULL || get_u32(v, gsid) != 0)
		return GBA_EINVAL;
	v = json_object_get(u, "gsType");
	if (v == NULL || get_u32(v, &gstype) != 0)
		return GBA_EINVAL;
	ids = json_object_get(u, "ueIds");
	if (ids == NULL || !json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > GBA_ZN_MAX_UEIDS)
		return GBA_EINVAL;
	for (i = 0; i < json_array_size(ids); i++) {
		v = json_array_get(ids, i);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > GBA_ZN_MAX_STR)
			return GBA_EINVAL;
	}
	flags = json_object_get(u, "flags");
	if (flags != NULL) {
		if (!json_is_array(flags) || json_array_size(flags) > GBA_ZN_MAX_FLAGS)
			return GBA_EINVAL;
		for (i = 0; i < json_array_size(flags); i++)
			if (get_u32(json_array_get(flags, i), &f) != 0)
				return GBA_EINVAL;
	}
	ret = get_str(u, "nafGroup", 0, GBA_ZN_MAX_STR, &s, &n);
	if (ret < 0)
		return GBA_EINVAL;
	ret = get_str(u, "keyChoice", 0, GBA_ZN_MAX_STR, &s, &n);
	if (ret < 0)
		return GBA_EINVAL;
	if (wire == NULL)
		return 0;

	w = json_object();
	if (w == NULL)
		return GBA_ENOMEM;
	put(w, "gsId", json_integer((json_int_t)*gsid), &err);
	put(w, "gsType", json_integer((json_int_t)gstype), &err);
	arr = json_array();
	for (i = 0; arr != NULL && i < json_array_size(ids); i++) {
		item = json_object();
		if (item != NULL)
			put(item, "ueId", json_string(json_string_value(json_array_get(ids, i))),
			    &err);
		append(arr, item, &err);
	}
	put(w, "ueIds", arr, &err);
	v = json_object_get(u, "nafGroup");
	if (v != NULL)
		put(w, "nafGroup", json_string(json_string_value(v)), &err);
	if (flags != NULL && json_array_size(flags) > 0) {
		arr = json_array();
		for (i = 0; arr != NULL && i < json_array_size(flags); i++) {
			item = json_object();
			if (item != NULL)
				put(item, "flag", json_integer(json_integer_value(
				                          json_array_get(flags, i))), &err);
			append(arr, item, &err);
		}
		put(w, "flags", arr, &err);
	}
	v = json_object_get(u, "keyChoice");
	if (v != NULL)
		put(w, "keyChoice", json_string(json_string_value(v)), &err);
	if (err) {
		json_decref(w);
		return err;
	}
	*wire = json_object();
	if (*wire == NULL) {
		json_decref(w);
		return GBA_ENOMEM;
	}
	if (json_object_set_new(*wire, "uss", w) != 0) {   /* w is released */
		json_decref(*wire);
		*wire = NULL;
		return GBA_ENOMEM;
	}
	return 0;
}

/* Parse and check a GUSS; *root is the document (or NULL for ""). */
static int guss_load(const char *guss, size_t len, json_t **root, uint32_t *lifetime_s)
{
	const json_t *bi, *v, *list;
	uint32_t id;
	size_t i;
	int ret;

	*root = NULL;
	if (lifetime_s != NULL)
		*lifetime_s = 0;
	if (guss == NULL || len == 0)
		return 0;
	ret = load((const uint8_t *)guss, len, GBA_MAX_GUSS_LEN, root);
	if (ret < 0)
		return ret == GBA_ENOMEM || ret == GBA_ETOOBIG ? ret : GBA_EINVAL;
	bi = json_object_get(*root, "bsfInfo");
	if (bi != NULL) {
		if (!json_is_object(bi))
			goto bad;
		v = json_object_get(bi, "lifeTime");
		if (v != NULL && get_u32(v, lifetime_s != NULL ? lifetime_s : &id) != 0)
			goto bad;
	}
	list = json_object_get(*root, "ussList");
	if (list != NULL) {
		if (!json_is_array(list) || json_array_size(list) > GBA_ZN_MAX_USS)
			goto bad;
		for (i = 0; i < json_array_size(list); i++)
			if (uss_convert(json_array_get(list, i), &id, NULL) != 0)
				goto bad;
	}
	return 0;
bad:
	json_decref(*root);
	*root = NULL;
	return GBA_EINVAL;
}

int gba_zn_guss_check(const char *guss_json, size_t len, uint32_t *lifetime_s)
{
	json_t *root = NULL;
	int ret;

	ret = guss_load(guss_json, len, &root, lifetime_s);
	json_decref(root);
	return ret;
}

/* ---- BootstrappingInfoResponse ---- */

int gba_zn_response_build(const struct gba_zn_info *info, const char *guss_json,
                          const uint32_t *gsids, size_t ngsids, char **out, size_t *outlen)
{
	json_t *root = NULL, *guss = NULL, *list = NULL, *wire = NULL;
	const json_t *src;
	char hex[2 * GBA_KS_NAF_LEN + 1];
	char t1[GBA_TIME_RFC3339_LEN + 1], t2[GBA_TIME_RFC3339_LEN + 1];
	uint32_t id;
	size_t i;
	int err = 0;

	*out = NULL;
	*outlen = 0;
	zn_init();
	if (gba_time_rfc3339(info->key_expiry, t1) != 0 ||
	    gba_time_rfc3339(info->created, t2) != 0)
		return GBA_EINVAL;
	if (info->impi != NULL && (info->impi[0] == '\0' ||
	                           strlen(info->impi) > GBA_MAX_IMPI_LEN))
		return GBA_EINVAL;
	err = guss_load(guss_json, guss_json != NULL ? strlen(guss_json) : 0, &guss, NULL);
	if (err < 0)
		goto out;

	root = json_object();
	if (root == NULL) {
		err = GBA_ENOMEM;
		goto out;
	}
	gba_hex_encode(info->me_key, GBA_KS_NAF_LEN, hex);
	put(root, "meKeyMaterial", json_string(hex), &err);
	gba_wipe(hex, sizeof(hex));
	put(root, "keyExpiryTime", json_string(t1), &err);
	put(root, "bootstrappingInfoCreationTime", json_string(t2), &err);
	src = guss != NULL ? json_object_get(guss, "ussList") : NULL;
	if (src != NULL && !err) {
		list = json_array();
		if (list == NULL)
			err = GBA_ENOMEM;
		for (i = 0; !err && i < json_array_size(src); i++) {
			err = uss_convert(json_array_get(src, i), &id, &wire);
			if (err)
				break;
			if (gsids == NULL || has_gsid(gsids, ngsids, id))
				append(list, wire, &err);
			else
				json_decref(wire);
			wire = NULL;
		}
		if (!err && json_array_size(list) > 0) {
			put(root, "ussList", list, &err);
			list = NULL;
		}
	}
	put(root, "gbaType", json_string("3G_GBA"), &err);
	if (info->impi != NULL)
		put(root, "impi", json_string(info->impi), &err);
	if (err)
		goto out;
	err = dump(root, GBA_ZN_MAX_RESP_BODY, out, outlen);
out:
	json_decref(list);
	json_decref(guss);
	json_decref(root);
	return err;
}

static int get_time(const json_t *o, const char *key, int64_t *t)
{
	const char *s;
	size_t n;
	int ret;

	*t = -1;
	ret = get_str(o, key, 0, 64, &s, &n);
	if (ret < 0)
		return GBA_EINVAL;
	if (s == NULL)
		return 0;
	return gba_time_parse_rfc3339(s, n, t) == 0 ? 0 : GBA_EINVAL;
}

void gba_zn_result_clear(struct gba_zn_result *r)
{
	if (r == NULL)
		return;
	if (r->uss_json != NULL)
		gba_zn_free(r->uss_json, strlen(r->uss_json));
	gba_wipe(r, sizeof(*r));
}

int gba_zn_response_parse(const uint8_t *body, size_t len, struct gba_zn_result *out)
{
	json_t *root = NULL;
	const json_t *list, *item, *uss, *v;
	const char *s;
	size_t n, i, ulen;
	int ret;

	memset(out, 0, sizeof(*out));
	out->key_expiry = -1;
	out->created = -1;
	ret = load(body, len, GBA_ZN_MAX_RESP_BODY, &root);
	if (ret < 0)
		goto out;
	ret = get_str(root, "meKeyMaterial", 1, 2 * GBA_KS_NAF_LEN, &s, &n);
	if (ret == GBA_ETOOBIG)
		ret = GBA_EINVAL;
	if (ret < 0)
		goto out;
	if (n != 2 * GBA_KS_NAF_LEN || gba_hex_decode(s, n, out->me_key, GBA_KS_NAF_LEN) != 0) {
		ret = GBA_EINVAL;
		goto out;
	}
	ret = get_time(root, "keyExpiryTime", &out->key_expiry);
	if (ret < 0)
		goto out;
	ret = get_time(root, "bootstrappingInfoCreationTime", &out->created);
	if (ret < 0)
		goto out;
	ret = get_str(root, "gbaType", 0, 32, &s, &n);
	if (ret < 0 || (s != NULL && (n != 6 || memcmp(s, "3G_GBA", 6) != 0))) {
		ret = GBA_EINVAL;
		goto out;
	}
	ret = get_str(root, "impi", 0, GBA_MAX_IMPI_LEN, &s, &n);
	if (ret < 0)
		goto out;
	if (s != NULL)
		memcpy(out->impi, s, n);
	list = json_object_get(root, "ussList");
	if (list != NULL) {
		if (!json_is_array(list) || json_array_size(list) == 0 ||
		    json_array_size(list) > GBA_ZN_MAX_USS) {
			ret = GBA_EINVAL;
			goto out;
		}
		for (i = 0; i < json_array_size(list); i++) {
			item = json_array_get(list, i);
			uss = json_is_object(item) ? json_object_get(item, "uss") : NULL;
			v = json_is_object(uss) ? json_object_get(uss, "gsId") : NULL;
			if (v == NULL || get_u32(v, &out->uss_gsids[i]) != 0) {
				ret = GBA_EINVAL;
				goto out;
			}
		}
		out->nuss = json_array_size(list);
		ret = dump(list, GBA_ZN_MAX_RESP_BODY, &out->uss_json, &ulen);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0) {
		gba_zn_result_clear(out);
		out->key_expiry = -1;
		out->created = -1;
	}
	return ret;
}

/* ---- USS facts ---- */

static int uss_fill(const json_t *u, int wire, struct gba_zn_uss *o)
{
	const json_t *ids, *flags, *v;
	size_t i;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(u))
		return GBA_EINVAL;
	v = json_object_get(u, "gsId");
	if (v == NULL || get_u32(v, &o->gsid) != 0)
		return GBA_EINVAL;
	ids = json_object_get(u, "ueIds");
	if (ids != NULL && (!json_is_array(ids) || json_array_size(ids) > GBA_ZN_MAX_UEIDS))
		return GBA_EINVAL;
	for (i = 0; ids != NULL && i < json_array_size(ids); i++) {
		v = json_array_get(ids, i);
		if (wire)
			v = json_is_object(v) ? json_object_get(v, "ueId") : NULL;
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > GBA_ZN_MAX_STR)
			return GBA_EINVAL;
		if (o->nuids < GBA_ZN_USS_UIDS) {
			memcpy(o->uids[o->nuids], json_string_value(v), json_string_length(v));
			o->uids[o->nuids][json_string_length(v)] = '\0';
			o->nuids++;
		}
	}
	flags = json_object_get(u, "flags");
	if (flags != NULL && (!json_is_array(flags) || json_array_size(flags) > GBA_ZN_MAX_FLAGS))
		return GBA_EINVAL;
	for (i = 0; flags != NULL && i < json_array_size(flags); i++) {
		v = json_array_get(flags, i);
		if (wire)
			v = json_is_object(v) ? json_object_get(v, "flag") : NULL;
		if (v == NULL || get_u32(v, &o->flags[i]) != 0)
			return GBA_EINVAL;
		o->nflags++;
	}
	return 0;
}

int gba_zn_uss_list(const char *json, size_t len, struct gba_zn_uss *out, size_t max,
                    size_t *n)
{
	json_t *root = NULL;
	const json_t *list, *item;
	json_error_t jerr;
	size_t i;
	int ret, wire;

	*n = 0;
	if (json == NULL || len == 0)
		return 0;
	if (len > GBA_ZN_MAX_RESP_BODY)
		return GBA_ETOOBIG;
	zn_init();
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return json_error_code(&jerr) == json_error_out_of_memory ? GBA_ENOMEM : GBA_EINVAL;
	wire = json_is_array(root);
	if (!wire && !json_is_object(root)) {
		json_decref(root);
		return GBA_EINVAL;
	}
	list = wire ? root : json_object_get(root, "ussList");
	ret = 0;
	if (list == NULL)
		goto out;
	if (!json_is_array(list)) {
		ret = GBA_EINVAL;
		goto out;
	}
	if (json_array_size(list) > max) {
		ret = GBA_ETOOBIG;
		goto out;
	}
	for (i = 0; i < json_array_size(list); i++) {
		item = json_array_get(list, i);
		if (wire)
			item = json_is_object(item) ? json_object_get(item, "uss") : NULL;
		ret = uss_fill(item, wire, &out[i]);
		if (ret < 0)
			goto out;
	}
	*n = json_array_size(list);
out:
	json_decref(root);
	if (ret < 0)
		*n = 0;
	return ret;
}

/* ---- ProblemDetails ---- */

int gba_zn_problem_build(int status, const char *title, const char *detail,
                         const char *cause, char **out, size_t *outlen)
{
	json_t *root = NULL;
	int err = 0;

	*out = NULL;
	*outlen = 0;
	if (status < 100 || status > 599 || title == NULL)
		return GBA_EINVAL;
	zn_init();
	root = json_object();
	if (root == NULL)
		return GBA_ENOMEM;
	put(root, "status", json_integer(status), &err);
	put(root, "title", json_string(title), &err);
	if (detail != NULL)
		put(root, "detail", json_string(detail), &err);
	if (cause != NULL)
		put(root, "cause", json_string(cause), &err);
	if (!err)
		err = dump(root, GBA_ZN_MAX_BODY, out, outlen);
	json_decref(root);
	return err;
}
