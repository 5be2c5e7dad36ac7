#!/bin/sh
# ocsp.sh - the OCSP responder's answers/s against nghttpd, measured in
# one run (bench/README.md, "OCSP and CRL").
#
# Expects a built tree; builds nothing.  In a temporary directory it
# starts gba-bsfd --demo with the NAF and a cleartext status port, enrols
# one certificate with gba-ue, makes two OCSP requests for it with
# openssl (one without a nonce: answered from the pre-signed cache; one
# with a nonce: signed live for every request) and serves a static file
# of the same size as the cached answer with nghttpd.  Then, for every
# concurrency C in $CONCURRENCY, $DURATION seconds each, h2load
# (h2c, -m $STREAMS) against:
#   cache   GET /ocsp/<base64url request without nonce>  (gba-bsfd)
#   live    GET /ocsp/<base64url request with nonce>     (gba-bsfd,
#           --ocsp-live-max $WORKERS: every worker may sign at once)
#   nghttpd GET /<file of the cached answer's size>
# and bench_ocsp for the raw signing rate of the responder's key type.
#
# Environment: DURATION [10] CONCURRENCY ["8 32"] STREAMS [1] WORKERS [2]
#              KEEP [0]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BSFD=${BSFD:-$top/bsf/gba-bsfd}
UE=${UE:-$top/ue/gba-ue}
BOCSP=${BOCSP:-$top/bench/bench_ocsp}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-"8 32"}
STREAMS=${STREAMS:-1}
WORKERS=${WORKERS:-2}
KEEP=${KEEP:-0}
for b in "$BSFD" "$UE" "$BOCSP"; do
	[ -x "$b" ] || { echo "ocsp.sh: $b missing: run make first" >&2; exit 2; }
done
for t in nghttpd h2load openssl; do
	command -v $t >/dev/null 2>&1 || { echo "ocsp.sh: $t not found (scripts/deps.sh)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_ocsp.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ "$KEEP" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
cd "$tmp"

IMPI=001010123456789@ims.mnc001.mcc001.3gppnetwork.org
mkdir pol
sed -e 's/methods: \[portal, cmc-simple\]/methods: [portal, cmc-simple, cmc-full]/' \
	-e '/ocsp_url:/d' -e '/crl_url:/d' "$top/policies/pki-portal.yaml" >pol/naf.yaml
"$BSFD" --demo d --listen 127.0.0.1 --ub-port 0 --naf-port 0 --status-port 0 \
	--ocsp-live-max "$WORKERS" \
	--workers "$WORKERS" --policy-dir pol --port-file ports 2>bsfd.log &
pids="$pids $!"
i=0
while ! grep -q '^status ' ports 2>/dev/null; do
	i=$((i + 1)); [ $i -le 200 ] || { echo "gba-bsfd did not start" >&2; exit 1; }
	sleep 0.05
done
UB=$(awk '$1 == "ub" { print $2 }' ports)
NAF=$(awk '$1 == "naf" { print $2 }' ports)
ST=$(awk '$1 == "status" { print $2 }' ports)
"$UE" init --state ue.state --impi "$IMPI" --k 465b5ce8b199b49faa5f0a2ee238a6bc \
	--opc cd63cb71954a9f4e48a5994e37a02baf >/dev/null
"$UE" enrol naf.gbacert.test --state ue.state --bsf "http://127.0.0.1:$UB" \
	--naf "https://127.0.0.1:$NAF" --ca d/ca.pem --trust d/ca/root.pem --out o >/dev/null 2>&1
b64url() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }
openssl ocsp -issuer d/ca/ca.pem -cert o/cert.pem -no_nonce -reqout cache.req >/dev/null 2>&1
openssl ocsp -issuer d/ca/ca.pem -cert o/cert.pem -reqout live.req >/dev/null 2>&1
CACHE_URL=http://127.0.0.1:$ST/ocsp/$(b64url cache.req)
LIVE_URL=http://127.0.0.1:$ST/ocsp/$(b64url live.req)
curl -s -o cache.resp "$CACHE_URL"
curl -s -o live.resp "$LIVE_URL"
openssl ocsp -respin cache.resp -noverify -resp_text | grep -q 'Cert Status: good' ||
	{ echo "the responder does not answer good" >&2; exit 1; }
size=$(wc -c <cache.resp | tr -d ' ')
mkdir www
head -c "$size" /dev/urandom >www/ocsp.der
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nghttpd -n "$WORKERS" --no-tls -d www "$NPORT" >nghttpd.log 2>&1 &
pids="$pids $!"
i=0
until curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$NPORT/ocsp.der"; do
	i=$((i + 1)); [ $i -le 200 ] || { echo "nghttpd did not start" >&2; exit 1; }
	sleep 0.05
done

idle() {   # CPU idle% over 2 s
	a=$(awk '/^cpu / { print $5, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat)
	sleep 2
	b=$(awk '/^cpu / { print $5, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat)
	echo "$a $b" | awk '{ printf "%.0f", 100 * ($3 - $1) / ($4 - $2) }'
}
# req/s of successful (2xx) answers
rps() { h2load -D "$DURATION" -c "$1" -m "$STREAMS" -t 1 "$2" 2>&1 |
	awk '/^finished in/ { gsub(",", ""); secs = $3 + 0 }
	     /^status codes:/ { ok = $3 + 0 }
	     END { if (secs > 0) printf "%.0f", ok / secs; else print 0 }'; }
status_of() { h2load -n 200 -c 2 -m 1 "$1" 2>&1 | sed -n 's/^status codes: //p'; }

echo "answer size $size bytes; workers $WORKERS; h2load -m $STREAMS, $DURATION s per line"
echo "cache: $(status_of "$CACHE_URL")   live: $(status_of "$LIVE_URL")"
echo "idle before: $(idle)%"
printf '%-6s %10s %10s %10s %10s %10s\n' conc cache/s live/s nghttpd/s cache/ngh live/ngh
for c in $CONCURRENCY; do
	rc=$(rps "$c" "$CACHE_URL")
	rl=$(rps "$c" "$LIVE_URL")
	rn=$(rps "$c" "http://127.0.0.1:$NPORT/ocsp.der")
	printf '%-6s %10s %10s %10s %10s %10s\n' "$c" "$rc" "$rl" "$rn" \
		"$(echo "$rc $rn" | awk '{ printf "%.2f", $1 / $2 }')" \
		"$(echo "$rl $rn" | awk '{ printf "%.2f", $1 / $2 }')"
done
echo "idle after: $(idle)%"
# the demo responder key is P-256 (gba-ctl ca init's default)
"$BOCSP" --key-type ec-p256 --threads "$WORKERS" --secs 3
