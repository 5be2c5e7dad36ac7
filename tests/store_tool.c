/*
 * store_tool.c - puts CA records into a store through the public API,
 * for tests/ctl.sh (a test helper, never installed):
 *
 *   store_tool DB KEY pending TOKENHEX IMPI APP CREATED EXPIRES
 *   store_tool DB KEY cert SERIALHEX IMPI APP ISSUED NOT_AFTER STATUS DERFILE [CA]
 *   store_tool DB KEY revoked CA COUNT NOT_AFTER
 *   store_tool DB KEY ccm IMPI APP ACTION CERTFILE
 *
 * ccm queues one CCM (ACTION 0..5, e.g. 2 revoked) carrying CERTFILE
 * (DER) from this process, as another daemon or gba-ctl would: a
 * subscriber's worker finds it with its outbox poll.
 * SERIALHEX is the serial's content octets as stored; STATUS is 0 valid,
 * 1 revoked, 2 hold; CA defaults to "Test CA".  `revoked` adds COUNT
 * (1..100000) certificates of CA, revoked (keyCompromise) a minute ago,
 * with random 16-octet serials and a placeholder DER, in one
 * transaction: a long CRL for e2e_revoke.sh.  Exit 0 on success, 1 with
 * the store's error.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gba_asn1.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_store.h"
#include "gba_time.h"
#include "gba_x509.h"

static int num(const char *s, int64_t *v)
{
	char *end = NULL;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

static int text(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

/* COUNT revoked certificates of ca into t->certs (gba_free). */
static int bulk(struct gba_cmc_txn *t, const char *ca, const char *count, const char *not_after)
{
	static const uint8_t placeholder[] = { 0x30, 0x00 };
	struct gba_cert_record *v;
	int64_t n = 0, na = 0, now = gba_time_now();
	size_t i;

	if (num(count, &n) < 0 || n < 1 || n > 100000 || num(not_after, &na) < 0 ||
	    strlen(ca) > GBA_STORE_MAX_CA)
		return GBA_EINVAL;
	v = gba_calloc((size_t)n, sizeof(*v));
	if (v == NULL)
		return GBA_ENOMEM;
	for (i = 0; i < (size_t)n; i++) {
		if (gba_rnd(GBA_RND_NONCE, v[i].serial, 16) < 0) {
			gba_free(v);
			return GBA_ECRYPTO;
		}
		v[i].serial[0] = (uint8_t)((v[i].serial[0] & 0x3f) | 0x40);   /* minimal, > 0 */
		v[i].serial_len = 16;
		memcpy(v[i].ca, ca, strlen(ca) + 1);
		memcpy(v[i].impi, "bulk@store-tool.test", sizeof("bulk@store-tool.test"));
		memcpy(v[i].app_id, "store-tool.test", sizeof("store-tool.test"));
		v[i].issued_at = v[i].not_before = na < now - 86400 ? na : now - 86400;
		v[i].not_after = na;
		v[i].status = GBA_CERT_REVOKED;
		v[i].reason = 1;
		v[i].revoked_at = now - 60;
		v[i].der = (uint8_t *)(uintptr_t)placeholder;
		v[i].der_len = sizeof(placeholder);
	}
	t->certs = v;
	t->ncerts = (size_t)n;
	return 0;
}

static int read_file(const char *path, uint8_t *buf, size_t size, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	*len = fread(buf, 1, size, f);
	fclose(f);
	return *len == 0 || *len == size ? -1 : 0;
}

int main(int argc, char **argv)
{
	static uint8_t der[GBA_STORE_MAX_CERT + 1];
	struct gba_store *st = NULL;
	struct gba_cert_record c;
	struct gba_pending p;
	struct gba_cmc_txn t;
	int64_t v[3];
	size_t n;
	int ret = GBA_EINVAL;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	if (argc == 9 && strcmp(argv[3], "pending") == 0) {
		n = strlen(argv[4]);
		if (n != 2 * GBA_STORE_TOKEN_LEN ||
		    gba_hex_decode(argv[4], n, p.token, GBA_STORE_TOKEN_LEN) != 0 ||
		    text(p.impi, sizeof(p.impi), argv[5]) < 0 ||
		    text(p.app_id, sizeof(p.app_id), argv[6]) < 0 || num(argv[7], &v[0]) < 0 ||
		    num(argv[8], &v[1]) < 0)
			goto usage;
		p.state = GBA_PENDING_WAITING;
		p.created = v[0];
		p.expires = v[1];
		p.blob = (uint8_t *)(uintptr_t)"test request";
		p.blob_len = 12;
		t.pend_new = &p;
		t.npend_new = 1;
	} else if ((argc == 11 || argc == 12) && strcmp(argv[3], "cert") == 0) {
		n = strlen(argv[4]);
		if (n == 0 || n % 2 != 0 || n / 2 > GBA_STORE_MAX_SERIAL ||
		    gba_hex_decode(argv[4], n, c.serial, n / 2) != 0 ||
		    text(c.impi, sizeof(c.impi), argv[5]) < 0 ||
		    text(c.app_id, sizeof(c.app_id), argv[6]) < 0 || num(argv[7], &v[0]) < 0 ||
		    num(argv[8], &v[1]) < 0 || num(argv[9], &v[2]) < 0 || v[2] < 0 || v[2] > 2 ||
		    read_file(argv[10], der, sizeof(der), &c.der_len) < 0)
			goto usage;
		c.serial_len = n / 2;
		if (text(c.ca, sizeof(c.ca), argc == 12 ? argv[11] : "Test CA") < 0)
			goto usage;
		memset(c.policy_sha256, 0xab, sizeof(c.policy_sha256));
		memset(c.spki_sha256, 0xcd, sizeof(c.spki_sha256));
		c.issued_at = v[0];
		c.not_before = v[0];
		c.not_after = v[1];
		c.status = (int)v[2];
		if (c.status != GBA_CERT_VALID) {
			c.reason = 1;
			c.revoked_at = v[0] + 1;
		}
		c.der = der;
		t.certs = &c;
		t.ncerts = 1;
	} else if (argc == 7 && strcmp(argv[3], "revoked") == 0) {
		if (bulk(&t, argv[4], argv[5], argv[6]) < 0)
			goto usage;
	} else if (argc == 8 && strcmp(argv[3], "ccm") == 0) {
		struct gba_ccm m;
		struct gba_ccm_out o;
		struct gba_cert_info ci;
		uint8_t *body = NULL;
		int64_t a;

		memset(&m, 0, sizeof(m));
		memset(&o, 0, sizeof(o));
		if (num(argv[6], &a) < 0 || a < 0 || a > 5 ||
		    read_file(argv[7], der, sizeof(der), &n) < 0 ||
		    gba_x509_cert_info(der, n, &ci) < 0)
			goto usage;
		ret = gba_rnd(GBA_RND_NONCE, o.msg_id, sizeof(o.msg_id));
		memcpy(m.message_id, o.msg_id, sizeof(o.msg_id));
		m.issued_at = (int64_t)time(NULL);
		m.subscriber_kind = GBA_CCM_SUB_IMPI;
		m.subscriber = gba_str_c(argv[4]);
		m.application_id = gba_str_c(argv[5]);
		m.action = (enum gba_ccm_action)a;
		m.certificate.p = der;
		m.certificate.len = n;
		if (ret == 0)
			ret = gba_ccm_encode(&m, &body, &o.body_len);
		if (ret == 0) {
			o.impi = argv[4];
			o.app_id = argv[5];
			o.action = (int)a;
			o.ref = ci.serial;
			o.ref_len = ci.serial_len;
			o.created = m.issued_at;
			o.expires = m.issued_at + 3600;
			o.body = body;
			ret = gba_store_open(&st, argv[1], argv[2]);
		}
		if (ret == 0)
			ret = gba_store_ccm_queue(st, &o, 1);
		gba_free(body);
		gba_cert_info_clear(&ci);
		gba_store_close(st);
		if (ret < 0) {
			fprintf(stderr, "store_tool: %s\n", gba_strerror(ret));
			return 1;
		}
		return 0;
	} else {
		goto usage;
	}
	ret = gba_store_open(&st, argv[1], argv[2]);
	if (ret == 0)
		ret = gba_store_cmc_commit(st, &t);
	gba_store_close(st);
	if (t.certs != &c)
		gba_free((void *)(uintptr_t)t.certs);
	if (ret < 0) {
		fprintf(stderr, "store_tool: %s\n", gba_strerror(ret));
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: store_tool DB KEY pending TOKENHEX IMPI APP CREATED EXPIRES\n"
	                "       store_tool DB KEY cert SERIALHEX IMPI APP ISSUED NOT_AFTER STATUS "
	                "DERFILE [CA]\n"
	                "       store_tool DB KEY revoked CA COUNT NOT_AFTER\n"
	                "       store_tool DB KEY ccm IMPI APP ACTION CERTFILE\n");
	return 2;
}
