#!/bin/sh
# e2e_cmc_neg.sh - CMC enrolment refused end to end (issue 5): the real
# gba-bsfd (BSF and provisioning NAF) against requests forged by
# tests/cmc_forge (one fault each) and posted with curl, against gba-ue,
# and against bodies that are not CMC at all.
#
# Every refusal is checked the same way:
#  - HTTP 200 with application/pkcs7-mime; smime-type=CMC-response (a
#    Full PKI Response), or for bodies that are no CMS SignedData the
#    exact bare status (400, or 413 over NAF_MAX_BODY);
#  - the response passes openssl cms -verify against the demo root, and
#    its statuses, read by pyasn1 (tests/cmc_status.py), are exactly
#    "BODYPARTS failed FAILINFO" as doc/cmc.md's table says;
#  - no certificate stored (gba-ctl cert list) and no "issue" record
#    added to the audit log.
#
#  1. a valid forged request is issued (the forger's baseline);
#  2. identity: wrong or missing identityProofV2 (badIdentity);
#  3. POP: no or wrong popLinkWitnessV2, PKCS#10 / CRMF signed by
#     another key (popFailed), CRMF without POP (popRequired);
#     SignedData signed by a key other than the one its SKI names, a
#     flipped signature octet (badMessageCheck);
#  4. policy: a key type outside the policy, PKCS#10 and CRMF (badAlg);
#     a subject or a subjectAltName the policy does not give
#     (badRequest; the policy's own subject is accepted);
#  5. a replayed senderNonce (badRequest; only the first one issued);
#  6. encoding and size: BER in the ContentInfo (bare 400), BER in the
#     PKIData (badRequest), garbage and empty bodies (400), a body over
#     NAF_MAX_BODY (413), each over HTTP/2 and HTTP/1.1;
#  7. renewal signed by a revoked certificate, by one from another CA
#     (openssl) and by one from a second gba-bsfd's demo CA (badIdentity);
#  8. a subscriber without the USS the policy requires (badIdentity);
#  9. an expired B-TID (badIdentity; the Ua Digest portal answers a
#     fresh 401);
# 10. csr_names: rewrite (second daemon): the asked subject and SAN are
#     replaced by the policy's;
# 11. approval: manual (third daemon): a subject or SAN the policy
#     does not give is refused, not queued for approval.
#
# Every daemon listens on 127.0.0.1 with ephemeral ports (--port-file).
# Needs openssl, curl and Debian's python3 with pyasn1-modules.
# KEEP_E2E=1 keeps the scratch directory.
set -u

E2E=e2e_cmc_neg
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
FORGE=$top_builddir/tests/cmc_forge
STATUS=$top_srcdir/tests/cmc_status.py
# Debian's python3 (the one python3-pyasn1-modules installs into)
PY=/usr/bin/python3
for t in openssl curl "$PY"; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found"; exit 99; }
done
"$PY" -c 'import pyasn1_modules.rfc6402, sqlite3' 2>/dev/null ||
	{ echo "FAIL: $PY lacks pyasn1-modules (scripts/deps.sh)"; exit 99; }
for b in "$BSFD" "$UE" "$CTL" "$FORGE"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done
POLICY_SRC=$top_srcdir/policies/pki-portal.yaml
[ -r "$POLICY_SRC" ] || { echo "FAIL: $POLICY_SRC missing"; exit 99; }

FQDN=bsf.gbacert.test
APP=naf.gbacert.test
REALM=ims.mnc001.mcc001.3gppnetwork.org
# TS 35.208 test set 1 (the --demo subscriber).
IMPI=001010123456789@$REALM
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
# two more subscribers (same K/OPc; the IMPI is what differs)
IMPI_EXP=001010000000002@$REALM      # Ks lifetime 1 s
IMPI_NOUSS=001010000000003@$REALM    # a USS for GSID 2 only
# the body cap, from naf/naf.h ("(64u * 1024u)")
NAF_MAX_BODY=$(sed -n 's/^#define NAF_MAX_BODY *(\([0-9]*\)u \* \([0-9]*\)u).*/\1 * \2/p' \
	"$top_srcdir/naf/naf.h")
[ -n "$NAF_MAX_BODY" ] || { echo "FAIL: NAF_MAX_BODY not found in naf/naf.h"; exit 99; }
NAF_MAX_BODY=$(($NAF_MAX_BODY))
CT_REQ='Content-Type: application/pkcs7-mime; smime-type=CMC-request'
CT_RESP='application/pkcs7-mime; smime-type=CMC-response'
UE_TRUST=yes   # every gba-ue call trusts the current demo root
BSFD_LOG_LEVEL=3   # the daemons log at info


# ---- policies ----

# The PKI portal policy as shipped (key types [ec-p256], csr_names
# refuse), opened up for many requests, renewal at any time with the
# same key, and the demo subscribers' realm; pol-rw rewrites names,
# pol-manual waits for approval.
mkdir -p pol pol-rw pol-manual
sed -e 's/max_active_certs: 2/max_active_certs: 50/' \
	-e 's/rate_limit_per_hour: 10/rate_limit_per_hour: 1000/' \
	-e 's/window_days: 30/window_days: 365/' \
	-e 's/same_key: false/same_key: true/' \
	-e "s/impi_patterns: \\[.*\\]/impi_patterns: [\"*@$REALM\"]/" \
	"$POLICY_SRC" >pol/naf.yaml
sed 's/^certificate:$/certificate:\n  csr_names: rewrite/' pol/naf.yaml >pol-rw/naf.yaml
sed 's/approval: automatic/approval: manual/' pol/naf.yaml >pol-manual/naf.yaml
ok_if "policy edits took (realm, counts, renewal)" \
	sh -c "grep -q 'impi_patterns: \\[\"\\*@$REALM\"\\]' pol/naf.yaml &&
		grep -q 'max_active_certs: 50' pol/naf.yaml && grep -q 'same_key: true' pol/naf.yaml &&
		grep -q 'key_types: \\[ec-p256\\]' pol/naf.yaml"
ok_if "pol-rw: csr_names: rewrite" grep -q '^  csr_names: rewrite$' pol-rw/naf.yaml
ok_if "pol-manual: approval: manual" grep -q 'approval: manual' pol-manual/naf.yaml
for d in pol pol-rw pol-manual; do
	ok_if "gba-ctl policy check $d" sh -c "'$CTL' policy check $d >/dev/null 2>&1"
done

# ---- the daemons ----


# The current daemon: DEMO, UB, NAF (and STATE, the UE state file).
use1() { DEMO=$D1 UB=$UB1 NAF=$NAF1 UE_BSF=http://127.0.0.1:$UB1; }
use2() { DEMO=$D2 UB=$UB2 NAF=$NAF2 UE_BSF=http://127.0.0.1:$UB2; }
ctl() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" "$@"; }

# ---- gba-ue and the forger ----

# ue_init STATE IMPI: a USIM for IMPI, bootstrapped at the current BSF.
ue_init() {
	"$UE" init --state "$1" --impi "$2" --k "$K" --opc "$OPC" >/dev/null 2>"$1.err" &&
		"$UE" bootstrap --state "$1" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" \
			--http1 >"$1.boot" 2>>"$1.err"
}
# forge NAME FAULT [ARGS...]: cmc_forge FAULT for STATE into NAME.req.
forge() {
	fg_name=$1
	shift
	"$FORGE" "$@" --state "$STATE" --naf-fqdn "$APP" --out "$tmp/$fg_name.req" \
		2>"$tmp/$fg_name.forge.err" ||
		{ indent "$tmp/$fg_name.forge.err"; fail "$fg_name: cmc_forge $1"; }
}
# post NAME [CURL-ARGS...]: POST NAME.req (or NAME.body) to the current
# NAF's /cmc as a Full PKI Request (HTTP/2 unless the arguments say
# otherwise); the answer in NAME.resp; "STATUS CONTENT-TYPE" in CODE.
post() {
	po_name=$1
	shift
	po_in=$tmp/$po_name.req
	[ -f "$po_in" ] || po_in=$tmp/$po_name.body
	rm -f "$tmp/$po_name.resp"
	CODE=$(curl -sS --http2 "$@" --cacert "$DEMO/ca.pem" -H "$CT_REQ" --data-binary "@$po_in" \
		-o "$tmp/$po_name.resp" -w '%{http_code} %{content_type}' \
		"https://127.0.0.1:$NAF/cmc" 2>"$tmp/$po_name.curl")
}
# statuses NAME: the statusInfoV2 lines of NAME.content, by pyasn1.
statuses() {
	"$PY" "$STATUS" "$tmp/$1.content" 2>"$tmp/$1.status.err" ||
		{ indent "$tmp/$1.status.err"; fail "$1: cmc_status.py cannot read the PKIResponse"; }
}

# What the current daemon has stored and audited.
certs() { ctl cert list 2>/dev/null | wc -l | tr -d ' '; }
issues() { grep -c '"event":"issue"' "$DEMO/audit.jsonl"; }
# snapshot: remember both (C0, I0); unchanged DESC: neither moved.
snapshot() { C0=$(certs) I0=$(issues); }
unchanged() {
	check "$1: no certificate stored (gba-ctl cert list)" "$C0" "$(certs)"
	check "$1: no issue record in the audit log" "$I0" "$(issues)"
}
# grew DESC N: exactly N more certificates and issue records; snapshot.
grew() {
	check "$1: $2 more certificate(s) stored" "$((C0 + $2))" "$(certs)"
	check "$1: $2 more issue record(s)" "$((I0 + $2))" "$(issues)"
	snapshot
}

# answered DESC NAME EXPECTED: NAME.resp is a Full PKI Response that
# openssl verifies, whose statuses are exactly EXPECTED.
answered() {
	cms_verify "$1" "$2"
	check "$1: statuses (pyasn1)" "$3" "$(statuses "$2")"
}
# refused DESC NAME EXPECTED: the answer to post NAME (CODE) is HTTP 200
# with a Full PKI Response whose statuses are exactly EXPECTED
# ("BODYPARTS failed FAILINFO"), and nothing was stored or audited.
refused() {
	check "$1: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
	answered "$1" "$2" "$3"
	unchanged "$1"
}
# refused_ue DESC NAME EXPECTED: gba-ue exited 1 (status in rc) printing
# "failed FAILINFO ...", its saved NAME.resp is answered with EXPECTED,
# and nothing was stored or audited.
refused_ue() {
	check "$1: gba-ue exit status 1 (refused)" 1 "$rc"
	check "$1: gba-ue prints the failInfo" "failed ${3##* }" \
		"$(awk 'NR == 1 { print $1, $2 }' "$tmp/$2.out")"
	answered "$1" "$2" "$3"
	unchanged "$1"
}
# bare DESC NAME STATUS: a bare HTTP STATUS (no Full PKI Response), and
# nothing was stored or audited.
bare() {
	check "$1: bare HTTP $3" "$3" "${CODE%% *}"
	if contains "$CODE" 'pkcs7-mime'; then
		fail "$1: a CMS answer ($CODE) where a bare $3 is due"
	fi
	pass "$1: no CMS answer"
	unchanged "$1"
}
norm() { printf '%s\n' "$1" | sed 's/^0*//'; }
serial_of() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | tr 'A-F' 'a-f'; }

# =====================================================================
echo "== daemons: bsfd1 (csr_names: refuse), bsfd2 (csr_names: rewrite)"
D1=$tmp/d1
D2=$tmp/d2
start_bsfd_naf bsfd1 "$D1" "$tmp/pol"
PID1=$PID UB1=$UB NAF1=$NAF
start_bsfd_naf bsfd2 "$D2" "$tmp/pol-rw"
PID2=$PID UB2=$UB NAF2=$NAF
for f in ca.pem ca/root.pem ca/ca.pem bsf.db bsf.key; do
	[ -s "$D1/$f" ] && [ -s "$D2/$f" ] || fail "--demo did not provision $f"
done
pass "--demo provisioned both CAs"
ok_if "the two demo roots are different CAs" \
	test "$(openssl x509 -noout -pubkey -in "$D1/ca/root.pem")" != \
	"$(openssl x509 -noout -pubkey -in "$D2/ca/root.pem")"

use1
STATE=$tmp/ue1.state
ue_init "$STATE" "$IMPI"
check "gba-ue init + bootstrap at bsfd1" 0 "$?"
snapshot
check "bsfd1 starts with no certificate" 0 "$C0"

# =====================================================================
echo "== 1. the forger's baseline: a valid request is issued"
forge valid none --key-out "$tmp/valid.key"
post valid
check "1 valid: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "1 valid" valid "1 success -"
grew "1 valid" 1
forge valid-crmf none --crmf
post valid-crmf
check "1 valid CRMF: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "1 valid CRMF" valid-crmf "1 success -"
grew "1 valid CRMF" 1

# =====================================================================
echo "== 2. identity"
forge proof wrong-proof
post proof
refused "2 identityProofV2 witness with a flipped bit" proof "0 failed badIdentity"
forge noproof no-proof
post noproof
refused "2 no identityProofV2" noproof "0 failed badIdentity"

# =====================================================================
echo "== 3. proof of possession and the signature"
forge nolink no-link
post nolink
refused "3 no popLinkWitnessV2" nolink "1 failed popFailed"
forge link wrong-link
post link
refused "3 popLinkWitnessV2 with a flipped bit" link "1 failed popFailed"
forge pop pop-wrong-key
post pop
refused "3 PKCS#10 signed by another key than it carries" pop "1 failed popFailed"
forge pop-crmf pop-wrong-key --crmf
post pop-crmf
refused "3 CRMF POP signed by another key" pop-crmf "1 failed popFailed"
forge nopop no-pop
post nopop
refused "3 CRMF without POP" nopop "1 failed popRequired"
forge cmskey cms-wrong-key
post cmskey
refused "3 SignedData signed by a key other than its SKI names" cmskey \
	"0 failed badMessageCheck"
forge flip sig-flip
post flip
refused "3 SignedData signature with a flipped octet" flip "0 failed badMessageCheck"

# =====================================================================
echo "== 4. policy: key type, subject"
ue badalg enrol "$APP" --out "$tmp/o-badalg" --key-type rsa-2048
rc=$?
refused_ue "4 rsa-2048 outside the policy (gba-ue, PKCS#10)" badalg "1 failed badAlg"
ok_if "4 rsa-2048: gba-ue wrote no certificate" test ! -e o-badalg/cert.pem
ue badalg-crmf enrol "$APP" --out "$tmp/o-badalg-crmf" --key-type ec-p384 --crmf
rc=$?
refused_ue "4 ec-p384 outside the policy (gba-ue, CRMF)" badalg-crmf "1 failed badAlg"
forge subject subject --cn "someone-else@$REALM"
post subject
refused "4 a subject the policy does not give (csr_names: refuse)" subject \
	"1 failed badRequest"
forge san san --san "sip:someone-else@$REALM"
post san
refused "4 a subjectAltName (csr_names: refuse)" san "1 failed badRequest"
# control: the subject the policy gives (CN=IMPI) is no reason to refuse
forge subject-ok subject --cn "$IMPI"
post subject-ok
check "4 the policy's own subject: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "4 the policy's own subject" subject-ok "1 success -"
grew "4 the policy's own subject" 1

# =====================================================================
echo "== 5. a replayed senderNonce"
ue replay enrol "$APP" --out "$tmp/o-replay" --save-request "$tmp/replay.req"
check "5 gba-ue enrol --save-request: issued" 0 "$?"
ok_if "5 the saved request is a Full PKI Request (openssl cms -cmsout)" \
	sh -c "openssl cms -cmsout -print -inform DER -in '$tmp/replay.req' |
		grep -q 'eContentType: id-cct-PKIData'"
grew "5 the first request" 1
post replay
refused "5 the same request again (HTTP/2)" replay "0 failed badRequest"
post replay --http1.1
refused "5 the same request again (HTTP/1.1)" replay "0 failed badRequest"
ok_if "5 the replays are audited as denied" \
	test "$(grep -c '"event":"deny".*"reason":"replay"' "$D1/audit.jsonl")" = 2

# =====================================================================
echo "== 6. encoding and size"
# Only a strict DER ContentInfo{SignedData} reaches the CMC code: BER in
# it is refused before any decoder runs (doc/cmc.md: bare 400).
for v in 2 1.1; do
	forge indef outer-indef
	post indef "--http$v"
	bare "6 ContentInfo with an indefinite length (HTTP/$v)" indef 400
	forge nonmin outer-nonmin
	post nonmin "--http$v"
	bare "6 ContentInfo with a non-minimal length (HTTP/$v)" nonmin 400
done
# Inside a DER SignedData, a non-DER PKIData is answered in CMC.
forge ber pkidata-ber
post ber
refused "6 PKIData with a non-minimal length (signed as sent)" ber "0 failed badRequest"
printf 'this is not a CMC request\n' >garbage.body
post garbage
bare "6 a text body" garbage 400
openssl x509 -in "$D1/ca/root.pem" -outform DER -out cert.body
post cert
bare "6 a DER certificate instead of a ContentInfo" cert 400
: >empty.body
post empty
bare "6 an empty body" empty 400
# the cap itself is read (and refused as no CMS), one octet more is not
head -c "$NAF_MAX_BODY" /dev/zero >max.body
post max
bare "6 zeros, NAF_MAX_BODY ($NAF_MAX_BODY) octets" max 400
head -c $((NAF_MAX_BODY + 1)) /dev/zero >big.body
for v in 2 1.1; do
	post big "--http$v"
	bare "6 a body of NAF_MAX_BODY + 1 octets (HTTP/$v)" big 413
done
ok_if "6 bsfd1 still running" kill -0 "$PID1"

# =====================================================================
echo "== 7. renewal signed by a revoked or foreign certificate"
S_REPLAY=$(serial_of o-replay/cert.pem)
ctl --audit-log "$tmp/ctl-audit.jsonl" revoke "$(norm "$S_REPLAY")" --reason keyCompromise \
	>revoke7.out 2>&1 || { indent revoke7.out; fail "7 gba-ctl revoke"; }
pass "7 gba-ctl revoke --reason keyCompromise"
check "7 gba-ctl cert list shows it revoked" revoked \
	"$(ctl cert list | awk -v s="$(norm "$S_REPLAY")" '{ sub(/^0+/, "", $1) } $1 == s { print $2 }')"
ue revoked renew --out "$tmp/o-replay"
rc=$?
refused_ue "7 renew signed by a revoked certificate" revoked "0 failed badIdentity"
check "7 revoked: cert.pem untouched" "$S_REPLAY" "$(serial_of o-replay/cert.pem)"

# a CA of our own with openssl, and a certificate from it for the IMPI
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout fca.key \
	-subj "/CN=foreign CA" -days 2 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign -out fca.pem 2>fca.err &&
	mkdir -p foreign &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout foreign/key.pem -subj "/CN=$IMPI" -out foreign.csr 2>>fca.err &&
	openssl x509 -req -in foreign.csr -CA fca.pem -CAkey fca.key -CAcreateserial -days 2 \
		-extfile /dev/null -out foreign/cert.pem 2>>fca.err &&
	chmod 600 foreign/key.pem
check "7 openssl made a foreign CA and certificate" 0 "$?"
ue foreign renew --out "$tmp/foreign"
rc=$?
refused_ue "7 renew signed by a certificate from another CA (openssl)" foreign \
	"0 failed badIdentity"

# a certificate from bsfd2's demo CA (same CA names, other keys)
use2
STATE=$tmp/ue2.state
ue_init "$STATE" "$IMPI"
check "7 gba-ue init + bootstrap at bsfd2" 0 "$?"
ue enrol2 enrol "$APP" --out "$tmp/o-d2"
check "7 bsfd2 issues a certificate" 0 "$?"
check "7 bsfd2's issuing CA has bsfd1's issuing CA's name" \
	"$(openssl x509 -noout -subject -in "$D1/ca/ca.pem")" \
	"$(openssl x509 -noout -issuer -in o-d2/cert.pem | sed 's/^issuer=/subject=/')"
use1
STATE=$tmp/ue1.state
ue foreign2 renew --out "$tmp/o-d2"
rc=$?
refused_ue "7 renew at bsfd1 signed by bsfd2's certificate" foreign2 "0 failed badIdentity"

# =====================================================================
echo "== 8. a subscriber without the USS the policy requires"
printf '{"ussList":[{"gsId":2,"gsType":1,"ueIds":["sip:%s"],"flags":[]}]}\n' "$IMPI_NOUSS" \
	>guss-gsid2.json
ctl subscriber add "$IMPI_NOUSS" --k "$K" --opc "$OPC" --guss-file guss-gsid2.json \
	>add-nouss.out 2>&1
check "8 gba-ctl subscriber add (USS for GSID 2 only)" 0 "$?"
STATE=$tmp/ue-nouss.state
ue_init "$STATE" "$IMPI_NOUSS"
check "8 gba-ue init + bootstrap" 0 "$?"
ue nouss enrol "$APP" --out "$tmp/o-nouss"
rc=$?
refused_ue "8 enrol without a USS for GSID 1" nouss "1 failed badIdentity"
ok_if "8 the refusal names the USS" \
	sh -c "'$PY' '$STATUS' --text '$tmp/nouss.content' | grep -q \"no USS for the application's GSID\""

# =====================================================================
echo "== 9. an expired B-TID"
printf '{"ussList":[{"gsId":1,"gsType":1,"ueIds":["sip:%s"],"flags":[]}]}\n' "$IMPI_EXP" \
	>guss-gsid1.json
ctl subscriber add "$IMPI_EXP" --k "$K" --opc "$OPC" --lifetime 1 --guss-file guss-gsid1.json \
	>add-exp.out 2>&1
check "9 gba-ctl subscriber add --lifetime 1" 0 "$?"
STATE=$tmp/ue-exp.state
ue_init "$STATE" "$IMPI_EXP"
check "9 gba-ue init + bootstrap" 0 "$?"
BTID_EXP=$(awk '$1 == "btid" { print $2 }' "$STATE")
LIFE=$(awk '$1 == "lifetime" { print $2 }' "$STATE")
EXP=$(date -u -d "$LIFE" +%s) || fail "9 lifetime '$LIFE' unreadable"
# Wait (at most 10 s) until the lifetime the BSF announced has passed:
# the context has expired by then, whatever the timing.
i=0
while [ "$(date +%s)" -le "$EXP" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "9 the clock did not pass $LIFE in 10 s"
	sleep 0.1
done
pass "9 the B-TID's lifetime ($LIFE) has passed"
forge expired none
post expired
refused "9 a request under the expired B-TID" expired "0 failed badIdentity"
check "9 the refusal says why" "0 failed badIdentity unknown or expired B-TID: bootstrap again" \
	"$("$PY" "$STATUS" --text "$tmp/expired.content")"
# The portal: a challenge, then an Authorization under the expired
# B-TID with that nonce (any response value: the key lookup comes
# first) gets a fresh challenge, not stale and with a new nonce.  The
# valid demo B-TID with the same wrong response is the control: also a
# 401, but for the digest.
portal() {  # NAME [AUTHORIZATION]
	curl -sS --http1.1 --cacert "$DEMO/ca.pem" -X POST -H 'Content-Type: application/pkcs10' \
		${2:+-H "Authorization: $2"} --data-binary '' -D "$tmp/$1.hdr" -o /dev/null \
		-w '%{http_code}' "https://127.0.0.1:$NAF/enrol?response=single" 2>"$tmp/$1.curl"
}
nonce_of() { sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: .*nonce="\([^"]*\)".*/\1/p' "$tmp/$1.hdr"; }
digest() {  # B-TID NONCE
	printf 'Digest username="%s", realm="3GPP-bootstrapping@%s", nonce="%s", ' "$1" "$APP" "$2"
	printf 'uri="/enrol?response=single", qop=auth-int, nc=00000001, cnonce="0a4f113b", '
	printf 'response="%s", algorithm=MD5' 00000000000000000000000000000000
}
logcount() { grep -c "$1" "$tmp/bsfd1.log"; }
check "9 portal: no Authorization: 401" 401 "$(portal chal0)"
N0=$(nonce_of chal0)
ok_if "9 portal: the challenge carries a nonce" test -n "$N0"
u0=$(logcount 'naf-ua.*unknown or expired b-tid')
w0=$(logcount 'naf-ua.*wrong Ua digest')
check "9 portal: the expired B-TID: 401" 401 "$(portal chal1 "$(digest "$BTID_EXP" "$N0")")"
N1=$(nonce_of chal1)
ok_if "9 portal: a fresh nonce" test -n "$N1" -a "$N1" != "$N0"
ok_if "9 portal: not stale (the nonce was valid)" sh -c "! grep -qi 'stale' '$tmp/chal1.hdr'"
check "9 portal: the NAF found the B-TID expired" "$((u0 + 1))" \
	"$(logcount 'naf-ua.*unknown or expired b-tid')"
BTID1=$(awk '$1 == "btid" { print $2 }' "$tmp/ue1.state")
check "9 portal control: the valid B-TID, wrong response: 401" 401 \
	"$(portal chal2 "$(digest "$BTID1" "$N0")")"
check "9 portal control: refused for the digest, not the B-TID" \
	"$((u0 + 1)) $((w0 + 1))" \
	"$(logcount 'naf-ua.*unknown or expired b-tid') $(logcount 'naf-ua.*wrong Ua digest')"
unchanged "9 portal"

# =====================================================================
echo "== 10. csr_names: rewrite (bsfd2)"
use2
STATE=$tmp/ue2.state
snapshot
# leaf DESC NAME KEY: the certificate for KEY's public key among those
# NAME.resp carries (verified against the current root) as NAME-leaf.pem.
leaf() {
	lf_desc=$1
	shift
	openssl cms -verify -inform DER -in "$tmp/$1.resp" -CAfile "$DEMO/ca/root.pem" \
		-purpose any -certsout "$tmp/$1-certs.pem" -out /dev/null 2>/dev/null ||
		fail "$1: openssl cms -verify -certsout"
	(cd "$tmp" && awk -v n="$1" '/BEGIN CERTIFICATE/ { i++ } i { print > (n "-cert-" i ".pem") }' \
		"$1-certs.pem")
	lf_want=$(openssl pkey -in "$2" -pubout)
	for lf_c in "$tmp/$1"-cert-*.pem; do
		[ "$(openssl x509 -noout -pubkey -in "$lf_c")" = "$lf_want" ] && cp "$lf_c" "$tmp/$1-leaf.pem"
	done
	ok_if "$lf_desc: the response carries a certificate for the key" test -s "$tmp/$1-leaf.pem"
}
forge rewrite subject --cn "someone-else@$REALM" --key-out "$tmp/rewrite.key"
post rewrite
check "10 rewrite subject: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "10 rewrite subject" rewrite "1 success -"
grew "10 rewrite subject" 1
leaf "10 rewrite subject" rewrite "$tmp/rewrite.key"
check "10 rewrite subject: the subject is the policy's, not the asked one" "subject=CN = $IMPI" \
	"$(openssl x509 -noout -subject -in rewrite-leaf.pem)"
forge rewrite-san san --san "sip:someone-else@$REALM" --key-out "$tmp/rewrite-san.key"
post rewrite-san
check "10 rewrite SAN: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "10 rewrite SAN" rewrite-san "1 success -"
grew "10 rewrite SAN" 1
leaf "10 rewrite SAN" rewrite-san "$tmp/rewrite-san.key"
# the policy's san: ["uri:${impu}"], the first IMPU of the demo USS
check "10 rewrite SAN: the SAN is the policy's, not the asked one" "URI:sip:$IMPI" \
	"$(openssl x509 -noout -ext subjectAltName -in rewrite-san-leaf.pem | sed -n 's/^ *//p' |
		grep -v '^X509v3')"

# =====================================================================
echo "== 11. approval: manual does not bypass the name check (bsfd3)"
D3=$tmp/d3
start_bsfd_naf bsfd3 "$D3" "$tmp/pol-manual"
PID3=$PID DEMO=$D3
STATE=$tmp/ue3.state
ue_init "$STATE" "$IMPI"
check "11 gba-ue init + bootstrap at bsfd3" 0 "$?"
snapshot
forge manual-subject subject --cn "someone-else@$REALM"
post manual-subject
refused "11 a subject the policy does not give" manual-subject "1 failed badRequest"
forge manual-san san --san "sip:someone-else@$REALM"
post manual-san
refused "11 a subjectAltName" manual-san "1 failed badRequest"
check "11 nothing waits for approval" "" "$(ctl pending list 2>&1)"
# control: the same request without the foreign subject waits
forge manual-ok none
post manual-ok
check "11 control: HTTP 200 $CT_RESP" "200 $CT_RESP" "$CODE"
answered "11 control" manual-ok "1 pending -"
unchanged "11 control"
check "11 control: one request waits" 1 "$(ctl pending list | grep -c ' waiting ')"
stop_daemon "$PID3" bsfd3
ok_if "bsfd3: gba-ctl audit verify" "$CTL" audit verify "$D3/audit.jsonl"

# =====================================================================
echo "== totals"
use1
check "bsfd1: certificates stored in all (valid x2, the policy's subject, replay)" 4 \
	"$(certs)"
check "bsfd1: issue records in all" 4 "$(issues)"
# refusals of the whole message (before any request) are audited too
for why in "identityProofV2 is wrong" "the SignedData signature does not verify" \
	"malformed CMC request" "the signer certificate is not one of ours" \
	"the signer certificate is revoked, unknown or for another application"; do
	ok_if "bsfd1: a deny record for '$why'" \
		grep -q "\"event\":\"deny\".*\"reason\":\"$why\"" "$D1/audit.jsonl"
done
stop_daemon "$PID1" bsfd1
ok_if "bsfd1: gba-ctl audit verify" "$CTL" audit verify "$D1/audit.jsonl"
stop_daemon "$PID2" bsfd2
ok_if "bsfd2: gba-ctl audit verify" "$CTL" audit verify "$D2/audit.jsonl"

t_end=$(date +%s)
echo "e2e_cmc_neg: $checks checks passed, $((t_end - t_start)) s"
exit 0
