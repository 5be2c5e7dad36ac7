#!/bin/sh
# e2e_bsf.sh - the real gba-bsfd, end to end, against gba-ue, gba-ctl,
# curl and nghttp.
#
#  1. gba-ue bootstraps over HTTP/1.1, h2c, h2 over TLS and HTTP/1.1 over
#     TLS;
#  2. curl (HTTP/1.1, h2 over TLS, h2c) and nghttp (h2c, TLS) get the
#     AKAv1-MD5 challenge for the initial request;
#  3. Zn (Nbsp_GBA) with the demo NAF's client certificate: Ks_NAF equals
#     the UE's; no certificate, another NAF's certificate, a foreign
#     nafFqdn, an unknown B-TID and bad JSON are refused;
#  4. negative Ub cases with the status bsf.h documents, and the stores
#     unchanged where the request must not reach the HSS;
#  5. SQN resynchronisation (and the exhausted SQN space);
#  6. an expired B-TID on Zn (a second daemon with --lifetime 2);
#  7. a restart on the same --demo directory keeps the bootstrap contexts;
#  8. SIGTERM exits 0, and the daemon logs hold no key, IMPI or Ks_NAF.
#
# Every daemon listens on 127.0.0.1 with ephemeral ports (--port-file) and
# logs at debug level (GBA_LOG_LEVEL=4) so that the secret check sees
# everything the daemon can print.  Skips (77) without curl (with
# HTTP/2), nghttp, certtool or base64.  KEEP_E2E=1 keeps the scratch
# directory.
set -u

E2E=e2e_bsf
# shellcheck source=e2e_lib.sh
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
for t in curl nghttp "$CERTTOOL" base64; do
	command -v "$t" >/dev/null 2>&1 || { echo "$t not found: skipped"; exit 77; }
done
curl --version | grep -q HTTP2 || { echo "curl without HTTP/2: skipped"; exit 77; }
for b in "$BSFD" "$UE" "$CTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done

FQDN=bsf.gbacert.test
NAF=naf.gbacert.test
UAID=0100000000
# TS 35.208 test set 1 (the --demo subscriber) and set 2 (added here).
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
IMPI2=001010000000002@ims.mnc001.mcc001.3gppnetwork.org
K2=fec86ba6eb707ed08905757b1bb44b8f
OPC2=1006020f0a478bf6b699f15c062e42b3
NOBODY=001019999999999@ims.mnc001.mcc001.3gppnetwork.org
ZN_PATH=/nbsp-gba/v1/bootstrapping-info-retrieval

DEMO=$tmp/demo
CA=$DEMO/ca.pem

# This test goes on after a failure and counts them (e2e_lib.sh's check
# and pass are used as they are).
fails=0
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
# ok_if DESCRIPTION COMMAND...: PASS when COMMAND succeeds, else FAIL;
# returns COMMAND's verdict.
ok_if() {
	oi_desc=$1
	shift
	if "$@"; then pass "$oi_desc"; return 0; fi
	fail "$oi_desc"
	return 1
}
# wait_for DESCRIPTION FILE PATTERN: poll (at most 10 s) until a line of
# FILE (CRs dropped) matches the grep PATTERN.
wait_for() {
	wf_i=0
	until [ -f "$2" ] && tr -d '\r' <"$2" | grep -q -- "$3"; do
		wf_i=$((wf_i + 1))
		if [ $wf_i -gt 200 ]; then
			fail "$1 (not seen within 10 s)"
			return 1
		fi
		sleep 0.05
	done
	pass "$1"
}

# ---- the daemon ----

# start_bsfd NAME ARGS...: gba-bsfd on the demo directory, every listener
# on 127.0.0.1 port 0; waits (at most 10 s, polling) for the port file.
# Sets PID, UB, UBTLS and ZN; the log is NAME.log.
start_bsfd() {
	sb=$1
	shift
	rm -f "$tmp/$sb.ports"
	GBA_LOG_LEVEL=4 "$BSFD" --demo "$DEMO" --fqdn "$FQDN" --listen 127.0.0.1 \
		--ub-port 0 --ub-tls-port 0 --zn-port 0 --port-file "$tmp/$sb.ports" "$@" \
		2>"$tmp/$sb.log" &
	PID=$!
	pids="$pids $PID"
	sb_i=0
	while [ ! -s "$tmp/$sb.ports" ]; do
		if ! kill -0 "$PID" 2>/dev/null; then
			fail "$sb: gba-bsfd exited during start-up"
			indent "$tmp/$sb.log"
			return 1
		fi
		sb_i=$((sb_i + 1))
		if [ $sb_i -gt 200 ]; then
			fail "$sb: no port file after 10 s"
			indent "$tmp/$sb.log"
			return 1
		fi
		sleep 0.05
	done
	UB=$(awk '$1 == "ub" { print $2 }' "$tmp/$sb.ports")
	UBTLS=$(awk '$1 == "ub-tls" { print $2 }' "$tmp/$sb.ports")
	ZN=$(awk '$1 == "zn" { print $2 }' "$tmp/$sb.ports")
	if [ -n "$UB" ] && [ -n "$UBTLS" ] && [ -n "$ZN" ]; then
		pass "$sb: gba-bsfd up (ub $UB, ub-tls $UBTLS, zn $ZN)"
	else
		fail "$sb: port file lacks a listener"
		indent "$tmp/$sb.ports"
		return 1
	fi
}

# stop_bsfd PID NAME: SIGTERM, then reap_bsfd.
stop_bsfd() {
	kill -TERM "$1"
	reap_bsfd "$@"
}
# reap_bsfd PID NAME: after a SIGTERM the daemon must exit 0 within 10 s
# (a watchdog sends SIGKILL after that, which shows as status 137).
reap_bsfd() {
	(
		n=0
		while kill -0 "$1" 2>/dev/null; do
			n=$((n + 1))
			if [ $n -gt 100 ]; then
				kill -KILL "$1" 2>/dev/null
				exit 0
			fi
			sleep 0.1
		done
	) &
	sd_wd=$!
	sd_t0=$(date +%s%N)
	wait "$1"
	sd_rc=$?
	sd_ms=$((($(date +%s%N) - sd_t0) / 1000000))
	wait "$sd_wd"
	sd_keep=
	for p in $pids; do [ "$p" = "$1" ] || sd_keep="$sd_keep $p"; done
	pids=$sd_keep
	check "$2: SIGTERM: exit status 0 within 10 s (reaped after ${sd_ms} ms)" 0 "$sd_rc"
	if grep -q 'stopping gracefully' "$tmp/$2.log" && grep -q 'notice: stopped' "$tmp/$2.log"; then
		pass "$2: log shows a graceful stop"
	else
		fail "$2: no graceful stop in the log"
		tail -n 5 "$tmp/$2.log" | indent
	fi
}

# ---- gba-ue and gba-ctl ----

ue_init() {  # STATE IMPI K OPC [SQN]
	"$UE" init --state "$1" --impi "$2" --k "$3" --opc "$4" --sqn "${5:-000000000000}"
}
# ue_boot STATE NAME MODE-ARGS...: gba-ue bootstrap --trace; stdout in
# NAME.out, stderr in NAME.err; returns gba-ue's exit status.
ue_boot() {
	ub_state=$1 ub_name=$2
	shift 2
	"$UE" bootstrap --state "$ub_state" --realm "$FQDN" --trace "$@" \
		>"$tmp/$ub_name.out" 2>"$tmp/$ub_name.err"
}
state_get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
ks_naf() { "$UE" ks-naf --state "$1" "${2:-$NAF}" "$UAID"; }
ctl() { "$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" "$@"; }
sqn_of() { ctl subscriber show "$1" | awk '$1 == "SQN:" { print $2 }'; }
# Everything gba-ctl can see: subscriber list and each one's show.
snapshot() {
	ctl subscriber list
	for s in $(ctl subscriber list); do ctl subscriber show "$s"; done
}
# The Authorization lines a --trace run sent, in order.
trace_authz() { sed -n 's/^> GET \/ Authorization: //p' "$tmp/$1.err"; }

# ---- Ub with curl ----

initial_authz() {  # IMPI: the initial request of TS 24.109 A.3
	printf 'Digest username="%s", realm="%s", nonce="", uri="/", response=""' "$1" "$FQDN"
}
# ub MODE AUTHORIZATION [CURL ARGS...]: GET / on Ub (an empty
# AUTHORIZATION sends none); prints the status; headers in h.txt, body
# in b.txt, HTTP version in v.txt.
ub() {
	ub_mode=$1 ub_a=$2
	shift 2
	case $ub_mode in
	h1) set -- --http1.1 "$@" "http://127.0.0.1:$UB/" ;;
	h2c) set -- --http2-prior-knowledge "$@" "http://127.0.0.1:$UB/" ;;
	h2) set -- --http2 --cacert "$CA" "$@" "https://127.0.0.1:$UBTLS/" ;;
	h1tls) set -- --http1.1 --cacert "$CA" "$@" "https://127.0.0.1:$UBTLS/" ;;
	esac
	if [ -n "$ub_a" ]; then
		set -- -H "Authorization: $ub_a" "$@"
	fi
	rm -f "$tmp/h.txt" "$tmp/b.txt"
	ub_out=$(curl -s -o "$tmp/b.txt" -D "$tmp/h.txt" -w '%{http_code} %{http_version}' "$@")
	echo "${ub_out#* }" >"$tmp/v.txt"
	echo "${ub_out%% *}"
}
# hdr NAME FILE: the value of header NAME (case-insensitive) in a curl -D dump.
hdr() {
	tr -d '\r' <"$2" | awk -v n="$1" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == n) {
			v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}
# Header names of a curl -D dump, lower case, sorted.
hdr_names() {
	tr -d '\r' <"$1" | awk -F: 'NR > 1 && NF > 1 { print tolower($1) }' | sort
}
# param NAME: the value of auth-param NAME (quoted or token) on stdin.
param() {
	sed -n "s/.*[ ,]$1=\"\\([^\"]*\\)\".*/\\1/p;t
s/.*[ ,]$1=\\([^ ,]*\\).*/\\1/p"
}
# set_param AUTHZ NAME VALUE: AUTHZ with quoted auth-param NAME replaced.
set_param() {
	printf '%s\n' "$1" | sed "s|\\([ ,]\\)$2=\"[^\"]*\"|\\1$2=\"$3\"|"
}
b64len() { printf '%s' "$1" | base64 -d 2>/dev/null | wc -c | tr -d ' '; }
# flip_first_hex HEX: HEX with its first digit changed.
flip_first_hex() {
	printf '%s%s\n' "$(printf '%s' "$1" | cut -c1 | tr '0-9a-f' '1-9a-f0')" \
		"$(printf '%s' "$1" | cut -c2-)"
}
# param names of a WWW-Authenticate value, in order
param_names() {
	printf '%s\n' "$1" | sed 's/^Digest //; s/"[^"]*"//g' | tr ',' '\n' |
		sed 's/^ *//; s/=.*//' | tr '\n' ' '
}

# check_challenge DESC HEADERS-FILE: an AKAv1-MD5 challenge for our realm
# whose nonce decodes to RAND||AUTN (32 bytes).  Sets NONCE.
check_challenge() {
	cc_wa=$(hdr www-authenticate "$2")
	NONCE=$(printf '%s\n' "$cc_wa" | param nonce)
	cc_ok=1
	contains "$cc_wa" 'Digest ' || cc_ok=0
	contains "$cc_wa" "realm=\"$FQDN\"" || cc_ok=0
	contains "$cc_wa" 'algorithm=AKAv1-MD5' || cc_ok=0
	contains "$cc_wa" 'qop="auth-int"' || cc_ok=0
	if [ $cc_ok = 1 ]; then
		pass "$1: WWW-Authenticate has realm, algorithm=AKAv1-MD5, qop=\"auth-int\""
	else
		fail "$1: WWW-Authenticate is '$cc_wa'"
	fi
	check "$1: nonce base64-decodes to 32 bytes" 32 "$(b64len "$NONCE")"
}

# ---- Zn with curl ----

zn_body() {  # BTID [NAF]
	printf '{"btId":"%s","nafId":{"nafFqdn":"%s","uaSecProtId":"%s"},"gsIds":[1]}' \
		"$1" "${2:-$NAF}" "$UAID"
}
# zn CURL-ARGS...: POST to https://FQDN:ZN (resolved to 127.0.0.1) with
# content-type $ZN_CT (default application/json); prints the status
# ("000" when no HTTP exchange); body in z.txt, curl's exit status in
# zrc.txt.
zn() {
	rm -f "$tmp/z.txt"
	zn_out=$(curl -s --http2 --cacert "$CA" --resolve "$FQDN:$ZN:127.0.0.1" \
		-H "content-type: ${ZN_CT:-application/json}" -o "$tmp/z.txt" -w '%{http_code}' "$@" \
		"https://$FQDN:$ZN$ZN_PATH")
	echo $? >"$tmp/zrc.txt"
	echo "$zn_out"
}
zn_naf() { zn --cert "$DEMO/naf.pem" --key "$DEMO/naf-key.pem" "$@"; }
zn_key() { sed -n 's/.*"meKeyMaterial":"\([0-9a-f]*\)".*/\1/p' "$tmp/z.txt"; }
# zn_same DESC BTID KEY: Zn still answers 200 for BTID with meKeyMaterial KEY.
zn_same() {
	zs_code=$(zn_naf -d "$(zn_body "$2")")
	if [ "$zs_code" = 200 ] && [ "$(zn_key)" = "$3" ]; then
		pass "$1: B-TID still served on Zn with the same Ks_NAF"
	else
		fail "$1: Zn for the B-TID answered $zs_code"
		indent "$tmp/z.txt"
	fi
}
# same_store DESC: the subscriber store is as in snap.before.
same_store() {
	snapshot >"$tmp/snap.after" 2>&1
	if cmp -s "$tmp/snap.before" "$tmp/snap.after"; then
		pass "$1: subscribers and SQN unchanged (gba-ctl)"
	else
		fail "$1: the subscriber store changed"
		diff "$tmp/snap.before" "$tmp/snap.after" | indent
	fi
}
# logcount PATTERN: lines of the main daemon's log matching PATTERN.
logcount() { grep -c -- "$1" "$tmp/$LOGNAME_MAIN.log"; }

# =====================================================================
echo "== start"
LOGNAME_MAIN=bsfd1
start_bsfd bsfd1 || exit 1
PID1=$PID
for f in bsf.db bsf.key ca.pem ca-key.pem bsf.pem bsf-key.pem naf.pem naf-key.pem; do
	[ -s "$DEMO/$f" ] || fail "--demo did not provision $f"
done
ca_sum=$(cksum <"$CA")
ue_init ue.state "$IMPI" "$K" "$OPC" || fail "gba-ue init"

# =====================================================================
echo "== 1. gba-ue bootstrap over every transport"
# ue_transport NAME WANT-PROTOCOL ARGS...
ue_transport() {
	ut_name=$1 ut_proto=$2
	shift 2
	if ue_boot ue.state "$ut_name" "$@"; then
		pass "1 $ut_name: gba-ue bootstrap exits 0"
	else
		fail "1 $ut_name: gba-ue bootstrap failed"
		indent "$tmp/$ut_name.err"
	fi
	ut_btid=$(sed -n 's/^B-TID: //p' "$tmp/$ut_name.out")
	case $ut_btid in
	?*@"$FQDN") pass "1 $ut_name: B-TID $ut_btid ends in @$FQDN" ;;
	*) fail "1 $ut_name: B-TID '$ut_btid'" ;;
	esac
	check "1 $ut_name: state file holds the printed B-TID" "$ut_btid" "$(state_get ue.state btid)"
	check "1 $ut_name: protocol line" "protocol: $ut_proto" "$(grep '^protocol:' "$tmp/$ut_name.out")"
}
ue_transport h1 HTTP/1.1 --bsf "http://127.0.0.1:$UB" --http1
ue_transport h2c HTTP/2 --bsf "http://127.0.0.1:$UB" --http2
ue_transport h1tls HTTP/1.1 --bsf "https://127.0.0.1:$UBTLS" --ca "$CA" --http1
ue_transport h2 HTTP/2 --bsf "https://127.0.0.1:$UBTLS" --ca "$CA" --http2
n=$(for f in h1 h2c h1tls h2; do sed -n 's/^B-TID: //p' "$tmp/$f.out"; done | sort -u | wc -l)
check "1: four bootstraps, four different B-TIDs" 4 "$n"
BTID=$(state_get ue.state btid)

# =====================================================================
echo "== 2. the challenge to curl and nghttp"
INIT=$(initial_authz "$IMPI")
for m in h1 h2 h2c h1tls; do
	code=$(ub $m "$INIT")
	check "2 curl $m: initial request answered 401" 401 "$code"
	case $m in h1 | h1tls) want=1.1 ;; *) want=2 ;; esac
	check "2 curl $m: HTTP version" "$want" "$(cat "$tmp/v.txt")"
	check_challenge "2 curl $m" "$tmp/h.txt"
done
for u in "http://127.0.0.1:$UB/" "https://127.0.0.1:$UBTLS/"; do
	case $u in https:*) m=TLS ;; *) m=h2c ;; esac
	nghttp -v -H "authorization: $INIT" "$u" >"$tmp/ng.txt" 2>&1
	if grep -q 'recv (stream_id=[0-9]*) :status: 401' "$tmp/ng.txt"; then
		pass "2 nghttp $m: 401"
	else
		fail "2 nghttp $m: no 401"
		indent "$tmp/ng.txt"
	fi
	sed -n 's/.*recv (stream_id=[0-9]*) \(www-authenticate: .*\)$/\1/p' "$tmp/ng.txt" >"$tmp/h.txt"
	check_challenge "2 nghttp $m" "$tmp/h.txt"
done

# =====================================================================
echo "== 3. Zn"
code=$(zn_naf -d "$(zn_body "$BTID")")
check "3 Zn as $NAF: status" 200 "$code"
KEY1=$(zn_key)
check "3 Zn meKeyMaterial equals gba-ue ks-naf" "$(ks_naf ue.state)" "$KEY1"
ok_if "3 Zn: gbaType 3G_GBA" grep -q '"gbaType":"3G_GBA"' "$tmp/z.txt"
ok_if "3 Zn: no impi in the response without --zn-release-impi" \
	not grep -q '"impi"' "$tmp/z.txt"
# A new bootstrap supersedes the IMPI's earlier B-TIDs (gba_store.h).
for f in h1 h2c h1tls; do
	code=$(zn_naf -d "$(zn_body "$(sed -n 's/^B-TID: //p' "$tmp/$f.out")")")
	check "3 Zn: the superseded B-TID of the $f run" 404 "$code"
done

code=$(zn -d "$(zn_body "$BTID")")
check "3 Zn without a client certificate: no HTTP status" 000 "$code"
zrc=$(cat "$tmp/zrc.txt")
ok_if "3 Zn without a client certificate: curl fails (exit $zrc)" [ "$zrc" != 0 ]

cat >other.tmpl <<EOF
cn = "other.gbacert.test"
dns_name = "other.gbacert.test"
tls_www_client
signing_key
expiration_days = 1
EOF
if "$CERTTOOL" --generate-privkey --key-type ecdsa --outfile other-key.pem >certtool.log 2>&1 &&
	"$CERTTOOL" --generate-certificate --load-privkey other-key.pem \
		--load-ca-certificate "$CA" --load-ca-privkey "$DEMO/ca-key.pem" \
		--template other.tmpl --outfile other.pem >>certtool.log 2>&1; then
	code=$(zn --cert other.pem --key other-key.pem -d "$(zn_body "$BTID")")
	check "3 Zn with other.gbacert.test's certificate asking for $NAF" 403 "$code"
	code=$(zn --cert other.pem --key other-key.pem -d "$(zn_body "$BTID" other.gbacert.test)")
	check "3 Zn with other.gbacert.test's certificate for itself (not allowed)" 403 "$code"
else
	fail "3 certtool could not issue the other NAF's certificate"
	indent certtool.log
fi
code=$(zn_naf -d "$(zn_body "$BTID" other.gbacert.test)")
check "3 Zn: nafFqdn not the certificate's" 403 "$code"
code=$(zn_naf -d "$(zn_body "AAAAAAAAAAAAAAAAAAAAAA==@$FQDN")")
check "3 Zn: unknown B-TID" 404 "$code"
ok_if "3 Zn 404 is a ProblemDetails" grep -q '"status":404' "$tmp/z.txt"
code=$(zn_naf -d '{"btId":')
check "3 Zn: bad JSON" 400 "$code"
code=$(ZN_CT=text/plain zn_naf -d "$(zn_body "$BTID")")
check "3 Zn: not JSON (content-type text/plain)" 415 "$code"
code=$(zn_naf -X GET)
check "3 Zn: GET" 405 "$code"

# =====================================================================
echo "== 4. negative Ub cases"
# A template answer: the UE's second Authorization of the h1 run.
TEMPLATE=$(trace_authz h1 | sed -n 2p)
ok_if "4 --trace shows the UE's answer" contains "$TEMPLATE" 'response="'

# -- wrong K in the UE: its AUTN check fails, it answers over an empty
#    password (TS 24.109 4.4), 403.  The initial request reaches the HSS
#    (one SQN step); the answer must not.
sed "s/^k .*/k 00112233445566778899aabbccddeeff/" ue.state >badk.state
sqn0=$(sqn_of "$IMPI")
ue_boot badk.state badk --bsf "http://127.0.0.1:$UB" --http1
check "4 wrong K: gba-ue exit status" 1 "$?"
ok_if "4 wrong K: UE reports the AUTN failure and the BSF's 403" \
	grep -q 'network authentication failed.*BSF said 403' "$tmp/badk.err" ||
	indent "$tmp/badk.err"
check "4 wrong K: BSF logged a network authentication failure" 1 \
	"$(logcount 'UE could not authenticate the network')"
check "4 wrong K: SQN advanced by exactly one vector" \
	"$(printf '%012x' $((0x$sqn0 + 32)))" "$(sqn_of "$IMPI")"
check "4 wrong K: UE state file untouched (B-TID)" "$BTID" "$(state_get ue.state btid)"
zn_same "4 wrong K" "$BTID" "$KEY1"

# -- a wrong response on a fresh, stored challenge: 403 (24.109 4.3)
code=$(ub h1 "$INIT")
check "4 wrong RES: fresh challenge" 401 "$code"
check_challenge "4 wrong RES" "$tmp/h.txt"
FRESH=$NONCE
snapshot >snap.before
a=$(set_param "$TEMPLATE" nonce "$FRESH")
r=$(printf '%s\n' "$a" | param response)
a=$(set_param "$a" response "$(flip_first_hex "$r")")
wr0=$(logcount 'wrong RES for impi')
code=$(ub h1 "$a")
check "4 wrong RES (template answer, fresh nonce, one response digit flipped)" 403 "$code"
check "4 wrong RES: the BSF took the RES check (not the nonce lookup)" $((wr0 + 1)) \
	"$(logcount 'wrong RES for impi')"
same_store "4 wrong RES"
un0=$(logcount 'unknown, used or expired nonce')
code=$(ub h1 "$a")
check "4 wrong RES: the nonce is used up after one answer" 403 "$code"
check "4 wrong RES: second try fails on the nonce lookup" $((un0 + 1)) \
	"$(logcount 'unknown, used or expired nonce')"
same_store "4 wrong RES, again"
zn_same "4 wrong RES" "$BTID" "$KEY1"

# -- replay of a successful answer, over HTTP/1.1 and h2
snapshot >snap.before
LAST=$(trace_authz h2 | sed -n 2p)
code=$(ub h1 "$LAST")
check "4 replayed Authorization (HTTP/1.1)" 403 "$code"
code=$(ub h2 "$LAST")
check "4 replayed Authorization (h2)" 403 "$code"
same_store "4 replay"
zn_same "4 replay" "$BTID" "$KEY1"
check "4 replay: the BSF logged no new bootstrap" 4 "$(logcount 'notice: bootstrap b-tid=')"

# -- unknown nonce (right shape, random) and a nonce of the wrong shape
snapshot >snap.before
rnd=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
code=$(ub h1 "$(set_param "$TEMPLATE" nonce "$rnd")")
check "4 unknown nonce" 403 "$code"
code=$(ub h2c "$(set_param "$TEMPLATE" nonce "bm90LWEtbm9uY2U=")")
check "4 nonce of the wrong shape" 403 "$code"
same_store "4 unknown nonce"

# -- unknown IMPI: a 401 that looks like a real one, then 403
snapshot >snap.before
code=$(ub h1 "$(initial_authz "$NOBODY")")
check "4 unknown IMPI: initial request" 401 "$code"
cp h.txt h_nobody.txt
check_challenge "4 unknown IMPI" "$tmp/h_nobody.txt"
NOBODY_NONCE=$NONCE
same_store "4 unknown IMPI (challenge)"
code=$(ub h1 "$INIT")
check "4 real IMPI for comparison" 401 "$code"
check "4 unknown IMPI: same header names as a real 401" "$(hdr_names h.txt)" \
	"$(hdr_names h_nobody.txt)"
real_wa=$(hdr www-authenticate h.txt)
fake_wa=$(hdr www-authenticate h_nobody.txt)
check "4 unknown IMPI: same challenge parameters" "$(param_names "$real_wa")" \
	"$(param_names "$fake_wa")"
check "4 unknown IMPI: same challenge apart from the nonce" \
	"$(printf '%s' "$real_wa" | sed 's/nonce="[^"]*"/nonce=""/')" \
	"$(printf '%s' "$fake_wa" | sed 's/nonce="[^"]*"/nonce=""/')"
snapshot >snap.before
a=$(set_param "$TEMPLATE" username "$NOBODY")
a=$(set_param "$a" nonce "$NOBODY_NONCE")
code=$(ub h1 "$a")
check "4 unknown IMPI: answer to its look-alike nonce" 403 "$code"
same_store "4 unknown IMPI (answer)"

# -- malformed and oversize Authorization, oversize header list
snapshot >snap.before
code=$(ub h1 "Digest username=\"$IMPI\", realm=\"$FQDN\", nonce=\"\", uri=\"/\", response=\"")
check "4 malformed Authorization (unterminated quote)" 400 "$code"
code=$(ub h2 "Digest username=\"$IMPI, realm=\"$FQDN\", nonce=\"\"")
check "4 malformed Authorization (h2)" 400 "$code"
code=$(ub h1 "")
check "4 no Authorization" 400 "$code"
code=$(ub h1 "Basic Zm9vOmJhcg==")
check "4 Authorization not Digest" 400 "$code"
pad5k=$(head -c 5000 /dev/zero | tr '\0' b)
code=$(ub h1 "Digest username=\"$IMPI\", realm=\"$pad5k\", nonce=\"\", uri=\"/\", response=\"\"")
check "4 Authorization over 4 KiB (within the header list cap)" 400 "$code"
pad20k=$(head -c 20480 /dev/zero | tr '\0' a)
code=$(ub h1 "Digest username=\"$IMPI\", realm=\"$pad20k\", nonce=\"\", uri=\"/\", response=\"\"")
check "4 20 KiB Authorization (HTTP/1.1)" 431 "$code"
code=$(ub h1 "$INIT" -H "X-Pad: $pad20k")
check "4 20 KiB header list (HTTP/1.1)" 431 "$code"
code=$(ub h2 "$INIT" -H "X-Pad: $pad20k")
check "4 20 KiB header list (h2)" 431 "$code"
same_store "4 malformed/oversize headers"
code=$(ub h1 "$INIT")
check "4 still serving Ub after 431" 401 "$code"
snapshot >snap.before    # that challenge did reach the HSS

# -- oversize bodies
head -c 70000 /dev/zero >big.bin
code=$(ub h1 "$INIT" -X GET --data-binary @big.bin)
check "4 Ub: 70 KB body (HTTP/1.1)" 413 "$code"
code=$(ub h2 "$INIT" -X GET --data-binary @big.bin)
check "4 Ub: 70 KB body (h2)" 413 "$code"
{
	printf '{"btId":"%s",' "$BTID"
	head -c 9000 /dev/zero | tr '\0' ' '
	printf '"nafId":{"nafFqdn":"%s","uaSecProtId":"%s"}}' "$NAF" "$UAID"
} >zn9k.json
code=$(zn_naf --data-binary @zn9k.json)
check "4 Zn: 9 KB JSON body (over the Zn cap)" 413 "$code"
code=$(zn_naf --data-binary @big.bin)
check "4 Zn: 70 KB body (over the HTTP cap)" 413 "$code"

# -- wrong method and path
code=$(ub h1 "$INIT" -X POST)
check "4 POST /" 405 "$code"
check "4 405 carries Allow: GET" GET "$(hdr allow h.txt)"
code=$(ub h2 "$INIT" -X PUT --data-binary @other.tmpl)
check "4 PUT / (h2)" 405 "$code"
code=$(curl -s --http1.1 -o /dev/null -w '%{http_code}' -H "Authorization: $INIT" \
	"http://127.0.0.1:$UB/other")
check "4 GET /other" 404 "$code"
same_store "4 oversize bodies, wrong method/path"
zn_same "4 after the negative cases" "$BTID" "$KEY1"
ok_if "4 gba-bsfd still running" kill -0 "$PID1"

# =====================================================================
echo "== 5. SQN resynchronisation"
# A second subscriber (set 2), added while the daemon runs.
ctl subscriber add "$IMPI2" --k "$K2" --opc "$OPC2" >ctl.out 2>&1
check "5 gba-ctl subscriber add while gba-bsfd runs" 0 "$?"
check "5 new subscriber starts at SQN 0" 000000000000 "$(sqn_of "$IMPI2")"
# The UE ahead of the HSS: it must resynchronise once, then succeed.
ue_init ue2.state "$IMPI2" "$K2" "$OPC2" 000100000000
ue_boot ue2.state sync1 --bsf "http://127.0.0.1:$UB"
check "5 UE ahead of the HSS (SQN 000100000000): bootstrap exit status" 0 "$?"
ok_if "5 gba-ue reports resynchronising" \
	grep -q 'SQN out of range, resynchronising' "$tmp/sync1.err" || indent "$tmp/sync1.err"
check "5 HSS SQN follows the UE (SQN_MS + one step)" 000100000020 "$(sqn_of "$IMPI2")"
ue_boot ue2.state sync2 --bsf "https://127.0.0.1:$UBTLS" --ca "$CA"
check "5 second bootstrap: exit status" 0 "$?"
ok_if "5 second bootstrap needs no resync" not grep -q resynchronising "$tmp/sync2.err"
BTID2=$(state_get ue2.state btid)
code=$(zn_naf -d "$(zn_body "$BTID2")")
check "5 Zn for the resynchronised UE" 200 "$code"
check "5 its meKeyMaterial equals the UE's" "$(ks_naf ue2.state)" "$(zn_key)"
KEY2=$(zn_key)
# At the top of the 48-bit SQN space no fresh SQN exists: the
# resynchronisation must be refused (403), the HSS SQN left alone.
sqn0=$(sqn_of "$IMPI2")
ue_init ue2max.state "$IMPI2" "$K2" "$OPC2" ffffffffffe0
ue_boot ue2max.state syncmax --bsf "http://127.0.0.1:$UB"
check "5 UE at SQN ffffffffffe0 (SQN space exhausted): bootstrap fails" 1 "$?"
ok_if "5 SQN ffffffffffe0: resync attempted" grep -q resynchronising "$tmp/syncmax.err"
ok_if "5 SQN ffffffffffe0: resync refused with 403" \
	grep -q 'expected 401, got 403' "$tmp/syncmax.err" || indent "$tmp/syncmax.err"
check "5 SQN ffffffffffe0: HSS SQN unchanged by the refused resync" \
	"$(printf '%012x' $((0x$sqn0 + 32)))" "$(sqn_of "$IMPI2")"
zn_same "5 after the refused resync" "$BTID2" "$KEY2"

# =====================================================================
echo "== 6. expired B-TID (second daemon, --lifetime 2)"
# a second daemon on the same store needs its own audit log: the first
# one holds the default log's lock (and refuses to share its chain)
mkdir -p "$tmp/life-audit"
start_bsfd bsfd-life --lifetime 2 --audit-log "$tmp/life-audit/audit.jsonl" || exit 1
PID_LIFE=$PID
# Subscriber 2 has no GUSS, so the daemon's --lifetime applies.
ue_boot ue2.state life --bsf "http://127.0.0.1:$UB"
check "6 bootstrap on the --lifetime 2 daemon" 0 "$?"
BTID_LIFE=$(state_get ue2.state btid)
code=$(zn_naf -d "$(zn_body "$BTID2")")
check "6 subscriber 2's previous B-TID is superseded" 404 "$code"
first=$(zn_naf -d "$(zn_body "$BTID_LIFE")")
check "6 Zn answers 200 before expiry" 200 "$first"
# Poll (bounded: 10 s) until the context has expired.
i=0
code=$first
while [ "$code" = 200 ] && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
	code=$(zn_naf -d "$(zn_body "$BTID_LIFE")")
done
check "6 Zn answers 404 once the B-TID expired (after ~$((i / 5)) s)" 404 "$code"

# SIGTERM with a request in flight (HTTP/1.1, body still being sent):
# the daemon stops accepting, still answers that request, then exits 0.
mkfifo stall.fifo
curl -sv --http1.1 -X GET -T - -H "Authorization: $INIT" -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$UB/" <stall.fifo >stall.code 2>stall.err &
stall_pid=$!
exec 7>stall.fifo
printf 'abc' >&7
wait_for "6 in-flight request: the server read its headers (100 Continue)" stall.err \
	'^< HTTP/1.1 100'
kill -TERM "$PID_LIFE"
if wait_for "6 in-flight request: SIGTERM taken" bsfd-life.log 'stopping gracefully'; then
	# The listener closes right after that line: poll (at most 10 s).
	i=0
	while [ $i -lt 100 ] &&
		[ "$(curl -s --http1.1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UB/")" != 000 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	ok_if "6 in-flight request: new connections refused after SIGTERM" [ $i -lt 100 ]
fi
exec 7>&-
wait "$stall_pid"
check "6 in-flight request: answered after SIGTERM" 401 "$(cat stall.code)"
reap_bsfd "$PID_LIFE" bsfd-life
# Back to the first daemon's listeners.
UB=$(awk '$1 == "ub" { print $2 }' bsfd1.ports)
UBTLS=$(awk '$1 == "ub-tls" { print $2 }' bsfd1.ports)
ZN=$(awk '$1 == "zn" { print $2 }' bsfd1.ports)
code=$(zn_naf -d "$(zn_body "$BTID_LIFE")")
check "6 the other daemon (same store) also says 404" 404 "$code"

# =====================================================================
echo "== 7. restart on the same --demo directory"
zn_same "7 before the restart" "$BTID" "$KEY1"
stop_bsfd "$PID1" bsfd1
start_bsfd bsfd2 || exit 1
PID2=$PID
LOGNAME_MAIN=bsfd2
check "7 the demo CA was kept" "$ca_sum" "$(cksum <"$CA")"
zn_same "7 after the restart" "$BTID" "$KEY1"
ue_boot ue.state after --bsf "https://127.0.0.1:$UBTLS" --ca "$CA" --http2
check "7 bootstrap after the restart" 0 "$?"
ok_if "7 HSS SQN survived the restart (no resync)" not grep -q resynchronising "$tmp/after.err"
code=$(zn_naf -d "$(zn_body "$(state_get ue.state btid)")")
check "7 Zn for the new B-TID" 200 "$code"
check "7 its meKeyMaterial equals the UE's" "$(ks_naf ue.state)" "$(zn_key)"
KEY3=$(zn_key)

# =====================================================================
echo "== 8. graceful stop and the logs"
stop_bsfd "$PID2" bsfd2
# Nothing secret in any daemon log: K and OPc of both subscribers, any
# Ks_NAF (meKeyMaterial) or Ks seen, the at-rest key; and no identity in
# clear (gba_log.h: IMPIs and B-TIDs are logged as hashes).
# no_leak WHAT VALUE
no_leak() {
	[ -n "$2" ] || { fail "8 no value for $1"; return; }
	nl_in=
	for nl_l in bsfd1 bsfd-life bsfd2; do
		grep -qiF -- "$2" "$tmp/$nl_l.log" && nl_in="$nl_in $nl_l.log"
	done
	# and every audit log the daemons wrote (issue 4: known secrets
	# must appear in no log and no audit file)
	for nl_a in $(find "$tmp" -name 'audit.jsonl*' -type f); do
		grep -qiF -- "$2" "$nl_a" && nl_in="$nl_in $nl_a"
	done
	if [ -z "$nl_in" ]; then pass "8 $1 not in any daemon or audit log"; else fail "8 $1 in$nl_in"; fi
}
naudit=$(find "$tmp" -name 'audit.jsonl' -type f | wc -l)
ok_if "8 the daemons wrote audit logs ($naudit)" test "$naudit" -ge 1
for a in $(find "$tmp" -name 'audit.jsonl' -type f); do
	ok_if "8 audit chain of ${a#$tmp/} verifies" "$CTL" audit verify "$a"
done
no_leak "K (set 1)" "$K"
no_leak "OPc (set 1)" "$OPC"
no_leak "K (set 2)" "$K2"
no_leak "OPc (set 2)" "$OPC2"
no_leak "at-rest key" "$(od -An -tx1 "$DEMO/bsf.key" | tr -d ' \n')"
no_leak "meKeyMaterial 1" "$KEY1"
no_leak "meKeyMaterial 2" "$KEY2"
no_leak "meKeyMaterial 3" "$KEY3"
no_leak "Ks (subscriber 1)" "$(state_get ue.state ks)"
no_leak "Ks (subscriber 2)" "$(state_get ue2.state ks)"
no_leak "IMPI 1" "$IMPI"
no_leak "IMSI 1" "${IMPI%%@*}"
no_leak "IMPI 2" "$IMPI2"
no_leak "IMSI 2" "${IMPI2%%@*}"
no_leak "unknown IMPI" "$NOBODY"
no_leak "B-TID 1" "$BTID"
no_leak "B-TID 2" "$BTID2"
no_leak "B-TID (lifetime 2)" "$BTID_LIFE"
ok_if "8 identities are logged as hashes" \
	grep -q '^gbacert\[bsf-ub\] info: bootstrap impi [0-9a-f]\{8\} btid [0-9a-f]\{8\}' "$tmp/bsfd1.log"
# Under --with-sanitizer: no ASan/UBSan/LSan report from any daemon.
if grep -l -e 'Sanitizer' -e 'runtime error:' "$tmp"/bsfd*.log >san.txt 2>/dev/null; then
	fail "8 sanitizer reports in: $(tr '\n' ' ' <san.txt)"
	while read -r f; do indent "$f"; done <san.txt
else
	pass "8 no sanitizer report in the daemon logs"
fi

t_end=$(date +%s)
if [ $fails -ne 0 ]; then
	for l in bsfd1 bsfd-life bsfd2; do
		[ -f "$tmp/$l.log" ] && { echo "== $l.log (tail)"; tail -n 30 "$tmp/$l.log"; }
	done
fi
echo "e2e_bsf: $checks checks, $fails failed, $((t_end - t_start)) s"
[ $fails -eq 0 ]
