#!/bin/sh
# e2e_cmc.sh - certificate enrolment end to end: the real gba-bsfd (BSF
# and provisioning NAF) against gba-ue, gba-ctl, openssl and certtool.
#
#  1. gba-ue bootstraps, then enrols over CMC (identityProofV2 under
#     Ks_NAF) with every key type the policy allows, with CRMF, and with
#     two requests in one PKIData; renew and rekey with the issued
#     certificate; TS 33.221 portal enrolment (single and chain);
#  2. every issued certificate verifies (openssl verify -x509_strict and
#     certtool --verify) against the demo root and issuing CA, and every
#     Full PKI Response (issued, refused, pending) passes openssl cms
#     -verify with eContentType id-cct-PKIResponse;
#  3. a key type outside the policy is refused with badAlg;
#  4. manual approval on a second daemon: enrol answers pending (exit 3),
#     gba-ctl pending list shows it, gba-ctl approve accepts the token;
#  6. requests built outside our code: a pyasn1 PKIData wrapped by
#     openssl cms -sign (new key with sid = SKI, and a renewal signed by
#     an issued certificate) posted with curl; the portal driven by curl
#     with the Digest computed by tests/ua_digest.py;
#  7. confirmCertAcceptance: a policy with confirm_within_hours answers
#     confirmRequired; gba-ue confirms (or not, --no-confirm) and
#     gba-ctl cert list shows valid / unconfirmed;
#  5. gba-ctl cert list holds every serial issued, the audit log has
#     issue records and its hash chain verifies; SIGTERM exits 0.
#
# Every daemon listens on 127.0.0.1 with ephemeral ports (--port-file).
# Needs openssl and certtool.  KEEP_E2E=1 keeps the scratch directory.
set -u

E2E=e2e_cmc
# shellcheck source=e2e_lib.sh
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
for t in openssl "$CERTTOOL"; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found"; exit 99; }
done
for b in "$BSFD" "$UE" "$CTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done
POLICY_SRC=$top_srcdir/policies/pki-portal.yaml
[ -r "$POLICY_SRC" ] || { echo "FAIL: $POLICY_SRC missing"; exit 99; }

FQDN=bsf.gbacert.test
APP=naf.gbacert.test
# TS 35.208 test set 1 (the --demo subscriber).
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf

# ---- policies ----

# The PKI portal policy, opened up for this test: CMC full as well, four
# key types, room for many certificates, renewal at any time with the
# same key, and the demo subscriber's realm.
mkdir -p pol pol-manual
sed -e 's/methods: \[portal, cmc-simple\]/methods: [portal, cmc-simple, cmc-full]/' \
	-e 's/key_types: \[ec-p256\]/key_types: [ec-p256, ec-p384, ed25519, rsa-3072]/' \
	-e 's/max_active_certs: 2/max_active_certs: 20/' \
	-e 's/rate_limit_per_hour: 10/rate_limit_per_hour: 100/' \
	-e 's/window_days: 30/window_days: 365/' \
	-e 's/same_key: false/same_key: true/' \
	-e 's/impi_patterns: \[.*\]/impi_patterns: ["*@ims.mnc001.mcc001.3gppnetwork.org"]/' \
	"$POLICY_SRC" >pol/naf.yaml
sed 's/approval: automatic/approval: manual/' pol/naf.yaml >pol-manual/naf.yaml
mkdir -p pol-confirm
sed 's/^\(  rate_limit_per_hour: 100\)/\1\n  confirm_within_hours: 24/' pol/naf.yaml >pol-confirm/naf.yaml
ok_if "policy edits took (cmc-full, key types, realm)" \
	grep -q 'cmc-full' pol/naf.yaml
ok_if "manual-approval policy" grep -q 'approval: manual' pol-manual/naf.yaml
ok_if "confirmation policy" grep -q '^  confirm_within_hours: 24' pol-confirm/naf.yaml

# ---- the daemon ----


keyalg() { openssl x509 -noout -text -in "$1" | sed -n 's/^ *Public Key Algorithm: //p'; }

SERIALS=

# =====================================================================
echo "== 1. automatic issue"
DEMO=$tmp/d
STATE=$tmp/ue.state
start_bsfd_naf bsfd1 "$DEMO" "$tmp/pol"
PID1=$PID
for f in ca.pem ca/root.pem ca/ca.pem bsf.db bsf.key; do
	[ -s "$DEMO/$f" ] || fail "--demo did not provision $f"
done
pass "--demo provisioned the CA (ca/root.pem, ca/ca.pem)"
"$UE" init --state "$STATE" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init.err
check "gba-ue init" 0 "$?"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot.out 2>boot.err
check "gba-ue bootstrap" 0 "$?"

# -- CMC with identityProofV2, the default key type
ue enrol1 enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/o1"
rc=$?
issued "1 enrol (ec-p256)" enrol1 "$tmp/o1"
cms_verify "1 enrol (ec-p256)" enrol1
S_O1=$is_serial
check "1 enrol: key type ec-p256" id-ecPublicKey "$(keyalg o1/cert.pem)"
ok_if "1 enrol: subject is the IMPI" \
	sh -c "openssl x509 -noout -subject -in o1/cert.pem | grep -q 'CN *= *$IMPI'"
ok_if "1 enrol: private key written" test -s o1/key.pem
check "1 enrol: certificate matches key.pem" \
	"$(openssl pkey -in o1/key.pem -pubout)" "$(pubkey o1/cert.pem)"
ok_if "1 enrol: chain.pem written" test -s o1/chain.pem

# -- every other key type in the policy
for kt in ec-p384 ed25519 rsa-3072; do
	ue "enrol-$kt" enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/o-$kt" --key-type "$kt"
	rc=$?
	issued "1 enrol --key-type $kt" "enrol-$kt" "$tmp/o-$kt"
	cms_verify "1 enrol --key-type $kt" "enrol-$kt"
	case $kt in
	ec-p384) want=id-ecPublicKey ;;
	ed25519) want=ED25519 ;;
	rsa-3072) want=rsaEncryption ;;
	esac
	check "1 enrol --key-type $kt: key algorithm" "$want" "$(keyalg "o-$kt/cert.pem")"
	check "1 enrol --key-type $kt: certificate matches key.pem" \
		"$(openssl pkey -in "o-$kt/key.pem" -pubout)" "$(pubkey "o-$kt/cert.pem")"
done
ok_if "1 enrol ec-p384: a P-384 key" \
	sh -c 'openssl x509 -noout -text -in o-ec-p384/cert.pem | grep -q "P-384\|secp384r1"'
ok_if "1 enrol rsa-3072: 3072 bits" \
	sh -c 'openssl x509 -noout -text -in o-rsa-3072/cert.pem | grep -q "(3072 bit)"'

# -- CRMF instead of PKCS#10
ue crmf enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/o-crmf" --crmf --key-type ec-p384
rc=$?
issued "1 enrol --crmf (ec-p384)" crmf "$tmp/o-crmf"
cms_verify "1 enrol --crmf" crmf
check "1 enrol --crmf: certificate matches key.pem" \
	"$(openssl pkey -in o-crmf/key.pem -pubout)" "$(pubkey o-crmf/cert.pem)"

# -- two requests in one PKIData
ue count2 enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/o-2" --count 2
rc=$?
issued "1 enrol --count 2 (first)" count2 "$tmp/o-2"
cms_verify "1 enrol --count 2" count2
c2a=$is_serial
issued "1 enrol --count 2 (second)" count2 "$tmp/o-2" cert-2.pem
c2b=$is_serial
check "1 enrol --count 2: two issued lines" 2 "$(grep -c '^issued ' count2.out)"
ok_if "1 enrol --count 2: two different serials" test "$c2a" != "$c2b"
check "1 enrol --count 2: cert-2.pem matches key-2.pem" \
	"$(openssl pkey -in o-2/key-2.pem -pubout)" "$(pubkey o-2/cert-2.pem)"
ok_if "1 enrol --count 2: two different keys" \
	test "$(pubkey o-2/cert.pem)" != "$(pubkey o-2/cert-2.pem)"

# -- renew (same key, signed by the current certificate)
cp o1/cert.pem o1-before.pem
ue renew renew --trust "$DEMO/ca/root.pem" --out "$tmp/o1"
rc=$?
issued "1 renew" renew "$tmp/o1"
cms_verify "1 renew" renew
S_RENEW=$is_serial
ok_if "1 renew: a new serial" test "$S_RENEW" != "$S_O1"
check "1 renew: same public key" "$(pubkey o1-before.pem)" "$(pubkey o1/cert.pem)"

# -- rekey (new key, signed by the current certificate)
cp o1/cert.pem o1-renewed.pem
ue rekey rekey --trust "$DEMO/ca/root.pem" --out "$tmp/o1"
rc=$?
issued "1 rekey" rekey "$tmp/o1"
cms_verify "1 rekey" rekey
ok_if "1 rekey: a new serial" test "$is_serial" != "$S_RENEW"
ok_if "1 rekey: a new public key" test "$(pubkey o1-renewed.pem)" != "$(pubkey o1/cert.pem)"
check "1 rekey: certificate matches the new key.pem" \
	"$(openssl pkey -in o1/key.pem -pubout)" "$(pubkey o1/cert.pem)"

# -- TS 33.221 portal enrolment (PKCS#10 under Ua Digest)
ue portal portal-enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/p1"
rc=$?
issued "1 portal-enrol" portal "$tmp/p1"
ue portal-chain portal-enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/p2" --response chain
rc=$?
issued "1 portal-enrol --response chain" portal-chain "$tmp/p2"
check "1 portal-enrol --response chain: chain.pem holds the certificate and the issuing CA" \
	2 "$(grep -c 'BEGIN CERTIFICATE' p2/chain.pem)"

# =====================================================================
echo "== 6. requests built outside gba-ue: pyasn1 PKIData, openssl cms -sign"
# post_cmc DESC NAME: curl POSTs NAME.req (HTTP/2) to /cmc; the answer
# goes to NAME.resp and must be a CMC-response.
post_cmc() {
	pc_ct=$(curl -sS --http2 --cacert "$DEMO/ca.pem" -o "$tmp/$2.resp" -w '%{content_type}' \
		-H 'Content-Type: application/pkcs7-mime; smime-type=CMC-request' \
		--data-binary "@$tmp/$2.req" "https://127.0.0.1:$NAF/cmc" 2>"$tmp/$2.err")
	check "$1: curl --http2 POST /cmc" 0 "$?"
	check "$1: answer media type" "application/pkcs7-mime; smime-type=CMC-response" "$pc_ct"
}
# ext_issued DESC NAME KEY: NAME.resp verifies (cms_verify) and carries
# a certificate for KEY that chains to the demo root.
ext_issued() {
	cms_verify "$1" "$2"
	openssl cms -verify -inform DER -in "$tmp/$2.resp" -CAfile "$DEMO/ca/root.pem" \
		-purpose any -certsout "$tmp/$2.certs" -out /dev/null 2>/dev/null
	ext_cert "$1" "$tmp/$2.certs" "$3"
}
# ext_cert DESC PEMS KEY: among the certificates in PEMS, the one for
# KEY (into $ei_cert) verifies; its serial goes into SERIALS.
ext_cert() {
	ei_pub=$(openssl pkey -in "$3" -pubout)
	rm -f "$2".c*.pem
	awk -v d="$2" '/BEGIN CERT/ { n++ } n { print > (d ".c" n ".pem") }' "$2"
	ei_cert=
	for c in "$2".c*.pem; do
		[ "$(pubkey "$c")" = "$ei_pub" ] && ei_cert=$c
	done
	[ -n "$ei_cert" ] || fail "$1: no certificate for the request's key in the answer"
	pass "$1: the answer carries a certificate for the request's key"
	verify_cert "$1" "$ei_cert"
	SERIALS="$SERIALS $(openssl x509 -noout -serial -in "$ei_cert" | sed 's/^serial=//' | tr 'A-F' 'a-f')"
}
PY=/usr/bin/python3
"$PY" -c 'import pyasn1_modules' 2>/dev/null || fail "python3-pyasn1-modules missing"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot6.out 2>boot6.err
check "6 gba-ue bootstrap (a fresh B-TID)" 0 "$?"
BTID=$(sed -n 's/^B-TID: //p' boot6.out)
KSNAF=$("$UE" ks-naf --state "$STATE" "$APP" 0100000000)
ok_if "6 B-TID and Ks_NAF known" test -n "$BTID" -a ${#KSNAF} = 64

# -- a first enrolment: signed by the new key, sid = subjectKeyIdentifier
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out x.key 2>/dev/null
"$PY" "$top_srcdir/tests/ext_cmc.py" new x.key "$BTID" "$KSNAF" x.pkidata
check "6 new: pyasn1 PKIData built" 0 "$?"
# Only for openssl's -keyid: a throw-away self-signed certificate whose
# subjectKeyIdentifier (method 1, "hash") names x.key.  -nocerts keeps it
# out of the request.
openssl req -x509 -new -key x.key -subj /CN=signer -days 1 \
	-addext subjectKeyIdentifier=hash -out x-self.pem 2>/dev/null
openssl cms -sign -binary -nodetach -econtent_type 1.3.6.1.5.5.7.12.2 -md sha256 \
	-signer x-self.pem -inkey x.key -keyid -nocerts -nosmimecap \
	-in x.pkidata -outform DER -out ext-new.req 2>ext-new.sign.err
check "6 new: openssl cms -sign -econtent_type id-cct-PKIData" 0 "$?"
check "6 new: the request's eContentType" "id-cct-PKIData (1.3.6.1.5.5.7.12.2)" \
	"$(openssl cms -cmsout -print -inform DER -in ext-new.req | sed -n 's/^ *eContentType: *//p')"
post_cmc "6 new" ext-new
ext_issued "6 new" ext-new x.key

# -- a renewal: signed by an issued certificate (issuerAndSerialNumber),
# the PKCS#10 from openssl req
openssl req -new -key o1/key.pem -subj "/CN=$IMPI" -outform DER -out r.csr 2>/dev/null
"$PY" "$top_srcdir/tests/ext_cmc.py" renew r.csr r.pkidata
check "6 renew: pyasn1 PKIData built" 0 "$?"
openssl cms -sign -binary -nodetach -econtent_type 1.3.6.1.5.5.7.12.2 -md sha256 \
	-signer o1/cert.pem -inkey o1/key.pem -nosmimecap \
	-in r.pkidata -outform DER -out ext-renew.req 2>ext-renew.sign.err
check "6 renew: openssl cms -sign with the issued certificate" 0 "$?"
post_cmc "6 renew" ext-renew
ext_issued "6 renew" ext-renew o1/key.pem

# -- the TS 33.221 portal driven by curl; the Digest is computed by
# tests/ua_digest.py, not by our library
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pc.key 2>/dev/null
openssl req -new -key pc.key -subj "/CN=$IMPI" -outform DER -out pc.csr 2>/dev/null
ok_if "6 portal/curl: openssl req made a CSR" test -s pc.csr
PURI='/enrol?response=single'
# portal_curl NAME [AUTHORIZATION]: POST pc.csr to $PURI with content
# type $PCT (empty: curl sends none); headers in NAME.hdr, body in NAME.body;
# prints the HTTP status.
PCT=application/pkcs10
portal_curl() {
	set -- "$1" ${2:+-H "Authorization: $2"}
	pcu_n=$1
	shift
	curl -sS --http2 --cacert "$DEMO/ca.pem" -D "$tmp/$pcu_n.hdr" -o "$tmp/$pcu_n.body" \
		-w '%{http_code}' -H "Content-Type:${PCT:+ $PCT}" "$@" \
		--data-binary @"$tmp/pc.csr" "https://127.0.0.1:$NAF$PURI" 2>"$tmp/$pcu_n.err"
}
hdr() { sed -n "s/^$2: *//Ip" "$tmp/$1.hdr" | tr -d '\r' | head -n 1; }
check "6 portal/curl: no Authorization: 401" 401 "$(portal_curl pc1)"
CHAL=$(hdr pc1 www-authenticate)
ok_if "6 portal/curl: the challenge's realm is 3GPP-bootstrapping@$APP" \
	contains "$CHAL" "realm=\"3GPP-bootstrapping@$APP\""
ok_if "6 portal/curl: the challenge offers qop auth-int" contains "$CHAL" auth-int
CN=$(openssl rand -hex 8)
AUTHZ=$("$PY" "$top_srcdir/tests/ua_digest.py" authorize "$CHAL" POST "$PURI" pc.csr \
	"$BTID" "$KSNAF" "$CN")
check "6 portal/curl: Digest computed" 0 "$?"
check "6 portal/curl: with the Digest: 200" 200 "$(portal_curl pc2 "$AUTHZ")"
check "6 portal/curl: content type" application/pkix-cert "$(hdr pc2 content-type)"
INFO=$(hdr pc2 authentication-info)
ok_if "6 portal/curl: Authentication-Info rspauth is right (auth-int over the answer)" \
	"$PY" "$top_srcdir/tests/ua_digest.py" rspauth "$CHAL" "$INFO" "$PURI" pc2.body \
	"$BTID" "$KSNAF" "$CN"
ok_if "6 portal/curl: rspauth check can fail (other body)" \
	sh -c "! '$PY' '$top_srcdir/tests/ua_digest.py' rspauth '$CHAL' '$INFO' '$PURI' pc.csr '$BTID' '$KSNAF' '$CN'"
openssl x509 -inform DER -in pc2.body -out pc.pem 2>/dev/null
check "6 portal/curl: the certificate is for the CSR's key" "$(openssl pkey -in pc.key -pubout)" \
	"$(pubkey pc.pem)"
verify_cert "6 portal/curl" pc.pem
SERIALS="$SERIALS $(openssl x509 -noout -serial -in pc.pem | sed 's/^serial=//' | tr 'A-F' 'a-f')"
check "6 portal/curl: the same Authorization replayed: 403" 403 "$(portal_curl pc4 "$AUTHZ")"
ok_if "6 portal/curl: the replay issued nothing" test "$(hdr pc4 content-type)" != application/pkix-cert
# -- Simple PKI Requests on /cmc (RFC 5272 3.1): application/pkcs10, and
# no content type at all; the answer is certs-only
for PCT in application/pkcs10 ''; do
	PURI=/cmc
	cs=simple${PCT:+-typed}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$cs.key" 2>/dev/null
	openssl req -new -key "$cs.key" -subj "/CN=$IMPI" -outform DER -out pc.csr 2>/dev/null
	CN=$(openssl rand -hex 8)
	AUTHZ=$("$PY" "$top_srcdir/tests/ua_digest.py" authorize "$CHAL" POST "$PURI" pc.csr \
		"$BTID" "$KSNAF" "$CN")
	check "6 $cs: POST /cmc under Digest: 200" 200 "$(portal_curl "$cs" "$AUTHZ")"
	check "6 $cs: certs-only media type" "application/pkcs7-mime; smime-type=certs-only" \
		"$(hdr "$cs" content-type)"
	ok_if "6 $cs: rspauth is right" "$PY" "$top_srcdir/tests/ua_digest.py" rspauth "$CHAL" \
		"$(hdr "$cs" authentication-info)" "$PURI" "$cs.body" "$BTID" "$KSNAF" "$CN"
	openssl pkcs7 -inform DER -in "$cs.body" -print_certs -out "$cs.certs" 2>"$cs.p7err"
	check "6 $cs: openssl pkcs7 reads the certs-only answer" 0 "$?"
	ext_cert "6 $cs" "$tmp/$cs.certs" "$cs.key"
done
PURI='/enrol?response=single'
PCT=application/pkcs10
WRONG=$("$PY" "$top_srcdir/tests/ua_digest.py" authorize "$CHAL" POST "$PURI" pc.csr \
	"$BTID" "$(printf '%064d' 0)" "$CN")
check "6 portal/curl: a Digest under the wrong Ks_NAF: 401" 401 "$(portal_curl pc3 "$WRONG")"

# =====================================================================
echo "== 3. refused"
ue badalg enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/o-bad" --key-type rsa-2048
check "3 enrol --key-type rsa-2048 (outside the policy): exit status" 1 "$?"
ok_if "3 enrol --key-type rsa-2048: failInfo badAlg" grep -q '^failed badAlg' badalg.out
ok_if "3 enrol --key-type rsa-2048: no certificate written" test ! -e o-bad/cert.pem
cms_verify "3 enrol refused (badAlg)" badalg

# =====================================================================
echo "== 5. the store and the audit log"
"$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" cert list >certs.txt 2>certs.err
check "5 gba-ctl cert list: exit status" 0 "$?"
n=0
for s in $SERIALS; do
	n=$((n + 1))
	if awk -v s="$(norm "$s")" '{ sub(/^0+/, "", $1) } $1 == s { f = 1 } END { exit !f }' certs.txt; then
		:
	else
		indent certs.txt
		fail "5 gba-ctl cert list lacks serial $s"
	fi
done
pass "5 gba-ctl cert list holds all $n serials issued"
check "5 gba-ctl cert list: one line per issued certificate" "$n" "$(wc -l <certs.txt | tr -d ' ')"
ok_if "5 gba-ctl cert list: every certificate valid, for the IMPI and the application" \
	sh -c "awk '\$2 != \"valid\" || \$4 != \"$IMPI\" || \$5 != \"$APP\" { exit 1 }' certs.txt"
stop_daemon "$PID1" bsfd1
ok_if "5 audit log written" test -s "$DEMO/audit.jsonl"
ni=$(grep -c '"event":"issue"' "$DEMO/audit.jsonl")
check "5 audit log: one issue record per certificate" "$n" "$ni"
ok_if "5 gba-ctl audit verify" "$CTL" audit verify "$DEMO/audit.jsonl"

# =====================================================================
echo "== 4. manual approval (second daemon)"
DEMO=$tmp/d2
STATE=$tmp/ue2.state
start_bsfd_naf bsfd2 "$DEMO" "$tmp/pol-manual"
PID2=$PID
"$UE" init --state "$STATE" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init2.err
check "4 gba-ue init" 0 "$?"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot2.out 2>boot2.err
check "4 gba-ue bootstrap" 0 "$?"
ue pend enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/q1"
check "4 enrol under approval: manual: exit status 3 (pending)" 3 "$?"
TOKEN=$(sed -n 's/^pending \([0-9a-f]*\)$/\1/p' pend.out)
ok_if "4 enrol printed 'pending TOKEN'" test -n "$TOKEN"
check "4 q1/pending.txt holds the token" "$TOKEN" "$(awk '$1 == "token" { print $2 }' q1/pending.txt)"
ok_if "4 no certificate yet" test ! -e q1/cert.pem
cms_verify "4 enrol answered pending" pend
ctl2() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" "$@"; }
ctl2 pending list >pending.txt 2>&1
check "4 gba-ctl pending list: exit status" 0 "$?"
ok_if "4 gba-ctl pending list: the token, waiting" \
	sh -c "awk '\$1 == \"$TOKEN\" && \$2 == \"waiting\" { f = 1 } END { exit !f }' pending.txt"
ue poll1 poll --naf-fqdn "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/q1"
check "4 poll before approval: exit status 3 (still pending)" 3 "$?"
ok_if "4 poll before approval: no certificate" test ! -e q1/cert.pem
ctl2 approve "$TOKEN" >approve.out 2>&1
check "4 gba-ctl approve: exit status" 0 "$?"
check "4 gba-ctl approve: output" "approved $TOKEN" "$(cat approve.out)"
# poll has no APP argument: the NAF FQDN (part of NAF_Id, so of Ks_NAF)
# comes from pending.txt, where enrol recorded it.
check "4 q1/pending.txt records the NAF FQDN" "$APP" "$(awk '$1 == "naf" { print $2 }' q1/pending.txt)"
ue poll2 poll --trust "$DEMO/ca/root.pem" --out "$tmp/q1"
check "4 poll after approval: exit status 0 (issued)" 0 "$?"
verify_cert "4 poll after approval: issued certificate" q1/cert.pem
cms_verify "4 poll after approval" poll2
ue poll3 poll --naf-fqdn "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/q1"
check "4 poll once more: nothing pending any more (usage/state error)" 4 "$?"
stop_daemon "$PID2" bsfd2
ok_if "4 gba-ctl audit verify (second daemon)" "$CTL" audit verify "$DEMO/audit.jsonl"

# =====================================================================
echo "== 7. confirmCertAcceptance (enrollment.confirm_within_hours)"
DEMO=$tmp/d3
STATE=$tmp/ue3.state
start_bsfd_naf bsfd3 "$DEMO" "$tmp/pol-confirm"
PID3=$PID
"$UE" init --state "$STATE" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init3.err
check "7 gba-ue init" 0 "$?"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot3.out 2>boot3.err
check "7 gba-ue bootstrap" 0 "$?"
ctl3() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" "$@"; }
# cmc_status NAME: the statuses in NAME.resp (BODYPARTS STATUS FAILINFO,
# one line each), read by pyasn1 (tests/cmc_status.py)
cmc_status() {
	openssl cms -verify -inform DER -in "$tmp/$1.resp" -CAfile "$DEMO/ca/root.pem" \
		-purpose any -out "$tmp/$1.content" 2>/dev/null &&
		"$PY" "$top_srcdir/tests/cmc_status.py" "$tmp/$1.content"
}
cert_status() { ctl3 cert list | awk -v s="$(norm "$1")" '{ x = $1; sub(/^0+/, "", x) } x == s { print $2 }'; }

ue unconf enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/u1" --no-confirm
rc=$?
issued "7 enrol --no-confirm" unconf "$tmp/u1"
S_U=$is_serial
check "7 enrol --no-confirm: the answer's status" "1 confirmRequired -" "$(cmc_status unconf)"
check "7 enrol --no-confirm: 'unconfirmed SERIAL' printed" "unconfirmed $S_U" \
	"$(grep '^unconfirmed ' unconf.out)"
check "7 gba-ctl cert list: unconfirmed" unconfirmed "$(cert_status "$S_U")"
ok_if "7 gba-ctl cert show: Confirm by" sh -c "'$CTL' --db '$DEMO/bsf.db' --key-file '$DEMO/bsf.key' cert show $S_U | grep -q '^Confirm by: '"

ue conf enrol "$APP" --trust "$DEMO/ca/root.pem" --out "$tmp/u2"
rc=$?
issued "7 enrol" conf "$tmp/u2"
S_C=$is_serial
check "7 enrol: 'confirmed SERIAL' printed" "confirmed $S_C" "$(grep '^confirmed ' conf.out)"
cms_verify "7 the confirmation's answer" conf
check "7 the confirmation's answer: success for the control (body part 3)" "3 success -" "$(cmc_status conf)"
check "7 gba-ctl cert list: valid once confirmed" valid "$(cert_status "$S_C")"
check "7 the other certificate is still unconfirmed" unconfirmed "$(cert_status "$S_U")"
stop_daemon "$PID3" bsfd3

t_end=$(date +%s)
echo "e2e_cmc: $checks checks passed, $((t_end - t_start)) s"
exit 0
