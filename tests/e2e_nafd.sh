#!/bin/sh
# e2e_nafd.sh - the standalone provisioning NAF end to end: the real
# gba-bsfd (BSF only: Ub and Zn) and the real gba-nafd, which gets
# Ks_NAF over Zn (Nbsp_GBA) with its TLS client certificate, against
# gba-ue, gba-ctl, curl, openssl and certtool.
#
#  0. gba-nafd refuses to start without --zn-url, or with a key file
#     that group or others may read, and says why;
#  1. gba-ue bootstraps at the BSF and enrols at gba-nafd over CMC (two
#     key types), renews, and enrols through the TS 33.221 portal; every
#     certificate verifies (openssl verify -x509_strict, certtool);
#  2. Ks_NAF is fetched once per B-TID (one worker): the BSF's audit log
#     holds one zn_key record for all those requests;
#  3. a B-TID the BSF does not know: curl with a made-up Digest username
#     gets a fresh 401 challenge (and the BSF logged the Zn 404); gba-ue
#     with a forged B-TID is refused without --bsf, and with --bsf
#     bootstraps again and gets its certificate (portal and CMC);
#  4. NAFs the BSF does not allow: a certificate for a NAF not on the Zn
#     allow list (Ua 403 / badIdentity) and one from a CA the BSF does
#     not trust (Ua 503 / tryLater); both daemons keep running;
#  5. the BSF restarts: gba-nafd reconnects; a Zn answer without the
#     IMPI is tryLater and not cached;
#  6. gba-nafd's own store lists every certificate (gba-ctl cert list),
#     the BSF's store none; gba-nafd's audit log has one issue record per
#     certificate and both audit chains verify; SIGTERM exits 0;
#  7. no key or identity in any daemon log (gba-nafd at debug level).
#
# Every daemon listens on 127.0.0.1 with ephemeral ports (--port-file).
# Needs openssl, certtool and curl.  KEEP_E2E=1 keeps the scratch
# directory.
set -u

E2E=e2e_nafd
# shellcheck source=e2e_lib.sh
. "${top_srcdir:-..}/tests/e2e_lib.sh" || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
NAFD=$top_builddir/naf/gba-nafd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
for t in openssl "$CERTTOOL" curl; do
	command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found"; exit 99; }
done
for b in "$BSFD" "$NAFD" "$UE" "$CTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done
POLICY_SRC=$top_srcdir/policies/pki-portal.yaml
[ -r "$POLICY_SRC" ] || { echo "FAIL: $POLICY_SRC missing"; exit 99; }

FQDN=bsf.gbacert.test
APP=naf.gbacert.test
OTHER=other.gbacert.test
# TS 35.208 test set 1 (the --demo subscriber).
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
FORGED=AAAAAAAAAAAAAAAAAAAAAA==@$FQDN

DEMO=$tmp/d

# How the audit log records a B-TID: sha256: and 16 hex digits.
audit_id() { printf 'sha256:%s' "$(printf '%s' "$1" | openssl dgst -sha256 -r | cut -c1-16)"; }
# zn_records OUTCOME BTID: the BSF's zn_key records for BTID.
zn_records() {
	grep '"event":"zn_key"' "$DEMO/audit.jsonl" | grep "\"outcome\":\"$1\"" |
		grep -c "\"btid\":\"$(audit_id "$2")\""
}

# ---- policies ----

# The PKI portal policy, opened up for this test: two key types, room
# for many certificates, renewal at any time with the same key.
mkdir -p pol
sed -e 's/key_types: \[ec-p256\]/key_types: [ec-p256, ec-p384]/' \
	-e 's/max_active_certs: 2/max_active_certs: 20/' \
	-e 's/rate_limit_per_hour: 10/rate_limit_per_hour: 100/' \
	-e 's/window_days: 30/window_days: 365/' \
	-e 's/same_key: false/same_key: true/' \
	"$POLICY_SRC" >pol/naf.yaml
ok_if "policy edits took (key types, renewal)" \
	sh -c 'grep -q "ec-p384" pol/naf.yaml && grep -q "same_key: true" pol/naf.yaml'

# ---- the daemons ----

# start_bsfd NAME UB-PORT ZN-PORT ARGS...: gba-bsfd --demo as the BSF
# only (Ub, Zn; no NAF).  Sets BSF_PID, UB and ZN; the log is NAME.log.
start_bsfd() {
	sb=$1 sb_ub=$2 sb_zn=$3
	shift 3
	rm -f "$tmp/$sb.ports"
	"$BSFD" --demo "$DEMO" --fqdn "$FQDN" --listen 127.0.0.1 --ub-port "$sb_ub" \
		--zn-port "$sb_zn" --port-file "$tmp/$sb.ports" "$@" 2>"$tmp/$sb.log" &
	BSF_PID=$!
	pids="$pids $BSF_PID"
	wait_ports "$sb" "$BSF_PID" zn
	UB=$(awk '$1 == "ub" { print $2 }' "$tmp/$sb.ports")
	ZN=$(awk '$1 == "zn" { print $2 }' "$tmp/$sb.ports")
	if [ -n "$UB" ] && [ -n "$ZN" ]; then
		pass "$sb: gba-bsfd up (ub $UB, zn $ZN)"
	else
		fail "$sb: port file lacks ub or zn"
	fi
	ok_if "$sb: gba-bsfd runs no NAF" not grep -q '^naf ' "$tmp/$sb.ports"
}
# start_nafd NAME ARGS...: gba-nafd on 127.0.0.1 port 0, one worker,
# Zn to this BSF, logging at debug level (for the leak check).  Sets
# PID and NAF; the log is NAME.log.
start_nafd() {
	sn=$1
	shift
	rm -f "$tmp/$sn.ports"
	GBA_LOG_LEVEL=4 "$NAFD" --listen 127.0.0.1 --naf-port 0 --workers 1 \
		--zn-url "https://127.0.0.1:$ZN" --policy-dir "$tmp/pol" \
		--port-file "$tmp/$sn.ports" "$@" 2>"$tmp/$sn.log" &
	PID=$!
	pids="$pids $PID"
	wait_ports "$sn" "$PID" naf
	NAF=$(awk '$1 == "naf" { print $2 }' "$tmp/$sn.ports")
	if [ -n "$NAF" ]; then pass "$sn: gba-nafd up (naf $NAF)"; else fail "$sn: no naf port"; fi
}
# stop PID NAME: stop_daemon, and the log shows a graceful stop.
stop() {
	stop_daemon "$@"
	ok_if "$2: log shows a graceful stop" grep -q 'stopping gracefully' "$tmp/$2.log"
}
# running PID NAME: the daemon is still up.
running() { ok_if "$2 still running" kill -0 "$1"; }

# ---- gba-ue ----

# enrolled DESC NAME DIR: issued (e2e_lib.sh), and the certificate
# names the IMPI that the BSF released over Zn.
enrolled() {
	issued "$@"
	ok_if "$1: subject is the IMPI (released over Zn)" \
		sh -c "openssl x509 -noout -subject -in '$3/cert.pem' | grep -q 'CN *= *$IMPI'"
}

SERIALS=

# =====================================================================
echo "== 0. refusals at start-up"
"$NAFD" --demo "$DEMO" --policy-dir pol --naf-port 0 >nozn.out 2>nozn.err
check "0 without --zn-url: exit status 2" 2 "$?"
ok_if "0 without --zn-url: says so" grep -q -- '--zn-url is required' nozn.err
ok_if "0 without --zn-url: nothing written" test ! -e "$DEMO"

start_bsfd bsfd 0 0 --zn-release-impi
for f in ca.pem naf.pem naf-key.pem ca/root.pem ca/ca.pem; do
	[ -s "$DEMO/$f" ] || fail "gba-bsfd --demo did not provision $f"
done
pass "gba-bsfd --demo provisioned the NAF client certificate and the CA"

cp "$DEMO/naf-key.pem" loose-key.pem
chmod 644 loose-key.pem
"$NAFD" --demo "$DEMO" --zn-url "https://127.0.0.1:$ZN" --policy-dir pol --naf-port 0 \
	--zn-cert "$DEMO/naf.pem" --zn-key loose-key.pem --db x.db --key-file x.key \
	--audit-log x.jsonl >loose.out 2>loose.err
check "0 --zn-key mode 0644: exit status 1" 1 "$?"
ok_if "0 --zn-key mode 0644: says which file and why" \
	grep -q 'key file loose-key.pem is accessible to group or others (mode 0644)' loose.err
head -c 32 /dev/urandom >loose.key
chmod 640 loose.key
"$NAFD" --demo "$DEMO" --zn-url "https://127.0.0.1:$ZN" --policy-dir pol --naf-port 0 \
	--db x.db --key-file loose.key --audit-log x.jsonl >loose2.out 2>loose2.err
check "0 --key-file mode 0640: exit status 1" 1 "$?"
ok_if "0 --key-file mode 0640: says which file and why" \
	grep -q 'key file loose.key is accessible to group or others (mode 0640)' loose2.err
ok_if "0 refused daemons wrote no store or audit log" \
	sh -c '! ls x.db x.jsonl >/dev/null 2>&1'

# =====================================================================
echo "== 1. enrolment at gba-nafd"
start_nafd nafd --demo "$DEMO"
NAFD_PID=$PID
NAF_MAIN=$NAF
for f in nafd.db nafd.key nafd-audit.jsonl nafd-secret nafd.pem nafd-key.pem; do
	[ -s "$DEMO/$f" ] || fail "gba-nafd --demo did not make $f"
done
pass "gba-nafd --demo keeps its own files (nafd.db, nafd-audit.jsonl, ...)"
ok_if "gba-nafd's server certificate names the NAF" \
	sh -c "openssl x509 -noout -ext subjectAltName -in '$DEMO/nafd.pem' | grep -q 'DNS:$APP'"

STATE=$tmp/ue.state
"$UE" init --state "$STATE" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null 2>init.err
check "gba-ue init" 0 "$?"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot.out 2>boot.err
check "gba-ue bootstrap at gba-bsfd" 0 "$?"
BTID=$(awk '$1 == "btid" { print $2 }' "$STATE")
ok_if "B-TID in the state file" test -n "$BTID"

ue enrol1 enrol "$APP" --out "$tmp/o1" --trust "$DEMO/ca/root.pem"
rc=$?
enrolled "1 CMC enrol (ec-p256)" enrol1 "$tmp/o1"
ue enrol384 enrol "$APP" --out "$tmp/o2" --trust "$DEMO/ca/root.pem" --key-type ec-p384
rc=$?
enrolled "1 CMC enrol (ec-p384)" enrol384 "$tmp/o2"
ok_if "1 enrol ec-p384: a P-384 key" \
	sh -c 'openssl x509 -noout -text -in o2/cert.pem | grep -q "P-384\|secp384r1"'
cp o1/cert.pem o1-before.pem
ue renew renew --out "$tmp/o1" --trust "$DEMO/ca/root.pem"
rc=$?
enrolled "1 CMC renew" renew "$tmp/o1"
check "1 renew: same public key" "$(pubkey o1-before.pem)" "$(pubkey o1/cert.pem)"
ue portal portal-enrol "$APP" --out "$tmp/p1" --trust "$DEMO/ca/root.pem"
rc=$?
enrolled "1 portal enrol" portal "$tmp/p1"

# =====================================================================
echo "== 2. Ks_NAF cached per B-TID"
KS_NAF1=$("$UE" ks-naf --state "$STATE" "$APP" 0100000000)
KS1=$(awk '$1 == "ks" { print $2 }' "$STATE")
# Two CMC enrolments and the portal enrolment needed Ks_NAF (renew is
# signed by the certificate); one worker fetched it once.
check "2 the BSF released Ks_NAF for the B-TID once" 1 "$(zn_records ok "$BTID")"
ok_if "2 the zn_key record names the NAF" \
	sh -c "grep '\"event\":\"zn_key\",\"outcome\":\"ok\"' '$DEMO/audit.jsonl' | grep -q '\"app\":\"$APP\"'"

# =====================================================================
echo "== 3. a B-TID the BSF does not know"
check "3 the BSF has not seen the forged B-TID" 0 "$(zn_records denied "$FORGED")"
code=$(curl -s -o /dev/null -D curl.hdr -w '%{http_code}' --cacert "$DEMO/ca.pem" \
	--digest -u "$FORGED:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=" \
	"https://127.0.0.1:$NAF/getcertificate?in=AA")
check "3 curl --digest with a made-up B-TID: 401" 401 "$code"
check "3 curl: two challenges (initial, then the fresh one)" 2 \
	"$(grep -ci '^www-authenticate: Digest realm="3GPP-bootstrapping@' curl.hdr)"
check "3 gba-nafd asked the BSF, which answered 404 (audited btid-unknown)" 1 \
	"$(grep '"reason":"btid-unknown"' "$DEMO/audit.jsonl" | grep -c "\"btid\":\"$(audit_id "$FORGED")\"")"

sed "s/^btid .*/btid $FORGED/" "$STATE" >forged.state
STATE=$tmp/forged.state
ue forged portal-enrol "$APP" --out "$tmp/f1" --trust "$DEMO/ca/root.pem"
rc=$?
ok_if "3 portal enrol with a forged B-TID, no --bsf: refused (exit $rc)" test "$rc" != 0
ok_if "3 portal enrol with a forged B-TID: authentication failed" \
	grep -q 'authentication failed' forged.err
ok_if "3 portal enrol with a forged B-TID: no certificate" test ! -e f1/cert.pem
# gba-ue may bootstrap again from here on
UE_BSF=http://127.0.0.1:$UB
ue reboot portal-enrol "$APP" --out "$tmp/f2" --trust "$DEMO/ca/root.pem"
rc=$?
ok_if "3 portal enrol with a forged B-TID and --bsf: bootstraps again" \
	grep -q 'the NAF refused the B-TID; bootstrapping again' reboot.err
enrolled "3 portal enrol after the new bootstrap" reboot "$tmp/f2"
BTID2=$(awk '$1 == "btid" { print $2 }' "$STATE")
ok_if "3 a new B-TID" test -n "$BTID2"
ok_if "3 the new B-TID is neither the forged nor the first one" \
	sh -c "[ '$BTID2' != '$FORGED' ] && [ '$BTID2' != '$BTID' ]"
check "3 the BSF released Ks_NAF for the new B-TID" 1 "$(zn_records ok "$BTID2")"

sed "s/^btid .*/btid $FORGED/" "$tmp/ue.state" >forged-cmc.state
STATE=$tmp/forged-cmc.state
ue reboot-cmc enrol "$APP" --out "$tmp/f3" --trust "$DEMO/ca/root.pem"
rc=$?
enrolled "3 CMC enrol with a forged B-TID and --bsf (badIdentity, bootstrap, retry)" \
	reboot-cmc "$tmp/f3"
ok_if "3 CMC: a new B-TID after badIdentity" \
	test "$(awk '$1 == "btid" { print $2 }' "$STATE")" != "$FORGED"
UE_BSF=
running "$NAFD_PID" nafd

# =====================================================================
echo "== 4. NAFs the BSF does not allow"
STATE=$tmp/ue.state
# A client certificate from the demo TLS CA for a NAF the BSF's Zn
# allow list lacks (the demo allows only $APP).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-key.pem \
	-subj "/CN=$OTHER" -out other.csr 2>other-req.err || fail "openssl req (other)"
printf 'subjectAltName=DNS:%s\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' \
	"$OTHER" >other.ext
openssl x509 -req -in other.csr -CA "$DEMO/ca.pem" -CAkey "$DEMO/ca-key.pem" \
	-CAcreateserial -days 30 -extfile other.ext -out other.pem 2>other-x509.err ||
	fail "openssl x509 -req (other)"
# A client certificate for $APP from a CA the BSF does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue-key.pem \
	-subj "/CN=$APP" -addext "subjectAltName=DNS:$APP" -addext extendedKeyUsage=clientAuth \
	-days 30 -out rogue.pem 2>rogue-req.err || fail "openssl req -x509 (rogue)"
chmod 600 other-key.pem rogue-key.pem
# own stores and audit logs, the demo CA and server certificate
own() {
	echo "--db $tmp/$1.db --key-file $tmp/$1.key --audit-log $tmp/$1.jsonl" \
		"--naf-secret $tmp/$1.secret --ca-dir $DEMO/ca --zn-ca $DEMO/ca.pem" \
		"--tls-cert $DEMO/nafd.pem --tls-key $DEMO/nafd-key.pem"
}
# shellcheck disable=SC2046
start_nafd other --naf-fqdn "$OTHER" --zn-cert other.pem --zn-key other-key.pem $(own other)
OTHER_PID=$PID
ue other-portal portal-enrol "$OTHER" --out "$tmp/x1" --trust "$DEMO/ca/root.pem"
check "4 NAF not on the allow list: portal exit status 1 (refused)" 1 "$?"
ok_if "4 NAF not on the allow list: portal answered 403" grep -q '^refused 403' other-portal.out
ue other-cmc enrol "$OTHER" --out "$tmp/x2" --trust "$DEMO/ca/root.pem"
check "4 NAF not on the allow list: CMC exit status 1" 1 "$?"
ok_if "4 NAF not on the allow list: CMC failInfo badIdentity" \
	grep -q '^failed badIdentity' other-cmc.out
ok_if "4 the BSF audited naf-not-allowed for $OTHER" \
	sh -c "grep '\"reason\":\"naf-not-allowed\"' '$DEMO/audit.jsonl' | grep -q '\"app\":\"$OTHER\"'"
ok_if "4 gba-nafd logged the refusal" grep -q 'the BSF refused this NAF (403)' other.log
running "$OTHER_PID" other
ue other-again portal-enrol "$OTHER" --out "$tmp/x3" --trust "$DEMO/ca/root.pem"
check "4 NAF not on the allow list: refused again (no cached failure, no crash)" 1 "$?"
stop "$OTHER_PID" other

# shellcheck disable=SC2046
start_nafd rogue --zn-cert rogue.pem --zn-key rogue-key.pem $(own rogue)
ROGUE_PID=$PID
ue rogue-portal portal-enrol "$APP" --out "$tmp/y1" --trust "$DEMO/ca/root.pem"
ok_if "4 untrusted NAF certificate: portal refused" test "$?" != 0
ok_if "4 untrusted NAF certificate: portal answered 503" \
	grep -q 'the portal answered 503' rogue-portal.err
ue rogue-cmc enrol "$APP" --out "$tmp/y2" --trust "$DEMO/ca/root.pem"
check "4 untrusted NAF certificate: CMC exit status 1" 1 "$?"
ok_if "4 untrusted NAF certificate: CMC failInfo tryLater" grep -q '^failed tryLater' rogue-cmc.out
ok_if "4 gba-nafd logged the failed Zn exchange" grep -q 'Zn: no answer from' rogue.log
running "$ROGUE_PID" rogue
stop "$ROGUE_PID" rogue
ok_if "4 no certificate for the refused NAFs" \
	sh -c '! ls x1/cert.pem x2/cert.pem x3/cert.pem y1/cert.pem y2/cert.pem >/dev/null 2>&1'

# =====================================================================
echo "== 5. the BSF restarts"
# gba-nafd keeps its Zn connection; a restarted BSF has dropped it.
# First without --zn-release-impi: a Zn answer without the IMPI is no
# key for the NAF (tryLater), and is not cached either.
stop "$BSF_PID" bsfd
start_bsfd bsfd-noimpi "$UB" "$ZN"
"$UE" bootstrap --state "$STATE" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" --http1 \
	>boot5.out 2>boot5.err
check "5 gba-ue bootstrap at the restarted BSF" 0 "$?"
BTID5=$(awk '$1 == "btid" { print $2 }' "$STATE")
NAF=$NAF_MAIN
ue noimpi enrol "$APP" --out "$tmp/n1" --trust "$DEMO/ca/root.pem"
check "5 Zn without the IMPI: CMC exit status 1" 1 "$?"
ok_if "5 Zn without the IMPI: failInfo tryLater" grep -q '^failed tryLater' noimpi.out
ok_if "5 gba-nafd says why" grep -q 'lacks the IMPI (gba-bsfd --zn-release-impi)' nafd.log
check "5 gba-nafd reconnected after the BSF restart" 1 \
	"$(grep -c 'Zn: the kept connection failed' nafd.log)"
stop "$BSF_PID" bsfd-noimpi
start_bsfd bsfd-impi "$UB" "$ZN" --zn-release-impi
ue impi enrol "$APP" --out "$tmp/n2" --trust "$DEMO/ca/root.pem"
rc=$?
enrolled "5 the same B-TID once the BSF releases the IMPI" impi "$tmp/n2"
check "5 gba-nafd reconnected after the second restart" 2 \
	"$(grep -c 'Zn: the kept connection failed' nafd.log)"
check "5 Zn asked twice for the B-TID (the answer without the IMPI was not cached)" 2 \
	"$(zn_records ok "$BTID5")"

# =====================================================================
echo "== 6. the stores and the audit logs"
"$CTL" --db "$DEMO/nafd.db" --key-file "$DEMO/nafd.key" cert list >certs.txt 2>certs.err
check "6 gba-ctl cert list (nafd.db): exit status" 0 "$?"
n=0
for s in $SERIALS; do
	n=$((n + 1))
	awk -v s="$(norm "$s")" '{ sub(/^0+/, "", $1) } $1 == s { f = 1 } END { exit !f }' certs.txt ||
		{ indent certs.txt; fail "6 gba-ctl cert list lacks serial $s"; }
done
pass "6 gba-ctl cert list holds all $n serials issued"
check "6 gba-ctl cert list: one line per issued certificate" "$n" "$(wc -l <certs.txt | tr -d ' ')"
ok_if "6 every certificate valid, for the IMPI and the application" \
	sh -c "awk '\$2 != \"valid\" || \$4 != \"$IMPI\" || \$5 != \"$APP\" { exit 1 }' certs.txt"
"$CTL" --db "$DEMO/bsf.db" --key-file "$DEMO/bsf.key" cert list >bsfcerts.txt 2>&1
check "6 gba-ctl cert list (bsf.db): exit status" 0 "$?"
check "6 the BSF's store holds no certificate" 0 "$(wc -l <bsfcerts.txt | tr -d ' ')"

stop "$NAFD_PID" nafd
ni=$(grep -c '"event":"issue"' "$DEMO/nafd-audit.jsonl")
check "6 gba-nafd audit log: one issue record per certificate" "$n" "$ni"
check "6 gba-bsfd audit log: no issue record" 0 "$(grep -c '"event":"issue"' "$DEMO/audit.jsonl")"
ok_if "6 gba-nafd audit log: start and stop records" \
	sh -c "grep -q '\"event\":\"start\".*gba-nafd' '$DEMO/nafd-audit.jsonl' &&
	       grep -q '\"event\":\"stop\".*gba-nafd' '$DEMO/nafd-audit.jsonl'"
ok_if "6 gba-ctl audit verify (gba-nafd)" "$CTL" audit verify "$DEMO/nafd-audit.jsonl"
stop "$BSF_PID" bsfd-impi
ok_if "6 gba-ctl audit verify (gba-bsfd)" "$CTL" audit verify "$DEMO/audit.jsonl"

# =====================================================================
echo "== 7. the logs"
# Every Ks_NAF the NAFs used, every Ks and B-TID stay out of every
# daemon log (gba-nafd at debug level) and audit log; the IMPI out of
# the daemon logs (the audit logs record certificate subjects).
leaks="$KS_NAF1 $KS1 $BTID $FORGED"
for st in ue.state forged.state forged-cmc.state; do
	leaks="$leaks $("$UE" ks-naf --state "$st" "$APP" 0100000000)"
	leaks="$leaks $(awk '$1 == "ks" || $1 == "btid" { print $2 }' "$st")"
done
n=0
for v in $leaks "$IMPI" "${IMPI%%@*}"; do
	n=$((n + 1))
	lk_in=$(grep -liF -- "$v" "$tmp"/*.log "$DEMO"/*.jsonl | tr '\n' ' ')
	case $v in
	"$IMPI"|"${IMPI%%@*}") lk_in=$(grep -liF -- "$v" "$tmp"/*.log | tr '\n' ' ') ;;
	esac
	[ -z "$lk_in" ] || fail "7 a key or identity ($n) in: $lk_in"
done
pass "7 none of $n keys and identities in the daemon or audit logs"
ok_if "7 gba-nafd logged at debug level (the check saw everything)" \
	grep -q '^gbacert\[naf\] debug: Zn: Ks_NAF for b-tid [0-9a-f]\{8\}, 1 USS' nafd.log
no_sanitizer_report "$tmp"/*.log

t_end=$(date +%s)
echo "e2e_nafd: $checks checks passed, $((t_end - t_start)) s"
exit 0
