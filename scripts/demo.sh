#!/bin/sh
# demo.sh - the main job on embedded defaults.
#
# Starts gba-bsfd with --demo (SQLite store, the built-in HSS emulator
# holding the TS 35.208 set-1 test subscriber, a generated demo CA and
# TLS certificates), bootstraps a simulated UE over HTTP/1.1 and over
# HTTP/2 with TLS, fetches Ks_NAF over Zn as the demo NAF (curl with its
# client certificate), checks it against the UE's own derivation, stops
# the daemon with SIGTERM, and verifies the audit log's hash chain.  After
# the CMC enrolment, the install CCM queued with the certificate is
# pushed to nghttp (PUSH_PROMISE), checked with openssl, and taken by
# gba-ue subscribe, which verifies, installs and acknowledges it.  The
# daemon loads the example policies in policies/.  State is kept in ./demo-state (or
# $GBA_DEMO_DIR) and reused by the next run.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${GBA_DEMO_DIR:-$PWD/demo-state}
BSFD=${BSFD:-$top/bsf/gba-bsfd}
CTL=${CTL:-$top/bsf/gba-ctl}
UE=${UE:-$top/ue/gba-ue}
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
FQDN=bsf.gbacert.test
NAF=naf.gbacert.test

mkdir -p "$dir"
rm -f "$dir/ports"
"$BSFD" --demo "$dir" --fqdn "$FQDN" --ub-port 0 --ub-tls-port 0 --zn-port 0 --naf-port 0 \
	--naf-fqdn "$NAF" --policy-dir "$top/policies" --port-file "$dir/ports" 2> "$dir/bsfd.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$dir/ports" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
		echo "demo: gba-bsfd did not start:" >&2
		cat "$dir/bsfd.log" >&2
		exit 1
	fi
	sleep 0.05
done
port() { awk -v n="$1" '$1 == n { print $2 }' "$dir/ports"; }
UB=$(port ub)
UBTLS=$(port ub-tls)
ZN=$(port zn)
NAFPORT=$(port naf)
echo "gba-bsfd is up: Ub http://127.0.0.1:$UB, Ub https://127.0.0.1:$UBTLS, Zn https port $ZN,"
echo "  provisioning NAF $NAF (CMC, PKI portal) https://127.0.0.1:$NAFPORT"

if [ ! -f "$dir/ue.state" ]; then
	"$UE" init --state "$dir/ue.state" --impi "$IMPI" \
		--k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf
fi
echo
echo "== UE bootstrap over HTTP/1.1 (cleartext Ub)"
"$UE" bootstrap --state "$dir/ue.state" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1
echo
echo "== UE bootstrap over HTTP/2 with TLS"
"$UE" bootstrap --state "$dir/ue.state" --bsf "https://127.0.0.1:$UBTLS" --realm "$FQDN" \
	--ca "$dir/ca.pem" --http2

btid=$(awk '$1 == "btid" { print $2 }' "$dir/ue.state")
echo
echo "== Zn (Nbsp_GBA) as the demo NAF $NAF, with its TLS client certificate"
reply=$(curl -sS --http2 --cacert "$dir/ca.pem" --cert "$dir/naf.pem" --key "$dir/naf-key.pem" \
	--resolve "$FQDN:$ZN:127.0.0.1" -H 'content-type: application/json' \
	-d "{\"btId\":\"$btid\",\"nafId\":{\"nafFqdn\":\"$NAF\",\"uaSecProtId\":\"0100000000\"},\"gsIds\":[1]}" \
	"https://$FQDN:$ZN/nbsp-gba/v1/bootstrapping-info-retrieval")
echo "$reply"
bsf_key=$(echo "$reply" | sed -n 's/.*"meKeyMaterial":"\([0-9a-f]*\)".*/\1/p')
ue_key=$("$UE" ks-naf --state "$dir/ue.state" "$NAF" 0100000000)
if [ -n "$bsf_key" ] && [ "$bsf_key" = "$ue_key" ]; then
	echo "Ks_NAF from Zn equals the UE's own Ks_NAF for $NAF (Ua 01 00 00 00 00)"
else
	echo "demo: Ks_NAF mismatch (BSF '$bsf_key', UE '$ue_key')" >&2
	exit 1
fi

# The policy allows two active certificates per subscriber: a run after
# the first supersedes the previous run's certificate.
if [ -s "$dir/cert/cert.pem" ]; then
	old=$(openssl x509 -in "$dir/cert/cert.pem" -noout -serial | sed 's/^serial=//')
	echo
	echo "== the previous run's certificate $old is superseded (gba-ctl revoke)"
	"$CTL" --db "$dir/bsf.db" --key-file "$dir/bsf.key" --audit-log "$dir/ctl-audit.jsonl" \
		revoke "$old" --reason superseded
fi

echo
echo "== CMC enrolment: gba-ue asks $NAF for a certificate (P-256, identityProofV2 from Ks_NAF)"
rm -rf "$dir/cert"
"$UE" enrol "$NAF" --state "$dir/ue.state" --bsf "http://127.0.0.1:$UB" \
	--naf "https://127.0.0.1:$NAFPORT" --ca "$dir/ca.pem" --trust "$dir/ca/root.pem" \
	--out "$dir/cert" --http2
openssl x509 -in "$dir/cert/cert.pem" -noout -subject -issuer -ext subjectAltName
openssl verify -x509_strict -CAfile "$dir/ca/root.pem" -untrusted "$dir/ca/ca.pem" \
	"$dir/cert/cert.pem"
serial=$(openssl x509 -in "$dir/cert/cert.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')

echo
echo "== CCM push: the install CCM queued with that certificate, pushed over HTTP/2"
echo "   (nghttp subscribes to GET /ccm with the new certificate; push enabled)"
nghttp -v --cert="$dir/cert/cert.pem" --key="$dir/cert/key.pem" \
	"https://127.0.0.1:$NAFPORT/ccm?max=1" 2>/dev/null |
	grep -a -E 'PUSH_PROMISE|:path: /ccm/|content-type: application/vnd' || true
# not acknowledged yet, so it comes again: keep the pushed body
nghttp --cert="$dir/cert/cert.pem" --key="$dir/cert/key.pem" \
	"https://127.0.0.1:$NAFPORT/ccm?max=1" > "$dir/ccm.der" 2>/dev/null
openssl cms -verify -inform DER -in "$dir/ccm.der" -CAfile "$dir/ca/root.pem" -purpose any \
	-out "$dir/ccm.content"
echo "eContentType: $(openssl cms -cmsout -print -inform DER -in "$dir/ccm.der" |
	sed -n 's/^ *eContentType: *//p')"
echo "CertConfigMessage (version, messageId, sequenceNumber, issuedAt, subscriber,"
echo "applicationId, action 0 = install, certificate, chain, validity, renewBy):"
openssl asn1parse -inform DER -in "$dir/ccm.content" | awk '/d=1/'
echo
echo "== gba-ue subscribe: verifies the SignedData and the sequence, installs, acknowledges"
"$UE" subscribe "$NAF" --state "$dir/ue.state" --naf "https://127.0.0.1:$NAFPORT" \
	--ca "$dir/ca.pem" --trust "$dir/ca/root.pem" --out "$dir/ccm" --drain --http2
if ! cmp -s "$dir/ccm/$serial.pem" "$dir/cert/cert.pem"; then
	echo "demo: the CCM did not install the certificate" >&2
	exit 1
fi
echo "$dir/ccm/$serial.pem is the issued certificate; sequence state: $(head -n 1 "$dir/ccm/ccm.state")"

kill -TERM $pid
wait $pid
trap - EXIT INT TERM
echo
echo "gba-bsfd stopped; its log:"
cat "$dir/bsfd.log"
echo
echo "== the audit log's hash chain ($dir/audit.jsonl)"
"$CTL" audit verify "$dir/audit.jsonl"
