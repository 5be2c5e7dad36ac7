#!/bin/sh
# ocsp_interop.sh - the revocation codecs (gba_ocsp.h) against openssl and
# certtool, through the tests/ocsp_tool helper.
#
#  * openssl ocsp makes requests (with and without a nonce, SHA-1 and
#    SHA-256 CertIDs); ocsp_tool parses them and answers as the CA
#    (good, revoked keyCompromise, unknown); openssl ocsp must verify
#    the signature, report the status and reason, and match the nonce;
#  * a truncated request is answered malformedRequest;
#  * a CRL with three entries (reasons, invalidity dates) must print,
#    verify with openssl and certtool, and revoke exactly the listed leaf
#    in openssl verify -crl_check.
# Every check has a negative twin, so the script fails if the tools
# accept anything.
set -eu

: "${top_builddir:=..}"
: "${OPENSSL:=openssl}"
: "${CERTTOOL:=certtool}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
TOOL="$top_builddir/tests/ocsp_tool"
ASN1="$top_builddir/tests/asn1_tool"

for t in "$OPENSSL" "$CERTTOOL"; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done

tmp=$(mktemp -d)
[ -n "${GBA_INTEROP_KEEP:-}" ] && tmp=$GBA_INTEROP_KEEP && mkdir -p "$tmp"
[ -n "${GBA_INTEROP_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect OUTFILE PATTERN WHAT: pass when PATTERN is in OUTFILE
expect() {
	if grep -q -- "$2" "$1"; then pass "$3"; else fail "$3"; sed 's/^/    /' "$1"; fi
}
expect_not() {
	if grep -q -- "$2" "$1"; then fail "$3"; sed 's/^/    /' "$1"; else pass "$3"; fi
}

O="$OPENSSL"
# ---- a P-256 CA, a revoked leaf and a good leaf ----
$O req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
	-subj "/O=gbacert test/CN=OCSP Test CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature -out ca.pem 2>/dev/null
for n in leaf ok; do
	$O req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key \
		-subj "/CN=$n.example" -out $n.csr 2>/dev/null
done
$O x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -days 7 \
	-set_serial 0x4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d -out leaf.pem 2>/dev/null
$O x509 -req -in ok.csr -CA ca.pem -CAkey ca.key -days 7 -set_serial 0x1122 \
	-out ok.pem 2>/dev/null
# a foreign CA for negative checks
$O req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
	-subj "/CN=Other CA" -days 30 -addext basicConstraints=critical,CA:TRUE -out other.pem \
	2>/dev/null

# ---- requests ----
$O ocsp -issuer ca.pem -cert leaf.pem -reqout req_nonce.der 2>/dev/null
$O ocsp -issuer ca.pem -cert leaf.pem -no_nonce -reqout req_plain.der 2>/dev/null
$O ocsp -issuer ca.pem -cert leaf.pem -reqout req_other_nonce.der 2>/dev/null
$O ocsp -issuer ca.pem -sha256 -cert leaf.pem -cert ok.pem -reqout req_two.der 2>/dev/null

"$TOOL" parse req_nonce.der > p1.txt 2>&1 || true
expect p1.txt "serial 4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d" "request: CertID serial parsed"
expect p1.txt "^nonce [0-9a-f]\{32\}$" "request: 16-octet nonce parsed"
"$TOOL" parse req_plain.der > p2.txt 2>&1 || true
expect_not p2.txt "^nonce" "request -no_nonce: no nonce reported"
"$TOOL" parse req_two.der > p3.txt 2>&1 || true
expect p3.txt "certids 2 " "request with two SHA-256 CertIDs parsed"
expect p3.txt "hash sha256" "request: SHA-256 CertID recognised"

# ---- good, with nonce: signature, status and nonce must check ----
"$TOOL" respond req_nonce.der ca.pem ca.key good good.der > r.txt 2>&1 || fail "respond good"
$O ocsp -respin good.der -reqin req_nonce.der -CAfile ca.pem -issuer ca.pem > v1.txt 2>&1 || true
expect v1.txt "Response verify OK" "good response: openssl verifies the signature"
expect_not v1.txt "Nonce Verify error" "good response: openssl matches the nonce"
$O ocsp -respin good.der -reqin req_other_nonce.der -CAfile ca.pem -issuer ca.pem > v2.txt 2>&1 || true
expect v2.txt "Nonce Verify error" "good response checked against another request: nonce mismatch seen"
$O ocsp -respin good.der -issuer ca.pem -CAfile ca.pem -cert leaf.pem -no_nonce > v3.txt 2>&1 || true
expect v3.txt "leaf.pem: good" "good response: openssl reports good"
$O ocsp -respin good.der -resp_text -noverify > t1.txt 2>&1 || true
expect t1.txt "OCSP Nonce" "good response: -resp_text shows the nonce extension"
expect t1.txt "Cert Status: good" "good response: -resp_text shows Cert Status: good"
$O ocsp -respin good.der -issuer other.pem -CAfile other.pem -cert leaf.pem -no_nonce > v4.txt 2>&1 || true
expect_not v4.txt "Response verify OK" "good response does not verify under another CA"

for f in good.der; do
	"$ASN1" check OCSPResponse $f > a.txt 2>&1 && pass "$f passes the strict decoder" ||
		{ fail "$f strict decode"; cat a.txt; }
done

# ---- revoked keyCompromise, no nonce, responder byName ----
"$TOOL" respond req_plain.der ca.pem ca.key revoked:keyCompromise rev.der byname > r.txt 2>&1 ||
	fail "respond revoked"
$O ocsp -respin rev.der -issuer ca.pem -CAfile ca.pem -cert leaf.pem -no_nonce > v5.txt 2>&1 || true
expect v5.txt "Response verify OK" "revoked response (byName): openssl verifies the signature"
expect v5.txt "leaf.pem: revoked" "revoked response: openssl reports revoked"
expect v5.txt "Reason: keyCompromise" "revoked response: Reason: keyCompromise"
$O ocsp -respin rev.der -resp_text -noverify > t2.txt 2>&1 || true
expect t2.txt "Responder Id: .*CN *= *OCSP Test CA" "revoked response: responderID byName"
expect_not t2.txt "OCSP Nonce" "revoked response: no nonce when none was asked"

# ---- unknown ----
"$TOOL" respond req_two.der ca.pem ca.key unknown unk.der > r.txt 2>&1 || fail "respond unknown"
$O ocsp -respin unk.der -reqin req_two.der -CAfile ca.pem -issuer ca.pem > v6.txt 2>&1 || true
expect v6.txt "Response verify OK" "unknown response: openssl verifies"
$O ocsp -respin unk.der -resp_text -noverify > t3.txt 2>&1 || true
[ "$(grep -c 'Cert Status: unknown' t3.txt)" -eq 2 ] && pass "unknown response: two unknown statuses" ||
	fail "unknown response: two unknown statuses"

# ---- a corrupted response must not verify ----
cp good.der bad.der
sz=$(wc -c < bad.der)
# flip one bit of the octet (writing a fixed value would change nothing
# when the octet already had it)
ob=$(od -An -tu1 -j $((sz - 10)) -N1 bad.der | tr -d ' ')
printf "\\$(printf '%03o' $((ob ^ 1)))" | dd of=bad.der bs=1 seek=$((sz - 10)) conv=notrunc 2>/dev/null
cmp -s good.der bad.der && fail "the corruption changed nothing"
$O ocsp -respin bad.der -reqin req_nonce.der -CAfile ca.pem -issuer ca.pem > v7.txt 2>&1 || true
expect_not v7.txt "Response verify OK" "corrupted response fails openssl verification"

# ---- malformed request ----
head -c 40 req_nonce.der > trunc.der
rc=0
"$TOOL" respond trunc.der ca.pem ca.key good mal.der > m.txt 2>&1 || rc=$?
[ "$rc" -eq 3 ] && pass "truncated request: helper answers malformedRequest" ||
	fail "truncated request: helper exit $rc"
$O ocsp -respin mal.der -resp_text > t4.txt 2>&1 || true
expect t4.txt "malformedrequest (1)" "openssl shows malformedrequest"
for s in 2 3 5 6; do
	"$TOOL" error $s e$s.der || fail "error_build $s"
done
$O ocsp -respin e3.der -resp_text > t5.txt 2>&1 || true
expect t5.txt "trylater (3)" "openssl shows trylater"
$O ocsp -respin e6.der -resp_text > t6.txt 2>&1 || true
expect t6.txt "unauthorized (6)" "openssl shows unauthorized"

# ---- CRL ----
"$TOOL" crl ca.pem ca.key crl.der \
	4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d:keyCompromise:1700000000 \
	0a0b:superseded 00ff:unspecified:1600000000 > c.txt 2>&1 || fail "crl build"
"$ASN1" check CertificateList crl.der > a.txt 2>&1 && pass "CRL passes the strict decoder" ||
	{ fail "CRL strict decode"; cat a.txt; }
$O crl -inform DER -in crl.der -text -noout > ct.txt 2>&1 || true
expect ct.txt "Key Compromise" "CRL: Key Compromise reason"
expect ct.txt "Superseded" "CRL: Superseded reason"
expect ct.txt "Invalidity Date" "CRL: Invalidity Date"
expect ct.txt "X509v3 CRL Number" "CRL: CRL Number"
expect ct.txt "X509v3 Authority Key Identifier" "CRL: Authority Key Identifier"
expect ct.txt "Version 2" "CRL: version 2"
[ "$(grep -c 'CRL Reason Code' ct.txt)" -eq 2 ] && pass "CRL: no reasonCode for unspecified" ||
	fail "CRL: reasonCode count"
$O crl -inform DER -in crl.der -CAfile ca.pem -noout > cv.txt 2>&1 || true
expect cv.txt "verify OK" "CRL: openssl crl verifies the signature"
$O crl -inform DER -in crl.der -CAfile other.pem -noout > cv2.txt 2>&1 || true
expect_not cv2.txt "verify OK" "CRL: does not verify under another CA"
$O crl -inform DER -in crl.der -out crl.pem
if $O verify -crl_check -CAfile ca.pem -CRLfile crl.pem leaf.pem > vv.txt 2>&1; then
	fail "openssl verify -crl_check accepted the revoked leaf"
else
	expect vv.txt "certificate revoked" "openssl verify -crl_check: leaf revoked"
fi
if $O verify -crl_check -CAfile ca.pem -CRLfile crl.pem ok.pem > vv2.txt 2>&1; then
	pass "openssl verify -crl_check: a non-revoked leaf passes"
else
	fail "openssl verify -crl_check: a non-revoked leaf fails"; cat vv2.txt
fi
"$CERTTOOL" --crl-info --inder --infile crl.der > ci.txt 2>&1 || fail "certtool --crl-info"
expect ci.txt "Revoked certificates (3)" "certtool parses the CRL (3 entries)"
"$CERTTOOL" --verify-crl --load-ca-certificate ca.pem --infile crl.pem > cv3.txt 2>&1 || true
expect cv3.txt "Verified" "certtool --verify-crl verifies"

# an empty CRL (no revokedCertificates) still verifies
"$TOOL" crl ca.pem ca.key empty.der > c.txt 2>&1 || fail "empty crl build"
$O crl -inform DER -in empty.der -CAfile ca.pem -text > ce.txt 2>&1 || true
expect ce.txt "No Revoked Certificates" "empty CRL: no revokedCertificates"
expect ce.txt "verify OK" "empty CRL: verifies"

echo "ocsp_interop: $fails failure(s)"
[ "$fails" -eq 0 ]
