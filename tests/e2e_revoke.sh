#!/bin/sh
# e2e_revoke.sh - revocation and status end to end: the real gba-bsfd
# (BSF, NAF, CRL and OCSP) against gba-ue, gba-ctl, openssl, ocsptool,
# curl and nghttp.
#
#  1. gba-ue enrols; the certificate carries the NAF's AIA OCSP URL and
#     CRL distribution point; openssl ocsp (POST, HTTP/1.x, with and
#     without a nonce) and ocsptool --ask say good; GET /ocsp/<base64url>
#     over h2c (curl, nghttp) too; the CRL is served with caching headers
#     and 304; openssl verify -crl_check accepts the certificate;
#     malformed and foreign requests get malformedRequest / unauthorized;
#  2. while OCSP is under load, gba-ctl revoke --reason keyCompromise:
#     every answer to a request sent after the revoke returned says
#     revoked;
#  3. openssl ocsp and ocsptool say revoked (keyCompromise), openssl crl
#     -text shows the reason, openssl verify -crl_check fails, renewal
#     with the revoked certificate is refused (badIdentity);
#  4. gba-ue revokes its own certificate over CMC with its GBA session:
#     success, the response's crls hold a CRL that lists it; the same
#     request replayed is refused (replayed senderNonce); another
#     subscriber trying the same on a third certificate gets badIdentity
#     and nothing changes; the certificate revoking itself (signed with
#     it) succeeds;
#  5. two revokeRequests for one certificate in one request: the first
#     succeeds, the second alone is refused; getCRL asked three times
#     for one CA carries the CRL once; with more revoked entries than a
#     response can carry (tests/store_tool), a revokeRequest + getCRL
#     still revokes and is answered, only the getCRL failing
#     (badRequest);
#  6. an RA listed in ra.pem revokes; one without id-kp-cmcRA, or once
#     its own certificate is revoked, is refused (badIdentity);
#  7. the audit logs verify and hold the revocations; SIGTERM exits 0.
#
# Daemons listen on 127.0.0.1 with ephemeral ports (--port-file).  Needs
# openssl, certtool, ocsptool, curl, nghttp and python3-pyasn1-modules
# (scripts/deps.sh).
# KEEP_E2E=1 keeps the scratch directory.
set -u

: "${OPENSSL:=openssl}"
E2E=e2e_revoke
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
for t in "$OPENSSL" ocsptool curl nghttp; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found (scripts/deps.sh)"; exit 99; }
done
for b in "$BSFD" "$UE" "$CTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done
POLICY_SRC=$top_srcdir/policies/pki-portal.yaml
[ -r "$POLICY_SRC" ] || { echo "FAIL: $POLICY_SRC missing"; exit 99; }

FQDN=bsf.gbacert.test
APP=naf.gbacert.test
CA_NAME=gbacert-subscriber-ca
# TS 35.208 test set 1 (the --demo subscriber) and test set 2 (another one).
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
IMPI_B=001010999999999@ims.mnc001.mcc001.3gppnetwork.org
K_B=fec86ba6eb707ed08905757b1bb44b8f
OPC_B=1006020f0a478bf6b699f15c062e42b3

has() {    # DESCRIPTION FILE PATTERN (grep -E)
	if grep -Eq "$3" "$2"; then pass "$1"; else indent "$2"; fail "$1: no /$3/"; fi
}

# ---- policy: the portal one with CMC, the demo realm, the NAF's own
# AIA and CRL DP (no ocsp_url / crl_url), room for several certificates

mkdir -p pol
sed -e 's/methods: \[portal, cmc-simple\]/methods: [portal, cmc-simple, cmc-full]/' \
	-e 's/max_active_certs: 2/max_active_certs: 20/' \
	-e 's/rate_limit_per_hour: 10/rate_limit_per_hour: 100/' \
	-e 's/window_days: 30/window_days: 365/' \
	-e 's/same_key: false/same_key: true/' \
	-e '/ocsp_url:/d' -e '/crl_url:/d' \
	"$POLICY_SRC" >pol/naf.yaml
ok_if "policy without ocsp_url/crl_url" sh -c '! grep -q "_url:" pol/naf.yaml'

# ---- the daemon ----

DEMO=$tmp/d
start_bsfd_naf bsfd "$DEMO" "$tmp/pol" --status-port 0
wait_ports bsfd "$PID" status
ST=$(awk '$1 == "status" { print $2 }' bsfd.ports)
ok_if "status listener on port $ST" test -n "$ST"
OCSP_URL=http://127.0.0.1:$ST/ocsp
CRL_URL=http://127.0.0.1:$ST/crl/$CA_NAME.crl
ISSUER=$DEMO/ca/ca.pem
cat "$DEMO/ca/ca.pem" "$DEMO/ca/root.pem" >chain.pem
ok_if "ca init made the delegated OCSP responder" test -s "$DEMO/ca/ocsp.pem"
ctl() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" --audit-log "$tmp/ctl-audit.jsonl" "$@"; }

# ue STATE NAME COMMAND ARGS...: gba-ue against the daemon; NAME.out/.err
ue() {
	ue_state=$1 ue_name=$2 ue_cmd=$3
	shift 3
	"$UE" "$ue_cmd" "$@" --state "$ue_state" --bsf "http://127.0.0.1:$UB" \
		--naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" --trust "$DEMO/ca/root.pem" \
		--http2 >"$tmp/$ue_name.out" 2>"$tmp/$ue_name.err"
}
enrol() {   # enrol NAME DIR: a certificate for UE A into DIR
	ue "$tmp/a.state" "$1" enrol "$APP" --out "$tmp/$2"
	check "$1: gba-ue enrol exit status" 0 "$?"
	ok_if "$1: $2/cert.pem written" test -s "$2/cert.pem"
}
serial_of() { "$OPENSSL" x509 -noout -serial -in "$1" | sed 's/^serial=//'; }

# ocsp_status CERT [openssl options]: the status openssl ocsp prints; the
# full output in ocsp.out
ocsp_status() {
	os_cert=$1
	shift
	"$OPENSSL" ocsp -issuer "$ISSUER" -cert "$os_cert" -url "$OCSP_URL" -CAfile chain.pem \
		"$@" >ocsp.out 2>&1
	sed -n "s|^$os_cert: ||p" ocsp.out
}

"$UE" init --state a.state --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init.err
check "gba-ue init (A)" 0 "$?"
"$UE" bootstrap --state a.state --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot.out 2>boot.err
check "gba-ue bootstrap (A)" 0 "$?"

# =====================================================================
echo "== 1. good"
enrol enrol1 o1
"$OPENSSL" x509 -in o1/cert.pem -noout -ext authorityInfoAccess,crlDistributionPoints >ext.txt
has "1 AIA: the NAF's OCSP responder" ext.txt "OCSP - URI:http://$APP:$ST/ocsp\$"
has "1 CRL DP: the NAF's CRL" ext.txt "URI:http://$APP:$ST/crl/$CA_NAME.crl\$"

check "1 openssl ocsp (nonce, signed live): good" good "$(ocsp_status o1/cert.pem)"
has "1 openssl ocsp: response verifies (delegated responder)" ocsp.out '^Response verify OK'
"$OPENSSL" ocsp -issuer "$ISSUER" -cert o1/cert.pem -url "$OCSP_URL" -CAfile chain.pem \
	-resp_text >ocsp-text.out 2>&1
has "1 openssl ocsp: nonce echoed" ocsp-text.out 'OCSP Nonce'
has "1 openssl ocsp: signed by the OCSP Responder certificate" ocsp-text.out \
	'Subject: CN *= *gbacert demo OCSP Responder'
check "1 openssl ocsp -no_nonce (pre-signed cache): good" good \
	"$(ocsp_status o1/cert.pem -no_nonce)"
ocsptool --ask="$OCSP_URL" --load-issuer "$ISSUER" --load-cert o1/cert.pem \
	--load-trust chain.pem >ocsptool.out 2>&1
has "1 ocsptool --ask: good" ocsptool.out 'Certificate Status: good'
has "1 ocsptool --ask: response verifies" ocsptool.out 'Verifying OCSP Response: Success'

# GET /ocsp/<base64url> over h2c (RFC 5019 / RFC 6960 A.1)
"$OPENSSL" ocsp -issuer "$ISSUER" -cert o1/cert.pem -no_nonce -reqout req1.der >/dev/null 2>&1
B64=$(base64 -w0 req1.der | tr '+/' '-_' | tr -d '=')
curl -s --http2-prior-knowledge -D get.hdr -o get.der \
	-w '%{http_version} %{http_code}\n' "$OCSP_URL/$B64" >get.code
check "1 curl --http2-prior-knowledge GET /ocsp/<b64url>: HTTP/2 200" "2 200" "$(cat get.code)"
has "1 GET: application/ocsp-response" get.hdr '^content-type: application/ocsp-response'
has "1 GET: RFC 5019 caching headers" get.hdr \
	'^cache-control: max-age=[0-9]+, public, no-transform, must-revalidate'
has "1 GET: ETag and Last-Modified" get.hdr '^etag: "[0-9a-f]{40}"'
"$OPENSSL" ocsp -respin get.der -issuer "$ISSUER" -cert o1/cert.pem -CAfile chain.pem \
	>get.out 2>&1
has "1 GET answer: good, verifies" get.out '^o1/cert.pem: good'
nghttp -v "$OCSP_URL/$B64" >nghttp.out 2>&1
has "1 nghttp GET /ocsp/<b64url>: 200 over HTTP/2" nghttp.out ':status: 200'
# the same over percent-encoded standard base64
B64S=$(base64 -w0 req1.der | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
curl -s -o get2.der "$OCSP_URL/$B64S"
"$OPENSSL" ocsp -respin get2.der -noverify -resp_text >get2.out 2>&1
has "1 GET with percent-encoded base64: good" get2.out 'Cert Status: good'

# CRL: served, cached, 304
curl -s -D crl.hdr -o crl1.der "$CRL_URL"
has "1 GET /crl/$CA_NAME.crl: 200" crl.hdr '^HTTP/1.1 200'
has "1 CRL: application/pkix-crl" crl.hdr '^Content-Type: application/pkix-crl'
has "1 CRL: Cache-Control max-age" crl.hdr '^Cache-Control: max-age=[0-9]+'
has "1 CRL: Expires" crl.hdr '^Expires: '
ETAG1=$(sed -n 's/^ETag: \(".*"\).*/\1/p' crl.hdr | tr -d '\r')
ok_if "1 CRL: ETag" test -n "$ETAG1"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG1" "$CRL_URL")
check "1 CRL with If-None-Match: 304" 304 "$code"
"$OPENSSL" crl -inform DER -in crl1.der -out crl1.pem
"$OPENSSL" crl -in crl1.pem -CAfile chain.pem -noout >crlv.out 2>&1
has "1 CRL signature verifies" crlv.out 'verify OK'
cat chain.pem crl1.pem >chain-crl1.pem
"$OPENSSL" verify -crl_check -CAfile chain-crl1.pem o1/cert.pem >verify1.out 2>&1
has "1 openssl verify -crl_check: OK before revocation" verify1.out ': OK$'

# bad requests: malformedRequest, unauthorized, never a crash
printf 'not an OCSP request' | curl -s --data-binary @- \
	-H 'Content-Type: application/ocsp-request' -o bad.der "$OCSP_URL"
"$OPENSSL" ocsp -respin bad.der -resp_text -noverify >bad.out 2>&1
has "1 garbage: malformedRequest" bad.out 'malformedrequest'
curl -s -o bad2.der "$OCSP_URL/%%%"
"$OPENSSL" ocsp -respin bad2.der -resp_text -noverify >bad2.out 2>&1
has "1 bad base64 in GET: malformedRequest" bad2.out 'malformedrequest'
"$OPENSSL" ocsp -issuer "$DEMO/ca/root.pem" -cert "$ISSUER" -no_nonce -reqout foreign.der \
	>/dev/null 2>&1
curl -s --data-binary @foreign.der -H 'Content-Type: application/ocsp-request' \
	-o foreign-resp.der "$OCSP_URL"
"$OPENSSL" ocsp -respin foreign-resp.der -resp_text -noverify >foreign.out 2>&1
has "1 a CertID of an issuer we do not run: unauthorized" foreign.out 'unauthorized'
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @req1.der -H 'Content-Type: text/plain' \
	"$OCSP_URL")
check "1 POST with another content type: 415" 415 "$code"
kill -0 "$PID" 2>/dev/null && pass "1 gba-bsfd still up" || fail "gba-bsfd died"

# =====================================================================
echo "== 2. revoke while OCSP is under load"
S1=$(serial_of o1/cert.pem)
"$OPENSSL" ocsp -issuer "$ISSUER" -cert o1/cert.pem -no_nonce -reqout load.der >/dev/null 2>&1
# loader N: POST the same request in a loop; each line: whether the
# revoke had been acknowledged when the request was sent, and the status
loader() {
	while [ ! -e stop ]; do
		ack=0
		[ -e acked ] && ack=1
		st=$(curl -s --data-binary @load.der -H 'Content-Type: application/ocsp-request' \
			"$OCSP_URL" | "$OPENSSL" ocsp -respin /dev/stdin -noverify -resp_text 2>/dev/null |
			sed -n 's/^ *Cert Status: //p')
		echo "$ack ${st:-none}" >>"load-$1.log"
	done
}
lpids=
for n in 1 2 3; do
	loader $n &
	lpids="$lpids $!"
done
pids="$pids $lpids"
lines() { cat load-*.log 2>/dev/null | awk -v a="$1" '$1 == a' | wc -l | tr -d ' '; }
i=0
while [ "$(lines 0)" -lt 30 ]; do
	i=$((i + 1))
	[ $i -le 600 ] || fail "2 the OCSP load did not get going"
	sleep 0.05
done
ctl revoke "$S1" --reason keyCompromise >revoke1.out 2>&1
check "2 gba-ctl revoke --reason keyCompromise" 0 "$?"
touch acked
i=0
while [ "$(lines 1)" -lt 60 ]; do
	i=$((i + 1))
	[ $i -le 1200 ] || fail "2 no answers after the revoke"
	sleep 0.05
done
touch stop
for p in $lpids; do wait "$p"; done
pids=$PID
n0=$(lines 0)
n1=$(lines 1)
stale=$(cat load-*.log | awk '$1 == 1 && $2 != "revoked"' | wc -l | tr -d ' ')
good0=$(cat load-*.log | awk '$1 == 0 && $2 == "good"' | wc -l | tr -d ' ')
ok_if "2 answers before the revoke were good ($good0 of $n0)" test "$good0" -gt 0
check "2 answers to requests sent after the revoke returned ($n1): none but revoked" 0 "$stale"

# =====================================================================
echo "== 3. revoked"
check "3 openssl ocsp: revoked" revoked "$(ocsp_status o1/cert.pem)"
has "3 openssl ocsp: reason keyCompromise" ocsp.out 'Reason: keyCompromise'
has "3 openssl ocsp: response verifies" ocsp.out '^Response verify OK'
check "3 openssl ocsp -no_nonce: revoked" revoked "$(ocsp_status o1/cert.pem -no_nonce)"
ocsptool --ask="$OCSP_URL" --load-issuer "$ISSUER" --load-cert o1/cert.pem \
	--load-trust chain.pem >ocsptool2.out 2>&1
has "3 ocsptool --ask: revoked" ocsptool2.out 'Certificate Status: revoked'
has "3 ocsptool --ask: verifies" ocsptool2.out 'Verifying OCSP Response: Success'
curl -s --http2-prior-knowledge -o get3.der "$OCSP_URL/$B64"
"$OPENSSL" ocsp -respin get3.der -noverify -resp_text >get3.out 2>&1
has "3 GET over h2c: revoked, keyCompromise" get3.out 'Revocation Reason: keyCompromise'

code=$(curl -s -D crl2.hdr -o crl2.der -w '%{http_code}' -H "If-None-Match: $ETAG1" "$CRL_URL")
check "3 the old ETag no longer matches: 200" 200 "$code"
"$OPENSSL" crl -inform DER -in crl2.der -noout -text >crl2.txt 2>&1
has "3 openssl crl -text: the serial" crl2.txt "Serial Number: $S1"
grep -A4 "Serial Number: $S1" crl2.txt | grep -q 'Key Compromise' &&
	pass "3 openssl crl -text: Key Compromise" || { indent crl2.txt; fail "3 CRL reason"; }
n1=$("$OPENSSL" crl -inform DER -in crl1.der -noout -crlnumber | sed 's/.*=//')
n2=$("$OPENSSL" crl -inform DER -in crl2.der -noout -crlnumber | sed 's/.*=//')
ok_if "3 the CRL number grew ($n1 -> $n2)" test "$(($n2))" -gt "$(($n1))"
"$OPENSSL" crl -inform DER -in crl2.der -out crl2.pem
cat chain.pem crl2.pem >chain-crl2.pem
"$OPENSSL" verify -crl_check -CAfile chain-crl2.pem o1/cert.pem >verify2.out 2>&1
rc=$?
ok_if "3 openssl verify -crl_check fails after revocation" test "$rc" != 0
has "3 ... because it is revoked" verify2.out 'certificate revoked'

ue "$tmp/a.state" renew1 renew --out "$tmp/o1"
check "3 renewal with the revoked certificate: refused (exit 1)" 1 "$?"
has "3 renewal: badIdentity" renew1.out '^failed badIdentity'

# =====================================================================
echo "== 4. revocation over CMC"
enrol enrol2 o2
enrol enrol3 o3
S2=$(serial_of o2/cert.pem)
S3=$(serial_of o3/cert.pem)
ue "$tmp/a.state" rev2 revoke --out "$tmp/o2" --naf-fqdn "$APP" --reason superseded \
	--get-crl --save-request "$tmp/rev2.req" --save-response "$tmp/rev2.resp"
check "4 gba-ue revoke (GBA session): exit status" 0 "$?"
has "4 gba-ue revoke: revoked" rev2.out "^revoked "
check "4 openssl ocsp: revoked" revoked "$(ocsp_status o2/cert.pem)"
has "4 openssl ocsp: reason superseded" ocsp.out 'Reason: superseded'
"$OPENSSL" pkcs7 -inform DER -in rev2.resp -print_certs -noout >rev2-crl.txt 2>&1
has "4 getCRL: the response carries the CRL" rev2-crl.txt 'Certificate Revocation List'
has "4 getCRL: it lists the certificate just revoked" rev2-crl.txt "Serial Number: $S2"

# the same request again: the senderNonce is spent
curl -s --cacert "$DEMO/ca.pem" --data-binary @rev2.req \
	-H 'Content-Type: application/pkcs7-mime; smime-type=CMC-request' \
	-o replay.resp "https://127.0.0.1:$NAF/cmc"
"$OPENSSL" cms -verify -noverify -inform DER -in replay.resp -out replay.pkir >/dev/null 2>&1
"$OPENSSL" asn1parse -inform DER -in replay.pkir >replay.txt 2>&1
has "4 replayed revocation: refused (replayed senderNonce)" replay.txt 'replayed senderNonce'

# another subscriber, with its own GBA session, on A's certificate
ctl subscriber add "$IMPI_B" --k "$K_B" --opc "$OPC_B" >subb.out 2>&1
check "4 gba-ctl subscriber add (B)" 0 "$?"
"$UE" init --state b.state --impi "$IMPI_B" --k "$K_B" --opc "$OPC_B" >/dev/null 2>initb.err
"$UE" bootstrap --state b.state --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>bootb.out 2>bootb.err
check "4 gba-ue bootstrap (B)" 0 "$?"
mkdir -p ob
ue "$tmp/b.state" revb revoke --out "$tmp/ob" --cert "$tmp/o3/cert.pem" --naf-fqdn "$APP" \
	--reason keyCompromise
check "4 another subscriber's revoke: refused (exit 1)" 1 "$?"
has "4 ... with badIdentity" revb.out '^failed badIdentity'
check "4 ... and the certificate is still good" good "$(ocsp_status o3/cert.pem)"
ctl cert show "$S3" >s3.txt 2>&1
has "4 ... and valid in the store" s3.txt '^Status: *valid'

# the certificate revoking itself (SignedData signed with it)
ue "$tmp/a.state" rev3 revoke --out "$tmp/o3" --naf-fqdn "$APP" --reason cessationOfOperation \
	--with-cert
check "4 gba-ue revoke --with-cert: exit status" 0 "$?"
check "4 openssl ocsp: revoked" revoked "$(ocsp_status o3/cert.pem)"
has "4 openssl ocsp: reason cessationOfOperation" ocsp.out 'Reason: cessationOfOperation'
ue "$tmp/a.state" rev3b revoke --out "$tmp/o3" --naf-fqdn "$APP" --reason superseded
check "4 revoking a revoked certificate: refused" 1 "$?"

# =====================================================================
echo "== 5. getCRL: one CRL per CA; one too long for the response"
PY=/usr/bin/python3
"$PY" -c 'import pyasn1_modules' 2>/dev/null || fail "python3-pyasn1-modules missing"
# post_cmc NAME: curl POSTs NAME.req to /cmc; the answer in NAME.resp,
# its statuses (tests/cmc_status.py --text) in NAME.st; prints the HTTP
# status.
post_cmc() {
	pc_code=$(curl -s --cacert "$DEMO/ca.pem" --data-binary "@$1.req" -w '%{http_code}' \
		-H 'Content-Type: application/pkcs7-mime; smime-type=CMC-request' \
		-o "$1.resp" "https://127.0.0.1:$NAF/cmc")
	"$OPENSSL" cms -verify -noverify -inform DER -in "$1.resp" -out "$1.pkir" >/dev/null 2>&1
	"$PY" "$top_srcdir/tests/cmc_status.py" --text "$1.pkir" >"$1.st" 2>&1
	echo "$pc_code"
}
# signed_by NAME DIR: NAME.pkidata in a SignedData signed with DIR's
# certificate and key (issuerAndSerialNumber), as NAME.req
signed_by() {
	"$OPENSSL" cms -sign -binary -nodetach -econtent_type 1.3.6.1.5.5.7.12.2 -md sha256 \
		-signer "$2/cert.pem" -inkey "$2/key.pem" -nosmimecap -in "$1.pkidata" \
		-outform DER -out "$1.req" 2>"$1.sign.err"
}
ncrls() { "$OPENSSL" pkcs7 -inform DER -in "$1" -print_certs -noout 2>/dev/null |
	grep -c 'Certificate Revocation List'; }

enrol enrol4 o4
"$PY" "$top_srcdir/tests/ext_cmc.py" revoke getcrl3.pkidata --get-crl 3 o4/cert.pem o4/cert.pem
signed_by getcrl3 o4
check "5 two revokeRequests for one certificate + three getCRL: HTTP 200" 200 \
	"$(post_cmc getcrl3)"
has "5 ... the first revokeRequest succeeds" getcrl3.st '^3 success -'
has "5 ... the second is refused alone" getcrl3.st \
	'^4 failed badRequest the same certificate twice in one request'
check "5 ... the getCRLs succeed" 3 "$(grep -c '^[567] success ' getcrl3.st)"
check "5 ... and the CRL is carried once" 1 "$(ncrls getcrl3.resp)"
check "5 ... the certificate is revoked" revoked "$(ocsp_status o4/cert.pem)"

# more revoked entries than a response can carry (about 49 octets each,
# 1 MiB per response); expired a minute ago, so they are on the CRL
# (RFC 5280 3.3) but not pre-signed
"$top_builddir/tests/store_tool" "$DEMO/bsf.db" "$DEMO/bsf.key" revoked "$CA_NAME" 22000 \
	"$(($(date +%s) - 60))" >bulk.out 2>&1
check "5 store_tool: 22000 revoked entries for $CA_NAME" 0 "$?"
enrol enrol5 o5
ue "$tmp/a.state" rev5 revoke --out "$tmp/o5" --naf-fqdn "$APP" --reason superseded \
	--get-crl --save-response "$tmp/rev5.resp"
check "5 gba-ue revoke --get-crl: answered, the getCRL refused (exit 1)" 1 "$?"
has "5 ... badRequest: fetch it from the distribution point" rev5.out \
	'^failed badRequest.*CRL distribution point'
"$OPENSSL" cms -verify -noverify -inform DER -in rev5.resp -out rev5.pkir >/dev/null 2>&1
"$PY" "$top_srcdir/tests/cmc_status.py" --text rev5.pkir >rev5.st 2>&1
has "5 ... the revokeRequest succeeded" rev5.st '^[0-9]+ success -'
has "5 ... the getCRL failed alone" rev5.st '^[0-9]+ failed badRequest the CRL does not fit'
check "5 ... no CRL in the response" 0 "$(ncrls rev5.resp)"
check "5 openssl ocsp: the certificate is revoked" revoked "$(ocsp_status o5/cert.pem)"
kill -0 "$PID" 2>/dev/null && pass "5 gba-bsfd still up" || fail "gba-bsfd died"

# =====================================================================
echo "== 6. revocation by an RA (ra.pem)"
# ra_cert NAME SERIAL EKU: NAME/cert.pem + key.pem, issued by the issuing
# CA with openssl (extKeyUsage EKU)
ra_cert() {
	mkdir -p "$1"
	"$OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/key.pem" -subj "/CN=gbacert test $1" -out "$1.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n%s\n%s\n%s\n' \
		"extendedKeyUsage=$3" subjectKeyIdentifier=hash authorityKeyIdentifier=keyid \
		>"$1.ext"
	"$OPENSSL" x509 -req -in "$1.csr" -CA "$ISSUER" -CAkey "$DEMO/ca/ca.key" -set_serial "$2" \
		-days 30 -extfile "$1.ext" -out "$1/cert.pem" 2>"$1.err"
	check "6 $1: issued by the issuing CA (openssl x509 -req)" 0 "$?"
}
ra_cert ra 0x5a0001 1.3.6.1.5.5.7.3.28
ra_cert ranoeku 0x5a0002 clientAuth
cat ra/cert.pem ranoeku/cert.pem >"$DEMO/ca/ra.pem"
"$OPENSSL" x509 -in ra/cert.pem -outform DER -out ra.der
"$top_builddir/tests/store_tool" "$DEMO/bsf.db" "$DEMO/bsf.key" cert 5a0001 ra@gbacert.test \
	"$APP" "$(date +%s)" "$(($(date +%s) + 30 * 86400))" 0 ra.der "$CA_NAME" >rastore.out 2>&1
check "6 the RA certificate recorded in the store (store_tool)" 0 "$?"
stop_daemon "$PID" "6 gba-bsfd (for ra.pem)"
start_bsfd_naf bsfd2 "$DEMO" "$tmp/pol" --status-port 0
wait_ports bsfd2 "$PID" status
ST=$(awk '$1 == "status" { print $2 }' bsfd2.ports)
OCSP_URL=http://127.0.0.1:$ST/ocsp
enrol enrol6 o6
enrol enrol7 o7

"$PY" "$top_srcdir/tests/ext_cmc.py" revoke ranoeku6.pkidata o6/cert.pem
signed_by ranoeku6 ranoeku
check "6 revokeRequest signed by an RA without id-kp-cmcRA: HTTP 200" 200 "$(post_cmc ranoeku6)"
has "6 ... refused: badIdentity" ranoeku6.st '^0 failed badIdentity'
check "6 ... and the certificate is still good" good "$(ocsp_status o6/cert.pem)"

"$PY" "$top_srcdir/tests/ext_cmc.py" revoke ra6.pkidata o6/cert.pem
signed_by ra6 ra
check "6 revokeRequest signed by the RA: HTTP 200" 200 "$(post_cmc ra6)"
has "6 ... success" ra6.st '^3 success -'
check "6 ... the certificate is revoked" revoked "$(ocsp_status o6/cert.pem)"

ctl revoke 5a0001 --reason keyCompromise >revoke-ra.out 2>&1
check "6 gba-ctl revoke: the RA certificate itself" 0 "$?"
"$PY" "$top_srcdir/tests/ext_cmc.py" revoke ra7.pkidata o7/cert.pem
signed_by ra7 ra
check "6 revokeRequest signed by the revoked RA: HTTP 200" 200 "$(post_cmc ra7)"
has "6 ... refused: badIdentity" ra7.st '^0 failed badIdentity'
check "6 ... and the certificate is still good" good "$(ocsp_status o7/cert.pem)"

# =====================================================================
echo "== 7. audit and shutdown"
stop_daemon "$PID" "7 gba-bsfd"
ok_if "7 gba-ctl audit verify (daemon)" "$CTL" audit verify "$DEMO/audit.jsonl"
ok_if "7 gba-ctl audit verify (gba-ctl)" "$CTL" audit verify ctl-audit.jsonl
has "7 gba-ctl's revoke record" ctl-audit.jsonl '"event":"revoke","outcome":"ok","reason":"keyCompromise"'
n=$(grep -c '"event":"revoke","outcome":"ok"' "$DEMO/audit.jsonl")
check "7 daemon: five CMC revocations recorded" 5 "$n"
has "7 daemon: the other subscriber's attempt recorded as denied" "$DEMO/audit.jsonl" \
	'"event":"revoke","outcome":"denied","reason":"not authorized'
has "7 daemon: the replay recorded" "$DEMO/audit.jsonl" '"event":"deny","outcome":"denied","reason":"replay"'

t_end=$(date +%s)
echo "e2e_revoke: $checks checks passed, $((t_end - t_start)) s"
exit 0
