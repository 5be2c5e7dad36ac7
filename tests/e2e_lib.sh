# e2e_lib.sh - what the e2e_*.sh scripts share; sourced, never run.
#
# Set E2E (the script's name) first, then
#   . "${top_srcdir:-..}/tests/e2e_lib.sh"
# It makes top_builddir and top_srcdir absolute, makes the scratch
# directory $tmp and enters it, and on exit stops every daemon whose pid
# is in $pids and removes $tmp (KEEP_E2E=1 keeps it).
#
# Helpers: pass; fail (the first failure ends the test, after the tail
# of every $tmp/*.log; a script may define its own); check; ok_if; not;
# contains; indent; wait_ports, stop_daemon and start_bsfd_naf
# (daemons); ue (gba-ue);
# cms_verify (Full PKI Responses); verify_cert and issued (certificates under the demo CA in $DEMO);
# norm; pubkey; no_sanitizer_report.

: "${top_builddir:=..}"
: "${top_srcdir:=..}"
: "${CERTTOOL:=certtool}"
abs() { (cd "$1" && pwd); }
top_builddir=$(abs "$top_builddir") || exit 99
top_srcdir=$(abs "$top_srcdir") || exit 99

t_start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/$E2E.XXXXXX") || exit 99
cd "$tmp" || exit 99

pids=
UE_BSF=
checks=0
cleanup() {
	touch "$tmp/stop" 2>/dev/null   # background loops of a script end on it
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	cd /
	if [ "${KEEP_E2E:-0}" = 1 ]; then
		echo "scratch directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

indent() { sed 's/^/    /' "$@"; }
pass() { checks=$((checks + 1)); echo "PASS: $*"; }
fail() {
	checks=$((checks + 1))
	echo "FAIL: $*"
	for l in "$tmp"/*.log; do
		[ -f "$l" ] && { echo "== ${l#"$tmp"/} (tail)"; tail -n 30 "$l" | indent; }
	done
	echo "$E2E: failed at check $checks"
	exit 1
}
check() {  # DESCRIPTION EXPECTED GOT
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
ok_if() {  # DESCRIPTION COMMAND...
	oi_desc=$1
	shift
	if "$@"; then pass "$oi_desc"; else fail "$oi_desc"; fi
}
not() { ! "$@"; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# wait_ports NAME PID LISTENER: wait (at most 10 s) for NAME.ports to
# name LISTENER while PID runs.
wait_ports() {
	wp_i=0
	while [ ! -s "$tmp/$1.ports" ] || ! grep -q "^$3 " "$tmp/$1.ports"; do
		kill -0 "$2" 2>/dev/null || fail "$1: exited during start-up"
		wp_i=$((wp_i + 1))
		[ $wp_i -le 200 ] || fail "$1: no complete port file after 10 s"
		sleep 0.05
	done
}
# stop_daemon PID NAME: SIGTERM; exit 0 within 10 s.
stop_daemon() {
	kill -TERM "$1"
	sd_n=0
	while kill -0 "$1" 2>/dev/null && [ $sd_n -lt 100 ]; do
		sd_n=$((sd_n + 1))
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	sd_rc=$?
	sd_keep=
	for p in $pids; do [ "$p" = "$1" ] || sd_keep="$sd_keep $p"; done
	pids=$sd_keep
	check "$2: SIGTERM: exit status 0 within 10 s" 0 "$sd_rc"
}

# start_bsfd_naf NAME DEMO-DIR POLICY-DIR [ARGS...]: $BSFD --demo with the
# NAF and ARGS, every listener on 127.0.0.1 port 0 (GBA_LOG_LEVEL=
# $BSFD_LOG_LEVEL if set);
# waits for the port file.  Sets PID, UB, NAF and UE_BSF; the log is
# NAME.log.
start_bsfd_naf() {
	sb=$1 sb_demo=$2 sb_pol=$3
	shift 3
	rm -f "$tmp/$sb.ports"
	env ${BSFD_LOG_LEVEL:+GBA_LOG_LEVEL=$BSFD_LOG_LEVEL} \
		"$BSFD" --demo "$sb_demo" --fqdn "$FQDN" --listen 127.0.0.1 \
		--ub-port 0 --ub-tls-port 0 --zn-port 0 --naf-port 0 "$@" \
		--policy-dir "$sb_pol" --port-file "$tmp/$sb.ports" 2>"$tmp/$sb.log" &
	PID=$!
	pids="$pids $PID"
	wait_ports "$sb" "$PID" naf
	UB=$(awk '$1 == "ub" { print $2 }' "$tmp/$sb.ports")
	NAF=$(awk '$1 == "naf" { print $2 }' "$tmp/$sb.ports")
	UE_BSF=http://127.0.0.1:$UB
	if [ -n "$UB" ] && [ -n "$NAF" ]; then
		pass "$sb: gba-bsfd up (ub $UB, naf $NAF)"
	else
		fail "$sb: port file lacks ub or naf"
	fi
}

# ue NAME COMMAND ARGS...: gba-ue COMMAND with STATE against the NAF on
# https://127.0.0.1:$NAF (trusting $DEMO/ca.pem, HTTP/2), bootstrapping
# at $UE_BSF when set, and with --trust $DEMO/ca/root.pem when UE_TRUST
# is set; stdout in NAME.out, stderr in NAME.err; the CMC commands also
# save their (last) Full PKI Response as NAME.resp.  Returns gba-ue's
# exit status.
ue() {
	ue_name=$1 ue_cmd=$2
	shift 2
	case $ue_cmd in
	enrol | renew | rekey | poll) set -- "$@" --save-response "$tmp/$ue_name.resp" ;;
	esac
	"$UE" "$ue_cmd" "$@" --state "$STATE" ${UE_BSF:+--bsf "$UE_BSF"} \
		${UE_TRUST:+--trust "$DEMO/ca/root.pem"} \
		--naf "https://127.0.0.1:$NAF" --ca "$DEMO/ca.pem" --http2 \
		>"$tmp/$ue_name.out" 2>"$tmp/$ue_name.err"
}

# cms_verify DESC NAME: openssl cms -verify accepts NAME.resp (a Full
# PKI Response) against the demo root alone (the CMC signer and the
# issuing CA come from its certificates field) and writes the content to
# NAME.content; its eContentType is id-cct-PKIResponse.  -purpose any:
# the signer's EKU is id-kp-cmcCA, not S/MIME.
cms_verify() {
	cv_o=$(openssl cms -verify -inform DER -in "$tmp/$2.resp" -CAfile "$DEMO/ca/root.pem" \
		-purpose any -out "$tmp/$2.content" 2>&1)
	if [ $? = 0 ] && contains "$cv_o" 'Verification successful'; then
		pass "$1: openssl cms -verify accepts the Full PKI Response"
	else
		fail "$1: openssl cms -verify: $cv_o"
	fi
	cv_t=$(openssl cms -cmsout -print -inform DER -in "$tmp/$2.resp" |
		sed -n 's/^ *eContentType: *//p')
	check "$1: eContentType" "id-cct-PKIResponse (1.3.6.1.5.5.7.12.3)" "$cv_t"
	ok_if "$1: the verified content is a PKIResponse" \
		sh -c "openssl asn1parse -inform DER -in '$tmp/$2.content' >/dev/null"
}

# verify_cert DESC CERT: the chain to the demo root ($DEMO/ca), with
# openssl (-x509_strict) and certtool.
verify_cert() {
	vc_o=$(openssl verify -x509_strict -CAfile "$DEMO/ca/root.pem" \
		-untrusted "$DEMO/ca/ca.pem" "$2" 2>&1)
	if [ $? = 0 ] && contains "$vc_o" ': OK'; then
		pass "$1: openssl verify -x509_strict OK"
	else
		fail "$1: openssl verify: $vc_o"
	fi
	cat "$2" "$DEMO/ca/ca.pem" >"$tmp/vc.pem"
	vc_o=$("$CERTTOOL" --verify --load-ca-certificate "$DEMO/ca/root.pem" \
		--infile "$tmp/vc.pem" 2>&1)
	if [ $? = 0 ] && contains "$vc_o" 'Chain verification output: Verified'; then
		pass "$1: certtool --verify: Verified"
	else
		fail "$1: certtool --verify: $(printf '%s\n' "$vc_o" | tail -n 3)"
	fi
}
# issued DESC NAME DIR [CERTFILE]: gba-ue exited 0 (status in $rc) and
# printed "issued SERIAL DIR/CERTFILE" (NAME.out, NAME.err); the
# certificate verifies.  Adds the serial to SERIALS; sets is_serial.
issued() {
	is_cert=$3/${4:-cert.pem}
	check "$1: gba-ue exit status" 0 "$rc"
	is_line=$(grep "^issued [0-9a-f]* $is_cert\$" "$tmp/$2.out")
	[ -n "$is_line" ] || { indent "$tmp/$2.out" "$tmp/$2.err"; fail "$1: no 'issued SERIAL $is_cert' line"; }
	is_serial=$(printf '%s\n' "$is_line" | awk '{ print $2 }')
	pass "$1: issued serial $is_serial"
	SERIALS="$SERIALS $is_serial"
	ok_if "$1: $is_cert is a certificate" test -s "$is_cert"
	verify_cert "$1" "$is_cert"
	check "$1: serial printed is the certificate's" "$(norm "$is_serial")" \
		"$(norm "$(openssl x509 -noout -serial -in "$is_cert" | sed 's/^serial=//' | tr 'A-F' 'a-f')")"
}
# A serial without leading zeros.
norm() { printf '%s\n' "$1" | sed 's/^0*//'; }
pubkey() { openssl x509 -noout -pubkey -in "$1"; }
# no_sanitizer_report LOG...: under --with-sanitizer, no ASan/UBSan/LSan
# report in the daemon logs.
no_sanitizer_report() {
	if grep -l -e 'Sanitizer' -e 'runtime error:' "$@" >"$tmp/san.txt" 2>/dev/null; then
		fail "sanitizer reports in: $(tr '\n' ' ' <"$tmp/san.txt")"
	fi
	pass "no sanitizer report in the daemon logs"
}
