/*
 * check_x509.c - key types, private keys, issuance, certificate facts
 * and path verification (lib/gba_x509.h, "Issue 5").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_mem.h"
#include "gba_x509.h"
#include "testutil.h"

static const uint8_t msg[] = "the signed attributes";

static char tmpdir[64];

static void make_tmpdir(void)
{
	memcpy(tmpdir, "/tmp/check_x509.XXXXXX", sizeof("/tmp/check_x509.XXXXXX"));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void path_in(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tmpdir, name);

	ck_assert(n > 0 && (size_t)n < size);
}

static void rm_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);   /* checksrc: allow (test clean-up) */
}

/* Read a whole file into a gba_malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert(n > 0);
	rewind(f);
	buf = gba_malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Every key type: name, generation, SPKI type, sign and verify. */
START_TEST(key_type_roundtrip)
{
	enum gba_key_type t = (enum gba_key_type)_i, back;
	struct gba_key *k = NULL;
	uint8_t *spki = NULL, *sig = NULL;
	size_t spki_len = 0, sig_len = 0, oid_len = 0;
	const uint8_t *oid;
	uint8_t bad[sizeof(msg)];

	ck_assert_ptr_nonnull(gba_key_type_name(t));
	ck_assert_int_eq(gba_key_type_parse(gba_key_type_name(t), &back), 0);
	ck_assert_int_eq(back, t);
	ck_assert_int_eq(gba_key_generate(&k, t), 0);
	ck_assert_int_eq(gba_key_get_type(k), t);
	ck_assert_int_eq(gba_key_is_rsa(k), t == GBA_KEY_RSA_2048 || t == GBA_KEY_RSA_3072 ||
	                                    t == GBA_KEY_RSA_4096);
	ck_assert_int_eq(gba_key_spki(k, &spki, &spki_len), 0);
	ck_assert_int_eq(gba_x509_spki_type(spki, spki_len, &back), 0);
	ck_assert_int_eq(back, t);
	oid = gba_key_sig_oid(k, &oid_len);
	ck_assert_int_eq(gba_key_sign(k, msg, sizeof(msg), &sig, &sig_len), 0);
	ck_assert_int_eq(gba_x509_verify_spki(spki, spki_len, oid, oid_len, msg, sizeof(msg), sig,
	                                      sig_len), 0);
	memcpy(bad, msg, sizeof(msg));
	bad[0] ^= 1;
	ck_assert_int_eq(gba_x509_verify_spki(spki, spki_len, oid, oid_len, bad, sizeof(bad), sig,
	                                      sig_len), GBA_ESIG);
	gba_free(sig);
	gba_free(spki);
	gba_key_free(k);
}
END_TEST

START_TEST(key_type_names)
{
	static const char *const names[] = { "ec-p256", "ec-p384", "ed25519",
		                             "rsa-2048", "rsa-3072", "rsa-4096" };
	enum gba_key_type t;
	unsigned i;

	for (i = 0; i < GBA_KEY_TYPE_COUNT; i++)
		ck_assert_str_eq(gba_key_type_name((enum gba_key_type)i), names[i]);
	ck_assert_ptr_null(gba_key_type_name(GBA_KEY_TYPE_COUNT));
	ck_assert_int_eq(gba_key_type_parse("ec-p521", &t), GBA_EINVAL);
	ck_assert_int_eq(gba_key_type_parse("EC-P256", &t), GBA_EINVAL);
	ck_assert_int_eq(gba_key_type_parse("", &t), GBA_EINVAL);
}
END_TEST

START_TEST(sig_oids_and_cms_hash)
{
	static const uint8_t p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	static const uint8_t p384[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
	static const uint8_t ed[] = { 0x2b, 0x65, 0x70 };
	static const uint8_t rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b };
	static const struct {
		enum gba_key_type t;
		const uint8_t *oid;
		size_t len;
		enum gba_hash_alg hash;
	} want[] = {
		{ GBA_KEY_EC_P256, p256, sizeof(p256), GBA_HASH_SHA256 },
		{ GBA_KEY_EC_P384, p384, sizeof(p384), GBA_HASH_SHA384 },
		{ GBA_KEY_ED25519, ed, sizeof(ed), GBA_HASH_SHA512 },
		{ GBA_KEY_RSA_2048, rsa, sizeof(rsa), GBA_HASH_SHA256 },
	};
	struct gba_key *k;
	const uint8_t *oid;
	size_t i, len;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(gba_key_generate(&k, want[i].t), 0);
		oid = gba_key_sig_oid(k, &len);
		ck_assert_uint_eq(len, want[i].len);
		ck_assert_mem_eq(oid, want[i].oid, len);
		ck_assert_int_eq(gba_key_cms_hash(k), want[i].hash);
		gba_key_free(k);
	}
}
END_TEST

START_TEST(wrong_key_and_alg_mismatch)
{
	static const uint8_t rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b };
	static const uint8_t ed_oid[] = { 0x2b, 0x65, 0x70 };
	static const uint8_t p384_oid[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
	static const uint8_t md5_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04 };
	struct gba_key *a, *b, *r;
	uint8_t *spki_b = NULL, *spki_a = NULL, *spki_r = NULL, *sig = NULL, *rsig = NULL;
	size_t lb, la, lr, sl, rl, ol;
	const uint8_t *oid;

	ck_assert_int_eq(gba_key_generate(&a, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_generate(&b, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_generate(&r, GBA_KEY_RSA_2048), 0);
	ck_assert_int_eq(gba_key_spki(a, &spki_a, &la), 0);
	ck_assert_int_eq(gba_key_spki(b, &spki_b, &lb), 0);
	ck_assert_int_eq(gba_key_spki(r, &spki_r, &lr), 0);
	oid = gba_key_sig_oid(a, &ol);
	ck_assert_int_eq(gba_key_sign(a, msg, sizeof(msg), &sig, &sl), 0);
	ck_assert_int_eq(gba_x509_verify_spki(spki_a, la, oid, ol, msg, sizeof(msg), sig, sl), 0);
	/* another key of the same type */
	ck_assert_int_eq(gba_x509_verify_spki(spki_b, lb, oid, ol, msg, sizeof(msg), sig, sl),
	                 GBA_ESIG);
	/* algorithms that do not suit the key */
	ck_assert_int_eq(gba_x509_verify_spki(spki_a, la, rsa_oid, sizeof(rsa_oid), msg,
	                                      sizeof(msg), sig, sl), GBA_ESIG);
	ck_assert_int_eq(gba_x509_verify_spki(spki_a, la, ed_oid, sizeof(ed_oid), msg,
	                                      sizeof(msg), sig, sl), GBA_ESIG);
	ck_assert_int_eq(gba_key_sign(r, msg, sizeof(msg), &rsig, &rl), 0);
	ck_assert_int_eq(gba_x509_verify_spki(spki_r, lr, rsa_oid, sizeof(rsa_oid), msg,
	                                      sizeof(msg), rsig, rl), 0);
	ck_assert_int_eq(gba_x509_verify_spki(spki_r, lr, p384_oid, sizeof(p384_oid), msg,
	                                      sizeof(msg), rsig, rl), GBA_ESIG);
	/* unknown algorithm, not an SPKI */
	ck_assert_int_eq(gba_x509_verify_spki(spki_r, lr, md5_rsa, sizeof(md5_rsa), msg,
	                                      sizeof(msg), rsig, rl), GBA_EUNSUPP);
	ck_assert_int_eq(gba_x509_verify_spki(msg, sizeof(msg), oid, ol, msg, sizeof(msg), sig, sl),
	                 GBA_ESYNTAX);
	gba_free(sig);
	gba_free(rsig);
	gba_free(spki_a);
	gba_free(spki_b);
	gba_free(spki_r);
	gba_key_free(a);
	gba_key_free(b);
	gba_key_free(r);
}
END_TEST

START_TEST(spki_type_rejects_others)
{
	/* a P-521 public key (openssl genpkey, pkey -pubout -outform DER) */
	static const char p521[] =
		"30819b301006072a8648ce3d020106052b81040023038186000400a68cc007b0"
		"aa240b3e5e7c6a68380934a1876d61eb24079abb31b0788610d742ae00e74e08"
		"defdd1db2b38b2ce5b5669f4fad102ff0f49c90ba5b626a2c116e0190063b4db"
		"15afb1f195b6ab7d2505923f0856467508abe8b9dde008bd7c1f41e0ab1cce02"
		"97b1ece2fdc453133ec0aa913bc87be8008afea135c30fe6d90dd938a7d4";
	uint8_t der[sizeof(p521) / 2];
	enum gba_key_type t;

	th_unhex(p521, der, sizeof(der));
	ck_assert_int_eq(gba_x509_spki_type(der, sizeof(der), &t), GBA_EUNSUPP);
	ck_assert_int_eq(gba_x509_spki_type(msg, sizeof(msg), &t), GBA_ESYNTAX);
}
END_TEST

START_TEST(key_save_load_and_modes)
{
	struct gba_key *k, *k2;
	uint8_t *s1, *s2, *sig;
	size_t l1, l2, sl, ol;
	const uint8_t *oid;
	char path[128], link[128];
	struct stat sb;

	make_tmpdir();
	path_in(path, sizeof(path), "k.pem");
	path_in(link, sizeof(link), "link.pem");
	ck_assert_int_eq(gba_key_generate(&k, GBA_KEY_EC_P384), 0);
	ck_assert_int_eq(gba_key_save(k, path), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(gba_key_load(&k2, path), 0);
	ck_assert_int_eq(gba_key_get_type(k2), GBA_KEY_EC_P384);
	ck_assert_int_eq(gba_key_spki(k, &s1, &l1), 0);
	ck_assert_int_eq(gba_key_spki(k2, &s2, &l2), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(s1, s2, l1);
	oid = gba_key_sig_oid(k2, &ol);
	ck_assert_int_eq(gba_key_sign(k2, msg, sizeof(msg), &sig, &sl), 0);
	ck_assert_int_eq(gba_x509_verify_spki(s1, l1, oid, ol, msg, sizeof(msg), sig, sl), 0);
	gba_free(sig);
	gba_key_free(k2);

	/* replacing keeps 0600, even over a 0644 file */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(gba_key_load(&k2, path), GBA_EPERM);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(gba_key_load(&k2, path), GBA_EPERM);
	ck_assert_int_eq(gba_key_save(k, path), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(gba_key_load(&k2, path), 0);
	gba_key_free(k2);

	/* a symlink is neither followed on load nor written through */
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(gba_key_load(&k2, link), GBA_EPERM);
	ck_assert_int_ne(gba_key_save(k, link), 0);
	/* a directory is not a key file */
	ck_assert_int_eq(gba_key_load(&k2, tmpdir), GBA_EPERM);
	path_in(link, sizeof(link), "missing.pem");
	ck_assert_int_eq(gba_key_load(&k2, link), GBA_EIO);
	gba_free(s1);
	gba_free(s2);
	gba_key_free(k);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(random_serial_properties)
{
	uint8_t a[20], b[20];
	int i;

	ck_assert_int_eq(gba_x509_random_serial(a, 7), GBA_EINVAL);
	ck_assert_int_eq(gba_x509_random_serial(a, 21), GBA_EINVAL);
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(gba_x509_random_serial(a, 8 + (size_t)(i % 13)), 0);
		ck_assert(a[0] != 0 && a[0] < 0x80);
	}
	ck_assert_int_eq(gba_x509_random_serial(a, 20), 0);
	ck_assert_int_eq(gba_x509_random_serial(b, 20), 0);
	ck_assert(memcmp(a, b, 20) != 0);
}
END_TEST

START_TEST(dn_der_known_answer)
{
	/* SEQUENCE { SET { SEQUENCE { id-at-commonName, PrintableString "abc" } } } */
	static const uint8_t want[] = { 0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03,
		                        0x55, 0x04, 0x03, 0x13, 0x03, 0x61, 0x62, 0x63 };
	uint8_t *der = NULL;
	size_t len = 0;

	ck_assert_int_eq(gba_x509_dn_der("CN=abc", &der, &len), 0);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(der, want, sizeof(want));
	gba_free(der);
	der = NULL;
	ck_assert_int_eq(gba_x509_dn_der("CN", &der, &len), GBA_ESYNTAX);
	ck_assert_ptr_null(der);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(gba_x509_dn_der("XX=y", &der, &len), GBA_ESYNTAX);
	ck_assert_int_eq(gba_x509_dn_der("", &der, &len), GBA_EINVAL);
	ck_assert_ptr_null(der);
}
END_TEST

/* A CA directory made by gba_ca_init, and its files as DER. */
struct ca_fixture {
	char dir[128];
	struct gba_signer *ca;
	uint8_t *root, *inter;
	size_t root_len, inter_len;
};

static uint8_t *pem_file_der(const char *path, size_t *len)
{
	size_t n;
	uint8_t *pem = slurp(path, &n), *der;
	char *b64 = gba_malloc(n + 1), *p;
	size_t i, j = 0;
	int r;

	ck_assert_ptr_nonnull(b64);
	/* the single base64 body between the BEGIN and END lines */
	p = strstr((char *)pem, "-----\n");
	ck_assert_ptr_nonnull(p);
	for (i = (size_t)(p - (char *)pem) + 6; i < n && pem[i] != '-'; i++) {
		if (pem[i] != '\n')
			b64[j++] = (char)pem[i];
	}
	b64[j] = '\0';
	der = gba_malloc(j);
	ck_assert_ptr_nonnull(der);
	r = gba_base64_decode(b64, j, der, j);
	ck_assert_int_gt(r, 0);
	*len = (size_t)r;
	gba_free(b64);
	gba_free(pem);
	return der;
}

static void ca_setup(struct ca_fixture *f, enum gba_key_type t, const char *name)
{
	struct gba_ca_init_conf c;
	char key[160], cert[160];
	int n;

	memset(&c, 0, sizeof(c));
	n = snprintf(f->dir, sizeof(f->dir), "%s/%s", tmpdir, name);
	ck_assert(n > 0 && (size_t)n < sizeof(f->dir));
	c.dir = f->dir;
	c.name = name;
	c.key_type = t;
	c.root_days = 3650;
	c.ca_days = 1825;
	c.signer_days = 365;
	ck_assert_int_eq(gba_ca_init(&c), 0);
	/* a second run changes nothing */
	ck_assert_int_eq(gba_ca_init(&c), GBA_EDUP);
	snprintf(key, sizeof(key), "%s/ca.key", f->dir);
	snprintf(cert, sizeof(cert), "%s/ca.pem", f->dir);
	ck_assert_int_eq(gba_signer_open(&f->ca, key, cert), 0);
	snprintf(cert, sizeof(cert), "%s/root.pem", f->dir);
	f->root = pem_file_der(cert, &f->root_len);
	f->inter = gba_malloc(gba_signer_cert(f->ca, &f->inter_len) != NULL ? f->inter_len : 1);
	memcpy(f->inter, gba_signer_cert(f->ca, &f->inter_len), f->inter_len);
}

static void ca_teardown(struct ca_fixture *f)
{
	gba_signer_free(f->ca);
	gba_free(f->root);
	gba_free(f->inter);
}

START_TEST(issue_and_read_back)
{
	static const char *const san[] = { "uri:urn:gba:impi:001010000000001@ims.example",
		                           "dns:ue.example", "email:ue@example.org" };
	static const char *const eku[] = { "1.3.6.1.5.5.7.3.2" };
	enum gba_key_type t = (enum gba_key_type)_i;
	struct ca_fixture f;
	struct gba_x509_template tp;
	struct gba_cert_info ci;
	struct gba_key *leaf;
	uint8_t *spki, *der, serial[16], kid[GBA_X509_KEY_ID_LEN];
	size_t spki_len, der_len;
	const uint8_t *inter[1];
	time_t now = time(NULL);

	make_tmpdir();
	ca_setup(&f, t, "Check");
	ck_assert_int_eq(gba_key_get_type(gba_signer_key(f.ca)), t);
	ck_assert_int_eq(gba_key_generate(&leaf, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_spki(leaf, &spki, &spki_len), 0);
	ck_assert_int_eq(gba_x509_random_serial(serial, sizeof(serial)), 0);
	memset(&tp, 0, sizeof(tp));
	tp.spki = spki;
	tp.spki_len = spki_len;
	tp.serial = serial;
	tp.serial_len = sizeof(serial);
	tp.not_before = (int64_t)now - 60;
	tp.not_after = (int64_t)now + 86400;
	tp.subject = "CN=ue.example,O=gbacert test";
	tp.san = san;
	tp.nsan = 3;
	tp.key_usage = GBA_X509_KU_DIGITAL_SIGNATURE | GBA_X509_KU_KEY_AGREEMENT;
	tp.eku = eku;
	tp.neku = 1;
	tp.ocsp_url = "http://ocsp.example/";
	tp.crl_url = "http://crl.example/ca.crl";
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), 0);

	ck_assert_int_eq(gba_x509_cert_info(der, der_len, &ci), 0);
	ck_assert_uint_eq(ci.serial_len, sizeof(serial));
	ck_assert_mem_eq(ci.serial, serial, sizeof(serial));
	ck_assert_str_eq(ci.subject, "CN=ue.example,O=gbacert test");
	ck_assert_int_eq(ci.not_before, tp.not_before);
	ck_assert_int_eq(ci.not_after, tp.not_after);
	ck_assert_uint_eq(ci.spki_len, spki_len);
	ck_assert_mem_eq(ci.spki, spki, spki_len);
	ck_assert_int_eq(ci.is_ca, 0);
	ck_assert_int_eq(gba_x509_spki_key_id(spki, spki_len, kid), 0);
	ck_assert_uint_eq(ci.ski_len, sizeof(kid));
	ck_assert_mem_eq(ci.ski, kid, sizeof(kid));
	ck_assert(ci.subject_der_len > 2 && ci.subject_der[0] == 0x30);
	ck_assert(ci.issuer_der_len > 2 && ci.issuer_der[0] == 0x30);
	/* the template's subject string gives the very Name issued */
	{
		uint8_t *dn = NULL;
		size_t dn_len = 0;

		ck_assert_int_eq(gba_x509_dn_der(tp.subject, &dn, &dn_len), 0);
		ck_assert_uint_eq(dn_len, ci.subject_der_len);
		ck_assert_mem_eq(dn, ci.subject_der, dn_len);
		gba_free(dn);
	}
	gba_cert_info_clear(&ci);
	ck_assert_ptr_null(ci.spki);

	/* the issuing CA's facts */
	ck_assert_int_eq(gba_x509_cert_info(f.inter, f.inter_len, &ci), 0);
	ck_assert_int_eq(ci.is_ca, 1);
	ck_assert_uint_eq(ci.serial_len, 20);
	ck_assert_str_eq(ci.subject, "CN=Check Issuing CA");
	gba_cert_info_clear(&ci);

	inter[0] = f.inter;
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, &f.inter_len, 1, f.root,
	                                      f.root_len, now), 0);
	gba_free(der);
	gba_free(spki);
	gba_key_free(leaf);
	ca_teardown(&f);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(issue_rejects_bad_templates)
{
	static const char *const bad_san[] = { "ip:192.0.2.1" };
	struct ca_fixture f;
	struct gba_x509_template tp;
	struct gba_key *leaf;
	uint8_t *spki, *der = NULL, serial[8] = { 0x01, 2, 3, 4, 5, 6, 7, 8 };
	size_t spki_len, der_len;
	time_t now = time(NULL);

	make_tmpdir();
	ca_setup(&f, GBA_KEY_EC_P256, "Bad");
	ck_assert_int_eq(gba_key_generate(&leaf, GBA_KEY_ED25519), 0);
	ck_assert_int_eq(gba_key_spki(leaf, &spki, &spki_len), 0);
	memset(&tp, 0, sizeof(tp));
	tp.spki = spki;
	tp.spki_len = spki_len;
	tp.serial = serial;
	tp.serial_len = sizeof(serial);
	tp.not_before = (int64_t)now;
	tp.not_after = (int64_t)now + 3600;
	tp.subject = "CN=x";
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), 0);
	gba_free(der);

	serial[0] = 0x80;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	serial[0] = 0x00;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	serial[0] = 0x01;
	tp.serial_len = 7;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	tp.serial_len = sizeof(serial);
	tp.subject = "not a DN";
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	tp.subject = "CN=x";
	tp.san = bad_san;
	tp.nsan = 1;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	tp.nsan = 0;
	tp.key_usage = 1u << 20;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	tp.key_usage = 0;
	tp.not_after = tp.not_before;
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), GBA_EINVAL);
	ck_assert_ptr_null(der);
	gba_free(spki);
	gba_key_free(leaf);
	ca_teardown(&f);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(verify_path_failures)
{
	struct ca_fixture f, g;
	struct gba_x509_template tp;
	struct gba_key *leaf;
	struct gba_signer *cmc;
	uint8_t *spki, *der, *der2, serial[20];
	size_t spki_len, der_len, der2_len, cmc_len, lens[2];
	const uint8_t *inter[2];
	char key[160], cert[160];
	time_t now = time(NULL);

	make_tmpdir();
	ca_setup(&f, GBA_KEY_EC_P256, "One");
	ca_setup(&g, GBA_KEY_EC_P256, "Two");
	ck_assert_int_eq(gba_key_generate(&leaf, GBA_KEY_EC_P256), 0);
	ck_assert_int_eq(gba_key_spki(leaf, &spki, &spki_len), 0);
	ck_assert_int_eq(gba_x509_random_serial(serial, sizeof(serial)), 0);
	memset(&tp, 0, sizeof(tp));
	tp.spki = spki;
	tp.spki_len = spki_len;
	tp.serial = serial;
	tp.serial_len = sizeof(serial);
	tp.not_before = (int64_t)now - 60;
	tp.not_after = (int64_t)now + 86400;
	tp.subject = "CN=leaf";
	ck_assert_int_eq(gba_signer_issue(f.ca, &tp, &der, &der_len), 0);

	inter[0] = f.inter;
	lens[0] = f.inter_len;
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 1, f.root, f.root_len,
	                                      now), 0);
	/* the other CA's root */
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 1, g.root, g.root_len,
	                                      now), GBA_ESIG);
	/* the other CA's intermediate */
	inter[0] = g.inter;
	lens[0] = g.inter_len;
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 1, f.root, f.root_len,
	                                      now), GBA_ESIG);
	/* no intermediate */
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, NULL, NULL, 0, f.root, f.root_len,
	                                      now), GBA_ESIG);
	/* expired, not yet valid */
	inter[0] = f.inter;
	lens[0] = f.inter_len;
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 1, f.root, f.root_len,
	                                      now + 2 * 86400), GBA_ESIG);
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 1, f.root, f.root_len,
	                                      now - 3600), GBA_ESIG);
	/* intermediates in any order, unused extras allowed */
	inter[0] = g.inter;
	lens[0] = g.inter_len;
	inter[1] = f.inter;
	lens[1] = f.inter_len;
	ck_assert_int_eq(gba_x509_verify_path(der, der_len, inter, lens, 2, f.root, f.root_len,
	                                      now), 0);

	/* an end entity (the CMC signer, CA:FALSE) cannot issue */
	snprintf(key, sizeof(key), "%s/cmc.key", f.dir);
	snprintf(cert, sizeof(cert), "%s/cmc.pem", f.dir);
	ck_assert_int_eq(gba_signer_open(&cmc, key, cert), 0);
	ck_assert_int_eq(gba_signer_issue(cmc, &tp, &der2, &der2_len), 0);
	inter[0] = gba_signer_cert(cmc, &cmc_len);
	lens[0] = cmc_len;
	inter[1] = f.inter;
	lens[1] = f.inter_len;
	ck_assert_int_eq(gba_x509_verify_path(der2, der2_len, inter, lens, 2, f.root, f.root_len,
	                                      now), GBA_ESIG);
	/* ...but the CMC signer itself chains */
	ck_assert_int_eq(gba_x509_verify_path(inter[0], cmc_len, inter + 1, lens + 1, 1, f.root,
	                                      f.root_len, now), 0);
	/* a signer whose certificate is not its key's */
	gba_signer_free(cmc);
	snprintf(key, sizeof(key), "%s/root.key", f.dir);
	ck_assert_int_eq(gba_signer_open(&cmc, key, cert), GBA_EINVAL);
	ck_assert_ptr_null(cmc);

	gba_free(der);
	gba_free(der2);
	gba_free(spki);
	gba_key_free(leaf);
	ca_teardown(&f);
	ca_teardown(&g);
	rm_tree(tmpdir);
}
END_TEST

/* The old signer API on the new key types. */
START_TEST(signer_sign_follows_key)
{
	struct ca_fixture f;
	uint8_t *sig, *spki;
	size_t sl, ol, spki_len;
	const uint8_t *oid;

	make_tmpdir();
	ca_setup(&f, GBA_KEY_EC_P384, "Sig");
	oid = gba_signer_sig_oid(f.ca, &ol);
	ck_assert_uint_eq(ol, 8);
	ck_assert_uint_eq(oid[7], 0x03);    /* ecdsa-with-SHA384 */
	ck_assert_int_eq(gba_signer_sign(f.ca, msg, sizeof(msg), &sig, &sl), 0);
	ck_assert_int_eq(gba_key_spki(gba_signer_key(f.ca), &spki, &spki_len), 0);
	ck_assert_int_eq(gba_x509_verify_spki(spki, spki_len, oid, ol, msg, sizeof(msg), sig, sl),
	                 0);
	ck_assert_int_eq(gba_x509_verify_signature(f.inter, f.inter_len, oid, ol, msg, sizeof(msg),
	                                           sig, sl), 0);
	gba_free(sig);
	gba_free(spki);
	ca_teardown(&f);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(pem_decode_reads_a_chain)
{
	struct gba_signer *a = NULL, *b = NULL;
	const uint8_t *da, *db;
	size_t la, lb, pos = 0, dlen, tl;
	char *pa = NULL, *pb = NULL, *text;
	uint8_t *der = NULL;

	ck_assert_int_eq(gba_signer_generate_ca(&a, "pem a", 1), 0);
	ck_assert_int_eq(gba_signer_generate_ca(&b, "pem b", 1), 0);
	da = gba_signer_cert(a, &la);
	db = gba_signer_cert(b, &lb);
	ck_assert_int_eq(gba_x509_pem("CERTIFICATE", da, la, &pa), 0);
	ck_assert_int_eq(gba_x509_pem("CERTIFICATE", db, lb, &pb), 0);
	tl = strlen(pa) + strlen(pb) + 16;
	text = gba_malloc(tl);
	ck_assert_ptr_nonnull(text);
	snprintf(text, tl, "junk\n%s%s", pa, pb);
	tl = strlen(text);

	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE", text, tl, &pos, &der, &dlen), 0);
	ck_assert_uint_eq(dlen, la);
	ck_assert_mem_eq(der, da, la);
	gba_free(der);
	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE", text, tl, &pos, &der, &dlen), 0);
	ck_assert_uint_eq(dlen, lb);
	ck_assert_mem_eq(der, db, lb);
	gba_free(der);
	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE", text, tl, &pos, &der, &dlen),
	                 GBA_ENOTFOUND);
	pos = 0;
	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE REQUEST", text, tl, &pos, &der, &dlen),
	                 GBA_ENOTFOUND);
	/* a damaged body and a missing END line */
	pos = 0;
	text[strlen("junk\n-----BEGIN CERTIFICATE-----\n") + 3] = '*';
	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE", text, tl, &pos, &der, &dlen),
	                 GBA_ESYNTAX);
	ck_assert_uint_eq(pos, 0);
	pos = 0;
	ck_assert_int_eq(gba_x509_pem_decode("CERTIFICATE", pa, strlen(pa) - 10, &pos, &der,
	                                     &dlen), GBA_ESYNTAX);
	gba_free(text);
	gba_free(pa);
	gba_free(pb);
	gba_signer_free(a);
	gba_signer_free(b);
}
END_TEST

static Suite *x509_suite(void)
{
	Suite *s = suite_create("x509");
	TCase *tc = tcase_create("keys");
	TCase *ca = tcase_create("ca");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, key_type_roundtrip, 0, GBA_KEY_TYPE_COUNT);
	tcase_add_test(tc, key_type_names);
	tcase_add_test(tc, sig_oids_and_cms_hash);
	tcase_add_test(tc, wrong_key_and_alg_mismatch);
	tcase_add_test(tc, spki_type_rejects_others);
	tcase_add_test(tc, key_save_load_and_modes);
	tcase_add_test(tc, random_serial_properties);
	tcase_add_test(tc, dn_der_known_answer);
	suite_add_tcase(s, tc);
	tcase_set_timeout(ca, 120);
	tcase_add_loop_test(ca, issue_and_read_back, 0, GBA_KEY_TYPE_COUNT);
	tcase_add_test(ca, issue_rejects_bad_templates);
	tcase_add_test(ca, verify_path_failures);
	tcase_add_test(ca, signer_sign_follows_key);
	tcase_add_test(ca, pem_decode_reads_a_chain);
	suite_add_tcase(s, ca);
	return s;
}

int main(void)
{
	return th_run(x509_suite());
}
