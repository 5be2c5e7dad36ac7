#!/bin/sh
# audit.sh - the audit log (doc/audit.md) of the real gba-bsfd, and
# `gba-ctl audit verify`.
#
#  1. gba-bsfd --demo with --audit-log: gba-ue bootstraps, the demo NAF
#     fetches Ks_NAF over Zn (curl), a UE with the wrong K is refused, SIGUSR1
#     rotates, SIGTERM stops; a restart continues the chain.  The files
#     verify in order and hold start, bootstrap ok/denied, zn_key, rotate
#     and stop records;
#  2. an edited, a deleted and a reordered record, files out of order, a
#     torn tail and an altered last record each fail verification, naming
#     the right line;
#  3. neither the audit files nor the daemon log (debug level) hold K,
#     OPc, the IMPI or B-TID in clear, Ks or Ks_NAF; --audit-clear-ids
#     records the IMPI;
#  4. with --audit-log /dev/full (open works, writes fail) the daemon
#     does not start (fail closed; the per-request 503 is in check_bsf).
#
# Skips (77) without curl.  KEEP_AUDIT=1 keeps the scratch directory.
set -u

: "${top_builddir:=..}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir") || exit 99
BSFD=$top_builddir/bsf/gba-bsfd
UE=$top_builddir/ue/gba-ue
CTL=$top_builddir/bsf/gba-ctl
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
for b in "$BSFD" "$UE" "$CTL"; do
	[ -x "$b" ] || { echo "FAIL: $b not built"; exit 99; }
done

FQDN=bsf.gbacert.test
NAF=naf.gbacert.test
IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf

tmp=$(mktemp -d "${TMPDIR:-/tmp}/audit.XXXXXX") || exit 99
DEMO=$tmp/demo
LOG=$tmp/audit.jsonl
pids=
fails=0
checks=0
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	if [ "${KEEP_AUDIT:-0}" = 1 ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

pass() { checks=$((checks + 1)); echo "PASS: $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# start_bsfd NAME ARGS...: sets PID, UB, ZN; log in NAME.log.
start_bsfd() {
	sb=$1
	shift
	rm -f "$tmp/$sb.ports"
	GBA_LOG_LEVEL=4 "$BSFD" --demo "$DEMO" --fqdn "$FQDN" --ub-port 0 --zn-port 0 \
		--port-file "$tmp/$sb.ports" "$@" 2>"$tmp/$sb.log" &
	PID=$!
	pids="$pids $PID"
	i=0
	while [ ! -s "$tmp/$sb.ports" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$PID" 2>/dev/null; then
			fail "$sb: gba-bsfd did not start"
			sed 's/^/    /' "$tmp/$sb.log"
			return 1
		fi
		sleep 0.05
	done
	UB=$(awk '$1 == "ub" { print $2 }' "$tmp/$sb.ports")
	ZN=$(awk '$1 == "zn" { print $2 }' "$tmp/$sb.ports")
	pass "$sb: gba-bsfd up"
}
stop_bsfd() {
	kill -TERM "$PID"
	wait "$PID"
	check "$1: SIGTERM exits 0" 0 $?
	keep=
	for p in $pids; do [ "$p" = "$PID" ] || keep="$keep $p"; done
	pids=$keep
}
boot() {
	"$UE" bootstrap --state "$tmp/ue.state" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" \
		--http1 >"$tmp/ue.out" 2>&1
}
# verify FILES...: sets VOUT and VRC.
verify() {
	VOUT=$("$CTL" audit verify "$@" 2>&1)
	VRC=$?
}
count() { grep -c "$1" "$LOG.1" "$LOG" | awk -F: '{ n += $2 } END { print n }'; }

# ---- 1. a daemon run, a rotation and a restart ----

"$UE" init --state "$tmp/ue.state" --impi "$IMPI" --k "$K" --opc "$OPC" >/dev/null || exit 99
start_bsfd run1 --audit-log "$LOG" || exit 1
boot; check "run1: bootstrap" 0 $?
boot; check "run1: second bootstrap" 0 $?
btid=$(awk '$1 == "btid" { print $2 }' "$tmp/ue.state")
reply=$(curl -sS --cacert "$DEMO/ca.pem" --cert "$DEMO/naf.pem" --key "$DEMO/naf-key.pem" \
	--resolve "$FQDN:$ZN:127.0.0.1" -H 'content-type: application/json' \
	-d "{\"btId\":\"$btid\",\"nafId\":{\"nafFqdn\":\"$NAF\",\"uaSecProtId\":\"0100000000\"}}" \
	"https://$FQDN:$ZN/nbsp-gba/v1/bootstrapping-info-retrieval")
ks_naf=$(echo "$reply" | sed -n 's/.*"meKeyMaterial":"\([0-9a-f]*\)".*/\1/p')
if [ -n "$ks_naf" ]; then pass "run1: Zn released Ks_NAF"; else fail "run1: Zn reply: $reply"; fi
# a wrong RES: a UE with another K
"$UE" init --state "$tmp/bad.state" --impi "$IMPI" --k 00000000000000000000000000000000 \
	--opc "$OPC" >/dev/null
"$UE" bootstrap --state "$tmp/bad.state" --bsf "http://127.0.0.1:$UB" --realm "$FQDN" \
	--http1 >/dev/null 2>&1
check "run1: a wrong key does not bootstrap" 1 $(($? != 0))
kill -USR1 "$PID"
i=0
until [ -f "$LOG.1" ] && grep -q '"event":"rotate"' "$LOG" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && break
	sleep 0.05
done
[ -f "$LOG.1" ] && pass "run1: SIGUSR1 rotated to $LOG.1" || fail "run1: no rotation"
boot; check "run1: bootstrap after the rotation" 0 $?
stop_bsfd run1
start_bsfd run2 --audit-log "$LOG" || exit 1
boot; check "run2: bootstrap after a restart" 0 $?
ks=$(awk '$1 == "ks" { print $2 }' "$tmp/ue.state")
btid2=$(awk '$1 == "btid" { print $2 }' "$tmp/ue.state")
stop_bsfd run2

verify "$LOG.1" "$LOG"
check "verify: rotated and restarted log is intact" 0 "$VRC"
contains "$VOUT" "OK 11 records" && pass "verify: $VOUT" || fail "verify: $VOUT"
check "records: start" 2 "$(count '"event":"start","outcome":"ok"')"
check "records: stop" 2 "$(count '"event":"stop","outcome":"ok"')"
check "records: bootstrap ok" 4 "$(count '"event":"bootstrap","outcome":"ok"')"
check "records: bootstrap denied (the UE could not authenticate the network)" 1 \
	"$(count '"event":"bootstrap","outcome":"denied","reason":"network-auth-failure"')"
check "records: zn_key ok for the NAF" 1 "$(count '"event":"zn_key","outcome":"ok","peer":"127.0.0.1:[0-9]*","app":"naf.gbacert.test"')"
check "records: rotate" 1 "$(count '"event":"rotate"')"
check "records: first line of the new file is the rotation" rotate \
	"$(head -n 1 "$LOG" | sed -n 's/.*"event":"\([a-z_]*\)".*/\1/p')"
check "audit file mode 0600" 600 "$(stat -c %a "$LOG")"

# ---- 2. tampering ----

# Work on copies: T1 = rotated file (start, boot, boot, zn, denied)
cp "$LOG.1" "$tmp/t1"
cp "$LOG" "$tmp/t2"
sed '2s/"outcome":"ok"/"outcome":"denied"/' "$LOG.1" >"$tmp/t1"
verify "$tmp/t1" "$tmp/t2"
check "edited record: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t1:3: seq 3: prev is not the hash of the record before it ($tmp/t1:2, seq 2)" &&
	pass "edited record: names line 3 and the altered line 2" || fail "edited record: $VOUT"

sed '2d' "$LOG.1" >"$tmp/t1"
verify "$tmp/t1" "$tmp/t2"
check "deleted record: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t1:2: seq 3, expected 2" && pass "deleted record: names line 2" ||
	fail "deleted record: $VOUT"

awk 'NR == 2 { h = $0; next } NR == 3 { print; print h; next } 1' "$LOG.1" >"$tmp/t1"
verify "$tmp/t1" "$tmp/t2"
check "reordered pair: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t1:2: seq 3, expected 2" && pass "reordered pair: names line 2" ||
	fail "reordered pair: $VOUT"

verify "$LOG" "$LOG.1"
check "files out of order: exit 1" 1 "$VRC"
contains "$VOUT" "$LOG.1:1: seq 1, expected 12" && pass "files out of order: named" ||
	fail "files out of order: $VOUT"

sed '$d' "$LOG.1" >"$tmp/t1"
verify "$tmp/t1" "$tmp/t2"
check "record dropped at a file boundary: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t2:1: seq 6, expected 5" && pass "file boundary: names the next file's line 1" ||
	fail "file boundary: $VOUT"

cp "$LOG.1" "$tmp/t1"
printf '{"seq":' >>"$tmp/t1"
verify "$tmp/t1"
check "torn tail: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t1:6: incomplete last line" && pass "torn tail: named" || fail "torn tail: $VOUT"

printf '{"seq":6,"event":"x\n' >"$tmp/t3"
verify "$tmp/t3"
check "garbage record: exit 1" 1 "$VRC"
contains "$VOUT" "$tmp/t3:1: not a well-formed audit record" && pass "garbage: named" ||
	fail "garbage: $VOUT"

# the last record of the live file is covered by its anchor
mkdir "$tmp/a"
cp "$LOG" "$LOG.anchor" "$tmp/a/"
sed '$s/"outcome":"ok"/"outcome":"error"/' "$LOG" >"$tmp/a/audit.jsonl"
verify "$LOG.1" "$tmp/a/audit.jsonl"
check "altered last record: exit 1" 1 "$VRC"
contains "$VOUT" "does not match the anchor" && pass "altered last record: caught by the anchor" ||
	fail "altered last record: $VOUT"
sed '$d' "$LOG" >"$tmp/a/audit.jsonl"
verify "$LOG.1" "$tmp/a/audit.jsonl"
check "dropped last record: exit 1" 1 "$VRC"
contains "$VOUT" "records at the end were removed" && pass "dropped last record: caught" ||
	fail "dropped last record: $VOUT"
verify "$LOG.1" "$LOG"
check "the originals still verify" 0 "$VRC"

# ---- 3. no secrets ----

for s in "$K" "$OPC" "$IMPI" "$ks" "$ks_naf" "$btid" "$btid2"; do
	[ -n "$s" ] || { fail "secret check: an empty value"; continue; }
	if grep -qiF -- "$s" "$LOG" "$LOG.1" "$tmp/run1.log" "$tmp/run2.log"; then
		fail "a secret or identity in clear (${s%"${s#????}"}...)"
		grep -ilF -- "$s" "$LOG" "$LOG.1" "$tmp/run1.log" "$tmp/run2.log"
	else
		pass "not in the audit files or daemon logs: ${s%"${s#????}"}..."
	fi
done
start_bsfd clear --audit-log "$tmp/clear.jsonl" --audit-clear-ids || exit 1
boot; check "clear: bootstrap" 0 $?
stop_bsfd clear
grep -q "\"impi\":\"$IMPI\"" "$tmp/clear.jsonl" && pass "--audit-clear-ids records the IMPI" ||
	fail "--audit-clear-ids: no IMPI in clear"
ks=$(awk '$1 == "ks" { print $2 }' "$tmp/ue.state")
grep -qiF -- "$ks" "$tmp/clear.jsonl" && fail "--audit-clear-ids: Ks in clear" ||
	pass "--audit-clear-ids: still no Ks"

# --audit-syslog: every durable record also goes to syslog.  glibc's
# LOG_PERROR (GBA_AUDIT_SYSLOG_STDERR=1) echoes what syslog() was given
# to stderr, which is what this checks.
GBA_AUDIT_SYSLOG_STDERR=1 start_bsfd syslog --audit-log "$tmp/syslog.jsonl" --audit-syslog || exit 1
boot; check "syslog: bootstrap" 0 $?
stop_bsfd syslog
nsys=$(grep -c '^gba-bsfd\[[0-9]*\]: {"seq":[0-9]*,.*"event":"' "$tmp/syslog.log" || true)
nfile=$(wc -l < "$tmp/syslog.jsonl")
[ "$nsys" -ge 3 ] && [ "$nsys" -eq "$nfile" ] &&
	pass "--audit-syslog copies every record ($nsys)" ||
	fail "--audit-syslog: $nsys syslog lines for $nfile records"
grep -q '"event":"bootstrap","outcome":"ok"' "$tmp/syslog.log" &&
	pass "--audit-syslog: the bootstrap record went to syslog" ||
	fail "--audit-syslog: no bootstrap record in syslog"

# ---- 4. fail closed ----

rm -f "$tmp/full.ports"
GBA_LOG_LEVEL=4 "$BSFD" --demo "$DEMO" --fqdn "$FQDN" --ub-port 0 --port-file "$tmp/full.ports" \
	--audit-log /dev/full 2>"$tmp/full.log" &
fpid=$!
pids="$pids $fpid"
wait "$fpid"
check "/dev/full: the daemon refuses to start (exit 1)" 1 $?
[ ! -e "$tmp/full.ports" ] && pass "/dev/full: never listened" || fail "/dev/full: it listened"
grep -q 'cannot write the audit log /dev/full' "$tmp/full.log" && pass "/dev/full: says why" ||
	fail "/dev/full: $(cat "$tmp/full.log")"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
