#!/bin/sh
# run.sh - gba-bsfd throughput as a ratio to nghttpd, measured in one run.
#
# Expects a built tree (`make`); builds nothing.  In a new temporary
# directory it provisions gba-bsfd --demo (demo CA, BSF and NAF
# certificates, SQLite store) plus $NSUBS subscribers with random K/OPc
# imported with gba-ctl, starts gba-bsfd, nghttpd (h2c) and nghttpd (TLS,
# the demo BSF certificate) on a small static file, and for every
# concurrency C in $CONCURRENCY runs for $DURATION seconds each:
#   bench_bsf --mode ub   full bootstraps over Ub (h2c by default)
#   bench_bsf --mode zn   Nbsp_GBA retrievals over Zn (TLS, NAF client cert)
#   h2load -c C -m 1      against nghttpd h2c and nghttpd TLS
#   bench_bsf --mode get  against nghttpd h2c (what this client can drive)
# and prints bootstraps/s and Zn/s as ratios to nghttpd's req/s.  h2load
# multiplexes; -m 1 keeps it at one request in flight per connection,
# like bench_bsf.  See bench/README.md.
#
# Environment (defaults in brackets):
#   DURATION [10]  CONCURRENCY ["8 32"]  WORKERS [2] (gba-bsfd and nghttpd)
#   NSUBS [1000]   PROTO [h2] (h1: bench_bsf over HTTP/1.1; the baseline
#                  stays HTTP/2, nghttpd has no HTTP/1.1)
#   PIN [none]     split: servers on CPU 0, load generators on CPU 1
#   BENCH_TMPDIR [$TMPDIR or /tmp]: where the state (and the SQLite
#                  database) lives; a tmpfs here is a diagnostic only
#   KEEP [0]       1: keep the temporary directory
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BSFD=${BSFD:-$top/bsf/gba-bsfd}
CTL=${CTL:-$top/bsf/gba-ctl}
BENCH=${BENCH:-$top/bench/bench_bsf}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-"8 32"}
WORKERS=${WORKERS:-2}
NSUBS=${NSUBS:-1000}
PROTO=${PROTO:-h2}
PIN=${PIN:-none}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}
FQDN=bsf.gbacert.test

for b in "$BSFD" "$CTL" "$BENCH"; do
	if [ ! -x "$b" ]; then
		echo "run.sh: $b is missing: run make first" >&2
		exit 2
	fi
done
baseline=1
for t in nghttpd h2load; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "run.sh: $t not found (Debian: nghttp2-server, nghttp2-client): no baseline" >&2
		baseline=0
	fi
done
case $PROTO in
h1) pflag=--http1 ;;
h2) pflag=--http2 ;;
*) echo "run.sh: PROTO is h1 or h2" >&2; exit 2 ;;
esac
case $PIN in
none) spin=; cpin= ;;
split) spin="taskset -c 0"; cpin="taskset -c 1" ;;
*) echo "run.sh: PIN is none or split" >&2; exit 2 ;;
esac

umask 077
dir=$(mktemp -d "$BENCH_TMPDIR/gba-bench.XXXXXX")
pids=
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then
		echo "run.sh: state kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine is shared: report how idle it was (over 2 s, from
# /proc/stat) and who else was busy.  Load averages count bench_bsf's
# own threads once it has run, so idle% is the better figure.
load() {
	a=$(head -1 /proc/stat)
	sleep 2
	b=$(head -1 /proc/stat)
	idle=$(printf '%s\n%s\n' "$a" "$b" | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { t1 = t; i1 = $5 + $6 } else printf "%.0f", 100 * ($5 + $6 - i1) / (t - t1) }')
	echo "load: cpu idle ${idle}% over 2 s, $(uptime | sed 's/.*load average/load average/')"
	top -bn1 -o %CPU 2>/dev/null | sed -n '8,12p' | awk '$9 > 5 { print "  busy:", $12, $9 "%" }' || true
}

echo "== gbacert bench: $(nproc) CPUs, workers=$WORKERS, proto=$PROTO, pin=$PIN," \
	"duration=${DURATION}s, concurrency '$CONCURRENCY', $NSUBS subscribers"
echo "   state in $dir ($(df -P "$dir" | awk 'NR == 2 { print $1 }'))"
load

# ---- provisioning ----
st=$dir/state
mkdir -p "$st" "$dir/htdocs"
# IMPI K OPC AMF SQN: K and OPc from one read of /dev/urandom.
od -An -v -tx1 -w32 -N $((32 * NSUBS)) /dev/urandom | tr -d ' ' |
	awk '{ printf "bench%06d@ims.mnc001.mcc001.3gppnetwork.org %s %s 8000 0\n", NR, substr($0, 1, 32), substr($0, 33, 32) }' \
	> "$dir/subs.txt"
"$CTL" --db "$st/bsf.db" --key-file "$st/bsf.key" subscriber import "$dir/subs.txt" >/dev/null
# 512 bytes: about the size of a Zn answer (the Ub 200 is ~250).
head -c 512 /dev/zero | tr '\0' x > "$dir/htdocs/index.html"

wait_file() {   # FILE PID
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
}

$spin "$BSFD" --demo "$st" --fqdn "$FQDN" --ub-port 0 --zn-port 0 --workers "$WORKERS" \
	--port-file "$dir/ports" 2> "$dir/bsfd.log" &
bsfd=$!
pids="$pids $bsfd"
if ! wait_file "$dir/ports" $bsfd; then
	echo "run.sh: gba-bsfd did not start:" >&2
	cat "$dir/bsfd.log" >&2
	exit 1
fi
UB=$(awk '$1 == "ub" { print $2 }' "$dir/ports")
ZN=$(awk '$1 == "zn" { print $2 }' "$dir/ports")

# nghttpd needs a port number: try random ones until one binds.  Sets
# url and appends the server to pids.
start_nghttpd() {   # NAME [KEY CERT]
	name=$1
	shift
	url=
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		if [ $# -eq 0 ]; then
			$spin nghttpd --no-tls -n "$WORKERS" -d "$dir/htdocs" $port \
				> "$dir/$name.log" 2>&1 &
			u=http://127.0.0.1:$port/index.html
		else
			$spin nghttpd -n "$WORKERS" -d "$dir/htdocs" $port "$1" "$2" \
				> "$dir/$name.log" 2>&1 &
			u=https://127.0.0.1:$port/index.html
		fi
		ngpid=$!
		i=0
		while [ $i -lt 40 ] && kill -0 $ngpid 2>/dev/null; do
			if h2load -n 1 -c 1 "$u" 2>/dev/null | grep -q ' 1 succeeded'; then
				pids="$pids $ngpid"
				url=$u
				return 0
			fi
			i=$((i + 1))
			sleep 0.05
		done
		kill $ngpid 2>/dev/null || true
		wait $ngpid 2>/dev/null || true
	done
	echo "run.sh: nghttpd ($name) did not start; no baseline" >&2
	baseline=0
	return 0
}
h2c_url=
tls_url=
if [ $baseline = 1 ]; then
	start_nghttpd nghttpd-h2c
	h2c_url=$url
	start_nghttpd nghttpd-tls "$st/bsf-key.pem" "$st/bsf.pem"
	tls_url=$url
fi
echo "   gba-bsfd: Ub http://127.0.0.1:$UB, Zn https://127.0.0.1:$ZN; nghttpd: ${h2c_url:-none} ${tls_url:-none}"

h2rate() {   # URL C; sets rate (req/s)
	out=$($cpin h2load -D "$DURATION" -c "$2" -m 1 "$1" 2>&1) || true
	echo "$out" | grep -E '^(finished in|requests:)' | sed 's/^/    /'
	rate=$(echo "$out" | awk '/^finished in/ { gsub(",", "", $4); print $4 }')
}
field() {   # LINE KEY
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

failed=0
results=
for c in $CONCURRENCY; do
	echo "-- concurrency $c"
	l=$($cpin "$BENCH" --mode ub --ub "http://127.0.0.1:$UB" --realm "$FQDN" $pflag \
		--subscribers "$dir/subs.txt" --concurrency "$c" --duration "$DURATION") || failed=1
	echo "  $l"
	ub=$(field "$l" rate)
	l=$($cpin "$BENCH" --mode zn --ub "http://127.0.0.1:$UB" --realm "$FQDN" $pflag \
		--zn "https://127.0.0.1:$ZN" --ca "$st/ca.pem" --cert "$st/naf.pem" \
		--key "$st/naf-key.pem" --subscribers "$dir/subs.txt" --concurrency "$c" \
		--duration "$DURATION") || failed=1
	echo "  $l"
	zn=$(field "$l" rate)
	h2c=0 tls=0 get=0
	if [ $baseline = 1 ]; then
		echo "  nghttpd h2c, h2load -c $c -m 1:"
		h2rate "$h2c_url" "$c"
		h2c=$rate
		echo "  nghttpd TLS, h2load -c $c -m 1:"
		h2rate "$tls_url" "$c"
		tls=$rate
		l=$($cpin "$BENCH" --mode get --url "${h2c_url%/index.html}" --path /index.html \
			--http2 --concurrency "$c" --duration "$DURATION") || true
		echo "  bench_bsf vs nghttpd h2c: $l"
		get=$(field "$l" rate)
	fi
	results="$results$c ${ub:-0} ${zn:-0} ${h2c:-0} ${tls:-0} ${get:-0}
"
done
load

echo
echo "== ratios: gba-bsfd operations/s over nghttpd req/s (same run; goals: ub/h2c >= 0.20, zn >= 0.50)"
printf '%s' "$results" | awk '
function r(a, b) { return b > 0 ? sprintf("%.4f", a / b) : "n/a" }
BEGIN {
	printf "%-5s %10s %10s %12s %12s %12s %8s %8s %8s\n", "conc", "ub/s", "zn/s",
	       "nghttpd-h2c", "nghttpd-tls", "client-get", "ub/h2c", "zn/h2c", "zn/tls"
}
NF == 6 {
	printf "%-5s %10.1f %10.1f %12.1f %12.1f %12.1f %8s %8s %8s\n", $1, $2, $3, $4, $5, $6,
	       r($2, $4), r($3, $4), r($3, $5)
}'
echo "(client-get: bench_bsf --mode get against nghttpd h2c; when it is at or above"
echo " nghttpd-h2c, the thread-per-connection client is not what limits gba-bsfd.)"
if [ $failed = 1 ]; then
	echo "run.sh: bench_bsf reported failures (see above and $dir/bsfd.log)" >&2
	KEEP=1
	exit 1
fi
