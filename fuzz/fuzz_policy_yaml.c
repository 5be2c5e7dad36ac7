/*
 * fuzz_policy_yaml.c - the schema-driven YAML loader and the policy
 * schema on arbitrary bytes (gba_policy_parse, from memory).  A policy
 * that loads must print into YAML that loads again, and must evaluate
 * without error against a fixed request.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gba_conf.h"
#include "gba_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t flags[] = { 1, 7 };
	static const char *const uids[] = { "sip:alice@ims.test" };
	const struct gba_policy_uss uss = { 1, flags, 2, uids, 1 };
	struct gba_policy *p = NULL, *q = NULL;
	struct gba_policy_set set;
	struct gba_policy_ctx ctx;
	struct gba_policy_decision d;
	char err[GBA_CONF_ERR_LEN], *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (gba_policy_parse("fuzz.yaml", data, size, &p, err, sizeof(err)) != 0)
		return 0;
	f = open_memstream(&buf, &len);
	if (f != NULL) {
		if (gba_policy_print(f, p) != 0)
			__builtin_trap();
		if (fclose(f) == 0) {
			if (gba_policy_parse("again.yaml", buf, len, &q, err, sizeof(err)) != 0)
				__builtin_trap();
			gba_policy_free(q);
		}
		free(buf);
	}
	memset(&set, 0, sizeof(set));
	set.v = p;
	set.n = 1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.app_id = p->c.application.id;
	ctx.ua_id = "0100000000";
	ctx.impi = "alice@ims.test";
	ctx.btid = "btid@bsf.test";
	ctx.uss = &uss;
	ctx.nuss = 1;
	ctx.method = GBA_POLICY_METHOD_PORTAL;
	ctx.key_type = GBA_POLICY_KEY_EC_P256;
	ctx.now = 1700000000;
	if (gba_policy_evaluate(&set, &ctx, &d) != 0)
		__builtin_trap();
	gba_policy_free(p);
	return 0;
}
