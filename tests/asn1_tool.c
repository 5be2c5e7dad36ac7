/*
 * asn1_tool.c - test helper: run the strict decoders on files made by
 * independent tools (openssl, certtool, pyasn1).
 *
 *   asn1_tool check PDU FILE      strict decode; exit 0 if accepted
 *   asn1_tool econtent FILE OUT   parse ContentInfo{SignedData}, write the
 *                                 eContent bytes to OUT, print its type
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gba_asn1.h"
#include "gba_crypto.h"
#include "gba_err.h"
#include "gba_limits.h"

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
	fprintf(stderr, "usage: asn1_tool check PDU FILE | econtent FILE OUT\n");
	return 2;
}
