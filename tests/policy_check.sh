#!/bin/sh
# policy_check.sh - `gba-ctl policy check DIR` end to end: the example
# policies pass (exit 0, effective policies printed), a directory with
# one bad file fails with exit 1 and the first error as file:line:column,
# a bad usage exits 2.
set -u

: "${top_builddir:=..}"
: "${top_srcdir:=..}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
top_srcdir=$(abs "$top_srcdir")
CTL="$top_builddir/bsf/gba-ctl"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$CTL" policy check "$top_srcdir/policies" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^  id: "naf.gbacert.test"' "$tmp/out" &&
   grep -q '^  id: "as.gbacert.test"' "$tmp/out" &&
   grep -q '^  approval: manual' "$tmp/out" &&
   grep -q '^  ua_protocol_id: "0100000000"' "$tmp/out"; then
	pass "policies/ checks, defaults printed"
else
	fail "policies/: rc=$rc"; cat "$tmp/err"
fi

mkdir "$tmp/bad"
cp "$top_srcdir/policies/pki-portal.yaml" "$tmp/bad/"
printf 'application:\n  id: x.test\ncertificate:\n  validity_days: 4000\n' >"$tmp/bad/x.yaml"
"$CTL" policy check "$tmp/bad" >"$tmp/out" 2>"$tmp/err"
rc=$?
want="$tmp/bad/x.yaml:4:18: 'validity_days' value 4000 is out of range 1..3650"
if [ $rc -eq 1 ] && [ "$(cat "$tmp/err")" = "$want" ] && [ ! -s "$tmp/out" ]; then
	pass "bad directory: exit 1 with file:line:column"
else
	fail "bad directory: rc=$rc err=$(cat "$tmp/err")"
fi

mkdir "$tmp/empty"
"$CTL" policy check "$tmp/empty" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'no policy files' "$tmp/err"; then
	pass "empty directory refused"
else
	fail "empty directory: rc=$rc"
fi

"$CTL" policy frobnicate >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then pass "usage error exits 2"; else fail "usage: rc=$rc"; fi

[ $fails -eq 0 ]
