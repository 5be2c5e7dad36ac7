/*
 * check_crypto.c - known-answer tests for Milenage (TS 35.208 test sets
 * 1-6), the TS 33.220 KDF and its derived values, and HTTP Digest, using
 * the reference vectors of docs/notes/gba.md section 2.4.
 */
#include "config.h"

#include <stdio.h>

#include "gba_crypto.h"
#include "gba_digest.h"
#include "gba_err.h"
#include "gba_keys.h"
#include "gba_milenage.h"
#include "gba_secret.h"
#include "testutil.h"

struct milenage_set {
	const char *k, *rand, *sqn, *amf, *op, *opc;
	const char *f1, *f1s, *f2, *f3, *f4, *f5, *f5s;
};

/* TS 35.208 4.3, test sets 1-6. */
static const struct milenage_set sets[] = {
	{ "465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35",
	  "ff9bb4d0b607", "b9b9", "cdc202d5123e20f62b6d676ac72cb318",
	  "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3", "01cfaf9ec4e871e9",
	  "a54211d5e3ba50bf", "b40ba9a3c58b2a05bbf0d987b21bf8cb",
	  "f769bcd751044604127672711c6d3441", "aa689c648370", "451e8beca43b" },
	{ "fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a",
	  "9d0277595ffc", "725c", "dbc59adcb6f9a0ef735477b7fadf8374",
	  "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281", "95814ba2b3044324",
	  "8011c48c0c214ed2", "5dbdbb2954e8f3cde665b046179a5098",
	  "59a92d3b476a0443487055cf88b2307b", "33484dc2136b", "deacdd848cc6" },
	{ "9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6",
	  "0b604a81eca8", "9e09", "223014c5806694c007ca1eeef57f004f",
	  "a64a507ae1a2a98bb88eb4210135dc87", "74a58220cba84c49", "ac2cc74a96871837",
	  "f365cd683cd92e96", "e203edb3971574f5a94b0d61b816345d",
	  "0c4524adeac041c4dd830d20854fc46b", "f0b9c08ad02e", "6085a86c6f63" },
	{ "4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186",
	  "e880a1b580b6", "9f07", "2d16c5cd1fdf6b22383584e3bef2a8d8",
	  "dcf07cbd51855290b92a07a9891e523e", "49e785dd12626ef2", "9e85790336bb3fa2",
	  "5860fc1bce351e7e", "7657766b373d1c2138f307e3de9242f9",
	  "1c42e960d89b8fa99f2744e0708ccb53", "31e11a609118", "fe2555e54aa9" },
	{ "6c38a116ac280c454f59332ee35c8c4f", "ee6466bc96202c5a557abbeff8babf63",
	  "414b98222181", "4464", "1ba00a1a7c6700ac8c3ff3e96ad08725",
	  "3803ef5363b947c6aaa225e58fae3934", "078adfb488241a57", "80246b8d0186bcf1",
	  "16c8233f05a0ac28", "3f8c7587fe8e4b233af676aede30ba3b",
	  "a7466cc1e6b2a1337d49d3b66e95d7b4", "45b0f69ab06c", "1f53cd2b1113" },
	{ "2d609d4db0ac5bf0d2c0de267014de0d", "194aa756013896b74b4a2a3b0af4539e",
	  "6bf69438c2e4", "5f67", "460a48385427aa39264aac8efc9e73e8",
	  "c35a0ab0bcbfc9252caff15f24efbde0", "bd07d3003b9e5cc3", "bcb6c2fcad152250",
	  "8c25a16cd918a1df", "4cd0846020f8fa0731dd47cbdc6be411",
	  "88ab80a415f15c73711254a1d388f696", "7e6455f34cf3", "dc6dd01e8f15" },
};

#define NSETS (sizeof(sets) / sizeof(sets[0]))

#define EXPECT_HEX(buf, len, hex)                          \
	do {                                               \
		uint8_t want_[64];                         \
		th_unhex((hex), want_, (len));             \
		ck_assert_mem_eq((buf), want_, (len));     \
	} while (0)

START_TEST(milenage_ts35208_set)
{
	const struct milenage_set *t = &sets[_i];
	uint8_t k[16], op[16], opc[16], rand[16], sqn[6], amf[2];
	uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], aks[6];

	th_unhex(t->k, k, 16);
	th_unhex(t->op, op, 16);
	th_unhex(t->rand, rand, 16);
	th_unhex(t->sqn, sqn, 6);
	th_unhex(t->amf, amf, 2);
	ck_assert_int_eq(gba_milenage_opc(k, op, opc), 0);
	EXPECT_HEX(opc, 16, t->opc);
	ck_assert_int_eq(gba_milenage_f1(k, opc, rand, sqn, amf, mac_a, mac_s), 0);
	EXPECT_HEX(mac_a, 8, t->f1);
	EXPECT_HEX(mac_s, 8, t->f1s);
	ck_assert_int_eq(gba_milenage_f2345(k, opc, rand, res, ck, ik, ak, aks), 0);
	EXPECT_HEX(res, 8, t->f2);
	EXPECT_HEX(ck, 16, t->f3);
	EXPECT_HEX(ik, 16, t->f4);
	EXPECT_HEX(ak, 6, t->f5);
	EXPECT_HEX(aks, 6, t->f5s);
}
END_TEST

/* The UE side accepts the network's AUTN for every set and recovers SQN
 * and the same keys; one flipped bit in MAC-A is refused. */
START_TEST(milenage_autn_roundtrip_set)
{
	const struct milenage_set *t = &sets[_i];
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2], sqn2[6], res[8], ck[16], ik[16];
	struct gba_aka_vector av;

	th_unhex(t->k, k, 16);
	th_unhex(t->opc, opc, 16);
	th_unhex(t->rand, rand, 16);
	th_unhex(t->sqn, sqn, 6);
	th_unhex(t->amf, amf, 2);
	ck_assert_int_eq(gba_milenage_vector(k, opc, rand, sqn, amf, &av), 0);
	EXPECT_HEX(av.xres, 8, t->f2);
	ck_assert_mem_eq(av.autn + 6, amf, 2);
	EXPECT_HEX(av.autn + 8, 8, t->f1);
	ck_assert_int_eq(gba_milenage_check_autn(k, opc, rand, av.autn, sqn2, res, ck, ik), 0);
	ck_assert_mem_eq(sqn2, sqn, 6);
	ck_assert_mem_eq(res, av.xres, 8);
	ck_assert_mem_eq(ck, av.ck, 16);
	ck_assert_mem_eq(ik, av.ik, 16);
	av.autn[15] ^= 0x01;
	memset(sqn2, 0xaa, 6);
	ck_assert_int_eq(gba_milenage_check_autn(k, opc, rand, av.autn, sqn2, NULL, NULL, NULL),
	                 GBA_EAUTH);
	ck_assert_uint_eq(sqn2[0], 0xaa);  /* nothing written on failure */
}
END_TEST

/* ---- gba.md 2.4 reference vectors (set 1 inputs) ---- */

static const char impi[] = "001010123456789@ims.mnc001.mcc001.3gppnetwork.org";
static const char naf[] = "naf.example.org";
static const char bsf[] = "bsf.mnc001.mcc001.pub.3gppnetwork.org";

static void set1(uint8_t k[16], uint8_t opc[16], uint8_t rand[16], uint8_t sqn[6],
                 uint8_t amf[2])
{
	th_unhex(sets[0].k, k, 16);
	th_unhex(sets[0].opc, opc, 16);
	th_unhex(sets[0].rand, rand, 16);
	th_unhex(sets[0].sqn, sqn, 6);
	th_unhex(sets[0].amf, amf, 2);
}

START_TEST(gba_vectors_autn_nonce_ks_btid)
{
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2], ks[32], both[32];
	struct gba_aka_vector av;
	char s[256];

	set1(k, opc, rand, sqn, amf);
	ck_assert_int_eq(gba_milenage_vector(k, opc, rand, sqn, amf, &av), 0);
	EXPECT_HEX(av.autn, 16, "55f328b43577b9b94a9ffac354dfafb3");
	memcpy(both, rand, 16);
	memcpy(both + 16, av.autn, 16);
	ck_assert_int_eq(gba_base64_encode(both, 32, s, sizeof(s)), 44);
	ck_assert_str_eq(s, "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
	gba_ks_from_ck_ik(av.ck, av.ik, ks);
	EXPECT_HEX(ks, 32, "b40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441");
	ck_assert_int_eq(gba_btid(rand, bsf, strlen(bsf), s, sizeof(s)),
	                 (int)strlen("I1U8vpY3qJ0hiuZNrke/NQ==@") + (int)strlen(bsf));
	ck_assert_str_eq(s, "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org");
	/* too small an output buffer is refused, not truncated */
	ck_assert_int_eq(gba_btid(rand, bsf, strlen(bsf), s, 30), GBA_ETOOBIG);
}
END_TEST

START_TEST(gba_vectors_ks_naf)
{
	uint8_t ks[32], rand[16], out[32];
	char pw[64];

	th_unhex("b40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441", ks, 32);
	th_unhex(sets[0].rand, rand, 16);
	ck_assert_int_eq(gba_ks_naf(ks, rand, impi, strlen(impi), naf, strlen(naf),
	                            gba_ua_id_http_digest, out), 0);
	EXPECT_HEX(out, 32, "7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610");
	ck_assert_int_eq(gba_base64_encode(out, 32, pw, sizeof(pw)), 44);
	ck_assert_str_eq(pw, "eiBc54axTa1vKNH4s510q6KhcqPBNAQ7sDaRLiA2thA=");
	ck_assert_int_eq(gba_ks_int_naf(ks, rand, impi, strlen(impi), naf, strlen(naf),
	                                gba_ua_id_http_digest, out), 0);
	EXPECT_HEX(out, 32, "3e9f04a7de64efd1db6843a0a5f1c5677b7f7cc3fb7a37b7c53dcb4b2806b19c");
	/* the Ua protocol id is part of NAF_Id: the PKI portal id gives another key */
	ck_assert_int_eq(gba_ks_naf(ks, rand, impi, strlen(impi), naf, strlen(naf),
	                            gba_ua_id_pki_portal, out), 0);
	th_unhex("7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610", ks, 32);
	ck_assert(memcmp(out, ks, 32) != 0);
}
END_TEST

START_TEST(gba_vectors_tmpi)
{
	uint8_t ks[32], rand[16];
	char s[128];

	th_unhex("b40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441", ks, 32);
	th_unhex(sets[0].rand, rand, 16);
	ck_assert_int_gt(gba_tmpi(ks, rand, impi, strlen(impi), bsf, strlen(bsf), s, sizeof(s)), 0);
	ck_assert_str_eq(s, "NdfNQvvGWK4SGbs7c17alrZHQXyhEcrW@tmpi.bsf.3gppnetwork.org");
}
END_TEST

/* The KDF string S, spelled out in gba.md 2.4, hashed by hand. */
START_TEST(kdf_matches_explicit_s)
{
	uint8_t ks[32], rand[16], s[256], want[32], got[32];
	size_t n = 0, il = strlen(impi), nl = strlen(naf);
	struct gba_kdf_param p[4];

	th_unhex("b40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441", ks, 32);
	th_unhex(sets[0].rand, rand, 16);
	s[n++] = 0x01;
	memcpy(s + n, "gba-me", 6), n += 6;
	s[n++] = 0, s[n++] = 6;
	memcpy(s + n, rand, 16), n += 16;
	s[n++] = 0, s[n++] = 16;
	memcpy(s + n, impi, il), n += il;
	s[n++] = 0, s[n++] = (uint8_t)il;
	memcpy(s + n, naf, nl), n += nl;
	memcpy(s + n, gba_ua_id_http_digest, 5), n += 5;
	s[n++] = 0, s[n++] = (uint8_t)(nl + 5);
	ck_assert_int_eq(gba_hmac_fast(GBA_HASH_SHA256, ks, 32, s, n, want), 0);
	p[0].data = "gba-me", p[0].len = 6;
	p[1].data = rand, p[1].len = 16;
	p[2].data = impi, p[2].len = il;
	memcpy(s, naf, nl);
	memcpy(s + nl, gba_ua_id_http_digest, 5);
	p[3].data = s, p[3].len = nl + 5;
	ck_assert_int_eq(gba_kdf(ks, 32, 0x01, p, 4, got), 0);
	ck_assert_mem_eq(got, want, 32);
	p[0].len = 65536;  /* does not fit the 2-octet length */
	ck_assert_int_eq(gba_kdf(ks, 32, 0x01, p, 4, got), GBA_ETOOBIG);
}
END_TEST

static void ub_input(struct gba_digest_input *in, const uint8_t *pw, size_t pwlen)
{
	memset(in, 0, sizeof(*in));
	in->username = gba_str_c(impi);
	in->realm = gba_str_c(bsf);
	in->nonce = GBA_STR_LIT("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
	in->nc = GBA_STR_LIT("00000001");
	in->cnonce = GBA_STR_LIT("0a4f113b");
	in->qop = GBA_QOP_AUTH_INT;
	in->method = GBA_STR_LIT("GET");
	in->uri = GBA_STR_LIT("/");
	in->password = pw;
	in->password_len = pwlen;
}

START_TEST(digest_ub_response_vector)
{
	uint8_t res[8];
	struct gba_digest_input in;
	char out[33];

	th_unhex(sets[0].f2, res, 8);
	ub_input(&in, res, 8);
	ck_assert_int_eq(gba_digest_response(&in, out), 0);
	ck_assert_str_eq(out, "26d91881d4f34c67c3c171426686ad62");
	ck_assert_int_eq(gba_digest_verify(&in, GBA_STR_LIT("26d91881d4f34c67c3c171426686ad62")), 0);
	ck_assert_int_eq(gba_digest_verify(&in, GBA_STR_LIT("26d91881d4f34c67c3c171426686ad63")),
	                 GBA_EAUTH);
	ck_assert_int_eq(gba_digest_verify(&in, GBA_STR_LIT("26d91881d4f34c67c3c171426686ad6")),
	                 GBA_EAUTH);
	/* a wrong RES as password fails */
	res[0] ^= 1;
	ck_assert_int_eq(gba_digest_verify(&in, GBA_STR_LIT("26d91881d4f34c67c3c171426686ad62")),
	                 GBA_EAUTH);
}
END_TEST

START_TEST(digest_resync_auts_vector)
{
	uint8_t k[16], opc[16], rand[16], sqn[6], amf[2], auts[14], sqn_ms[6], got[6];
	struct gba_digest_input in;
	char out[33], b64[32];

	set1(k, opc, rand, sqn, amf);
	th_unhex("000000000021", sqn_ms, 6);
	ck_assert_int_eq(gba_milenage_auts(k, opc, rand, sqn_ms, auts), 0);
	EXPECT_HEX(auts, 14, "451e8beca41a80125eca8884b56a");
	ck_assert_int_eq(gba_base64_encode(auts, 14, b64, sizeof(b64)), 20);
	ck_assert_str_eq(b64, "RR6L7KQagBJeyoiEtWo=");
	/* network side recovers SQN_MS */
	ck_assert_int_eq(gba_milenage_auts_check(k, opc, rand, auts, got), 0);
	ck_assert_mem_eq(got, sqn_ms, 6);
	auts[13] ^= 0x80;
	memset(got, 0x55, 6);
	ck_assert_int_eq(gba_milenage_auts_check(k, opc, rand, auts, got), GBA_EAUTH);
	ck_assert_uint_eq(got[0], 0x55);
	/* the resync response uses an empty password */
	ub_input(&in, (const uint8_t *)"", 0);
	ck_assert_int_eq(gba_digest_response(&in, out), 0);
	ck_assert_str_eq(out, "9a8bad61a1e6d2b158374c79d9e198ed");
}
END_TEST

/* RFC 2617 3.5 example: qop=auth, MD5, password "Circle Of Life". */
START_TEST(digest_rfc2617_example)
{
	struct gba_digest_input in;
	char out[33];

	memset(&in, 0, sizeof(in));
	in.username = GBA_STR_LIT("Mufasa");
	in.realm = GBA_STR_LIT("testrealm@host.com");
	in.nonce = GBA_STR_LIT("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	in.nc = GBA_STR_LIT("00000001");
	in.cnonce = GBA_STR_LIT("0a4f113b");
	in.qop = GBA_QOP_AUTH;
	in.method = GBA_STR_LIT("GET");
	in.uri = GBA_STR_LIT("/dir/index.html");
	in.password = (const uint8_t *)"Circle Of Life";
	in.password_len = 14;
	ck_assert_int_eq(gba_digest_response(&in, out), 0);
	ck_assert_str_eq(out, "6629fae49393a05397450978507c4ef1");
	/* qop without cnonce cannot be computed */
	in.cnonce.len = 0;
	ck_assert_int_eq(gba_digest_response(&in, out), GBA_EMISSING);
}
END_TEST

START_TEST(base64_is_strict)
{
	uint8_t out[32];

	ck_assert_int_eq(gba_base64_decode("RR6L7KQagBJeyoiEtWo=", 20, out, sizeof(out)), 14);
	ck_assert_int_eq(gba_base64_decode("RR6L7KQagBJeyoiEtWo", 19, out, sizeof(out)), GBA_ESYNTAX);
	ck_assert_int_eq(gba_base64_decode("RR6L 7KQagBJeyoiEtWo", 20, out, sizeof(out)), GBA_ESYNTAX);
	ck_assert_int_eq(gba_base64_decode("RR6L7KQa=BJeyoiEtWo=", 20, out, sizeof(out)), GBA_ESYNTAX);
	ck_assert_int_eq(gba_base64_decode("RR6L7KQagBJeyoiEtWo=", 20, out, 13), GBA_ETOOBIG);
	ck_assert_int_eq(gba_hex_decode("0g", 2, out, 1), GBA_ESYNTAX);
}
END_TEST

START_TEST(secret_wipes_and_compares)
{
	struct gba_secret a, b;
	struct gba_secret *h;
	uint8_t big[GBA_SECRET_MAX + 1] = { 0 };

	ck_assert_int_eq(gba_secret_set(&a, "0123456789abcdef", 16), 0);
	ck_assert_int_eq(gba_secret_set(&b, "0123456789abcdef", 16), 0);
	ck_assert(gba_secret_equal(&a, &b));
	b.b[15] ^= 1;
	ck_assert(!gba_secret_equal(&a, &b));
	ck_assert_int_eq(gba_secret_set(&b, "0123456789abcde", 15), 0);
	ck_assert(!gba_secret_equal(&a, &b));
	gba_secret_clear(&a);
	ck_assert_uint_eq(a.len, 0);
	ck_assert_uint_eq(a.b[0], 0);
	ck_assert_uint_eq(a.b[15], 0);
	ck_assert_int_eq(gba_secret_set(&a, big, sizeof(big)), GBA_ETOOBIG);
	ck_assert_uint_eq(a.len, 0);
	h = gba_secret_new();
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(gba_secret_set(h, "k", 1), 0);
	gba_secret_free(h);
}
END_TEST

START_TEST(aead_seals_and_detects_tampering)
{
	uint8_t key[32], out[64], back[64];
	int n;

	memset(key, 0x42, sizeof(key));
	n = gba_aead_seal(key, "impi-a", 6, "0123456789abcdef", 16, out, sizeof(out));
	ck_assert_int_eq(n, 16 + 28);
	ck_assert_int_eq(gba_aead_open(key, "impi-a", 6, out, (size_t)n, back, sizeof(back)), 16);
	ck_assert_mem_eq(back, "0123456789abcdef", 16);
	/* other associated data: the row moved to another identity */
	ck_assert_int_eq(gba_aead_open(key, "impi-b", 6, out, (size_t)n, back, sizeof(back)),
	                 GBA_EAUTH);
	out[20] ^= 1;
	ck_assert_int_eq(gba_aead_open(key, "impi-a", 6, out, (size_t)n, back, sizeof(back)),
	                 GBA_EAUTH);
	out[20] ^= 1;
	key[0] ^= 1;
	ck_assert_int_eq(gba_aead_open(key, "impi-a", 6, out, (size_t)n, back, sizeof(back)),
	                 GBA_EAUTH);
	ck_assert_int_eq(gba_aead_open(key, "impi-a", 6, out, 27, back, sizeof(back)), GBA_EAUTH);
	ck_assert_int_eq(gba_aead_seal(key, NULL, 0, "x", 1, out, 28), GBA_ETOOBIG);
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("vectors");

	tcase_add_loop_test(tc, milenage_ts35208_set, 0, (int)NSETS);
	tcase_add_loop_test(tc, milenage_autn_roundtrip_set, 0, (int)NSETS);
	tcase_add_test(tc, gba_vectors_autn_nonce_ks_btid);
	tcase_add_test(tc, gba_vectors_ks_naf);
	tcase_add_test(tc, gba_vectors_tmpi);
	tcase_add_test(tc, kdf_matches_explicit_s);
	tcase_add_test(tc, digest_ub_response_vector);
	tcase_add_test(tc, digest_resync_auts_vector);
	tcase_add_test(tc, digest_rfc2617_example);
	tcase_add_test(tc, base64_is_strict);
	tcase_add_test(tc, secret_wipes_and_compares);
	tcase_add_test(tc, aead_seals_and_detects_tampering);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run(crypto_suite());
}
