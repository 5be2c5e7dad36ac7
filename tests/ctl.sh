#!/bin/sh
# ctl.sh - gba-ctl subscriber add/show/list/remove/import, cert list/show,
# pending list, approve and reject, revoke, hold, unhold,
# revoke-subscriber and crl, end to end.
#
#  * show and list never print K, OP or OPc, and the database file does
#    not hold them in clear;
#  * every bad input exits non-zero (2 for usage, 1 otherwise) and leaves
#    the database exactly as it was;
#  * import is all or nothing and names the first bad line;
#  * revoke/hold/unhold follow the store's rules, are audited in
#    gba-ctl's own log before they take effect (no log: no change), and
#    crl serves the stored CRL until a change, with the reasons openssl
#    shows.
set -u

: "${top_builddir:=..}"
: "${OPENSSL:=openssl}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
CTL="$top_builddir/bsf/gba-ctl"

# TS 35.208 test set 1.
K=465b5ce8b199b49faa5f0a2ee238a6bc
OP=cdc202d5123e20f62b6d676ac72cb318
OPC=cd63cb71954a9f4e48a5994e37a02baf
K2=fec86ba6eb707ed08905757b1bb44b8f
OPC2=1006020f0a478bf6b699f15c062e42b3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

ctl() { "$CTL" --db "$tmp/t.db" --key-file "$tmp/t.key" "$@"; }

# expect RC DESCRIPTION ARGS...: run gba-ctl, compare the exit status.
expect() {
	want=$1 desc=$2
	shift 2
	ctl "$@" >out.txt 2>err.txt
	got=$?
	if [ "$got" = "$want" ]; then
		pass "$desc (exit $got)"
	else
		fail "$desc: exit $got, want $want"
		sed 's/^/    /' out.txt err.txt
	fi
}

# A snapshot of everything gba-ctl can see.
snapshot() {
	ctl subscriber list
	for i in $(ctl subscriber list); do ctl subscriber show "$i"; done
}

# expect_unchanged RC DESCRIPTION ARGS...: as expect, and the database
# must not change.
expect_unchanged() {
	snapshot >before.txt 2>&1
	expect "$@"
	snapshot >after.txt 2>&1
	if cmp -s before.txt after.txt; then
		pass "$2: database unchanged"
	else
		fail "$2: database changed"
		diff before.txt after.txt | sed 's/^/    /'
	fi
}

no_secrets() {   # FILE DESCRIPTION
	if grep -qi -e "$K" -e "$OP" -e "$OPC" -e "$K2" -e "$OPC2" "$1"; then
		fail "$2 prints a key"
	else
		pass "$2 prints no key"
	fi
}

# ---- add, show, list ----
expect 0 "add with --op" subscriber add alice@example.org --k "$K" --op "$OP" \
	--amf b9b9 --sqn 20 --lifetime 3600
[ -f t.key ] && [ "$(stat -c %a t.key)" = 600 ] && [ "$(stat -c %s t.key)" = 32 ] &&
	[ "$(stat -c %a t.db)" = 600 ] && pass "new key file 32 bytes, key and db mode 600" ||
	fail "new key/db file mode or size"
printf '{"bsfInfo":{"lifeTime":7200},"ussList":[{"gsId":1,"gsType":1,"ueIds":["sip:bob@example.org"]}]}\n' >guss.json
expect 0 "add with --opc and --guss-file" subscriber add bob@example.org --k "$K2" --opc "$OPC2" \
	--guss-file guss.json

expect 0 "show" subscriber show alice@example.org
cp out.txt show.txt
grep -q '^IMPI: *alice@example.org$' show.txt && grep -q '^AMF: *b9b9$' show.txt &&
	grep -q '^SQN: *000000000020$' show.txt && grep -q '^Lifetime: *3600 s$' show.txt &&
	grep -q '^K: *(set)$' show.txt && grep -q '^GUSS: *(none)$' show.txt &&
	pass "show fields" || { fail "show fields"; sed 's/^/    /' show.txt; }
no_secrets show.txt "show"
expect 0 "show with GUSS" subscriber show bob@example.org
grep -q '^GUSS: *{"bsfInfo":{"lifeTime":7200},"ussList":\[{"gsId":1' out.txt &&
	grep -q '^AMF: *0000$' out.txt && grep -q '^SQN: *000000000000$' out.txt &&
	grep -q '^Lifetime: *0 (BSF default)$' out.txt &&
	pass "show GUSS and defaults" || { fail "show GUSS and defaults"; sed 's/^/    /' out.txt; }
no_secrets out.txt "show with GUSS"

expect 0 "list" subscriber list
printf 'alice@example.org\nbob@example.org\n' | cmp -s - out.txt &&
	pass "list in order" || { fail "list output"; sed 's/^/    /' out.txt; }
no_secrets out.txt "list"

# K and OPc are sealed at rest: neither appears in the database files.
hexdump_db() { for f in t.db t.db-wal; do [ -f "$f" ] && od -An -tx1 -v "$f"; done | tr -d ' \n'; }
if hexdump_db | grep -qi -e "$K" -e "$OPC" -e "$K2" -e "$OPC2"; then
	fail "database holds a key in clear"
else
	pass "database holds no key in clear"
fi

# ---- bad input: non-zero, nothing changed ----
expect_unchanged 1 "duplicate IMPI" subscriber add alice@example.org --k "$K" --opc "$OPC"
expect_unchanged 1 "K not hex" subscriber add c@x --k zz5b5ce8b199b49faa5f0a2ee238a6bc --opc "$OPC"
expect_unchanged 1 "K too short" subscriber add c@x --k 465b5ce8b199b49faa5f0a2ee238a6b --opc "$OPC"
expect_unchanged 1 "K too long" subscriber add c@x --k "${K}00" --opc "$OPC"
expect_unchanged 1 "OP too short" subscriber add c@x --k "$K" --op 00
expect_unchanged 1 "AMF wrong length" subscriber add c@x --k "$K" --opc "$OPC" --amf 800
expect_unchanged 1 "SQN over 48 bits" subscriber add c@x --k "$K" --opc "$OPC" --sqn 1000000000000
expect_unchanged 1 "SQN not hex" subscriber add c@x --k "$K" --opc "$OPC" --sqn 12g
expect_unchanged 1 "lifetime negative" subscriber add c@x --k "$K" --opc "$OPC" --lifetime -1
expect_unchanged 1 "lifetime over 32 bits" subscriber add c@x --k "$K" --opc "$OPC" \
	--lifetime 4294967296
long=$(printf '%0256d' 0)
expect_unchanged 1 "IMPI of 256 characters" subscriber add "$long@x" --k "$K" --opc "$OPC"
expect_unchanged 1 "IMPI with a space" subscriber add "c @x" --k "$K" --opc "$OPC"
expect_unchanged 1 "IMPI with a control character" subscriber add "$(printf 'c\033[2J@x')" \
	--k "$K" --opc "$OPC"
printf 'not json\n' >bad.json
expect_unchanged 1 "GUSS not a JSON object" subscriber add c@x --k "$K" --opc "$OPC" \
	--guss-file bad.json
head -c 16385 /dev/zero | tr '\0' ' ' | sed 's/^ /{/' >big.json
expect_unchanged 1 "GUSS over 16 KiB" subscriber add c@x --k "$K" --opc "$OPC" --guss-file big.json
expect_unchanged 1 "GUSS file missing" subscriber add c@x --k "$K" --opc "$OPC" \
	--guss-file nope.json
expect_unchanged 2 "both --op and --opc" subscriber add c@x --k "$K" --op "$OP" --opc "$OPC"
expect_unchanged 2 "no --k" subscriber add c@x --opc "$OPC"
expect_unchanged 2 "no IMPI" subscriber add --k "$K" --opc "$OPC"
expect_unchanged 2 "unknown option" subscriber add c@x --k "$K" --opc "$OPC" --frob 1
expect_unchanged 2 "option without value" subscriber add c@x --k "$K" --opc
expect_unchanged 2 "unknown subscriber command" subscriber frob
expect_unchanged 2 "unknown command" frob
expect_unchanged 2 "show without IMPI" subscriber show
expect_unchanged 1 "show unknown IMPI" subscriber show carol@example.org
expect_unchanged 1 "remove unknown IMPI" subscriber remove carol@example.org
expect 0 "--help" --help

# Wrong key file, bad key permissions: refused, nothing created.
head -c 32 /dev/urandom >other.key && chmod 600 other.key
"$CTL" --db t.db --key-file other.key subscriber list >out.txt 2>err.txt
[ $? = 1 ] && grep -q 'does not match' err.txt && pass "wrong key file refused" ||
	{ fail "wrong key file"; sed 's/^/    /' err.txt; }
chmod 644 t.key
expect 1 "key file mode 644 refused" subscriber list
grep -q 'chmod 600' err.txt && pass "key file mode message" || fail "key file mode message"
chmod 600 t.key
"$CTL" --db t.db --key-file missing.key subscriber list >out.txt 2>err.txt
[ $? = 1 ] && [ ! -e missing.key ] && pass "missing key for existing database refused" ||
	fail "missing key file"
"$CTL" --db missing.db --key-file t.key subscriber show alice@example.org >out.txt 2>err.txt
[ $? = 1 ] && [ ! -e missing.db ] && pass "show on a missing database creates nothing" ||
	fail "show on a missing database"

# ---- import ----
cat >good.txt <<EOF
# IMPI K OPC AMF SQN [LIFETIME]

imp1@example.org $K $OPC 8000 0
  imp2@example.org	$K2 $OPC2 b9b9 ff9bb4d0b607 86400   # trailing comment
EOF
expect 0 "import" subscriber import good.txt
grep -q '^imported 2 subscribers$' out.txt && pass "import count" || fail "import count"
expect 0 "show imported" subscriber show imp2@example.org
grep -q '^SQN: *ff9bb4d0b607$' out.txt && grep -q '^Lifetime: *86400 s$' out.txt &&
	pass "imported fields" || fail "imported fields"
no_secrets out.txt "show imported"

printf '# header\nimp3@x %s %s 8000 0\nimp4@x %s %s 8000 0 60 extra\nimp5@x %s %s 8000 0\n' \
	"$K" "$OPC" "$K" "$OPC" "$K" "$OPC" >bad1.txt
expect_unchanged 1 "import with a bad line" subscriber import bad1.txt
grep -q 'bad1.txt:3:' err.txt && grep -q 'nothing imported' err.txt &&
	pass "import names line 3" || { fail "import line number"; sed 's/^/    /' err.txt; }
no_secrets err.txt "import error"

printf 'imp3@x %s %s 8000 0\nimp4@x %s %s 80 0\n' "$K" "$OPC" "$K" "$OPC" >bad2.txt
expect_unchanged 1 "import with a bad AMF" subscriber import bad2.txt
grep -q 'bad2.txt:2: AMF' err.txt && pass "import names field" || fail "import field name"

printf 'imp3@x %s %s 8000 0\nimp3@x %s %s 8000 0\n' "$K" "$OPC" "$K" "$OPC" >dup.txt
expect_unchanged 1 "import with a duplicate in the file" subscriber import dup.txt
grep -q 'dup.txt:2:' err.txt && pass "duplicate line named" || fail "duplicate line"

printf 'imp3@x %s %s 8000 0\nalice@example.org %s %s 8000 0\n' "$K" "$OPC" "$K" "$OPC" >dup2.txt
expect_unchanged 1 "import of an existing IMPI" subscriber import dup2.txt

{ printf 'imp3@x %s %s 8000 0 ' "$K" "$OPC"; head -c 2000 /dev/zero | tr '\0' ' '; echo 1; } >long.txt
expect_unchanged 1 "import with an over-long line" subscriber import long.txt
grep -q 'too long' err.txt && pass "over-long line named" || fail "over-long line"

expect_unchanged 1 "import of a missing file" subscriber import nope.txt

# ---- remove ----
expect 0 "remove" subscriber remove bob@example.org
expect 1 "show removed" subscriber show bob@example.org
expect 1 "remove again" subscriber remove bob@example.org
expect 0 "list after remove" subscriber list
printf 'alice@example.org\nimp1@example.org\nimp2@example.org\n' | cmp -s - out.txt &&
	pass "list after remove" || { fail "list after remove"; sed 's/^/    /' out.txt; }

# ---- CA records: cert list/show, pending list, approve, reject ----
# Rows go in through the store's API (tests/store_tool); any octets do
# as "DER": cert show prints their base64.
st() { "$top_builddir/tests/store_tool" "$tmp/t.db" "$tmp/t.key" "$@"; }
printf '\060\003\002\001\005' >c1.der
head -c 700 /dev/urandom >c2.der
TOK1=00112233445566778899aabbccddeeff
TOK2=ffeeddccbbaa99887766554433221100
TOK3=0123456789abcdef0123456789abcdef
st cert 0a1b alice@example.org naf.example.org 1700000000 1800000000 0 c1.der &&
	st cert 0080 bob@example.org naf.example.org 1700000100 1800000000 1 c2.der &&
	st pending "$TOK1" alice@example.org naf.example.org 1700000000 4102444800 &&
	st pending "$TOK2" bob@example.org naf.example.org 1700000001 4102444800 &&
	st pending "$TOK3" bob@example.org naf.example.org 1700000002 4102444800 &&
	pass "store_tool rows" || fail "store_tool rows"

expect 0 "cert list" cert list
printf '%s\n' "0080 revoked 2027-01-15T08:00:00Z bob@example.org naf.example.org" \
	"0a1b valid 2027-01-15T08:00:00Z alice@example.org naf.example.org" | cmp -s - out.txt &&
	pass "cert list, newest first" || { fail "cert list output"; sed 's/^/    /' out.txt; }
expect 0 "cert list --impi" cert list --impi alice@example.org
[ "$(wc -l <out.txt)" = 1 ] && grep -q '^0a1b valid ' out.txt && pass "cert list --impi output" ||
	{ fail "cert list --impi output"; sed 's/^/    /' out.txt; }
expect 1 "cert list with a bad IMPI" cert list --impi "a b"
expect 2 "cert list with an extra argument" cert list extra
expect 0 "cert show" cert show 0a1b
grep -q '^Serial: *0a1b$' out.txt && grep -q '^Status: *valid$' out.txt &&
	grep -q '^IMPI: *alice@example.org$' out.txt && grep -q '^Application: *naf.example.org$' out.txt &&
	grep -q '^Not after: *2027-01-15T08:00:00Z$' out.txt &&
	pass "cert show fields" || { fail "cert show fields"; sed 's/^/    /' out.txt; }
sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' out.txt | sed '1d;$d' |
	base64 -d >shown.der 2>/dev/null && cmp -s shown.der c1.der &&
	pass "cert show prints the certificate as PEM" || { fail "cert show PEM"; sed 's/^/    /' out.txt; }
expect 0 "cert show without the leading zero" cert show 80
grep -q '^Serial: *0080$' out.txt && grep -q '^Status: *revoked$' out.txt &&
	pass "serial 80 is 0080" || { fail "serial 80"; sed 's/^/    /' out.txt; }
sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' out.txt | sed '1d;$d' |
	base64 -d >shown.der 2>/dev/null && cmp -s shown.der c2.der &&
	pass "cert show PEM of 700 octets" || fail "cert show PEM of 700 octets"
expect 0 "cert show with extra leading zeros" cert show 00000A1B
expect 1 "cert show unknown serial" cert show 0bad
grep -q 'no certificate' err.txt && pass "unknown serial message" || fail "unknown serial message"
expect 1 "cert show with a serial that is not hex" cert show 0x12
expect 1 "cert show with a serial over 20 octets" cert show "80$(printf '%038d' 0)"
expect 2 "cert show without a serial" cert show
expect 2 "unknown cert command" cert frob
expect 2 "cert without a command" cert
"$CTL" --db missing2.db --key-file t.key cert list >out.txt 2>err.txt
[ $? = 1 ] && [ ! -e missing2.db ] && pass "cert list on a missing database creates nothing" ||
	fail "cert list on a missing database"

expect 0 "pending list" pending list
printf '%s\n' "$TOK1 waiting 2100-01-01T00:00:00Z alice@example.org naf.example.org" \
	"$TOK2 waiting 2100-01-01T00:00:00Z bob@example.org naf.example.org" \
	"$TOK3 waiting 2100-01-01T00:00:00Z bob@example.org naf.example.org" | cmp -s - out.txt &&
	pass "pending list output" || { fail "pending list output"; sed 's/^/    /' out.txt; }

# expect_pending_unchanged RC DESCRIPTION ARGS...
expect_pending_unchanged() {
	ctl pending list >before.txt 2>&1
	expect "$@"
	ctl pending list >after.txt 2>&1
	cmp -s before.txt after.txt && pass "$2: requests unchanged" ||
		{ fail "$2: requests changed"; diff before.txt after.txt | sed 's/^/    /'; }
}
expect 0 "approve" approve "$TOK1"
grep -q "^approved $TOK1\$" out.txt && pass "approve message" || fail "approve message"
expect_pending_unchanged 1 "approve twice" approve "$TOK1"
grep -q 'is approved, not waiting' err.txt && pass "approve twice message" ||
	{ fail "approve twice message"; sed 's/^/    /' err.txt; }
expect_pending_unchanged 1 "reject an approved request" reject "$TOK1"
expect 0 "reject" reject "$TOK2"
grep -q "^rejected $TOK2\$" out.txt && pass "reject message" || fail "reject message"
expect_pending_unchanged 1 "approve a rejected request" approve "$TOK2"
grep -q 'is rejected, not waiting' err.txt && pass "approve rejected message" ||
	fail "approve rejected message"
expect_pending_unchanged 1 "approve an unknown token" approve 0000000000000000000000000000000f
grep -q 'no pending request' err.txt && pass "unknown token message" || fail "unknown token message"
expect_pending_unchanged 1 "approve a short token" approve 0011
expect_pending_unchanged 1 "approve a token that is not hex" approve "zz${TOK1#??}"
expect_pending_unchanged 2 "approve without a token" approve
expect_pending_unchanged 2 "reject with two tokens" reject "$TOK3" "$TOK3"
expect 0 "pending list after decisions" pending list
grep -q "^$TOK1 approved " out.txt && grep -q "^$TOK2 rejected " out.txt &&
	grep -q "^$TOK3 waiting " out.txt && pass "states after decisions" ||
	{ fail "states after decisions"; sed 's/^/    /' out.txt; }

# ---- revocation: revoke, hold, unhold, revoke-subscriber, crl ----
AUD="$tmp/ctl-audit.jsonl"
st cert 0c01 carol@example.org naf.example.org 1700000200 1800000000 0 c1.der &&
	st cert 0c02 carol@example.org naf.example.org 1700000201 1800000000 0 c1.der &&
	st cert 0c03 dave@example.org naf.example.org 1700000202 1800000000 0 c1.der &&
	st cert 0c04 carol@example.org hold.example.org 1700000203 1800000000 0 c1.der &&
	pass "store_tool rows for revocation" || fail "store_tool rows for revocation"
mkdir pol
printf '%s\n' 'application: {id: naf.example.org}' 'enrollment: {methods: [cmc-full]}' \
	'certificate: {issuer: Test-CA, subject: "CN=${impi}"}' >pol/naf.yaml
printf '%s\n' 'application: {id: hold.example.org}' 'enrollment: {methods: [cmc-full]}' \
	'certificate: {issuer: Test-CA, subject: "CN=${impi}"}' 'revocation: {hold: true}' >pol/hold.yaml
status_of() { ctl cert show "$1" | sed -n 's/^Status: *//p'; }

expect 0 "revoke" --audit-log "$AUD" revoke 0c01 --reason keyCompromise \
	--invalidity-date 2020-01-01T00:00:00Z
grep -q '^revoked 0c01 reason keyCompromise at ' out.txt && pass "revoke message" ||
	{ fail "revoke message"; sed 's/^/    /' out.txt; }
ctl cert show 0c01 >out.txt
grep -q '^Status: *revoked$' out.txt && grep -q '^Reason: *keyCompromise$' out.txt &&
	grep -q '^Invalid from: *2020-01-01T00:00:00Z$' out.txt &&
	pass "revoked record" || { fail "revoked record"; sed 's/^/    /' out.txt; }
expect 1 "revoke twice" --audit-log "$AUD" revoke 0c01 --reason superseded
grep -q 'already revoked' err.txt && pass "revoke twice message" || fail "revoke twice message"
ctl cert show 0c01 | grep -q '^Reason: *keyCompromise$' && pass "revoked is final" ||
	fail "second revoke changed the reason"
expect 2 "revoke with certificateHold" --audit-log "$AUD" revoke 0c02 --reason certificateHold
expect 2 "revoke with removeFromCRL" --audit-log "$AUD" revoke 0c02 --reason removeFromCRL
expect 2 "revoke with an unknown reason" --audit-log "$AUD" revoke 0c02 --reason stolen
expect 2 "revoke without a reason" --audit-log "$AUD" revoke 0c02
expect 1 "revoke with a future invalidity date" --audit-log "$AUD" revoke 0c02 \
	--reason keyCompromise --invalidity-date 2999-01-01T00:00:00Z
expect 1 "revoke an unknown serial" --audit-log "$AUD" revoke 0bad --reason superseded
grep -q 'no certificate' err.txt && pass "unknown serial message" || fail "unknown serial message"
expect 1 "revoke with an audit log that cannot be opened" --audit-log "$tmp" \
	revoke 0c02 --reason superseded
[ "$(status_of 0c02)" = valid ] && pass "no audit log, no revocation" ||
	fail "revoked without an audit record"

expect 2 "hold without --policy-dir" --audit-log "$AUD" hold 0c02
expect 1 "hold where the policy does not allow it" --audit-log "$AUD" hold 0c02 --policy-dir pol
grep -q 'does not allow certificateHold' err.txt && [ "$(status_of 0c02)" = valid ] &&
	pass "hold refused by policy" || { fail "hold refused by policy"; sed 's/^/    /' err.txt; }
expect 0 "hold" --audit-log "$AUD" hold 0c04 --policy-dir pol
[ "$(status_of 0c04)" = hold ] && ctl cert show 0c04 | grep -q '^Reason: *certificateHold$' &&
	pass "held record" || fail "held record"
expect 1 "hold twice" --audit-log "$AUD" hold 0c04 --policy-dir pol
expect 1 "unhold a valid certificate" --audit-log "$AUD" unhold 0c02
grep -q 'not on hold' err.txt && pass "unhold valid message" || fail "unhold valid message"
expect 0 "unhold" --audit-log "$AUD" unhold 0c04
[ "$(status_of 0c04)" = valid ] && pass "unheld record" || fail "unheld record"
expect 0 "hold again" --audit-log "$AUD" hold 0c04 --policy-dir pol
expect 0 "revoke a held certificate" --audit-log "$AUD" revoke 0c04 --reason superseded
[ "$(status_of 0c04)" = revoked ] && pass "hold -> revoked" || fail "hold -> revoked"
expect 1 "unhold a revoked certificate" --audit-log "$AUD" unhold 0c04

expect 2 "revoke-subscriber without a reason" --audit-log "$AUD" revoke-subscriber carol@example.org
expect 0 "revoke-subscriber" --audit-log "$AUD" revoke-subscriber carol@example.org \
	--reason affiliationChanged
grep -q '^revoked 1 certificate of carol@example.org, reason affiliationChanged$' out.txt &&
	pass "revoke-subscriber count" || { fail "revoke-subscriber count"; sed 's/^/    /' out.txt; }
[ "$(status_of 0c02)" = revoked ] && [ "$(status_of 0c03)" = valid ] &&
	ctl cert show 0c01 | grep -q '^Reason: *keyCompromise$' &&
	pass "revoke-subscriber touched only carol's valid certificates" ||
	fail "revoke-subscriber scope"
expect 0 "revoke-subscriber again" --audit-log "$AUD" revoke-subscriber carol@example.org \
	--reason affiliationChanged
grep -q '^revoked 0 certificates' out.txt && pass "nothing left to revoke" || fail "second run"

"$CTL" audit verify "$AUD" >out.txt 2>&1 && pass "gba-ctl audit log verifies" ||
	{ fail "audit verify"; sed 's/^/    /' out.txt; }
grep -q '"event":"revoke","outcome":"ok","reason":"keyCompromise","peer":"gba-ctl","app":"naf.example.org".*"serial":"0c01"' "$AUD" &&
	grep -q '"event":"revoke","outcome":"denied","reason":"status-forbids".*"serial":"0c01"' "$AUD" &&
	grep -q '"event":"hold","outcome":"ok","reason":"certificateHold".*"policy":"pol/hold.yaml"' "$AUD" &&
	grep -q '"event":"unhold","outcome":"ok".*"serial":"0c04"' "$AUD" &&
	grep -q '"event":"revoke","outcome":"ok","reason":"affiliationChanged".*"serial":"0c02"' "$AUD" &&
	! grep -q '"serial":"0c03"' "$AUD" &&
	pass "audit records for every change and refusal" ||
	{ fail "audit records"; sed 's/^/    /' "$AUD"; }
grep -q 'carol@example.org' "$AUD" && fail "audit log has the IMPI in clear" ||
	pass "audit log hashes the IMPI"

# crl: built from the store, signed by the CA, stored and reused
"$CTL" ca init "$tmp/ca" --name "ctl test" >/dev/null 2>&1 && pass "ca init for crl" ||
	fail "ca init for crl"
expect 0 "crl" crl "$tmp/ca" --ca-name "Test CA" --out crl1.der
grep -q '^CRL 1 of Test CA' out.txt && pass "crl number 1" || { fail "crl 1"; sed 's/^/    /' out.txt; }
"$OPENSSL" crl -inform DER -in crl1.der -noout -text >crl.txt 2>&1
n=$(grep -c 'Serial Number:' crl.txt)
[ "$n" = 4 ] && grep -q 'Serial Number: 0C01' crl.txt && grep -q 'Serial Number: 80' crl.txt &&
	grep -q 'Serial Number: 0C02' crl.txt && grep -q 'Serial Number: 0C04' crl.txt &&
	! grep -q 'Serial Number: 0C03' crl.txt && pass "crl lists the revoked certificates" ||
	{ fail "crl entries ($n)"; sed 's/^/    /' crl.txt; }
grep -A4 'Serial Number: 0C01' crl.txt | grep -q 'Key Compromise' &&
	grep -A6 'Serial Number: 0C01' crl.txt | grep -q 'Invalidity Date' &&
	grep -A4 'Serial Number: 0C02' crl.txt | grep -q 'Affiliation Changed' &&
	grep -A4 'Serial Number: 0C04' crl.txt | grep -q 'Superseded' &&
	grep -A1 'X509v3 CRL Number' crl.txt | grep -q '^ *1$' &&
	pass "crl reasons, invalidity date and number" || { fail "crl text"; sed 's/^/    /' crl.txt; }
"$OPENSSL" crl -inform DER -in crl1.der -CAfile "$tmp/ca/chain.pem" -noout 2>&1 |
	grep -q 'verify OK' && pass "crl signature verifies" || fail "crl signature"
expect 0 "crl again without changes" crl "$tmp/ca" --ca-name "Test CA" --out crl2.der
cmp -s crl1.der crl2.der && pass "unchanged: the stored CRL is served" || fail "crl rebuilt"
expect 0 "revoke for a new crl" --audit-log "$AUD" revoke 0c03 --reason cessationOfOperation
expect 0 "crl after a revocation" crl "$tmp/ca" --ca-name "Test CA"
"$OPENSSL" crl -in out.txt -noout -text >crl.txt 2>&1
grep -q 'Serial Number: 0C03' crl.txt && grep -A1 'X509v3 CRL Number' crl.txt | grep -q '^ *2$' &&
	pass "crl 2 (PEM on stdout) has the new revocation" || { fail "crl 2"; sed 's/^/    /' crl.txt; }
expect 0 "crl --force" crl "$tmp/ca" --ca-name "Test CA" --force --out crl3.der
grep -q '^CRL 3 of Test CA' out.txt && pass "crl --force makes number 3" || fail "crl --force"
expect 1 "crl of a missing CA directory" crl "$tmp/noca"
expect 2 "crl with a bad lifetime" crl "$tmp/ca" --lifetime 5

echo "$fails failure(s)"
[ "$fails" = 0 ]
