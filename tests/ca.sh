#!/bin/sh
# ca.sh - gba-ctl ca init, checked with OpenSSL and certtool.
#
#  * for ec-p256, ec-p384, ed25519 and rsa-3072: file modes (directory
#    0700, keys 0600), the chain verifies with `openssl verify
#    -x509_strict` and `certtool --verify`, the CMC signer carries
#    id-kp-cmcCA (or cmcRA with --ra), every subjectKeyIdentifier is
#    RFC 5280 method 1 (SHA-1 of the subjectPublicKey bits, computed
#    here independently) and every authorityKeyIdentifier is the
#    issuer's SKI;
#  * a second init on the same directory fails and changes nothing;
#  * bad arguments exit 2;
#  * with SoftHSM2 installed: the issuing CA key in a PKCS#11 token
#    (PIN in the URI, or in GBA_PKCS11_PIN; the module found through
#    p11-kit, or named by GBA_PKCS11_MODULE).  Skipped (not failed) when
#    softhsm2-util or p11tool is missing.
set -u

: "${top_builddir:=..}"
: "${OPENSSL:=openssl}"
: "${CERTTOOL:=certtool}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir")
CTL="$top_builddir/bsf/gba-ctl"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 700 "$tmp"
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() {   # check DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@" >"$tmp/out.txt" 2>&1; then
		pass "$desc"
	else
		fail "$desc"
		sed 's/^/    /' "$tmp/out.txt"
	fi
}

mode() { stat -c %a "$1"; }

# RFC 5280 4.2.1.2 method 1 over a certificate's public key, as
# colon-separated upper-case hex (OpenSSL's format).
ski_of_key() {
	"$OPENSSL" x509 -in "$1" -noout -pubkey | "$OPENSSL" pkey -pubin -outform DER |
		python3 -c '
import hashlib, sys
d = sys.stdin.buffer.read()
def tlv(b, i):
    tag = b[i]; n = b[i + 1]; i += 2
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
    return tag, i, n
t, i, n = tlv(d, 0)            # SubjectPublicKeyInfo
t, j, m = tlv(d, i)            # AlgorithmIdentifier
t, k, l = tlv(d, j + m)        # subjectPublicKey
assert t == 3 and d[k] == 0
h = hashlib.sha1(d[k + 1:k + l]).hexdigest().upper()
print(":".join(h[x:x + 2] for x in range(0, 40, 2)))'
}

ext() {     # ext CERT NAME: the extension's value line(s)
	"$OPENSSL" x509 -in "$1" -noout -ext "$2" 2>/dev/null | tail -n +2 | sed 's/^ *//;s/^keyid://'
}

check_dir() {   # check_dir DIR TYPE SIGNER-EKU-TEXT [no-ca-key]
	d=$1 t=$2 eku=$3
	[ "$(mode "$d")" = 700 ] && pass "$t: directory 0700" || fail "$t: directory mode $(mode "$d")"
	for k in root.key ca.key cmc.key ocsp.key; do
		[ "$k" = ca.key ] && [ "${4:-}" = no-ca-key ] && continue
		[ "$(mode "$d/$k")" = 600 ] && pass "$t: $k 0600" ||
			fail "$t: $k mode $(mode "$d/$k")"
	done
	if [ "${4:-}" = no-ca-key ]; then
		[ ! -e "$d/ca.key" ] && pass "$t: no ca.key with an existing issuing key" ||
			fail "$t: ca.key written for an existing issuing key"
	fi
	check "$t: openssl verify -x509_strict" \
		"$OPENSSL" verify -x509_strict -CAfile "$d/root.pem" -untrusted "$d/ca.pem" "$d/cmc.pem"
	cat "$d/cmc.pem" "$d/chain.pem" >"$tmp/full.pem"
	check "$t: certtool --verify" \
		"$CERTTOOL" --verify --load-ca-certificate "$d/root.pem" --infile "$tmp/full.pem"
	cat "$d/ca.pem" "$d/root.pem" | cmp -s - "$d/chain.pem" &&
		pass "$t: chain.pem is ca.pem + root.pem" || fail "$t: chain.pem content"
	"$OPENSSL" x509 -in "$d/cmc.pem" -noout -text >"$tmp/cmc.txt"
	grep -q "$eku" "$tmp/cmc.txt" && pass "$t: signer EKU $eku" || fail "$t: signer EKU $eku missing"
	grep -q "CA:FALSE" "$tmp/cmc.txt" && pass "$t: signer CA:FALSE" || fail "$t: signer not CA:FALSE"
	"$OPENSSL" x509 -in "$d/ca.pem" -noout -text | grep -q "CA:TRUE, pathlen:0" &&
		pass "$t: issuing CA pathlen 0" || fail "$t: issuing CA constraints"
	"$OPENSSL" x509 -in "$d/root.pem" -noout -text | grep -q "CA:TRUE, pathlen:1" &&
		pass "$t: root pathlen 1" || fail "$t: root constraints"
	for c in root ca cmc ocsp; do
		want=$(ski_of_key "$d/$c.pem")
		got=$(ext "$d/$c.pem" subjectKeyIdentifier)
		[ -n "$want" ] && [ "$want" = "$got" ] && pass "$t: $c SKI is method 1" ||
			fail "$t: $c SKI $got, want $want"
	done
	[ "$(ext "$d/ca.pem" authorityKeyIdentifier)" = "$(ext "$d/root.pem" subjectKeyIdentifier)" ] &&
		pass "$t: ca AKI = root SKI" || fail "$t: ca AKI"
	[ "$(ext "$d/cmc.pem" authorityKeyIdentifier)" = "$(ext "$d/ca.pem" subjectKeyIdentifier)" ] &&
		pass "$t: cmc AKI = ca SKI" || fail "$t: cmc AKI"
	# the delegated OCSP responder (RFC 6960 4.2.2.2)
	check "$t: responder openssl verify -x509_strict -purpose ocsphelper" \
		"$OPENSSL" verify -x509_strict -purpose ocsphelper -CAfile "$d/root.pem" \
		-untrusted "$d/ca.pem" "$d/ocsp.pem"
	"$OPENSSL" x509 -in "$d/ocsp.pem" -noout -text >"$tmp/ocsp.txt"
	grep -q "OCSP Signing" "$tmp/ocsp.txt" && grep -q "OCSP No Check" "$tmp/ocsp.txt" &&
		grep -q "CA:FALSE" "$tmp/ocsp.txt" && grep -q "OCSP Responder" "$tmp/ocsp.txt" &&
		pass "$t: responder EKU OCSPSigning, ocsp-nocheck, CA:FALSE" ||
		fail "$t: responder extensions"
	[ "$(ext "$d/ocsp.pem" authorityKeyIdentifier)" = "$(ext "$d/ca.pem" subjectKeyIdentifier)" ] &&
		pass "$t: responder AKI = ca SKI" || fail "$t: responder AKI"
	for c in root ca cmc ocsp; do
		n=$("$OPENSSL" x509 -in "$d/$c.pem" -noout -serial | sed 's/serial=//')
		[ ${#n} = 40 ] && pass "$t: $c serial 20 octets" || fail "$t: $c serial $n"
	done
}

snapshot() { (cd "$1" && ls -l --time-style=+%s . && cat ./*); }

for t in ec-p256 ec-p384 ed25519 rsa-3072; do
	d="$tmp/$t"
	check "$t: ca init" "$CTL" ca init "$d" --key-type "$t" --name "Test $t"
	check_dir "$d" "$t" "CMC Certificate Authority\|1\.3\.6\.1\.5\.5\.7\.3\.27"
done

# --ra, days
check "ra: ca init" "$CTL" ca init "$tmp/ra" --ra --days-signer 10
grep -q "CMC Registration Authority\|1\.3\.6\.1\.5\.5\.7\.3\.28" <<EOT && pass "ra: signer EKU cmcRA" || fail "ra: signer EKU cmcRA"
$("$OPENSSL" x509 -in "$tmp/ra/cmc.pem" -noout -text)
EOT
end=$("$OPENSSL" x509 -in "$tmp/ra/cmc.pem" -noout -enddate | sed 's/notAfter=//')
days=$(( ($(date -d "$end" +%s) - $(date +%s)) / 86400 ))
[ "$days" = 9 ] || [ "$days" = 10 ] && pass "ra: --days-signer 10" || fail "ra: signer valid $days days"

# a second run fails and changes nothing
snapshot "$tmp/ec-p256" >"$tmp/before.txt"
"$CTL" ca init "$tmp/ec-p256" >"$tmp/out.txt" 2>&1
rc=$?
[ "$rc" = 1 ] && pass "re-init fails (exit 1)" || fail "re-init: exit $rc"
snapshot "$tmp/ec-p256" >"$tmp/after.txt"
cmp -s "$tmp/before.txt" "$tmp/after.txt" && pass "re-init changes nothing" || fail "re-init changed files"
# one file in the way is enough, and nothing else is written
mkdir -m 700 "$tmp/partial" && touch "$tmp/partial/cmc.key"
"$CTL" ca init "$tmp/partial" >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] && [ "$(ls "$tmp/partial")" = cmc.key ] && pass "existing cmc.key: nothing written" ||
	fail "existing cmc.key: exit $rc, files $(ls "$tmp/partial" | tr '\n' ' ')"
# an open directory is refused
mkdir -m 755 "$tmp/open"
"$CTL" ca init "$tmp/open" >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] && [ -z "$(ls "$tmp/open")" ] && pass "0755 directory refused" || fail "0755 directory: exit $rc"
# an issuing key file readable by others is refused
"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/open.key" 2>/dev/null
chmod 644 "$tmp/open.key"
"$CTL" ca init "$tmp/openkey" --issuing-key "$tmp/open.key" >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] && [ ! -e "$tmp/openkey" ] && pass "0644 issuing key refused" || fail "0644 issuing key: exit $rc"
chmod 600 "$tmp/open.key"
check "PEM issuing key: ca init" "$CTL" ca init "$tmp/pemkey" --issuing-key "$tmp/open.key"
check_dir "$tmp/pemkey" pemkey "1\.3\.6\.1\.5\.5\.7\.3\.27\|CMC Certificate Authority" no-ca-key
"$OPENSSL" x509 -in "$tmp/pemkey/ca.pem" -noout -pubkey >"$tmp/a.pub"
"$OPENSSL" pkey -in "$tmp/open.key" -pubout >"$tmp/b.pub"
cmp -s "$tmp/a.pub" "$tmp/b.pub" && pass "PEM issuing key is in ca.pem" || fail "PEM issuing key not used"

# usage errors
for args in "ca" "ca init" "ca frob x" "ca init $tmp/u --key-type ec-p521" \
	"ca init $tmp/u --days-ca 0" "ca init $tmp/u --bogus" "ca init $tmp/u $tmp/v"; do
	# shellcheck disable=SC2086
	"$CTL" $args >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] && pass "usage: '$args' exits 2" || fail "usage: '$args' exits $rc"
done
[ ! -e "$tmp/u" ] && pass "usage errors create nothing" || fail "usage error created $tmp/u"

# ---- PKCS#11 (SoftHSM2) ----
if command -v softhsm2-util >/dev/null 2>&1 && command -v p11tool >/dev/null 2>&1; then
	module=
	for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
		[ -f "$m" ] && module=$m && break
	done
	mkdir -p "$tmp/hsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$tmp/hsm/tokens" >"$tmp/hsm/softhsm2.conf"
	SOFTHSM2_CONF=$tmp/hsm/softhsm2.conf
	export SOFTHSM2_CONF
	check "pkcs11: init token" softhsm2-util --init-token --free --label gbatest \
		--pin 1234 --so-pin 5678
	check "pkcs11: generate P-256 key in the token" env GNUTLS_PIN=1234 p11tool \
		--provider "$module" --login --generate-privkey=ecdsa --curve=secp256r1 --label=ca \
		"pkcs11:token=gbatest"
	uri='pkcs11:token=gbatest;object=ca;type=private'
	check "pkcs11: ca init, PIN in the URI" \
		"$CTL" ca init "$tmp/p11" --issuing-key "$uri?pin-value=1234"
	cp "$tmp/out.txt" "$tmp/p11-init.txt"
	check_dir "$tmp/p11" pkcs11 "1\.3\.6\.1\.5\.5\.7\.3\.27\|CMC Certificate Authority" no-ca-key
	grep -q 1234 "$tmp/p11-init.txt" && fail "pkcs11: PIN printed" || pass "pkcs11: PIN not printed"
	p11tool --provider "$module" --export "pkcs11:token=gbatest;object=ca;type=public" \
		2>/dev/null | "$OPENSSL" pkey -pubin >"$tmp/tok.pub"
	"$OPENSSL" x509 -in "$tmp/p11/ca.pem" -noout -pubkey >"$tmp/ca.pub"
	cmp -s "$tmp/tok.pub" "$tmp/ca.pub" && pass "pkcs11: ca.pem holds the token's key" ||
		fail "pkcs11: ca.pem key is not the token's"
	check "pkcs11: PIN from GBA_PKCS11_PIN" env GBA_PKCS11_PIN=1234 \
		"$CTL" ca init "$tmp/p11env" --issuing-key "$uri"
	check "pkcs11: GBA_PKCS11_MODULE" env GBA_PKCS11_PIN=1234 GBA_PKCS11_MODULE="$module" \
		"$CTL" ca init "$tmp/p11mod" --issuing-key "$uri"
	check "pkcs11: GBA_PKCS11_MODULE chain verifies" "$OPENSSL" verify -x509_strict \
		-CAfile "$tmp/p11mod/root.pem" -untrusted "$tmp/p11mod/ca.pem" "$tmp/p11mod/cmc.pem"
	GBA_PKCS11_PIN=4321 "$CTL" ca init "$tmp/p11bad" --issuing-key "$uri" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 1 ] && [ ! -e "$tmp/p11bad" ] && pass "pkcs11: wrong PIN fails, nothing written" ||
		fail "pkcs11: wrong PIN: exit $rc"
	"$CTL" ca init "$tmp/p11none" --issuing-key "$uri" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 1 ] && pass "pkcs11: no PIN fails" || fail "pkcs11: no PIN: exit $rc"
else
	echo "SKIP: pkcs11 (softhsm2-util or p11tool missing; scripts/deps.sh installs softhsm2)"
fi

echo "ca.sh: $fails failure(s)"
[ "$fails" = 0 ]
