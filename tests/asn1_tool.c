/*
 * asn1_tool.c - test helper: run the strict decoders on files made by
 * independent tools (openssl, certtool, pyasn1).
 *
 *   asn1_tool check PDU FILE      strict decode; exit 0 if accepted
 *   asn1_tool econtent FILE OUT   parse ContentInfo{SignedData}, write the
 *                                 eContent bytes to OUT, print its type
 *   asn1_tool pkidata FILE OUT    gba_cmc_pkidata_parse: print the view,
 *                                 write the received reqSequence to OUT
 *   asn1_tool response OUT        write a fixed PKIResponse made by
 *                                 gba_cmc_response_encode
 *   asn1_tool certs-only OUT CERT...  gba_cms_certs_only of DER files
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_asn1.h"
#include "gba_cmc.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_limits.h"
#include "gba_mem.h"

static uint8_t buf[4 * GBA_MAX_DER_LEN];

static long slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return (long)n;
}

static int spill(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return 2;
	}
	fclose(f);
	return 0;
}

static void hex_line(const char *label, struct gba_blob b)
{
	char hex[2 * 256 + 1];

	if (b.len > 256) {
		printf("%s (%zu bytes)\n", label, b.len);
		return;
	}
	gba_hex_encode(b.p, b.len, hex);
	printf("%s %s\n", label, b.len ? hex : "-");
}

static int cmd_pkidata(const char *in, const char *out)
{
	struct gba_der_error err = { 0, NULL };
	struct gba_cmc_pkidata pd;
	struct gba_cmc_msg *msg = NULL;
	long n = slurp(in);
	size_t i;
	int ret;

	if (n < 0)
		return 2;
	ret = gba_cmc_pkidata_parse(buf, (size_t)n, &pd, &msg, &err);
	if (ret < 0) {
		printf("%s: PKIData refused at offset %zu: %s (%s)\n", in, err.offset,
		       err.reason ? err.reason : "?", gba_errname(ret));
		return 1;
	}
	printf("controls %zu requests %zu cms %zu other %zu reqSequence %zu bytes\n",
	       pd.ncontrols, pd.nreqs, pd.ncms, pd.nother, pd.req_sequence.len);
	for (i = 0; i < pd.ncontrols; i++)
		printf("control %u %s values %zu\n", (unsigned)pd.controls[i].body_part_id,
		       gba_cmc_control_name(pd.controls[i].control), pd.controls[i].nvalues);
	for (i = 0; i < pd.nreqs; i++) {
		const struct gba_cmc_request *r = &pd.reqs[i];
		static const char *const kinds[] = { "tcr", "crm", "orm" };

		printf("request %u %s spki %zu subject %zu extensions %zu san %d pop_sig %d "
		       "pop_other %d pop_link_v2 %d\n", (unsigned)r->body_part_id, kinds[r->kind],
		       r->spki.len, r->subject.len, r->extensions.len, r->has_san, r->has_pop_sig,
		       r->crm_pop_other, r->has_pop_link_v2);
		hex_line("  ski", r->ski);
	}
	ret = spill(out, pd.req_sequence.p, pd.req_sequence.len);
	gba_cmc_msg_free(msg);
	return ret;
}

static int cmd_response(const char *out)
{
	static const uint32_t ids[] = { 2, 3 };
	static const uint8_t txid[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23 };
	static const uint8_t nonce[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct gba_cmc_status_info st[3];
	struct gba_cmc_response r;
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	memset(st, 0, sizeof(st));
	memset(&r, 0, sizeof(r));
	st[0].status = GBA_CMC_SUCCESS;
	st[0].body_list = ids;
	st[0].nbody = 1;
	st[1].status = GBA_CMC_PENDING;
	st[1].body_list = ids + 1;
	st[1].nbody = 1;
	st[1].has_pend_info = 1;
	st[1].pend_token.p = (const uint8_t *)"pend-token";
	st[1].pend_token.len = 10;
	st[1].pend_time = 1795000000;
	st[2].status = GBA_CMC_FAILED;
	st[2].status_string = "bad identity";
	st[2].has_fail_info = 1;
	st[2].fail_info = GBA_CMC_BAD_IDENTITY;
	r.statuses = st;
	r.nstatuses = 3;
	r.transaction_id.p = txid;
	r.transaction_id.len = sizeof(txid);
	r.sender_nonce.p = nonce;
	r.sender_nonce.len = sizeof(nonce);
	r.recipient_nonce.p = nonce;
	r.recipient_nonce.len = 4;
	r.data_return.p = (const uint8_t *)"echo";
	r.data_return.len = 4;
	ret = gba_cmc_response_encode(&r, &der, &len);
	if (ret < 0) {
		printf("response encode: %s\n", gba_errname(ret));
		return 1;
	}
	ret = spill(out, der, len);
	gba_free(der);
	return ret;
}

static int cmd_certs_only(const char *out, int n, char **files)
{
	static uint8_t store[8][16384];
	struct gba_blob certs[8];
	uint8_t *der = NULL;
	size_t len = 0;
	int i, ret;

	if (n < 1 || n > 8)
		return 2;
	for (i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");

		if (f == NULL) {
			perror(files[i]);
			return 2;
		}
		certs[i].len = fread(store[i], 1, sizeof(store[i]), f);
		certs[i].p = store[i];
		fclose(f);
	}
	ret = gba_cms_certs_only(certs, (size_t)n, &der, &len);
	if (ret < 0) {
		printf("certs-only: %s\n", gba_errname(ret));
		return 1;
	}
	ret = spill(out, der, len);
	gba_free(der);
	return ret;
}

int main(int argc, char **argv)
{
	struct gba_der_error err = { 0, NULL };
	enum gba_pdu pdu;
	long n;
	int ret;

	if (argc == 4 && strcmp(argv[1], "check") == 0) {
		if (gba_pdu_by_name(argv[2], &pdu) != 0) {
			fprintf(stderr, "unknown PDU %s\n", argv[2]);
			return 2;
		}
		n = slurp(argv[3]);
		if (n < 0)
			return 2;
		ret = gba_asn1_check(pdu, buf, (size_t)n, &err);
		if (ret < 0) {
			printf("%s: %s rejected at offset %zu: %s (%s)\n", argv[3], argv[2],
			       err.offset, err.reason ? err.reason : "?", gba_errname(ret));
			return 1;
		}
		printf("%s: %s accepted (%ld bytes)\n", argv[3], argv[2], n);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "econtent") == 0) {
		struct gba_cms_view v;
		struct gba_cms_msg *msg = NULL;
		char hex[2 * 64 + 1];
		FILE *f;

		n = slurp(argv[2]);
		if (n < 0)
			return 2;
		ret = gba_cms_parse(buf, (size_t)n, &v, &msg, &err);
		if (ret < 0) {
			printf("%s: rejected at offset %zu: %s (%s)\n", argv[2], err.offset,
			       err.reason ? err.reason : "?", gba_errname(ret));
			return 1;
		}
		if (v.econtent_type.len > 64) {
			gba_cms_msg_free(msg);
			return 1;
		}
		gba_hex_encode(v.econtent_type.p, v.econtent_type.len, hex);
		printf("eContentType %s certificates %zu signers %zu eContent %zu bytes\n", hex,
		       v.ncerts, v.nsigners, v.econtent.len);
		f = fopen(argv[3], "wb");
		if (f == NULL || fwrite(v.econtent.p, 1, v.econtent.len, f) != v.econtent.len) {
			perror(argv[3]);
			gba_cms_msg_free(msg);
			return 2;
		}
		fclose(f);
		gba_cms_msg_free(msg);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "pkidata") == 0)
		return cmd_pkidata(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "response") == 0)
		return cmd_response(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "certs-only") == 0)
		return cmd_certs_only(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: asn1_tool check PDU FILE | econtent FILE OUT | pkidata FILE OUT |"
	        " response OUT | certs-only OUT CERT...\n");
	return 2;
}
