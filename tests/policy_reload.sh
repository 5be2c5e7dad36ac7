#!/bin/sh
# policy_reload.sh - gba-bsfd with --policy-dir: policies load at start
# and are audited; a bad directory stops start-up; a reload through
# `gba-ctl policy reload` (SIGHUP) with a bad file keeps the old set in
# force, audits the rejection and keeps serving; a good reload swaps the
# set in and audits each policy with its new SHA-256; the audit chain
# verifies throughout.
set -u

: "${top_builddir:=..}"
: "${srcdir:=.}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
srcdir=$(abs "$srcdir")
BSFD="$top_builddir/bsf/gba-bsfd"
CTL="$top_builddir/bsf/gba-ctl"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl missing"; exit 77; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir "$tmp/pol"
cp "$srcdir/../policies/"*.yaml "$tmp/pol/"
LOG="$tmp/audit.jsonl"
count() { grep -c "\"event\":\"$1\"" "$LOG" 2>/dev/null || true; }
# wait until the audit log holds at least $2 records of event $1
wait_event() {
	i=0
	while [ "$(count "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
	return 0
}

# 1. a bad directory stops start-up, and says why
printf 'application:\n  id: bad.gbacert.test\n  colour: blue\n' > "$tmp/bad.yaml"
mkdir "$tmp/badpol" && cp "$tmp/bad.yaml" "$tmp/badpol/"
if "$BSFD" --demo "$tmp/d0" --ub-port 0 --policy-dir "$tmp/badpol" \
	--audit-log "$tmp/a0.jsonl" 2> "$tmp/d0.log"; then
	fail "start-up with a bad policy directory"
else
	pass "start-up with a bad policy directory refused"
fi
grep -q "bad.yaml:3:3: unknown key 'application.colour'" "$tmp/d0.log" &&
	pass "start-up error names file:line:column" || fail "start-up error text: $(cat "$tmp/d0.log")"
grep -q '"event":"policy_rejected"' "$tmp/a0.jsonl" &&
	pass "start-up rejection audited" || fail "start-up rejection not audited"

# 2. start with the shipped examples
"$BSFD" --demo "$tmp/d" --ub-port 0 --policy-dir "$tmp/pol" --pid-file "$tmp/pid" \
	--audit-log "$LOG" --port-file "$tmp/ports" 2> "$tmp/d.log" &
pid=$!
i=0
while [ ! -s "$tmp/ports" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
		cat "$tmp/d.log"
		fail "gba-bsfd did not start"
		exit 1
	fi
	sleep 0.05
done
UB=$(awk '$1 == "ub" { print $2 }' "$tmp/ports")
n0=$(ls "$tmp/pol/"*.yaml | wc -l)
[ "$(count policy_loaded)" -eq "$n0" ] && pass "$n0 policies loaded and audited" ||
	fail "policy_loaded records: $(count policy_loaded), want $n0"
sha=$(sha256sum "$tmp/pol/pki-portal.yaml" | cut -c1-64)
grep '"event":"policy_loaded"' "$LOG" | grep -q "$sha" &&
	pass "audit records the policy file's SHA-256" || fail "policy SHA-256 not in the audit log"

ub_status() {
	curl -s -o /dev/null -w '%{http_code}' \
		-H 'Authorization: Digest username="001010123456789@ims.mnc001.mcc001.3gppnetwork.org", realm="bsf.gbacert.test", nonce="", uri="/", response=""' \
		"http://127.0.0.1:$UB/"
}

# 3. a bad file: the reload is refused, audited, and service goes on
cp "$tmp/bad.yaml" "$tmp/pol/zz-bad.yaml"
"$CTL" policy reload "$tmp/pid" > /dev/null && pass "gba-ctl policy reload" || fail "gba-ctl policy reload"
wait_event policy_rejected 1 && pass "bad reload audited as policy_rejected" ||
	fail "no policy_rejected record"
grep -q "zz-bad.yaml:3:3: unknown key 'application.colour'" "$tmp/d.log" &&
	pass "bad reload logged with file:line:column" || fail "bad reload not logged"
[ "$(count policy_loaded)" -eq "$n0" ] && pass "old set still in force" || fail "a bad reload loaded something"
[ "$(ub_status)" = "401" ] && pass "Ub still serves after the refused reload" || fail "Ub after refused reload"

# 4. a good change is swapped in and audited with the new hash
rm "$tmp/pol/zz-bad.yaml"
sed 's/validity_days: 365/validity_days: 30/' "$tmp/pol/pki-portal.yaml" > "$tmp/p.yaml" &&
	mv "$tmp/p.yaml" "$tmp/pol/pki-portal.yaml"
newsha=$(sha256sum "$tmp/pol/pki-portal.yaml" | cut -c1-64)
[ "$newsha" != "$sha" ] || fail "test did not change the policy"
kill -HUP $pid
wait_event policy_loaded $((2 * n0)) && pass "good reload audited" || fail "good reload not audited"
grep '"event":"policy_loaded"' "$LOG" | grep -q "$newsha" &&
	pass "new SHA-256 recorded" || fail "new SHA-256 not recorded"

kill -TERM $pid && wait $pid && pass "SIGTERM exits 0" || fail "SIGTERM exit status"
pid=
"$CTL" audit verify "$LOG" > "$tmp/verify" && pass "audit chain verifies" ||
	fail "audit verify: $(cat "$tmp/verify")"
echo "policy_reload: $fails failure(s)"
[ "$fails" -eq 0 ]
