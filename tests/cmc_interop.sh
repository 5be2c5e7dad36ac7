#!/bin/sh
# cmc_interop.sh - the CMC codec (gba_cmc.h) against independent tools.
#
#  * a PKIData built by pyasn1 (make_pkidata.py --crm: tcr + crm) is
#    parsed by gba_cmc_pkidata_parse, and the reqSequence it hands out is
#    byte for byte what pyasn1 encoded (the identityProofV2 MAC input);
#  * the PKIResponse from gba_cmc_response_encode is decoded by pyasn1
#    (rfc6402.PKIResponse) and by openssl asn1parse;
#  * gba_cms_certs_only output is read by openssl pkcs7 -print_certs.
set -eu

: "${top_builddir:=..}"
: "${srcdir:=.}"
: "${OPENSSL:=openssl}"
PY=/usr/bin/python3
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
srcdir=$(abs "$srcdir")
TOOL="$top_builddir/tests/asn1_tool"

for t in "$OPENSSL" "$PY"; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done
"$PY" -c 'import pyasn1_modules.rfc6402' 2>/dev/null || { echo "SKIP: pyasn1-modules missing"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
O="$OPENSSL"

# ---- a pyasn1 PKIData with a tcr and a crm ----
$O req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ee.key \
	-subj "/CN=cmc interop" -addext "subjectKeyIdentifier=hash" \
	-addext "subjectAltName=DNS:ue.example" -outform DER -out ee.csr.der 2>/dev/null
"$PY" "$srcdir/make_pkidata.py" ee.csr.der pkidata.der --crm reqseq-py.der
if "$TOOL" pkidata pkidata.der reqseq-c.der > view.txt; then
	pass "gba_cmc_pkidata_parse accepts the pyasn1 PKIData"
else
	cat view.txt
	fail "gba_cmc_pkidata_parse refuses the pyasn1 PKIData"
fi
cat view.txt
if cmp -s reqseq-py.der reqseq-c.der; then
	pass "req_sequence is the reqSequence pyasn1 encoded"
else
	fail "req_sequence differs from pyasn1's reqSequence"
fi
ski=$($O req -inform DER -in ee.csr.der -noout -text | grep -A1 'Subject Key Identifier' |
	tail -1 | tr -d ' :' | tr 'A-F' 'a-f')
grep -q '^controls 5 requests 2 cms 0 other 0 ' view.txt &&
	grep -q '^control 5 identityProofV2 values 1$' view.txt &&
	grep -q '^request 2 tcr spki 91 subject [0-9]* extensions [1-9][0-9]* san 1 pop_sig 1 pop_other 0 pop_link_v2 0$' view.txt &&
	grep -q "^  ski $ski\$" view.txt &&
	grep -q '^request 7 crm spki 91 subject [0-9]* extensions 0 san 0 pop_sig 0 pop_other 1 pop_link_v2 1$' view.txt &&
	pass "the parsed view matches what pyasn1 and openssl put in" ||
	fail "the parsed view"

# ---- our PKIResponse, read by pyasn1 and openssl ----
"$TOOL" response resp.der
if "$PY" - resp.der <<'PYEOF'
import sys
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import char, namedtype, univ
from pyasn1_modules import rfc6402

# rfc6402.CMCStatusInfoV2 cannot decode (pendInfo and extendedFailInfo
# share a tag, pyasn1 postpones the error); the same type without the
# never-emitted extendedFailInfo, built from rfc6402's own components:
class OtherInfo(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('failInfo', rfc6402.CMCFailInfo()),
        namedtype.NamedType('pendInfo', rfc6402.PendInfo()))


class StatusV2(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('cMCStatus', rfc6402.CMCStatus()),
        namedtype.NamedType('bodyList', univ.SequenceOf(componentType=rfc6402.BodyPartReference())),
        namedtype.OptionalNamedType('statusString', char.UTF8String()),
        namedtype.OptionalNamedType('otherInfo', OtherInfo()))


d = open(sys.argv[1], 'rb').read()
r, rest = decoder.decode(d, asn1Spec=rfc6402.PKIResponse())
assert not rest and encoder.encode(r) == d
ids, seen = [], {}
for a in r['controlSequence']:
    ids.append(int(a['bodyPartID']))
    n = a['attrType'][-1]
    v = a['attrValues'][0]
    if n == 25:
        st, rest = decoder.decode(v, asn1Spec=StatusV2())
        assert not rest
        seen.setdefault(25, []).append(st)
    elif n == 5:
        seen[5] = int(decoder.decode(v, asn1Spec=univ.Integer())[0])
    else:
        seen[n] = bytes(decoder.decode(v, asn1Spec=univ.OctetString())[0])
assert ids == list(range(1, len(ids) + 1)), ids
s = seen[25]
assert [int(x['cMCStatus']) for x in s] == [0, 3, 2]
assert int(s[0]['bodyList'][0]['bodyPartID']) == 2
p = s[1]['otherInfo']['pendInfo']
assert bytes(p['pendToken']) == b'pend-token', p
assert str(p['pendTime']) == '20261118110640Z', str(p['pendTime'])
assert int(s[2]['otherInfo']['failInfo']) == 7
assert str(s[2]['statusString']) == 'bad identity'
assert seen[5] == 0x0123456789abcdef0123
assert seen[6] == bytes(range(1, 9)) and seen[7] == bytes(range(1, 5)) and seen[4] == b'echo'
print('pyasn1: %d controls' % len(ids))
PYEOF
then
	pass "pyasn1 rfc6402.PKIResponse decodes gba_cmc_response_encode output"
else
	fail "pyasn1 on our PKIResponse"
fi
if $O asn1parse -inform DER -in resp.der > resp.txt &&
	grep -q 'OBJECT *:1.3.6.1.5.5.7.7.25' resp.txt &&
	grep -q 'GENERALIZEDTIME *:20261118110640Z' resp.txt &&
	grep -q 'UTF8STRING *:bad identity' resp.txt; then
	pass "openssl asn1parse decodes our PKIResponse"
else
	fail "openssl asn1parse on our PKIResponse"
fi

# ---- certs-only ----
$O req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
	-subj "/CN=cmc interop CA" -days 2 -outform DER -out ca.der 2>/dev/null
$O req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key \
	-subj "/CN=cmc interop B" -days 2 -outform DER -out b.der 2>/dev/null
"$TOOL" certs-only certs.p7c ca.der b.der
if $O pkcs7 -inform DER -in certs.p7c -print_certs > p7.txt &&
	grep -q 'subject=CN = cmc interop CA' p7.txt && grep -q 'subject=CN = cmc interop B' p7.txt; then
	pass "openssl pkcs7 -print_certs shows both certificates"
else
	fail "openssl pkcs7 on gba_cms_certs_only"
fi
"$TOOL" check ContentInfo certs.p7c >/dev/null && pass "certs-only passes our strict decoder" ||
	fail "certs-only strict decode"

echo "cmc_interop: $fails failure(s)"
[ "$fails" -eq 0 ]
