#!/bin/sh
# regen_check.sh - check that gen/ is exactly what scripts/regen-asn1.sh
# produces from asn1/ and gen/patches/ (only *.c, *.h and sources.mk are
# compared; Makefile.am, REGEN.md, patches/ and build products are not).
#
# Exit status (automake test protocol): 0 same, 1 different, 77 skipped
# (asn1c or patch missing, or an asn1c other than the one gen/ was made
# with).
set -eu

# $srcdir is set by automake: the tests/ source dir (or the top one when
# run from the top-level Makefile).  Run by hand, use this script's dir.
sd=${srcdir:-$(dirname "$0")}
if [ -f "$sd/scripts/regen-asn1.sh" ]; then
	top=$(cd "$sd" && pwd)
else
	top=$(cd "$sd/.." && pwd)
fi
gen="$top/gen"

if ! command -v asn1c >/dev/null 2>&1; then
	echo "regen_check: SKIP: asn1c is not installed"
	exit 77
fi
if ! command -v patch >/dev/null 2>&1; then
	echo "regen_check: SKIP: patch is not installed"
	exit 77
fi
want=$(sed -n 's/^asn1c version: *//p' "$gen/REGEN.md" | head -n 1)
have=$(asn1c -v 2>&1 | sed -n 's/^ASN\.1 Compiler, v//p' | head -n 1)
if [ -n "$want" ] && [ "$have" != "$want" ]; then
	echo "regen_check: SKIP: asn1c $have installed, gen/ was made with $want"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

if ! sh "$top/scripts/regen-asn1.sh" "$tmp/gen" >"$tmp/log" 2>&1; then
	cat "$tmp/log"
	echo "regen_check: FAIL: scripts/regen-asn1.sh failed"
	exit 1
fi

list() {
	(cd "$1" && find . -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' -o -name sources.mk \) |
		sed 's|^\./||' | LC_ALL=C sort)
}
list "$gen" >"$tmp/committed"
list "$tmp/gen" >"$tmp/fresh"

status=0
only=$(LC_ALL=C comm -3 "$tmp/committed" "$tmp/fresh")
if [ -n "$only" ]; then
	status=1
	LC_ALL=C comm -23 "$tmp/committed" "$tmp/fresh" | sed 's/^/only in gen\/: /'
	LC_ALL=C comm -13 "$tmp/committed" "$tmp/fresh" | sed 's/^/missing from gen\/: /'
fi
ndiff=0
for f in $(LC_ALL=C comm -12 "$tmp/committed" "$tmp/fresh"); do
	if ! cmp -s "$gen/$f" "$tmp/gen/$f"; then
		status=1
		ndiff=$((ndiff + 1))
		echo "differs: $f"
		[ "$ndiff" -le 3 ] && diff -u "$gen/$f" "$tmp/gen/$f" | head -n 20
	fi
done

if [ "$status" -ne 0 ]; then
	echo "regen_check: FAIL: gen/ is not what scripts/regen-asn1.sh produces" \
		"($ndiff file(s) differ); rerun it and commit the result"
	exit 1
fi
echo "regen_check: OK: $(wc -l <"$tmp/fresh") files match"
exit 0
