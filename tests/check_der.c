/*
 * check_der.c - unit tests for the strict DER gate (lib/gba_der.c).
 *
 * One negative case per rule listed in gba_der.h, each pinning the
 * return code, the offset and the reason text, plus the boundaries of
 * max_len and max_depth and a real certificate made with
 *
 *   openssl ecparam -name prime256v1 -genkey -noout -out k.pem
 *   openssl req -new -x509 -key k.pem -subj /CN=gba-test -days 3650 \
 *           -outform DER -out cert.der
 *
 * Debug a failure with CK_FORK=no.
 */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gba_der.h"
#include "gba_err.h"
#include "gba_limits.h"

/* Self-signed EC P-256 certificate, 383 octets; deepest nesting is 5. */
static const uint8_t cert_der[] = {
	0x30, 0x82, 0x01, 0x7b, 0x30, 0x82, 0x01, 0x21, 0xa0, 0x03, 0x02, 0x01,
	0x02, 0x02, 0x14, 0x2f, 0x3b, 0x24, 0x77, 0xeb, 0x41, 0x73, 0x8c, 0x50,
	0xbb, 0x49, 0xb3, 0xd8, 0x0a, 0x24, 0xb4, 0x46, 0x2e, 0x5f, 0xf8, 0x30,
	0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
	0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x08,
	0x67, 0x62, 0x61, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x30, 0x1e, 0x17, 0x0d,
	0x32, 0x36, 0x31, 0x31, 0x32, 0x33, 0x31, 0x38, 0x34, 0x37, 0x31, 0x33,
	0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31, 0x32, 0x30, 0x31, 0x38, 0x34,
	0x37, 0x31, 0x33, 0x5a, 0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03,
	0x55, 0x04, 0x03, 0x0c, 0x08, 0x67, 0x62, 0x61, 0x2d, 0x74, 0x65, 0x73,
	0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
	0x03, 0x42, 0x00, 0x04, 0x3f, 0x3d, 0x68, 0xb4, 0x5e, 0x5b, 0x9e, 0x2b,
	0x2b, 0x2c, 0x92, 0x7b, 0xfa, 0xc8, 0x9f, 0x4d, 0x9f, 0x5f, 0x40, 0xbe,
	0xa6, 0xa4, 0x6d, 0x56, 0x95, 0x8e, 0x36, 0xbe, 0x91, 0x58, 0x18, 0xf2,
	0x72, 0x94, 0x1a, 0xb6, 0x8e, 0xc6, 0xd9, 0x9f, 0xa7, 0x5f, 0xe1, 0x3e,
	0xba, 0x06, 0x99, 0x46, 0xa3, 0xf7, 0xf8, 0xa7, 0xc9, 0x6d, 0x54, 0x28,
	0x06, 0x5b, 0x23, 0xc5, 0x64, 0x75, 0x8a, 0xaf, 0xa3, 0x53, 0x30, 0x51,
	0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x30,
	0xa6, 0x1e, 0xbb, 0xed, 0x26, 0xde, 0xd8, 0xd8, 0x31, 0xef, 0x7a, 0xeb,
	0x5c, 0xda, 0x21, 0x56, 0x39, 0x3c, 0xd7, 0x30, 0x1f, 0x06, 0x03, 0x55,
	0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x30, 0xa6, 0x1e, 0xbb,
	0xed, 0x26, 0xde, 0xd8, 0xd8, 0x31, 0xef, 0x7a, 0xeb, 0x5c, 0xda, 0x21,
	0x56, 0x39, 0x3c, 0xd7, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
	0x01, 0xff, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff, 0x30, 0x0a, 0x06,
	0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00,
	0x30, 0x45, 0x02, 0x20, 0x70, 0x58, 0xf7, 0x48, 0xd2, 0x7f, 0xdc, 0x4c,
	0x83, 0x2f, 0xda, 0xc3, 0x21, 0xa0, 0xd7, 0xf1, 0x4f, 0xd3, 0x02, 0xc8,
	0x65, 0xe4, 0xaf, 0xec, 0xcf, 0xc3, 0xe9, 0x8c, 0x7c, 0x31, 0x1d, 0x19,
	0x02, 0x21, 0x00, 0xe0, 0x0a, 0x8d, 0x72, 0xc7, 0x2b, 0x42, 0x7e, 0x26,
	0x55, 0x68, 0x28, 0xa5, 0x14, 0xaa, 0x5d, 0x9f, 0xe9, 0xd9, 0x49, 0x2b,
	0x23, 0xe3, 0x72, 0x0b, 0x9b, 0x30, 0xe6, 0x28, 0x51, 0x00, 0xc8
};

#define ERR_SENTINEL_OFF ((size_t)0x5a5a)

/*
 * Run the gate and pin rc, offset and reason.  A macro, so a failure
 * names the line of the case rather than a helper.
 */
#define CHECK_REJECT(buf, len, max_len, max_depth, xrc, xoff, xreason)  \
	do {                                                            \
		struct gba_der_error e_ = { ERR_SENTINEL_OFF, NULL };   \
		int rc_ = gba_der_check((buf), (len), (max_len),        \
					(max_depth), &e_);              \
		ck_assert_int_eq(rc_, (xrc));                           \
		ck_assert_uint_eq(e_.offset, (xoff));                   \
		ck_assert_ptr_nonnull(e_.reason);                       \
		ck_assert_str_eq(e_.reason, (xreason));                 \
		ck_assert_uint_le(e_.offset, (len));                    \
	} while (0)

#define REJECT(arr, xrc, xoff, xreason)                                 \
	CHECK_REJECT((arr), sizeof(arr), GBA_MAX_DER_LEN,               \
		     GBA_MAX_DER_DEPTH, (xrc), (xoff), (xreason))

/* Accept, and leave *err exactly as it was. */
#define CHECK_ACCEPT(buf, len, max_len, max_depth)                      \
	do {                                                            \
		static const char sentinel_[] = "sentinel";             \
		struct gba_der_error e_ = { ERR_SENTINEL_OFF, sentinel_ }; \
		int rc_ = gba_der_check((buf), (len), (max_len),        \
					(max_depth), &e_);              \
		ck_assert_int_eq(rc_, 0);                               \
		ck_assert_uint_eq(e_.offset, ERR_SENTINEL_OFF);         \
		ck_assert_ptr_eq(e_.reason, sentinel_);                 \
	} while (0)

#define ACCEPT(arr)                                                     \
	CHECK_ACCEPT((arr), sizeof(arr), GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH)

/* Room for GBA_DER_DEPTH_CAP + 1 nested SEQUENCEs of up to 4 header octets. */
#define NEST_MAX  (GBA_DER_DEPTH_CAP + 1u)
#define NEST_BUF  (4u * NEST_MAX)

/*
 * Write n nested SEQUENCEs, the innermost empty, to out[0..); starts[k]
 * gets the offset of the SEQUENCE at nesting level k + 1.
 */
static size_t
build_nested(uint8_t *out, size_t n, size_t *starts)
{
	size_t pos = NEST_BUF;
	size_t k, clen, len;

	ck_assert_uint_le(n, NEST_MAX);
	for (k = n; k > 0; k--) {
		clen = NEST_BUF - pos;
		if (clen < 0x80) {
			out[--pos] = (uint8_t)clen;
		} else if (clen < 0x100) {
			out[--pos] = (uint8_t)clen;
			out[--pos] = 0x81;
		} else {
			ck_assert_uint_lt(clen, 0x10000);
			out[--pos] = (uint8_t)(clen & 0xff);
			out[--pos] = (uint8_t)(clen >> 8);
			out[--pos] = 0x82;
		}
		out[--pos] = 0x30;
		starts[k - 1] = pos;
	}
	len = NEST_BUF - pos;
	memmove(out, out + pos, len);
	for (k = 0; k < n; k++)
		starts[k] -= pos;
	return len;
}

/* ---- accepted input ---------------------------------------------- */

START_TEST(test_cert_accepted)
{
	struct gba_der_error e = { ERR_SENTINEL_OFF, NULL };

	ACCEPT(cert_der);
	ck_assert_int_eq(gba_der_check_default(cert_der, sizeof(cert_der),
					       &e), 0);
	ck_assert_uint_eq(e.offset, ERR_SENTINEL_OFF);
	ck_assert_ptr_null(e.reason);
	/* err may be NULL. */
	ck_assert_int_eq(gba_der_check_default(cert_der, sizeof(cert_der),
					       NULL), 0);
}
END_TEST

START_TEST(test_cert_depth_boundary)
{
	/* Deepest path: Certificate/TBS/issuer/RDN SET/ATV = 5. */
	CHECK_ACCEPT(cert_der, sizeof(cert_der), sizeof(cert_der), 5);
	/* The first ATV SEQUENCE (at 51) is the 5th level. */
	CHECK_REJECT(cert_der, sizeof(cert_der), sizeof(cert_der), 4,
		     GBA_EDEPTH, 51, "nesting deeper than limit");
}
END_TEST

START_TEST(test_valid_primitives_accepted)
{
	static const uint8_t null0[] = { 0x05, 0x00 };
	static const uint8_t bool_true[] = { 0x01, 0x01, 0xff };
	static const uint8_t bool_false[] = { 0x01, 0x01, 0x00 };
	static const uint8_t int_zero[] = { 0x02, 0x01, 0x00 };
	static const uint8_t int_128[] = { 0x02, 0x02, 0x00, 0x80 };
	static const uint8_t int_m129[] = { 0x02, 0x02, 0xff, 0x7f };
	static const uint8_t bits_empty[] = { 0x03, 0x01, 0x00 };
	static const uint8_t bits_pad[] = { 0x03, 0x02, 0x03, 0xf8 };
	static const uint8_t oid[] = { 0x06, 0x03, 0x2a, 0x86, 0x48 };
	static const uint8_t utc[] = { 0x17, 0x0d, '2', '5', '0', '1', '0',
				       '1', '0', '0', '0', '0', '0', '0', 'Z' };
	static const uint8_t seq_empty[] = { 0x30, 0x00 };
	static const uint8_t ostr_empty[] = { 0x04, 0x00 };

	ACCEPT(null0);
	ACCEPT(bool_true);
	ACCEPT(bool_false);
	ACCEPT(int_zero);
	ACCEPT(int_128);
	ACCEPT(int_m129);
	ACCEPT(bits_empty);
	ACCEPT(bits_pad);
	ACCEPT(oid);
	ACCEPT(utc);
	ACCEPT(seq_empty);
	ACCEPT(ostr_empty);
}
END_TEST

START_TEST(test_context_tags_either_form)
{
	/* [0] IMPLICIT primitive, [1] constructed, [APPLICATION 2], [PRIVATE 3] */
	static const uint8_t in[] = {
		0x30, 0x0b,
		0x80, 0x01, 0x00,	/* content not checked: any octet */
		0xa1, 0x02, 0x05, 0x00,
		0x42, 0x00,
		0xe3, 0x00,
	};
	/* Context tag with "BOOLEAN-looking" bad content is not checked. */
	static const uint8_t ctx_prim[] = { 0x81, 0x02, 0x00, 0x01 };

	ACCEPT(in);
	ACCEPT(ctx_prim);
}
END_TEST

START_TEST(test_long_form_lengths_accepted)
{
	static uint8_t b128[3 + 128];
	static uint8_t b256[4 + 256];

	memset(b128, 0, sizeof(b128));
	b128[0] = 0x04;
	b128[1] = 0x81;
	b128[2] = 0x80;
	ACCEPT(b128);

	memset(b256, 0, sizeof(b256));
	b256[0] = 0x04;
	b256[1] = 0x82;
	b256[2] = 0x01;
	b256[3] = 0x00;
	ACCEPT(b256);
}
END_TEST

START_TEST(test_high_tag_accepted)
{
	/* [31] primitive: the smallest number that needs the high form. */
	static const uint8_t t31[] = { 0x9f, 0x1f, 0x00 };
	/* [128] constructed: two tag-number octets. */
	static const uint8_t t128[] = { 0xbf, 0x81, 0x00, 0x02, 0x05, 0x00 };
	/* [2^28]: the largest tag number accepted. */
	static const uint8_t t2_28[] = {
		0x9f, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00
	};

	ACCEPT(t31);
	ACCEPT(t128);
	ACCEPT(t2_28);
}
END_TEST

/* ---- arguments and size limit ------------------------------------- */

START_TEST(test_empty_input)
{
	static const uint8_t one[] = { 0x05 };

	CHECK_REJECT(one, 0, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH,
		     GBA_EINVAL, 0, "empty input");
	CHECK_REJECT(NULL, 0, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH,
		     GBA_EINVAL, 0, "empty input");
	/* err may be NULL on failure too. */
	ck_assert_int_eq(gba_der_check_default(one, 0, NULL), GBA_EINVAL);
}
END_TEST

START_TEST(test_null_buffer)
{
	struct gba_der_error e = { ERR_SENTINEL_OFF, NULL };

	ck_assert_int_eq(gba_der_check(NULL, 2, 10, 4, &e), GBA_EINVAL);
	ck_assert_uint_eq(e.offset, 0);
	ck_assert_str_eq(e.reason, "NULL buffer");
}
END_TEST

START_TEST(test_max_depth_above_cap)
{
	static const uint8_t null0[] = { 0x05, 0x00 };

	CHECK_ACCEPT(null0, sizeof(null0), 2, GBA_DER_DEPTH_CAP);
	CHECK_REJECT(null0, sizeof(null0), 2, GBA_DER_DEPTH_CAP + 1u,
		     GBA_EINVAL, 0, "max_depth above GBA_DER_DEPTH_CAP");
}
END_TEST

START_TEST(test_max_len_boundary)
{
	CHECK_ACCEPT(cert_der, sizeof(cert_der), sizeof(cert_der), 5);
	CHECK_REJECT(cert_der, sizeof(cert_der), sizeof(cert_der) - 1, 5,
		     GBA_ETOOBIG, sizeof(cert_der) - 1,
		     "input longer than max_len");
	CHECK_REJECT(cert_der, sizeof(cert_der), 0, 5,
		     GBA_ETOOBIG, 0, "input longer than max_len");
}
END_TEST

START_TEST(test_default_max_len_boundary)
{
	static uint8_t big[GBA_MAX_DER_LEN + 1];
	size_t clen = GBA_MAX_DER_LEN - 4;

	/* OCTET STRING filling exactly GBA_MAX_DER_LEN octets. */
	memset(big, 0, sizeof(big));
	big[0] = 0x04;
	big[1] = 0x82;
	big[2] = (uint8_t)(clen >> 8);
	big[3] = (uint8_t)(clen & 0xff);
	ck_assert_int_eq(gba_der_check_default(big, GBA_MAX_DER_LEN, NULL), 0);
	CHECK_REJECT(big, GBA_MAX_DER_LEN + 1, GBA_MAX_DER_LEN,
		     GBA_MAX_DER_DEPTH, GBA_ETOOBIG, GBA_MAX_DER_LEN,
		     "input longer than max_len");
}
END_TEST

/* ---- truncation ---------------------------------------------------- */

START_TEST(test_trunc_high_tag)
{
	static const uint8_t in[] = { 0x9f, 0x81 };

	REJECT(in, GBA_ETRUNC, 2, "tag truncated");
}
END_TEST

START_TEST(test_trunc_before_length)
{
	static const uint8_t in[] = { 0x04 };
	/* Inside a parent: the child's tag is its parent's last octet. */
	static const uint8_t nested[] = { 0x30, 0x01, 0x04, 0x00 };

	REJECT(in, GBA_ETRUNC, 1, "truncated before length octets");
	REJECT(nested, GBA_ETRUNC, 3, "truncated before length octets");
}
END_TEST

START_TEST(test_trunc_length_octets)
{
	static const uint8_t in[] = { 0x04, 0x82, 0x01 };

	REJECT(in, GBA_ETRUNC, 3, "length octets truncated");
}
END_TEST

START_TEST(test_trunc_content)
{
	static const uint8_t in[] = { 0x04, 0x05, 0x01, 0x02 };

	REJECT(in, GBA_ETRUNC, 1, "length exceeds remaining input");
}
END_TEST

START_TEST(test_trunc_child_past_parent)
{
	/* The child claims 2 octets; its parent has 1 left (0xbb is outside). */
	static const uint8_t in[] = { 0x30, 0x03, 0x04, 0x02, 0xaa, 0xbb };

	REJECT(in, GBA_ETRUNC, 3, "length exceeds enclosing element");
}
END_TEST

START_TEST(test_trunc_4byte_length)
{
	static const uint8_t in[] = { 0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00 };

	REJECT(in, GBA_ETRUNC, 1, "length exceeds remaining input");
}
END_TEST

START_TEST(test_trunc_5byte_length)
{
	static const uint8_t in[] = {
		0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00
	};

	if (sizeof(size_t) >= 5)
		REJECT(in, GBA_ETRUNC, 1, "length exceeds remaining input");
	else
		REJECT(in, GBA_ENOTDER, 1, "length does not fit in size_t");
}
END_TEST

START_TEST(test_length_size_max_no_wrap)
{
	/* A length of exactly SIZE_MAX must not wrap content + length. */
	uint8_t in[2 + sizeof(size_t) + 1];
	size_t i;

	in[0] = 0x04;
	in[1] = (uint8_t)(0x80u | sizeof(size_t));
	for (i = 0; i < sizeof(size_t); i++)
		in[2 + i] = 0xff;
	in[2 + sizeof(size_t)] = 0x00;
	REJECT(in, GBA_ETRUNC, 1, "length exceeds remaining input");
}
END_TEST

START_TEST(test_length_above_size_max)
{
	/* sizeof(size_t) + 1 length octets: the value cannot fit. */
	uint8_t in[2 + sizeof(size_t) + 1 + 4];
	size_t i;

	memset(in, 0, sizeof(in));
	in[0] = 0x04;
	in[1] = (uint8_t)(0x80u | (sizeof(size_t) + 1));
	in[2] = 0x01;
	for (i = 1; i <= sizeof(size_t); i++)
		in[2 + i] = 0x00;
	REJECT(in, GBA_ENOTDER, 1, "length does not fit in size_t");
}
END_TEST

START_TEST(test_cert_every_prefix_truncated)
{
	size_t n;
	struct gba_der_error e;
	int rc;

	for (n = 1; n < sizeof(cert_der); n++) {
		e.offset = ERR_SENTINEL_OFF;
		e.reason = NULL;
		rc = gba_der_check_default(cert_der, n, &e);
		ck_assert_msg(rc == GBA_ETRUNC, "prefix %zu: rc %d", n, rc);
		ck_assert_uint_le(e.offset, n);
		ck_assert_ptr_nonnull(e.reason);
	}
}
END_TEST

/* ---- DER rules ----------------------------------------------------- */

START_TEST(test_trailing_bytes)
{
	static const uint8_t in[] = { 0x05, 0x00, 0x00 };
	static uint8_t cert_plus[sizeof(cert_der) + 2];

	REJECT(in, GBA_ENOTDER, 2, "trailing bytes after element");

	memcpy(cert_plus, cert_der, sizeof(cert_der));
	cert_plus[sizeof(cert_der)] = 0x05;
	cert_plus[sizeof(cert_der) + 1] = 0x00;
	REJECT(cert_plus, GBA_ENOTDER, sizeof(cert_der),
	       "trailing bytes after element");
}
END_TEST

START_TEST(test_indefinite_length)
{
	static const uint8_t in[] = { 0x30, 0x80, 0x05, 0x00, 0x00, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "indefinite length");
}
END_TEST

START_TEST(test_end_of_contents)
{
	static const uint8_t eoc[] = { 0x30, 0x02, 0x00, 0x00 };
	static const uint8_t top[] = { 0x00, 0x00 };
	static const uint8_t cons0[] = { 0x20, 0x00 };

	REJECT(eoc, GBA_ENOTDER, 2, "end-of-contents octets or universal tag 0");
	REJECT(top, GBA_ENOTDER, 0, "end-of-contents octets or universal tag 0");
	REJECT(cons0, GBA_ENOTDER, 0, "end-of-contents octets or universal tag 0");
}
END_TEST

START_TEST(test_reserved_length_octet)
{
	static const uint8_t in[] = { 0x04, 0xff, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "reserved length octet 0xFF");
}
END_TEST

START_TEST(test_nonminimal_length_long_form)
{
	static const uint8_t in[] = { 0x04, 0x81, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t zero[] = { 0x04, 0x81, 0x00 };
	static uint8_t l127[3 + 127];

	REJECT(in, GBA_ENOTDER, 1, "non-minimal length (long form below 128)");
	/* 127 is the boundary: 0x81 0x7F must be 0x7F (0x81 0x80 passes). */
	memset(l127, 0, sizeof(l127));
	l127[0] = 0x04;
	l127[1] = 0x81;
	l127[2] = 0x7f;
	REJECT(l127, GBA_ENOTDER, 1, "non-minimal length (long form below 128)");
	/* 0x81 0x00 has a single zero octet: the leading-zero rule. */
	REJECT(zero, GBA_ENOTDER, 2, "non-minimal length (leading zero octet)");
}
END_TEST

START_TEST(test_nonminimal_length_leading_zero)
{
	/* 0x82 0x00 0x80: 128 in two octets, would be minimal as 0x81 0x80. */
	static uint8_t in[4 + 128];

	memset(in, 0, sizeof(in));
	in[0] = 0x04;
	in[1] = 0x82;
	in[2] = 0x00;
	in[3] = 0x80;
	REJECT(in, GBA_ENOTDER, 2, "non-minimal length (leading zero octet)");
}
END_TEST

START_TEST(test_high_tag_below_31)
{
	static const uint8_t in[] = { 0x9f, 0x1e, 0x00 };
	/* Universal class too: [UNIVERSAL 4] in high form. */
	static const uint8_t univ[] = { 0x1f, 0x04, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "high tag form for tag number below 31");
	REJECT(univ, GBA_ENOTDER, 1, "high tag form for tag number below 31");
}
END_TEST

START_TEST(test_high_tag_leading_0x80)
{
	static const uint8_t in[] = { 0x9f, 0x80, 0x20, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "high tag number with leading 0x80 octet");
}
END_TEST

START_TEST(test_high_tag_above_2_28)
{
	/* 2^28 + 1 */
	static const uint8_t in[] = {
		0x9f, 0x81, 0x80, 0x80, 0x80, 0x01, 0x00
	};
	/* Endless continuation octets: stopped once above 2^28. */
	static const uint8_t longer[] = {
		0x9f, 0x90, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80
	};

	REJECT(in, GBA_ENOTDER, 5, "tag number above 2^28");
	REJECT(longer, GBA_ENOTDER, 5, "tag number above 2^28");
}
END_TEST

START_TEST(test_depth_boundary)
{
	static uint8_t buf[NEST_BUF];
	size_t starts[NEST_MAX];
	size_t len;

	/* Default limit: GBA_MAX_DER_DEPTH accepted, one more rejected. */
	len = build_nested(buf, GBA_MAX_DER_DEPTH, starts);
	CHECK_ACCEPT(buf, len, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH);
	len = build_nested(buf, GBA_MAX_DER_DEPTH + 1, starts);
	CHECK_REJECT(buf, len, GBA_MAX_DER_LEN, GBA_MAX_DER_DEPTH,
		     GBA_EDEPTH, starts[GBA_MAX_DER_DEPTH],
		     "nesting deeper than limit");

	/* Small limit. */
	len = build_nested(buf, 3, starts);
	CHECK_ACCEPT(buf, len, GBA_MAX_DER_LEN, 3);
	CHECK_REJECT(buf, len, GBA_MAX_DER_LEN, 2, GBA_EDEPTH, starts[2],
		     "nesting deeper than limit");

	/* The cap itself, where lengths need the long form. */
	len = build_nested(buf, GBA_DER_DEPTH_CAP, starts);
	CHECK_ACCEPT(buf, len, GBA_MAX_DER_LEN, GBA_DER_DEPTH_CAP);
	len = build_nested(buf, GBA_DER_DEPTH_CAP + 1, starts);
	CHECK_REJECT(buf, len, GBA_MAX_DER_LEN, GBA_DER_DEPTH_CAP,
		     GBA_EDEPTH, starts[GBA_DER_DEPTH_CAP],
		     "nesting deeper than limit");
}
END_TEST

START_TEST(test_depth_zero)
{
	static const uint8_t null0[] = { 0x05, 0x00 };
	static const uint8_t seq[] = { 0x30, 0x00 };
	static const uint8_t ctx[] = { 0xa0, 0x00 };

	CHECK_ACCEPT(null0, sizeof(null0), 16, 0);
	CHECK_REJECT(seq, sizeof(seq), 16, 0, GBA_EDEPTH, 0,
		     "nesting deeper than limit");
	/* Constructed context tags count as nesting too. */
	CHECK_REJECT(ctx, sizeof(ctx), 16, 0, GBA_EDEPTH, 0,
		     "nesting deeper than limit");
}
END_TEST

START_TEST(test_depth_siblings_do_not_add)
{
	/* Three sibling SEQUENCEs inside one: depth 2 only. */
	static const uint8_t in[] = {
		0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00
	};

	CHECK_ACCEPT(in, sizeof(in), 16, 2);
	CHECK_REJECT(in, sizeof(in), 16, 1, GBA_EDEPTH, 2,
		     "nesting deeper than limit");
}
END_TEST

START_TEST(test_constructed_octet_string)
{
	static const uint8_t in[] = { 0x24, 0x03, 0x04, 0x01, 0xaa };

	REJECT(in, GBA_ENOTDER, 0, "constructed form of a primitive-only type");
}
END_TEST

START_TEST(test_constructed_bit_string)
{
	static const uint8_t in[] = { 0x30, 0x05, 0x23, 0x03, 0x03, 0x01, 0x00 };

	REJECT(in, GBA_ENOTDER, 2, "constructed form of a primitive-only type");
}
END_TEST

START_TEST(test_constructed_primitive_only_all)
{
	static const unsigned prim[] = {
		1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 14, 18, 19, 20, 21, 22,
		23, 24, 25, 26, 27, 28, 30, 31, 32, 33, 34, 35, 36
	};
	uint8_t in[3];
	struct gba_der_error e;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(prim) / sizeof(prim[0]); i++) {
		if (prim[i] < 31) {
			in[0] = (uint8_t)(0x20u | prim[i]);
			in[1] = 0x00;
			n = 2;
		} else {
			in[0] = 0x3f;
			in[1] = (uint8_t)prim[i];
			in[2] = 0x00;
			n = 3;
		}
		e.reason = NULL;
		rc = gba_der_check_default(in, n, &e);
		ck_assert_msg(rc == GBA_ENOTDER, "tag %u: rc %d", prim[i], rc);
		ck_assert_uint_eq(e.offset, 0);
		ck_assert_str_eq(e.reason,
				 "constructed form of a primitive-only type");
	}
}
END_TEST

START_TEST(test_primitive_sequence_set)
{
	static const uint8_t seq[] = { 0x10, 0x00 };
	static const uint8_t set[] = { 0x30, 0x02, 0x11, 0x00 };
	static const unsigned cons[] = { 8, 11, 16, 17, 29 };
	uint8_t in[2];
	size_t i;

	REJECT(seq, GBA_ENOTDER, 0,
	       "primitive SEQUENCE, SET or other constructed-only type");
	REJECT(set, GBA_ENOTDER, 2,
	       "primitive SEQUENCE, SET or other constructed-only type");
	for (i = 0; i < sizeof(cons) / sizeof(cons[0]); i++) {
		in[0] = (uint8_t)cons[i];
		in[1] = 0x00;
		REJECT(in, GBA_ENOTDER, 0,
		       "primitive SEQUENCE, SET or other constructed-only type");
	}
}
END_TEST

START_TEST(test_reserved_universal_tag)
{
	static const uint8_t t15[] = { 0x0f, 0x00 };
	static const uint8_t t37[] = { 0x1f, 0x25, 0x00 };

	REJECT(t15, GBA_ENOTDER, 0, "reserved universal tag number");
	REJECT(t37, GBA_ENOTDER, 0, "reserved universal tag number");
}
END_TEST

START_TEST(test_boolean_length)
{
	static const uint8_t two[] = { 0x01, 0x02, 0xff, 0xff };
	static const uint8_t none[] = { 0x01, 0x00 };

	REJECT(two, GBA_ENOTDER, 1, "BOOLEAN length not 1");
	REJECT(none, GBA_ENOTDER, 1, "BOOLEAN length not 1");
}
END_TEST

START_TEST(test_boolean_value)
{
	static const uint8_t in[] = { 0x01, 0x01, 0x01 };
	static uint8_t cert[sizeof(cert_der)];

	REJECT(in, GBA_ENOTDER, 2, "BOOLEAN value not 0x00 or 0xFF");
	/* basicConstraints' critical flag, deep inside the certificate. */
	memcpy(cert, cert_der, sizeof(cert));
	ck_assert_uint_eq(cert[289], 0xff);
	cert[289] = 0x01;
	REJECT(cert, GBA_ENOTDER, 289, "BOOLEAN value not 0x00 or 0xFF");
}
END_TEST

START_TEST(test_integer_empty)
{
	static const uint8_t in[] = { 0x02, 0x00 };
	static const uint8_t en[] = { 0x0a, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "INTEGER with empty content");
	REJECT(en, GBA_ENOTDER, 1, "INTEGER with empty content");
}
END_TEST

START_TEST(test_integer_redundant_leading)
{
	static const uint8_t zero[] = { 0x02, 0x02, 0x00, 0x7f };
	static const uint8_t ones[] = { 0x02, 0x02, 0xff, 0x80 };
	static const uint8_t enumer[] = { 0x0a, 0x02, 0x00, 0x01 };

	REJECT(zero, GBA_ENOTDER, 2, "INTEGER with redundant leading octet");
	REJECT(ones, GBA_ENOTDER, 2, "INTEGER with redundant leading octet");
	REJECT(enumer, GBA_ENOTDER, 2, "INTEGER with redundant leading octet");
}
END_TEST

START_TEST(test_null_content)
{
	static const uint8_t in[] = { 0x05, 0x01, 0x00 };

	REJECT(in, GBA_ENOTDER, 2, "NULL with content");
}
END_TEST

START_TEST(test_bit_string_empty)
{
	static const uint8_t in[] = { 0x03, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "BIT STRING with empty content");
}
END_TEST

START_TEST(test_bit_string_unused_above_7)
{
	static const uint8_t in[] = { 0x03, 0x02, 0x08, 0x00 };
	static uint8_t cert[sizeof(cert_der)];

	REJECT(in, GBA_ENOTDER, 2, "BIT STRING unused bits > 7");
	/* The signature BIT STRING at 309, unused-bits octet at 311. */
	memcpy(cert, cert_der, sizeof(cert));
	ck_assert_uint_eq(cert[309], 0x03);
	cert[311] = 0x08;
	REJECT(cert, GBA_ENOTDER, 311, "BIT STRING unused bits > 7");
}
END_TEST

START_TEST(test_bit_string_unused_without_data)
{
	static const uint8_t in[] = { 0x03, 0x01, 0x01 };

	REJECT(in, GBA_ENOTDER, 2, "BIT STRING unused bits without data");
}
END_TEST

START_TEST(test_bit_string_padding)
{
	static const uint8_t in[] = { 0x03, 0x03, 0x03, 0xff, 0xf9 };
	static const uint8_t seven[] = { 0x03, 0x02, 0x07, 0x81 };

	REJECT(in, GBA_ENOTDER, 4, "BIT STRING padding bits not zero");
	REJECT(seven, GBA_ENOTDER, 3, "BIT STRING padding bits not zero");
}
END_TEST

START_TEST(test_oid_empty)
{
	static const uint8_t in[] = { 0x06, 0x00 };
	static const uint8_t rel[] = { 0x0d, 0x00 };

	REJECT(in, GBA_ENOTDER, 1, "OBJECT IDENTIFIER with empty content");
	REJECT(rel, GBA_ENOTDER, 1, "OBJECT IDENTIFIER with empty content");
}
END_TEST

START_TEST(test_oid_nonminimal_subid)
{
	static const uint8_t in[] = { 0x06, 0x03, 0x2a, 0x80, 0x01 };
	static const uint8_t first[] = { 0x06, 0x02, 0x80, 0x01 };

	REJECT(in, GBA_ENOTDER, 3, "OBJECT IDENTIFIER subidentifier not minimal");
	REJECT(first, GBA_ENOTDER, 2,
	       "OBJECT IDENTIFIER subidentifier not minimal");
}
END_TEST

START_TEST(test_oid_truncated_subid)
{
	static const uint8_t in[] = { 0x06, 0x02, 0x2a, 0x86 };

	REJECT(in, GBA_ENOTDER, 3,
	       "OBJECT IDENTIFIER last subidentifier truncated");
}
END_TEST

START_TEST(test_time_without_z)
{
	static const uint8_t utc[] = { 0x17, 0x0c, '2', '5', '0', '1', '0',
				       '1', '0', '0', '0', '0', '0', '0' };
	static const uint8_t gen_empty[] = { 0x18, 0x00 };
	static uint8_t cert[sizeof(cert_der)];

	REJECT(utc, GBA_ENOTDER, 13, "time not ending in 'Z'");
	REJECT(gen_empty, GBA_ENOTDER, 1, "time not ending in 'Z'");
	/* notBefore at 70, its 'Z' at 84. */
	memcpy(cert, cert_der, sizeof(cert));
	ck_assert_uint_eq(cert[84], 'Z');
	cert[84] = '0';
	REJECT(cert, GBA_ENOTDER, 84, "time not ending in 'Z'");
}
END_TEST

static Suite *
der_suite(void)
{
	Suite *s = suite_create("gba_der");
	TCase *ok = tcase_create("accept");
	TCase *args = tcase_create("arguments");
	TCase *trunc = tcase_create("truncation");
	TCase *der = tcase_create("der_rules");

	tcase_add_test(ok, test_cert_accepted);
	tcase_add_test(ok, test_cert_depth_boundary);
	tcase_add_test(ok, test_valid_primitives_accepted);
	tcase_add_test(ok, test_context_tags_either_form);
	tcase_add_test(ok, test_long_form_lengths_accepted);
	tcase_add_test(ok, test_high_tag_accepted);
	suite_add_tcase(s, ok);

	tcase_add_test(args, test_empty_input);
	tcase_add_test(args, test_null_buffer);
	tcase_add_test(args, test_max_depth_above_cap);
	tcase_add_test(args, test_max_len_boundary);
	tcase_add_test(args, test_default_max_len_boundary);
	suite_add_tcase(s, args);

	tcase_add_test(trunc, test_trunc_high_tag);
	tcase_add_test(trunc, test_trunc_before_length);
	tcase_add_test(trunc, test_trunc_length_octets);
	tcase_add_test(trunc, test_trunc_content);
	tcase_add_test(trunc, test_trunc_child_past_parent);
	tcase_add_test(trunc, test_trunc_4byte_length);
	tcase_add_test(trunc, test_trunc_5byte_length);
	tcase_add_test(trunc, test_length_size_max_no_wrap);
	tcase_add_test(trunc, test_length_above_size_max);
	tcase_add_test(trunc, test_cert_every_prefix_truncated);
	suite_add_tcase(s, trunc);

	tcase_add_test(der, test_trailing_bytes);
	tcase_add_test(der, test_indefinite_length);
	tcase_add_test(der, test_end_of_contents);
	tcase_add_test(der, test_reserved_length_octet);
	tcase_add_test(der, test_nonminimal_length_long_form);
	tcase_add_test(der, test_nonminimal_length_leading_zero);
	tcase_add_test(der, test_high_tag_below_31);
	tcase_add_test(der, test_high_tag_leading_0x80);
	tcase_add_test(der, test_high_tag_above_2_28);
	tcase_add_test(der, test_depth_boundary);
	tcase_add_test(der, test_depth_zero);
	tcase_add_test(der, test_depth_siblings_do_not_add);
	tcase_add_test(der, test_constructed_octet_string);
	tcase_add_test(der, test_constructed_bit_string);
	tcase_add_test(der, test_constructed_primitive_only_all);
	tcase_add_test(der, test_primitive_sequence_set);
	tcase_add_test(der, test_reserved_universal_tag);
	tcase_add_test(der, test_boolean_length);
	tcase_add_test(der, test_boolean_value);
	tcase_add_test(der, test_integer_empty);
	tcase_add_test(der, test_integer_redundant_leading);
	tcase_add_test(der, test_null_content);
	tcase_add_test(der, test_bit_string_empty);
	tcase_add_test(der, test_bit_string_unused_above_7);
	tcase_add_test(der, test_bit_string_unused_without_data);
	tcase_add_test(der, test_bit_string_padding);
	tcase_add_test(der, test_oid_empty);
	tcase_add_test(der, test_oid_nonminimal_subid);
	tcase_add_test(der, test_oid_truncated_subid);
	tcase_add_test(der, test_time_without_z);
	suite_add_tcase(s, der);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(der_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
