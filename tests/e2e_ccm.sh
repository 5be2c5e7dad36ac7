#!/bin/sh
# e2e_ccm.sh - CCM push end to end (doc/ccm.md): the real gba-bsfd (BSF
# and provisioning NAF) against gba-ue, nghttp, curl and openssl.
#
#  1. an enrolment queues an install CCM with the certificate; nghttp
#     (push enabled) sees the PUSH_PROMISE of /ccm/<id> and the pushed
#     body passes openssl cms -verify (eContentType id-ct-gbaCCM) and
#     openssl asn1parse, and carries the issued certificate;
#  2. without push (nghttp --no-push, curl --http2) and over HTTP/1.1
#     (curl --http1.1) the same octets come as length-prefixed frames;
#     GET /ccm/<id> gives them too; no credentials: 401;
#  3. gba-ue subscribe (GBA Digest) verifies, applies and acknowledges;
#     acknowledged messages are not sent again; a live subscription
#     (frames over HTTP/2, then HTTP/1.1) gets the install of a
#     certificate issued while it waits;
#  0. on bootstrap the policy's trust-anchor update is pushed on the Ub
#     200 itself (h2c) and gba-ue bootstrap applies it, once;
#  4. so is an install queued while the UE was away;
#  5. a UE offline while several messages are queued gets them in
#     sequence order on reconnection, including a revoked CCM queued by
#     another process (store_tool, standing in for issue 6's revocation),
#     which also reaches a waiting subscriber through the outbox poll;
#     a policy reload (SIGHUP) queues the new trust anchors, once;
#  6. SIGKILL between queuing and delivery: after a restart the message
#     is delivered, exactly once;
#  7. forged, foreign and replayed CCMs are rejected by gba-ue ccm-check;
#     a duplicate is recognised and not applied twice;
#  8. subscriptions per IMPI are capped (429);
#  9. audit records (ccm_queued, ccm_acked) and the hash chain; SIGTERM
#     with subscriptions open exits 0.
#  5d. gba-ctl revoke --policy-dir (UE offline) and gba-ue revoke (CMC)
#     queue the revoked CCM: after reconnecting the UE gets it after the
#     install; both carry an OCSP response that openssl ocsp verifies and
#     reads as revoked (keyCompromise); a refused revocation or a policy
#     without on_revoke queues nothing.
#
# Every daemon listens on 127.0.0.1 with ephemeral ports (--port-file).
# Needs openssl, curl, nghttp and python3.  KEEP_E2E=1 keeps the
# scratch directory.
set -u

E2E=e2e_ccm
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
STORE_TOOL=$top_builddir/tests/store_tool
for t in openssl curl nghttp python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found"; exit 99; }
done
for b in "$BSFD" "$UE" "$CTL" "$STORE_TOOL"; do
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
CCM_OID=2.25.181848808703629144312443541942285638697.1.1

forget_pid() {
	fp_keep=
	for p in $pids; do [ "$p" = "$1" ] || fp_keep="$fp_keep $p"; done
	pids=$fp_keep
}

# ---- policy: the PKI portal, with every on-bootstrap CCM ----
mkdir -p pol
sed -e 's/key_types: \[ec-p256\]/key_types: [ec-p256, ec-p384]/' \
	-e 's/max_active_certs: 2/max_active_certs: 50/' \
	-e 's/rate_limit_per_hour: 10/rate_limit_per_hour: 200/' \
	-e 's/impi_patterns: \[.*\]/impi_patterns: ["*@ims.mnc001.mcc001.3gppnetwork.org"]/' \
	-e 's/on_bootstrap: \[renewal-required\]/on_bootstrap: [trust-anchors, new-certificate, renewal-required]/' \
	"$POLICY_SRC" >pol/naf.yaml
ok_if "policy asks for trust anchors and installs on bootstrap" \
	grep -q 'on_bootstrap: \[trust-anchors, new-certificate, renewal-required\]' pol/naf.yaml
ok_if "policy queues an install on issue" grep -q 'on_issue: \[new-certificate\]' pol/naf.yaml

# start_bsfd NAME: gba-bsfd on DEMO with the policy in pol/ and a pid
# file (for policy reloads); sets PID, UB, NAF.
start_bsfd() { start_bsfd_naf "$1" "$DEMO" "$tmp/pol" --pid-file "$tmp/$1.pid"; }

# enrol NAME DIR: a CMC enrolment; sets SERIAL (lower-case hex, as gba-ue
# prints it).
enrol() {
	"$UE" enrol "$APP" --state "$STATE" --bsf "http://127.0.0.1:$UB" \
		--naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" --trust "$DEMO/ca/root.pem" \
		--out "$tmp/$2" --http2 >"$tmp/$1.out" 2>"$tmp/$1.err"
	check "$1: gba-ue enrol" 0 "$?"
	SERIAL=$(awk '$1 == "issued" { print $2 }' "$tmp/$1.out")
	[ -n "$SERIAL" ] || fail "$1: no serial"
}
# sub NAME ARGS...: gba-ue subscribe with GBA Digest; stdout in NAME.out.
sub() {
	sub_n=$1
	shift
	"$UE" subscribe "$APP" --state "$STATE" --bsf "http://127.0.0.1:$UB" \
		--naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" --trust "$DEMO/ca/root.pem" \
		--out "$tmp/ue-ccm" "$@" >"$tmp/$sub_n.out" 2>"$tmp/$sub_n.err"
}
# ccm_lines NAME: the "ccm ..." lines of NAME.out.
ccm_lines() { grep '^ccm ' "$tmp/$1.out"; }
# cms_ok DESC FILE: openssl verifies FILE against the demo root, its
# eContentType is ours, and the content parses as DER; the content goes
# to FILE.content.
cms_ok() {
	co_o=$(openssl cms -verify -inform DER -in "$2" -CAfile "$DEMO/ca/root.pem" \
		-purpose any -out "$2.content" 2>&1)
	if [ $? = 0 ] && contains "$co_o" 'Verification successful'; then
		pass "$1: openssl cms -verify"
	else
		fail "$1: openssl cms -verify: $co_o"
	fi
	check "$1: eContentType" "undefined ($CCM_OID)" \
		"$(openssl cms -cmsout -print -inform DER -in "$2" | sed -n 's/^ *eContentType: *//p')"
	openssl asn1parse -inform DER -in "$2.content" >"$2.asn1" 2>&1
	check "$1: openssl asn1parse of the CertConfigMessage" 0 "$?"
}
# split_frames IN PREFIX: the 4-octet length-prefixed frames of IN into
# PREFIX.1 ...; prints how many (keep-alives, length 0, are skipped).
split_frames() {
	python3 - "$1" "$2" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
i = n = 0
while i < len(d):
    if len(d) - i < 4:
        sys.exit('a truncated frame header')
    k = int.from_bytes(d[i:i + 4], 'big')
    if len(d) - i - 4 < k:
        sys.exit('a truncated frame')
    if k:
        n += 1
        open('%s.%d' % (sys.argv[2], n), 'wb').write(d[i + 4:i + 4 + k])
    i += 4 + k
print(n)
EOF
}
# wait_line FILE PATTERN: until FILE has a line matching PATTERN (10 s).
wait_line() {
	wl_i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		wl_i=$((wl_i + 1))
		[ $wl_i -le 200 ] || fail "no '$2' in ${1#$tmp/} after 10 s"
		sleep 0.05
	done
}

DEMO=$tmp/d
STATE=$tmp/ue.state
start_bsfd bsfd1
"$UE" init --state "$STATE" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init.err
check "gba-ue init" 0 "$?"

# =====================================================================
echo "== 0. the policy's on-bootstrap CCM, pushed on the Ub 200 (h2c)"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http2 \
	--ccm-dir "$tmp/ue-ccm" --trust "$DEMO/ca/root.pem" >boot0.out 2>boot0.err
check "0 gba-ue bootstrap --http2 exit status" 0 "$?"
check "0 the trust-anchor update came with the bootstrap answer" \
	"ccm 1 trust-anchor-update -" "$(grep '^ccm ' boot0.out)"
check "0 anchors.pem is the demo root" \
	"$(openssl x509 -in "$DEMO/ca/root.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in ue-ccm/anchors.pem -noout -fingerprint -sha256)"
# pushed but not acknowledged: a subscription acknowledges it
sub s0 --drain --http2
check "0 subscribe: the same message, recognised as a duplicate" \
	"ccm 1 trust-anchor-update - duplicate" "$(ccm_lines s0)"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http2 \
	--ccm-dir "$tmp/ue-ccm" --trust "$DEMO/ca/root.pem" >boot0b.out 2>boot0b.err
check "0 bootstrap again: exit status" 0 "$?"
check "0 bootstrap again: the same anchors are not queued twice" "" \
	"$(grep '^ccm ' boot0b.out)"

# =====================================================================
echo "== 1. an install CCM, pushed to nghttp"
enrol enrol1 o1
S1=$SERIAL
ok_if "1 ccm_queued audited with the serial" \
	grep -q "\"event\":\"ccm_queued\".*\"reason\":\"install\".*\"serial\":\"$S1\"" "$DEMO/audit.jsonl"
NG="nghttp --cert=$tmp/o1/cert.pem --key=$tmp/o1/key.pem"
$NG -v "https://127.0.0.1:$NAF/ccm?max=1" >ng-v.out 2>&1
check "1 nghttp -v (push enabled) exit status" 0 "$?"
ok_if "1 nghttp shows a PUSH_PROMISE" grep -a -q 'recv PUSH_PROMISE frame' ng-v.out
PPATH=$(grep -a -o ':path: /ccm/[0-9a-f]*' ng-v.out | head -n 1 | sed 's/^:path: //')
ok_if "1 the promise is for GET /ccm/<32 hex digits> ($PPATH)" \
	sh -c "printf '%s\n' '$PPATH' | grep -q '^/ccm/[0-9a-f]\{32\}\$'"
ok_if "1 the pushed response is application/vnd.gbacert.ccm" \
	grep -a -q 'content-type: application/vnd.gbacert.ccm$' ng-v.out
ok_if "1 the subscription is application/vnd.gbacert.ccm-stream" \
	grep -a -q 'content-type: application/vnd.gbacert.ccm-stream' ng-v.out
# Not acknowledged, so the next subscription gets it again; without -v
# nghttp writes the bodies: the subscription's is empty with push.
$NG "https://127.0.0.1:$NAF/ccm?max=1" >pushed.der 2>ng.err
check "1 nghttp (push) exit status" 0 "$?"
cms_ok "1 pushed CCM" pushed.der
ok_if "1 the CCM says install" grep -q 'ENUMERATED *:00' pushed.der.asn1
ok_if "1 the CCM carries the issued certificate (serial $S1)" \
	grep -qi "INTEGER *:0*$S1\$" pushed.der.asn1
ok_if "1 the CCM's subscriber is the IMPI" grep -q "$IMPI" pushed.der.asn1

# =====================================================================
echo "== 2. frames: nghttp --no-push, curl --http2, curl --http1.1; GET /ccm/<id>"
$NG --no-push "https://127.0.0.1:$NAF/ccm?max=1" >ng-frames.bin 2>ng2.err
check "2 nghttp --no-push exit status" 0 "$?"
check "2 nghttp --no-push: one frame" 1 "$(split_frames ng-frames.bin ngf)"
ok_if "2 the frame is the pushed CCM, octet for octet" cmp -s ngf.1 pushed.der
CURL="curl -sS --cacert $DEMO/ca.pem --cert $tmp/o1/cert.pem --key $tmp/o1/key.pem"
for v in http2 http1.1; do
	$CURL --$v -D "c-$v.hdr" -o "c-$v.bin" "https://127.0.0.1:$NAF/ccm?max=1" 2>"c-$v.err"
	check "2 curl --$v exit status" 0 "$?"
	ok_if "2 curl --$v: 200" grep -q '^HTTP/[12.]* 200' "c-$v.hdr"
	ok_if "2 curl --$v: content type" \
		grep -qi '^content-type: application/vnd.gbacert.ccm-stream' "c-$v.hdr"
	check "2 curl --$v: one frame" 1 "$(split_frames "c-$v.bin" "cf-$v")"
	ok_if "2 curl --$v: the same CCM" cmp -s "cf-$v.1" pushed.der
	cms_ok "2 curl --$v frame" "cf-$v.1"
done
ok_if "2 HTTP/1.1: chunked, no content-length" \
	sh -c "grep -qi '^transfer-encoding: chunked' c-http1.1.hdr && ! grep -qi '^content-length' c-http1.1.hdr"
$CURL --http2 -o one.der -w '%{http_code} %{content_type}' "https://127.0.0.1:$NAF$PPATH" \
	>one.code 2>one.err
check "2 GET $PPATH" "200 application/vnd.gbacert.ccm" "$(cat one.code)"
ok_if "2 GET /ccm/<id>: the same CCM" cmp -s one.der pushed.der
check "2 GET /ccm/<unknown id>: 404" 404 \
	"$($CURL -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NAF/ccm/00000000000000000000000000000000")"
check "2 GET /ccm without credentials: 401" 401 \
	"$(curl -sS --cacert "$DEMO/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NAF/ccm?max=1")"
check "2 POST /ccm/ack, not an id: 400" 400 \
	"$($CURL -o /dev/null -w '%{http_code}' -H 'content-type: text/plain' --data-binary 'xyz' "https://127.0.0.1:$NAF/ccm/ack")"

# =====================================================================
echo "== 3. gba-ue subscribe: verify, apply, acknowledge; live delivery"
sub s3a --count 1 --http2
check "3 subscribe (push) exit status" 0 "$?"
check "3 subscribe: the install" "ccm 2 install $S1" "$(ccm_lines s3a)"
ok_if "3 the installed certificate is the issued one" cmp -s ue-ccm/"$S1".pem o1/cert.pem
ok_if "3 the chain came with it" test -s ue-ccm/"$S1".chain.pem
check "3 ccm.state holds sequence 2" "seq 2" "$(head -n 1 ue-ccm/ccm.state)"
ok_if "3 ccm_acked audited" grep -q '"event":"ccm_acked"' "$DEMO/audit.jsonl"
sub s3b --drain --http2
check "3 acknowledged: not sent again (exit status)" 0 "$?"
check "3 acknowledged: not sent again" "" "$(ccm_lines s3b)"
# a subscription that waits, frames over HTTP/2, then over HTTP/1.1
n=3
for mode in "--http2 --no-push" "--http1"; do
	rm -f "$tmp/live.out"
	# shellcheck disable=SC2086
	"$UE" subscribe "$APP" --state "$STATE" --naf "https://127.0.0.1:$NAF" \
		--ca "$DEMO/ca.pem" --trust "$DEMO/ca/root.pem" --out "$tmp/ue-ccm" --count 1 \
		$mode >"$tmp/live.out" 2>"$tmp/live.err" &
	LPID=$!
	pids="$pids $LPID"
	wait_line "$tmp/live.out" '^subscribed$'
	enrol "enrol-live-$n" "o-live-$n"
	wait "$LPID"
	check "3 live ($mode): exit status" 0 "$?"
	forget_pid "$LPID"
	check "3 live ($mode): the new install arrived" "ccm $n install $SERIAL" \
		"$(ccm_lines live)"
	ok_if "3 live ($mode): installed" cmp -s "ue-ccm/$SERIAL.pem" "o-live-$n/cert.pem"
	n=$((n + 1))
done

# =====================================================================
echo "== 4. queued messages are pushed on the Ub 200"
enrol enrol4 o4
S4=$SERIAL
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http2 \
	--ccm-dir "$tmp/ue-ccm" --trust "$DEMO/ca/root.pem" >boot4.out 2>boot4.err
check "4 gba-ue bootstrap --http2 exit status" 0 "$?"
check "4 the waiting install came with the bootstrap answer" "ccm $n install $S4" \
	"$(grep '^ccm ' boot4.out)"
ok_if "4 installed" cmp -s "ue-ccm/$S4.pem" o4/cert.pem
sub s4 --drain --http1
check "4 subscribe after it: acknowledged as a duplicate" "ccm $n install $S4 duplicate" \
	"$(ccm_lines s4)"
n=$((n + 1))

# =====================================================================
echo "== 5. offline: queued messages arrive in sequence"
enrol enrol5a o5a
S5A=$SERIAL
enrol enrol5b o5b
S5B=$SERIAL
enrol enrol5c o5c
S5C=$SERIAL
sub s5 --drain --http1
check "5 subscribe --drain exit status" 0 "$?"
check "5 three installs in sequence order" \
	"$(printf 'ccm %d install %s\nccm %d install %s\nccm %d install %s' \
		"$n" "$S5A" $((n + 1)) "$S5B" $((n + 2)) "$S5C")" "$(ccm_lines s5)"
n=$((n + 3))

# =====================================================================
echo "== 5b. a revoked CCM from another process (what issue 6's revocation will queue)"
# store_tool queues it straight into the outbox, as gba-ctl revoke or a
# second daemon would: the workers find it with their outbox poll.  The
# certificate itself stays valid here: revocation is issue 6.
enrol enrol5r o5r
S5R=$SERIAL
openssl x509 -in o5r/cert.pem -outform DER -out o5r.der
"$STORE_TOOL" "$DEMO/bsf.db" "$DEMO/bsf.key" ccm "$IMPI" "$APP" 2 o5r.der
check "5b store_tool queued a revoked CCM (UE offline)" 0 "$?"
sub s5b --drain --http2
check "5b after reconnecting: the install, then the revocation, in sequence" \
	"$(printf 'ccm %d install %s\nccm %d revoked %s' "$n" "$S5R" $((n + 1)) "$S5R")" \
	"$(ccm_lines s5b)"
ok_if "5b the revoked certificate is gone from the UE" test ! -e "ue-ccm/$S5R.pem"
ok_if "5b and marked revoked" grep -q '^revoked$' "ue-ccm/$S5R.revoked"
n=$((n + 2))
external=1
# a waiting subscriber gets one from another process too (poll, 1 s)
rm -f "$tmp/live.out"
"$UE" subscribe "$APP" --state "$STATE" --naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" \
	--trust "$DEMO/ca/root.pem" --out "$tmp/ue-ccm" --count 1 --http2 \
	>"$tmp/live.out" 2>"$tmp/live.err" &
LPID=$!
pids="$pids $LPID"
wait_line "$tmp/live.out" '^subscribed$'
openssl x509 -in o4/cert.pem -outform DER -out o4.der
"$STORE_TOOL" "$DEMO/bsf.db" "$DEMO/bsf.key" ccm "$IMPI" "$APP" 2 o4.der
check "5b store_tool queued a revoked CCM (UE subscribed)" 0 "$?"
wait "$LPID"
check "5b live: exit status" 0 "$?"
forget_pid "$LPID"
check "5b live: the revocation arrived" "ccm $n revoked $S4" "$(ccm_lines live)"
ok_if "5b live: certificate removed" test ! -e "ue-ccm/$S4.pem"
n=$((n + 1))
external=2

# =====================================================================
echo "== 5d. revocation queues the revoked CCM, with an OCSP response"
ctl() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" --audit-log "$tmp/ctl-audit.jsonl" "$@"; }
cat "$DEMO/ca/ca.pem" "$DEMO/ca/root.pem" >chain.pem
# revocation_of CCM-DER OUT: the OCSPResponse in the message's
# revocation [4] ocsp [0] (implicitly tagged: retagged as SEQUENCE).
revocation_of() {
	python3 - "$1" "$2" <<'PYEOF'
import sys
def tlv(d, i):
    t = d[i]; l = d[i + 1]; i += 2
    if l & 0x80:
        k = l & 0x7f; l = int.from_bytes(d[i:i + k], 'big'); i += k
    return t, i, l
d = open(sys.argv[1], 'rb').read()
t, i, l = tlv(d, 0)
end = i + l
while i < end:
    t, j, l = tlv(d, i)
    if t == 0xa4:
        t2, k, l2 = tlv(d, j)
        if t2 != 0xa0:
            sys.exit(2)
        open(sys.argv[2], 'wb').write(b'\x30' + d[j + 1:k + l2])
        sys.exit(0)
    i = j + l
sys.exit(1)
PYEOF
}
# A UE offline while gba-ctl revokes its certificate gets the install
# and then the revocation.
enrol enrol5d o5d
S5D=$SERIAL
out=$(ctl revoke "$S5D" --reason keyCompromise --policy-dir "$tmp/pol")
check "5d gba-ctl revoke: exit status" 0 "$?"
ok_if "5d gba-ctl revoke queued the CCM" contains "$out" "queued a revoked CCM for $IMPI"
# the frames as they wait (curl with another valid certificate of the IMPI)
curl -sS --http1.1 --cacert "$DEMO/ca.pem" --cert o5a/cert.pem --key o5a/key.pem \
	-o f5d.bin "https://127.0.0.1:$NAF/ccm?wait=0"
check "5d curl: two frames waiting" 2 "$(split_frames f5d.bin f5d)"
cms_ok "5d install" f5d.1
cms_ok "5d revoked" f5d.2
for m in 1 2; do
	revocation_of f5d.$m.content r5d.$m.der
	check "5d message $m carries an OCSP response" 0 "$?"
	openssl ocsp -respin r5d.$m.der -issuer "$DEMO/ca/ca.pem" -CAfile chain.pem \
		-serial "0x$S5D" -resp_text >r5d.$m.txt 2>&1
	check "5d message $m: the OCSP response verifies" 1 "$(grep -c '^Response verify OK' r5d.$m.txt)"
	ok_if "5d message $m: revoked, keyCompromise" grep -q 'Reason: keyCompromise' r5d.$m.txt
done
sub s5d --drain --http2
check "5d after reconnecting: the install, then the revocation, in sequence" \
	"$(printf 'ccm %d install %s\nccm %d revoked %s' "$n" "$S5D" $((n + 1)) "$S5D")" \
	"$(ccm_lines s5d)"
ok_if "5d the revoked certificate is gone from the UE" test ! -e "ue-ccm/$S5D.pem"
n=$((n + 2))
external=$((external + 1))   # gba-ctl's: not in the daemon's audit log
# a failed revocation (already revoked) queues nothing; neither does a
# policy without on_revoke
out=$(ctl revoke "$S5D" --reason superseded --policy-dir "$tmp/pol" 2>&1)
check "5d revoking again: refused" 1 "$?"
enrol enrol5e o5e
S5E=$SERIAL
mkdir -p pol-norev
sed 's/on_revoke: \[revoked\]/on_revoke: []/' pol/naf.yaml >pol-norev/naf.yaml
ok_if "5d policy without on_revoke" grep -q 'on_revoke: \[\]' pol-norev/naf.yaml
out=$(ctl revoke "$S5E" --reason superseded --policy-dir "$tmp/pol-norev")
check "5d gba-ctl revoke (no on_revoke): exit status" 0 "$?"
ok_if "5d no CCM queued" test -z "$(printf '%s\n' "$out" | grep queued)"
sub s5e --drain --http2
check "5d only the install arrives" "$(printf 'ccm %d install %s' "$n" "$S5E")" \
	"$(ccm_lines s5e)"
n=$((n + 1))
# over CMC: gba-ue revoke with its GBA session
enrol enrol5f o5f
S5F=$SERIAL
"$UE" revoke --out "$tmp/o5f" --naf-fqdn "$APP" --reason keyCompromise \
	--state "$STATE" --bsf "http://127.0.0.1:$UB" --naf "https://127.0.0.1:$NAF" \
	--ca "$DEMO/ca.pem" --trust "$DEMO/ca/root.pem" --http2 >rev5f.out 2>rev5f.err
check "5d gba-ue revoke over CMC: exit status" 0 "$?"
sub s5f --drain --http2
check "5d CMC: the install, then the revocation" \
	"$(printf 'ccm %d install %s\nccm %d revoked %s' "$n" "$S5F" $((n + 1)) "$S5F")" \
	"$(ccm_lines s5f)"
n=$((n + 2))

# =====================================================================
echo "== 5c. a policy change: the new trust anchors go to the subscribers"
# the demo's TLS CA as the policy's trust anchor (SIGHUP via gba-ctl)
cp "$DEMO/ca.pem" "$tmp/extra-anchor.pem"
sed "s|^  expiry_hours: 24|  expiry_hours: 24\n  trust_anchors: [\"$tmp/extra-anchor.pem\"]|" \
	pol/naf.yaml >pol/naf.yaml.new && mv pol/naf.yaml.new pol/naf.yaml
ok_if "5c the policy names the new anchor" grep -q "trust_anchors: \[\"$tmp/extra-anchor.pem\"\]" \
	pol/naf.yaml
rm -f "$tmp/live.out"
"$UE" subscribe "$APP" --state "$STATE" --naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" \
	--trust "$DEMO/ca/root.pem" --out "$tmp/ue-ccm" --count 1 --http2 \
	>"$tmp/live.out" 2>"$tmp/live.err" &
LPID=$!
pids="$pids $LPID"
wait_line "$tmp/live.out" '^subscribed$'
"$CTL" policy reload "$tmp/bsfd1.pid" >/dev/null
check "5c gba-ctl policy reload" 0 "$?"
wait "$LPID"
check "5c subscriber: exit status" 0 "$?"
forget_pid "$LPID"
check "5c the trust-anchor update arrived" "ccm $n trust-anchor-update -" "$(ccm_lines live)"
check "5c anchors.pem is the new anchor" \
	"$(openssl x509 -in "$DEMO/ca.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in ue-ccm/anchors.pem -noout -fingerprint -sha256)"
n=$((n + 1))
"$CTL" policy reload "$tmp/bsfd1.pid" >/dev/null
# wait for the second sweep to have run to its end
i=0
while [ "$(grep -c 'policy change: CCM updates queued' "$tmp/bsfd1.log")" -lt 2 ]; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "5c the second sweep did not finish"
	sleep 0.05
done
sub s5c --drain --http2
check "5c an unchanged reload queues nothing" "" "$(ccm_lines s5c)"

# =====================================================================
echo "== 6. SIGKILL between queuing and delivery"
enrol enrol6 o6
S6=$SERIAL
kill -KILL "$PID"
wait "$PID" 2>/dev/null
forget_pid "$PID"
pass "6 gba-bsfd killed (SIGKILL) with the install queued, undelivered"
start_bsfd bsfd2
sub s6a --drain --http2
check "6 after the restart: delivered" "ccm $n install $S6" "$(ccm_lines s6a)"
sub s6b --drain --http2
check "6 and only once" "" "$(ccm_lines s6b)"
check "6 one line for it in all" 1 "$(cat s6a.out s6b.out | grep -c "^ccm $n ")"
n=$((n + 1))

# =====================================================================
echo "== 7. forged, foreign, replayed"
ck() {  # NAME DIR FILE...: gba-ue ccm-check; output in NAME.out
	ck_n=$1 ck_d=$2
	shift 2
	"$UE" ccm-check --trust "$DEMO/ca/root.pem" --out "$tmp/$ck_d" --impi "$IMPI" --app "$APP" \
		"$@" >"$tmp/$ck_n.out" 2>"$tmp/$ck_n.err"
}
ck c7a ue-ccm pushed.der
check "7 the first CCM again: exit status 0" 0 "$?"
check "7 the first CCM again: a duplicate, not applied" "ccm 2 install $S1 duplicate" \
	"$(cat c7a.out)"
# a forged signature and forged content (one octet flipped)
python3 -c "
import sys
d = bytearray(open('pushed.der', 'rb').read())
d[-10] ^= 1
open('forged-sig.der', 'wb').write(d)
d = bytearray(open('pushed.der', 'rb').read())
i = d.find(b'naf.gbacert.test')
d[i] ^= 0x20
open('forged-content.der', 'wb').write(d)
"
for f in forged-sig forged-content; do
	ck "c7-$f" fresh7 "$f.der"
	check "7 $f: exit status 1" 1 "$?"
	ok_if "7 $f: rejected" grep -q '^rejected ' "c7-$f.out"
done
ok_if "7 nothing applied from forgeries" test ! -e fresh7/ccm.state
# a CCM signed by another CA (gba-ue demo makes one)
mkdir -p other
"$UE" demo --out other >/dev/null 2>&1
ok_if "7 gba-ue demo wrote a CCM signed by its own CA" test -s other/ccm.der
ck c7-other fresh7 other/ccm.der
check "7 foreign signer: exit status 1" 1 "$?"
ok_if "7 foreign signer: rejected" grep -q '^rejected .*trust anchor' c7-other.out
# replay: after a newer message, an older one that was never applied
sub s7 --drain --http2
check "7 nothing waiting before" "" "$(ccm_lines s7)"
enrol enrol7a o7a
S7A=$SERIAL
enrol enrol7b o7b
S7B=$SERIAL
$CURL --http2 -o seq-a.bin "https://127.0.0.1:$NAF/ccm?max=2" 2>/dev/null
check "7 curl got two frames" 2 "$(split_frames seq-a.bin sq)"
ck c7-newer fresh7 sq.2
check "7 the newer one applies" "ccm $((n + 1)) install $S7B" "$(cat c7-newer.out)"
ck c7-replay fresh7 sq.1
check "7 the older one after it: exit status 1" 1 "$?"
ok_if "7 the older one after it: rejected as a replay" grep -q '^rejected replay' c7-replay.out
ok_if "7 and not installed" test ! -e "fresh7/$S7A.pem"
# the UE's own directory takes both, in order
sub s7b --drain --http2
check "7 subscribe: both, in order" \
	"$(printf 'ccm %d install %s\nccm %d install %s' "$n" "$S7A" $((n + 1)) "$S7B")" \
	"$(ccm_lines s7b)"
n=$((n + 2))

# =====================================================================
echo "== 8. subscriptions per IMPI are capped"
cpids=
for i in 1 2 3 4; do
	$CURL --http2 -N -D "cap-$i.hdr" -o "cap-$i.bin" "https://127.0.0.1:$NAF/ccm" 2>/dev/null &
	cpids="$cpids $!"
	pids="$pids $!"
done
for i in 1 2 3 4; do wait_line "cap-$i.hdr" '^HTTP/2 200'; done
pass "8 four subscriptions open"
check "8 a fifth: 429" 429 \
	"$($CURL --http2 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NAF/ccm")"
for p in $cpids; do
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	forget_pid "$p"
done
# the slots come back once they are gone (the server notices the close)
i=0
while :; do
	code=$($CURL --http2 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NAF/ccm?wait=0")
	[ "$code" = 200 ] && break
	i=$((i + 1))
	[ $i -le 100 ] || fail "8 slots not returned: $code"
	sleep 0.1
done
pass "8 after they close: 200 again"

# =====================================================================
echo "== 9. audit, and SIGTERM with a subscription open"
"$UE" subscribe "$APP" --state "$STATE" --naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" \
	--trust "$DEMO/ca/root.pem" --out "$tmp/ue-ccm" --http2 >"$tmp/open.out" 2>"$tmp/open.err" &
OPID=$!
pids="$pids $OPID"
wait_line "$tmp/open.out" '^subscribed$'
stop_daemon "$PID" bsfd2
wait "$OPID"
check "9 the subscriber saw the stream end (exit status 0)" 0 "$?"
forget_pid "$OPID"
ok_if "9 ccm_queued records" grep -q '"event":"ccm_queued"' "$DEMO/audit.jsonl"
check "9 one ccm_queued per install or anchor update (not store_tool's)" "$((n - 1 - external))" \
	"$(grep -c '"event":"ccm_queued"' "$DEMO/audit.jsonl")"
ok_if "9 gba-ctl audit verify" "$CTL" audit verify "$DEMO/audit.jsonl"
echo "e2e_ccm: $checks checks passed"
