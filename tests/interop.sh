#!/bin/sh
# interop.sh - the strict codecs against objects made by independent
# tools, and the project's CCM against independent verifiers.
#
#  * openssl / certtool make certificates with 20-byte serials, a CSR, a
#    CRL, an OCSP request and response, certs-only PKCS#7 and a CMC Full
#    PKI Request (PKIData from pyasn1, wrapped by openssl cms -sign with
#    eContentType id-cct-PKIData); every one must pass the strict decoder;
#  * BER variants of the same objects must be rejected with a reason;
#  * a CCM built and signed by gba-ue must pass openssl cms -verify and
#    openssl asn1parse, and fail verification once a byte is flipped.
set -eu

: "${top_builddir:=..}"
: "${srcdir:=.}"
: "${OPENSSL:=openssl}"
: "${CERTTOOL:=certtool}"
PY=/usr/bin/python3
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
srcdir=$(abs "$srcdir")
TOOL="$top_builddir/tests/asn1_tool"
UE="$top_builddir/ue/gba-ue"

for t in "$OPENSSL" "$CERTTOOL" "$PY"; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done

tmp=$(mktemp -d)
[ -n "${GBA_INTEROP_KEEP:-}" ] && tmp=$GBA_INTEROP_KEEP && mkdir -p "$tmp"
[ -n "${GBA_INTEROP_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
accept() {  # PDU FILE
	if "$TOOL" check "$1" "$2"; then pass "$1 $2 accepted"; else fail "$1 $2 rejected"; fi
}
reject() {  # PDU FILE
	if "$TOOL" check "$1" "$2"; then fail "$1 $2 accepted but is not DER"; else pass "$1 $2 rejected"; fi
}

# ---- a CA and an end entity, both with 20-byte serials ----
O="$OPENSSL"
$O req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/O=gbacert test/CN=Test CA" \
	-days 30 -set_serial 0x7f0102030405060708090a0b0c0d0e0f10111213 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign \
	-out ca.pem 2>/dev/null
$O req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ee.key \
	-subj "/CN=001010123456789@ims.mnc001.mcc001.3gppnetwork.org" \
	-addext "subjectAltName=URI:sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org" \
	-out ee.csr 2>/dev/null
$O x509 -req -in ee.csr -CA ca.pem -CAkey ca.key -days 7 \
	-set_serial 0x4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d -out ee.pem 2>/dev/null
$O x509 -in ca.pem -outform DER -out ca.der
$O x509 -in ee.pem -outform DER -out ee.der
$O req -in ee.csr -outform DER -out ee.csr.der
[ "$($O x509 -in ee.pem -noout -serial)" = "serial=4A5B6C7D8E9FA0B1C2D3E4F5061728394A5B6C7D" ] ||
	fail "openssl did not make a 20-byte serial"
accept Certificate ca.der
accept Certificate ee.der
accept CertificationRequest ee.csr.der

# ---- certtool: its own certificate and a CRL revoking the EE ----
cat > crl.tmpl <<'TMPL'
crl_next_update = 7
crl_number = 42
TMPL
"$CERTTOOL" --generate-crl --load-ca-privkey ca.key --load-ca-certificate ca.pem \
	--load-certificate ee.pem --template crl.tmpl --outder --outfile crl.der 2>/dev/null
accept CertificateList crl.der
cat > ct.tmpl <<'TMPL'
cn = "certtool leaf"
serial = 0x6e0102030405060708090a0b0c0d0e0f10111213
expiration_days = 3
signing_key
TMPL
"$CERTTOOL" --generate-privkey --key-type ecdsa --outfile ct.key 2>/dev/null
"$CERTTOOL" --generate-certificate --load-privkey ct.key --load-ca-privkey ca.key \
	--load-ca-certificate ca.pem --template ct.tmpl --outder --outfile ct.der 2>/dev/null
accept Certificate ct.der

# ---- OCSP request and a signed response ----
$O ocsp -issuer ca.pem -cert ee.pem -reqout ocspreq.der -no_nonce 2>/dev/null
$O ocsp -issuer ca.pem -cert ee.pem -reqout ocspreq-nonce.der 2>/dev/null
accept OCSPRequest ocspreq.der
accept OCSPRequest ocspreq-nonce.der
expiry=$($O x509 -in ee.pem -noout -enddate | sed 's/notAfter=//')
printf 'V\t%s\t\t4A5B6C7D8E9FA0B1C2D3E4F5061728394A5B6C7D\tunknown\t/CN=ee\n' \
	"$(date -u -d "$expiry" +%y%m%d%H%M%SZ)" > index.txt
$O ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem -reqin ocspreq-nonce.der \
	-respout ocspresp.der -ndays 1 2>/dev/null
accept OCSPResponse ocspresp.der

# ---- certs-only PKCS#7 (Simple PKI Response), from both tools ----
cat ee.pem ca.pem > chain.pem
$O crl2pkcs7 -nocrl -certfile chain.pem -outform DER -out certsonly.p7c
accept ContentInfo certsonly.p7c
"$CERTTOOL" --p7-generate --load-certificate chain.pem --outder --outfile certsonly-gt.p7c 2>/dev/null
accept ContentInfo certsonly-gt.p7c

# ---- a Full PKI Request: pyasn1 PKIData, signed by openssl cms ----
"$PY" "$srcdir/make_pkidata.py" ee.csr.der pkidata.der
accept PKIData pkidata.der
$O cms -sign -binary -nodetach -econtent_type 1.3.6.1.5.5.7.12.2 -md sha256 \
	-signer ee.pem -inkey ee.key -in pkidata.der -outform DER -out fullpki.der
accept ContentInfo fullpki.der
if "$TOOL" econtent fullpki.der econtent.der | grep -q '^eContentType 2b06010505070c02 '; then
	pass "Full PKI Request carries id-cct-PKIData"
else
	fail "Full PKI Request eContentType"
fi
if cmp -s econtent.der pkidata.der; then pass "eContent is the signed PKIData"; else fail "eContent differs"; fi

# ---- BER that is not DER must be refused, with a reason ----
# the CSR with a non-minimal outer length (30 82 -> 30 83 00 ..)
"$PY" - ee.csr.der csr-nonmin.der csr-indef.der <<'PYEOF'
import sys
d = open(sys.argv[1], 'rb').read()
assert d[0] == 0x30 and d[1] == 0x81 or d[1] == 0x82
hl = 2 + (d[1] & 0x7f)
body = d[hl:]
n = len(body)
open(sys.argv[2], 'wb').write(bytes([0x30, 0x83, 0, n >> 8, n & 0xff]) + body)
open(sys.argv[3], 'wb').write(bytes([0x30, 0x80]) + body + b'\0\0')
PYEOF
reject CertificationRequest csr-nonmin.der
reject CertificationRequest csr-indef.der
cp ee.der ee-trailing.der && printf '\000' >> ee-trailing.der
reject Certificate ee-trailing.der
head -c 100 ee.der > ee-trunc.der
reject Certificate ee-trunc.der
# a CSR is not a Certificate: decodes as BER up to the constraint/shape check
reject Certificate ee.csr.der

# ---- the project's own CCM, checked by openssl ----
mkdir ccm
"$UE" demo --out ccm > demo.out
if $O cms -verify -inform DER -in ccm/ccm.der -CAfile ccm/ca.pem -binary \
	-out ccm/content.der 2>/dev/null; then
	pass "openssl cms -verify accepts the CCM"
else
	fail "openssl cms -verify rejects the CCM"
fi
if $O cms -cmsout -print -inform DER -in ccm/ccm.der |
	grep -q 'eContentType: .*2\.25\.181848808703629144312443541942285638697\.1\.1'; then
	pass "CCM eContentType is id-ct-gbaCCM"
else
	fail "CCM eContentType"
fi
if $O asn1parse -inform DER -in ccm/content.der > ccm/parse.txt &&
	grep -q 'GENERALIZEDTIME *:' ccm/parse.txt &&
	grep -q 'UTF8STRING *:demo-app' ccm/parse.txt &&
	grep -q 'ENUMERATED *:03' ccm/parse.txt &&
	grep -q 'prim: cont \[ 0 \]' ccm/parse.txt; then
	pass "openssl asn1parse decodes the CCM"
else
	fail "openssl asn1parse on the CCM"
fi
accept CertConfigMessage ccm/content.der
accept ContentInfo ccm/ccm.der
"$PY" - ccm/ccm.der ccm/bad.der <<'PYEOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[-5] ^= 0x01          # inside the signature value
open(sys.argv[2], 'wb').write(d)
PYEOF
if $O cms -verify -inform DER -in ccm/bad.der -CAfile ccm/ca.pem -binary -out /dev/null 2>/dev/null; then
	fail "a CCM with a flipped signature bit still verifies"
else
	pass "a flipped signature bit fails openssl cms -verify"
fi

echo "interop: $fails failure(s)"
[ "$fails" -eq 0 ]
