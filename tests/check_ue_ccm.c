/*
 * check_ue_ccm.c - the UE side of CCMs (ue/ue_ccm.h): frames of a
 * subscription body, verification of signed CCMs made here with a CA
 * from gba_ca_init (right signer, wrong signer, wrong anchor, wrong
 * subscriber or application, wrong content type, one flipped octet),
 * ordering against the sequence state (new, duplicate, replay) and
 * applying to a directory.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gba_asn1.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_mem.h"
#include "gba_time.h"
#include "gba_x509.h"
#include "testutil.h"
#include "ue_ccm.h"
#include "ue_der.h"

#define IMPI "alice@ims.example.org"
#define APP  "naf.example.org"

/* ---- frames ---- */

struct frames_seen {
	size_t n;
	size_t len[8];
	uint8_t first[8];
};

static int frame_cb(void *arg, const uint8_t *frame, size_t len)
{
	struct frames_seen *f = arg;

	ck_assert_uint_lt(f->n, 8);
	f->len[f->n] = len;
	f->first[f->n] = frame[0];
	f->n++;
	return 0;
}

START_TEST(frames_reassemble_and_skip_keepalives)
{
	/* 3 octets, a keep-alive, 1 octet, a keep-alive */
	static const uint8_t wire[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0,
		                        0, 0, 0, 1, 'z', 0, 0, 0, 0 };
	static const uint8_t big[] = { 0, 0, 1, 0 };
	struct ue_ccm_frames fr;
	struct frames_seen seen;
	size_t i, step;

	for (step = 1; step <= sizeof(wire); step++) {
		memset(&seen, 0, sizeof(seen));
		ue_ccm_frames_init(&fr, 64);
		for (i = 0; i < sizeof(wire); i += step)
			ck_assert_int_eq(ue_ccm_frames_feed(&fr, wire + i,
			                                    i + step <= sizeof(wire) ? step
			                                                             : sizeof(wire) - i,
			                                    frame_cb, &seen),
			                 0);
		ck_assert_uint_eq(seen.n, 2);
		ck_assert_uint_eq(seen.len[0], 3);
		ck_assert_uint_eq(seen.first[0], 'a');
		ck_assert_uint_eq(seen.len[1], 1);
		ck_assert_uint_eq(seen.first[1], 'z');
		ck_assert_uint_eq(fr.len, 0);
		ue_ccm_frames_clear(&fr);
	}
	/* a frame over the cap is refused before its octets arrive */
	ue_ccm_frames_init(&fr, 64);
	ck_assert_int_eq(ue_ccm_frames_feed(&fr, big, sizeof(big), frame_cb, &seen), GBA_ETOOBIG);
	ue_ccm_frames_clear(&fr);
}
END_TEST

/* ---- a CA and signed CCMs ---- */

static char cadir[256];
static struct gba_signer *cmc_signer, *ca_signer, *other_ca;
static struct ue_certs root;

static void ca_setup(void)
{
	struct gba_ca_init_conf conf;
	char tmpl[] = "/tmp/check_ue_ccmXXXXXX", k[300], c[300];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cadir, sizeof(cadir), "%s/ca", tmpl);
	memset(&conf, 0, sizeof(conf));
	conf.dir = cadir;
	conf.name = "Test";
	conf.key_type = GBA_KEY_EC_P256;
	conf.root_days = 30;
	conf.ca_days = 20;
	conf.signer_days = 10;
	ck_assert_int_eq(gba_ca_init(&conf), 0);
	snprintf(k, sizeof(k), "%s/cmc.key", cadir);
	snprintf(c, sizeof(c), "%s/cmc.pem", cadir);
	ck_assert_int_eq(gba_signer_open(&cmc_signer, k, c), 0);
	snprintf(k, sizeof(k), "%s/ca.key", cadir);
	snprintf(c, sizeof(c), "%s/ca.pem", cadir);
	ck_assert_int_eq(gba_signer_open(&ca_signer, k, c), 0);
	snprintf(c, sizeof(c), "%s/root.pem", cadir);
	ck_assert_int_eq(ue_pem_read(c, "CERTIFICATE", &root), 0);
	ck_assert_int_eq(gba_signer_generate_ca(&other_ca, "Other CA", 10), 0);
}

static void ca_teardown(void)
{
	static const char *const files[] = { "root.pem", "root.key", "ca.pem", "ca.key",
		                             "cmc.pem", "cmc.key", "chain.pem" };
	char p[400];
	size_t i;

	gba_signer_free(cmc_signer);
	gba_signer_free(ca_signer);
	gba_signer_free(other_ca);
	ue_certs_clear(&root);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", cadir, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(cadir);
	snprintf(p, sizeof(p), "%s", cadir);
	*strrchr(p, '/') = '\0';
	(void)rmdir(p);
}

/* A CCM (action, seq, id octet) about the issuing CA's certificate,
 * signed by signer, carrying the issuing CA; eContentType oid. */
static void make_ccm(const struct gba_signer *signer, enum gba_ccm_action a, uint64_t seq,
                     uint8_t id, const char *impi, const char *app, const struct gba_oid *oid,
                     uint8_t **der, size_t *len)
{
	struct gba_ccm m;
	struct gba_cms_sign_req sr;
	struct gba_blob issuer;
	uint8_t *body = NULL;
	size_t blen = 0;

	memset(&m, 0, sizeof(m));
	memset(m.message_id, id, sizeof(m.message_id));
	m.seq = seq;
	m.issued_at = gba_time_now();
	m.subscriber_kind = GBA_CCM_SUB_IMPI;
	m.subscriber = gba_str_c(impi);
	m.application_id = gba_str_c(app);
	m.action = a;
	if (a == GBA_CCM_TRUST_ANCHOR_UPDATE) {
		m.trust_anchors[0].p = root.der[0];
		m.trust_anchors[0].len = root.len[0];
		m.ntrust_anchors = 1;
	} else {
		/* the CMC signer's certificate stands in for a UE's: it chains */
		m.certificate.p = gba_signer_cert(cmc_signer, &m.certificate.len);
		m.chain[0].p = gba_signer_cert(ca_signer, &m.chain[0].len);
		m.nchain = 1;
	}
	ck_assert_int_eq(gba_ccm_encode(&m, &body, &blen), 0);
	memset(&sr, 0, sizeof(sr));
	sr.econtent_type = *oid;
	sr.econtent.p = body;
	sr.econtent.len = blen;
	sr.signer_cert.p = gba_signer_cert(signer, &sr.signer_cert.len);
	issuer.p = gba_signer_cert(ca_signer, &issuer.len);
	sr.certs = &issuer;
	sr.ncerts = 1;
	sr.sig_alg.p = gba_signer_sig_oid(signer, &sr.sig_alg.len);
	sr.hash = gba_key_cms_hash(gba_signer_key(signer));
	sr.signing_time = gba_time_now();
	sr.sign = gba_signer_sign;
	sr.sign_ctx = (void *)(uintptr_t)signer;
	ck_assert_int_eq(gba_cms_sign(&sr, der, len), 0);
	gba_free(body);
}

static int verify(const uint8_t *der, size_t len, const uint8_t *anchor, size_t alen,
                  const char *impi, const char *app, struct ue_ccm *c)
{
	const char *why = NULL;
	int ret = ue_ccm_verify(der, len, anchor, alen, time(NULL), impi, app, c, &why);

	if (ret < 0)
		ck_assert_ptr_nonnull(why);
	return ret;
}

START_TEST(verify_accepts_ours_and_refuses_the_rest)
{
	struct ue_ccm c;
	uint8_t *der = NULL;
	size_t len = 0;
	const uint8_t *other;
	size_t olen;

	ca_setup();
	make_ccm(cmc_signer, GBA_CCM_INSTALL, 7, 0x11, IMPI, APP, &gba_oid_ct_ccm, &der, &len);
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), 0);
	ck_assert_uint_eq(c.ccm.seq, 7);
	ck_assert_int_eq(c.ccm.action, GBA_CCM_INSTALL);
	ck_assert_uint_eq(strlen(c.serial), 40);   /* a 20-octet serial */
	ue_ccm_clear(&c);
	/* not for us */
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], "bob@ims.example.org", APP, &c),
	                 GBA_EAUTH);
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], IMPI, "other.example.org", &c),
	                 GBA_EAUTH);
	/* another trust anchor */
	other = gba_signer_cert(other_ca, &olen);
	ck_assert_int_eq(verify(der, len, other, olen, IMPI, APP, &c), GBA_ESIG);
	/* one flipped octet in the signature, then in the content */
	der[len - 5] ^= 1;
	ck_assert_int_lt(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), 0);
	der[len - 5] ^= 1;
	der[len / 3] ^= 1;
	ck_assert_int_lt(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), 0);
	gba_free(der);
	/* signed by the issuing CA: it has no id-kp-cmcCA */
	make_ccm(ca_signer, GBA_CCM_INSTALL, 7, 0x12, IMPI, APP, &gba_oid_ct_ccm, &der, &len);
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), GBA_ESIG);
	gba_free(der);
	/* signed by a CA we do not trust */
	make_ccm(other_ca, GBA_CCM_INSTALL, 7, 0x13, IMPI, APP, &gba_oid_ct_ccm, &der, &len);
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), GBA_ESIG);
	gba_free(der);
	/* a CMC response type, however well signed */
	make_ccm(cmc_signer, GBA_CCM_INSTALL, 7, 0x14, IMPI, APP, &gba_oid_cct_pkiresponse, &der,
	         &len);
	ck_assert_int_eq(verify(der, len, root.der[0], root.len[0], IMPI, APP, &c), GBA_EUNSUPP);
	gba_free(der);
	ca_teardown();
}
END_TEST

/* Remove a directory this test made, and the files in it. */
static void rm_dir(const char *dir)
{
	char path[600];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

START_TEST(order_and_apply)
{
	char tmpl[] = "/tmp/check_ue_ccm_dirXXXXXX", path[400];
	struct ue_ccm_state st, again;
	struct ue_ccm c3, c2, c2b, c4;
	uint8_t *d3 = NULL, *d2 = NULL, *d4 = NULL;
	size_t l3, l2, l4;
	struct stat sb;

	ca_setup();
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_int_eq(ue_ccm_state_load(tmpl, &st), 0);
	ck_assert_uint_eq(st.seq, 0);
	make_ccm(cmc_signer, GBA_CCM_INSTALL, 3, 0x33, IMPI, APP, &gba_oid_ct_ccm, &d3, &l3);
	make_ccm(cmc_signer, GBA_CCM_TRUST_ANCHOR_UPDATE, 2, 0x22, IMPI, APP, &gba_oid_ct_ccm, &d2,
	         &l2);
	make_ccm(cmc_signer, GBA_CCM_REVOKED, 4, 0x44, IMPI, APP, &gba_oid_ct_ccm, &d4, &l4);
	ck_assert_int_eq(verify(d3, l3, root.der[0], root.len[0], IMPI, APP, &c3), 0);
	ck_assert_int_eq(verify(d2, l2, root.der[0], root.len[0], IMPI, APP, &c2), 0);
	ck_assert_int_eq(verify(d4, l4, root.der[0], root.len[0], IMPI, APP, &c4), 0);
	/* number 3 first: installed */
	ck_assert_int_eq(ue_ccm_order(&st, &c3.ccm), UE_CCM_NEW);
	ck_assert_int_eq(ue_ccm_apply(tmpl, &c3, &st), 0);
	ck_assert_int_eq(ue_ccm_state_save(tmpl, &st), 0);
	snprintf(path, sizeof(path), "%s/%s.pem", tmpl, c3.serial);
	ck_assert_int_eq(stat(path, &sb), 0);
	/* the same message again: a duplicate */
	ck_assert_int_eq(ue_ccm_order(&st, &c3.ccm), UE_CCM_DUPLICATE);
	/* an older one never applied: a replay */
	ck_assert_int_eq(ue_ccm_order(&st, &c2.ccm), UE_CCM_REPLAY);
	/* the state survives a reload */
	ck_assert_int_eq(ue_ccm_state_load(tmpl, &again), 0);
	ck_assert_uint_eq(again.seq, 3);
	ck_assert_uint_eq(again.nrecent, 1);
	ck_assert_int_eq(ue_ccm_order(&again, &c3.ccm), UE_CCM_DUPLICATE);
	ck_assert_int_eq(ue_ccm_order(&again, &c2.ccm), UE_CCM_REPLAY);
	/* a revocation removes the certificate */
	ck_assert_int_eq(ue_ccm_order(&again, &c4.ccm), UE_CCM_NEW);
	ck_assert_int_eq(ue_ccm_apply(tmpl, &c4, &again), 0);
	ck_assert_int_ne(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/%s.revoked", tmpl, c4.serial);
	ck_assert_int_eq(stat(path, &sb), 0);
	/* the same octets a second time decode the same way */
	ck_assert_int_eq(verify(d3, l3, root.der[0], root.len[0], IMPI, APP, &c2b), 0);
	ck_assert_mem_eq(c2b.ccm.message_id, c3.ccm.message_id, 16);
	ue_ccm_clear(&c2b);
	ue_ccm_clear(&c2);
	ue_ccm_clear(&c3);
	ue_ccm_clear(&c4);
	gba_free(d2);
	gba_free(d3);
	gba_free(d4);
	rm_dir(tmpl);
	ca_teardown();
}
END_TEST

static Suite *ue_ccm_suite(void)
{
	Suite *s = suite_create("ue_ccm");
	TCase *tc = tcase_create("ue_ccm");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, frames_reassemble_and_skip_keepalives);
	tcase_add_test(tc, verify_accepts_ours_and_refuses_the_rest);
	tcase_add_test(tc, order_and_apply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(ue_ccm_suite());
}
