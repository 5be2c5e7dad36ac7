#!/bin/sh
# ue_enrol_offline.sh - gba-ue's enrolment commands without a NAF:
#  1. usage errors exit 2;
#  2. no bootstrap and no --bsf, or no pending state, exit 4 before any
#     request is sent;
#  3. the identityProofV2 / popLinkWitnessV2 known answers that
#     check_ue_enrol.c uses, recomputed with openssl dgst (a third,
#     independent implementation next to Python and ours).
# Skips (77) without openssl.
set -u

: "${top_builddir:=..}"
: "${OPENSSL:=openssl}"
UE=$top_builddir/ue/gba-ue
command -v "$OPENSSL" >/dev/null 2>&1 || { echo "skip: no openssl"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

expect() {   # expect STATUS DESCRIPTION CMD...
	want=$1; what=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"; cat "$tmp/err"; fail=1
	else
		echo "ok: $what"
	fi
}

mkdir "$tmp/demo" && "$UE" demo --out "$tmp/demo" >/dev/null || { echo "FAIL: demo"; exit 1; }
anchor=$tmp/demo/ca.pem
st=$tmp/ue.state
"$UE" init --state "$st" --impi 001010123456789@ims.mnc001.mcc001.3gppnetwork.org \
	--k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 \
	|| { echo "FAIL: init"; exit 1; }

expect 2 "enrol without APP" "$UE" enrol --naf http://127.0.0.1:9 --trust "$anchor" --out "$tmp/o"
expect 2 "enrol without --trust" "$UE" enrol app.example.org --naf http://127.0.0.1:9 --out "$tmp/o"
expect 2 "enrol --count 0" "$UE" enrol a --naf http://127.0.0.1:9 --trust "$anchor" \
	--out "$tmp/o" --count 0
expect 2 "enrol --key-type bogus" "$UE" enrol a --naf http://127.0.0.1:9 --trust "$anchor" \
	--out "$tmp/o" --key-type bogus
expect 2 "renew --key-type" "$UE" renew --naf http://127.0.0.1:9 --trust "$anchor" \
	--out "$tmp/o" --key-type ec-p384
expect 2 "portal-enrol --response pointer" "$UE" portal-enrol a --naf http://127.0.0.1:9 \
	--out "$tmp/o" --response pointer
expect 2 "ca-cert without --issuer-of" "$UE" ca-cert --naf http://127.0.0.1:9

expect 4 "enrol with no bootstrap and no --bsf" "$UE" enrol app.example.org --state "$st" \
	--naf http://127.0.0.1:9 --trust "$anchor" --out "$tmp/o"
grep -q "give --bsf" "$tmp/err" || { echo "FAIL: no hint to bootstrap"; fail=1; }
expect 4 "poll without pending.txt" "$UE" poll --state "$st" --naf http://127.0.0.1:9 \
	--trust "$anchor" --out "$tmp/o"
expect 4 "renew without key.pem" "$UE" renew --naf http://127.0.0.1:9 --trust "$anchor" \
	--out "$tmp/o"

# key = SHA-256(Ks_NAF || B-TID); witnesses = HMAC-SHA256(key, data)
ks=7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610
btid='I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'
{ printf '%s' "$ks" | sed 's/../\\x&/g' | xargs -0 printf '%b'; printf '%s' "$btid"; } \
	>"$tmp/keyin"
key=$("$OPENSSL" dgst -sha256 -r "$tmp/keyin" | cut -d' ' -f1)
printf '\060\000' >"$tmp/empty_reqseq"
proof=$("$OPENSSL" dgst -sha256 -mac HMAC -macopt "hexkey:$key" -r "$tmp/empty_reqseq" \
	| cut -d' ' -f1)
i=0; : >"$tmp/r"
while [ $i -lt 32 ]; do printf "\\$(printf '%03o' $i)" >>"$tmp/r"; i=$((i + 1)); done
plink=$("$OPENSSL" dgst -sha256 -mac HMAC -macopt "hexkey:$key" -r "$tmp/r" | cut -d' ' -f1)
for v in "key $key 2d4b1b752679d771c7dd219bd9e20fbe21c7e0f266c5b1666f2ee0a6ff975ec0" \
	"identityProofV2 $proof 6a6c13ff6ff7bcc59916efa590d734116b14bf22d353d21be409e519072b2641" \
	"popLinkWitnessV2 $plink 8890097f867106653f5a74c9c9b5ab93ec691e4c58e05df97b162e1cbc2fb289"
do
	set -- $v
	if [ "$2" = "$3" ]; then echo "ok: openssl $1"; else echo "FAIL: openssl $1: $2"; fail=1; fi
done
exit $fail
