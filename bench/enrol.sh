#!/bin/sh
# enrol.sh - CMC enrolments/s against gba-bsfd's provisioning NAF, as a
# ratio to the crypto-only limit that bench_enrol measures in the same
# run (bench/README.md, "Enrolment").
#
# Expects a built tree (`make`); builds nothing.  For every concurrency C
# in $CONCURRENCY it provisions a fresh state directory (so each run
# starts from an empty certificate table):
#   - ceil(REQUESTS / PER_IMPI) subscribers with random K/OPc, each with
#     a GUSS holding a GSID 1 USS and the IMPU sip:<IMPI>, added with
#     `gba-ctl subscriber add` (the policy requires a USS);
#   - policies/pki-portal.yaml with max_active_certs = PER_IMPI and no
#     hourly rate limit (everything else as shipped: cmc-full,
#     identityProofV2, POP, ec-p256, CN=${impi}, SAN uri:${impu});
#   - gba-bsfd --demo (demo CA, TLS certificate, audit log) with the NAF
#     on TLS (ALPN h2), --workers $WORKERS;
# then runs bench_enrol: bootstraps, builds REQUESTS requests, measures
# the crypto-only limit (1 thread and WORKERS threads), then C
# connections enrol for DURATION seconds, then every reply is checked.
#
# Baseline (when cfssl, h2load and python3 are installed; Debian:
# golang-cfssl, nghttp2-client): no EST server (libest) is packaged, so
# the nearest packaged online CA, CloudFlare's `cfssl serve`, signs the
# same kind of request in the same run: h2load -c C -m 1 POSTs a P-256
# PKCS#10 in cfssl's JSON to /api/v1/cfssl/sign over TLS (the daemon's
# certificate, ALPN h2), cfssl checks its signature and signs with the
# run's issuing CA key.  Twice: without a database ("cfssl") and
# recording each certificate in SQLite, WAL, synchronous FULL, one
# transaction each ("cfssl-db").  BASELINE=0 skips it.
#
# Environment (defaults in brackets):
#   DURATION [10]  CONCURRENCY ["8 32"]  WORKERS [2]  REQUESTS [30000]
#   PER_IMPI [100] (the policy's max_active_certs; at most 100)
#   CRYPTO_SECS [2] CRYPTO_REPEAT [3] (the fastest of the runs counts)
#   CHECK [after]  (inline: bench_enrol --check-inline)
#   BENCH_TMPDIR [$TMPDIR or /tmp]: state, SQLite database, audit log
#   PROFILE [none] perf: perf record --call-graph dwarf of gba-bsfd over
#                  the window, then self time by library and the
#                  heaviest inclusive symbols;
#                  strace: strace -c -f, syscalls per enrolment;
#                  cpu: per-thread CPU% of both processes;
#                  sched: perf sched -g, per gba-bsfd thread the time
#                  running, runnable without a CPU, and asleep in a flush
#                  (fsync), on a futex (locks, the committer hand-off), in
#                  epoll (no request to serve) or elsewhere.
#                  A profiled run is a diagnostic, not a figure.
#   BASELINE [1]   0: no cfssl baseline
#   KEEP [0]       1: keep the temporary directory
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BSFD=${BSFD:-$top/bsf/gba-bsfd}
CTL=${CTL:-$top/bsf/gba-ctl}
BENCH=${BENCH:-$top/bench/bench_enrol}
POLICY_SRC=$top/policies/pki-portal.yaml
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-"8 32"}
WORKERS=${WORKERS:-2}
REQUESTS=${REQUESTS:-30000}
PER_IMPI=${PER_IMPI:-100}
CRYPTO_SECS=${CRYPTO_SECS:-2}
CRYPTO_REPEAT=${CRYPTO_REPEAT:-3}
CHECK=${CHECK:-after}
PROFILE=${PROFILE:-none}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
BASELINE=${BASELINE:-1}
KEEP=${KEEP:-0}
FQDN=bsf.gbacert.test
NAF_FQDN=naf.gbacert.test

for b in "$BSFD" "$CTL" "$BENCH"; do
	if [ ! -x "$b" ]; then
		echo "enrol.sh: $b is missing: run make first" >&2
		exit 2
	fi
done
case $CHECK in
after) cflag= ;;
inline) cflag=--check-inline ;;
*) echo "enrol.sh: CHECK is after or inline" >&2; exit 2 ;;
esac
case $PROFILE in
none|cpu) ;;
sched)
	command -v perf >/dev/null 2>&1 || { echo "enrol.sh: perf not found" >&2; exit 2; } ;;
perf|strace)
	command -v "$PROFILE" >/dev/null 2>&1 || { echo "enrol.sh: $PROFILE not found" >&2; exit 2; } ;;
*) echo "enrol.sh: PROFILE is none, perf, strace, cpu or sched" >&2; exit 2 ;;
esac
if [ "$BASELINE" = 1 ]; then
	for t in cfssl h2load python3 openssl; do
		if ! command -v $t >/dev/null 2>&1; then
			echo "enrol.sh: $t not found (Debian: golang-cfssl, nghttp2-client): no baseline" >&2
			BASELINE=0
		fi
	done
fi
if [ "$PER_IMPI" -lt 1 ] || [ "$PER_IMPI" -gt 100 ]; then
	echo "enrol.sh: PER_IMPI is 1..100 (the policy's max_active_certs)" >&2
	exit 2
fi
NSUBS=$(((REQUESTS + PER_IMPI - 1) / PER_IMPI))

umask 077
dir=$(mktemp -d "$BENCH_TMPDIR/gba-enrol.XXXXXX")
bsfd=
aux=
cleanup() {
	for p in $aux $bsfd; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ] || [ "$PROFILE" = perf ] || [ "$PROFILE" = sched ]; then
		echo "enrol.sh: state kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# As in run.sh: how idle the machine was (over 2 s) and who was busy.
load() {
	a=$(head -1 /proc/stat)
	sleep 2
	b=$(head -1 /proc/stat)
	idle=$(printf '%s\n%s\n' "$a" "$b" | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { t1 = t; i1 = $5 + $6 } else printf "%.0f", 100 * ($5 + $6 - i1) / (t - t1) }')
	echo "load: cpu idle ${idle}% over 2 s, $(uptime | sed 's/.*load average/load average/')"
	[ "${idle:-0}" -ge "$min_idle" ] || min_idle=${idle:-0}
	top -bn1 -o %CPU 2>/dev/null | sed -n '8,12p' | awk '$9 > 5 { print "  busy:", $12, $9 "%" }' || true
}
# The disk's flush latency where the state lives: median and 90th
# percentile of 200 4-KiB write + fdatasync (the store and the audit log
# each wait for one per enrolment).
fsync_probe() {
	python3 - "$1/fsync.probe" <<-EOF 2> /dev/null || echo "fsync: (no python3)"
	import os, sys, time
	fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
	t = []
	for i in range(200):
	    a = time.perf_counter()
	    os.pwrite(fd, b"x" * 4096, 4096 * (i % 16))
	    os.fdatasync(fd)
	    t.append(time.perf_counter() - a)
	os.close(fd)
	os.unlink(sys.argv[1])
	t.sort()
	print("fsync: 4 KiB write + fdatasync p50 %.0f us, p90 %.0f us" % (t[100] * 1e6, t[180] * 1e6))
	EOF
}
field() {   # LINE KEY
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}
wait_file() {   # FILE PID
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 400 ] || ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
}

# provision DIR: subscribers (with GUSS), the policy, the daemon's state.
provision() {
	pd=$1
	mkdir -p "$pd/st" "$pd/pol"
	sed -e "s/max_active_certs: [0-9]*/max_active_certs: $PER_IMPI/" \
		-e 's/rate_limit_per_hour: [0-9]*/rate_limit_per_hour: 0/' \
		"$POLICY_SRC" > "$pd/pol/naf.yaml"
	if ! grep -q "max_active_certs: $PER_IMPI\$" "$pd/pol/naf.yaml" ||
		! grep -q 'rate_limit_per_hour: 0$' "$pd/pol/naf.yaml" ||
		! grep -q 'methods: .*cmc-full' "$pd/pol/naf.yaml"; then
		echo "enrol.sh: $POLICY_SRC changed: the policy edits did not take" >&2
		exit 1
	fi
	"$CTL" policy check "$pd/pol" > /dev/null
	od -An -v -tx1 -w32 -N $((32 * NSUBS)) /dev/urandom | tr -d ' ' |
		awk '{ printf "bench%06d@ims.mnc001.mcc001.3gppnetwork.org %s %s 8000 0\n", NR, substr($0, 1, 32), substr($0, 33, 32) }' \
		> "$pd/subs.txt"
	# K and OPc on the command line: random keys of bench subscribers.
	while read -r impi k opc amf sqn; do
		printf '{"bsfInfo":{"lifeTime":86400},"ussList":[{"gsId":1,"gsType":1,"ueIds":["sip:%s"],"flags":[]}]}\n' \
			"$impi" > "$pd/guss.json"
		"$CTL" --db "$pd/st/bsf.db" --key-file "$pd/st/bsf.key" subscriber add "$impi" \
			--k "$k" --opc "$opc" --amf "$amf" --sqn "$sqn" --guss-file "$pd/guss.json" > /dev/null
	done < "$pd/subs.txt"
}

cpu_snap() {
	for p in "$@"; do
		for t in /proc/$p/task/*; do
			echo "$p $(basename "$t") $(cut -d' ' -f14,15 "$t/stat" 2>/dev/null)"
		done
	done
}

# observe PID BENCHPID RUNDIR: wait for the window to open, then profile
# gba-bsfd for most of it.
observe() {
	ob_go=$3/go
	i=0
	while [ ! -e "$ob_go" ]; do
		i=$((i + 1))
		kill -0 "$2" 2>/dev/null || return 0
		[ $i -lt 12000 ] || return 0
		sleep 0.05
	done
	win=$((DURATION - 2))
	[ $win -ge 1 ] || win=1
	sleep 1
	# enrolments in the observed span, from the daemon's audit log
	issued0=$(grep -c '"event":"issue"' "$3/st/audit.jsonl" || true)
	case $PROFILE in
	perf)
		perf record -q -F 499 --call-graph dwarf,16384 -p "$1" -o "$3/perf.data" -- sleep $win \
			> /dev/null 2>&1 || echo "enrol.sh: perf record failed" >&2
		;;
	sched)
		perf sched record -g -o "$3/sched.data" -- sleep $win > /dev/null 2>&1 ||
			echo "enrol.sh: perf sched record failed" >&2
		;;
	strace)
		strace -c -f -p "$1" -o "$3/strace.txt" 2>/dev/null &
		sp=$!
		sleep $win
		kill -INT $sp
		wait $sp || true
		;;
	cpu)
		a=$(cpu_snap "$1" "$2")
		sleep $win
		b=$(cpu_snap "$1" "$2")
		printf '%s\n--\n%s\n' "$a" "$b" | awk -v s=$win -v hz="$(getconf CLK_TCK)" \
			-v d="$1" '$0 == "--" { n = 1; next }
			!n { u[$1 " " $2] = $3 + $4; next }
			{ x = $3 + $4 - u[$1 " " $2]; tot[$1] += x
			  if (x > 0.03 * hz * s) printf "    %-11s thread %-7s %5.1f%%\n", $1 == d ? "gba-bsfd" : "bench_enrol", $2, 100 * x / hz / s }
			END { for (p in tot) printf "    %-11s total          %5.1f%%\n", p == d ? "gba-bsfd" : "bench_enrol", 100 * tot[p] / hz / s }' \
			> "$3/cpu.txt"
		;;
	esac
	issued=$(($(grep -c '"event":"issue"' "$3/st/audit.jsonl" || true) - issued0))
}

# cfssl_prepare DIR: the CSR in cfssl's JSON, a signing profile like the
# pki-portal policy's, and an empty certificate database (WAL) whose
# table has the columns cfssl 1.2's certdb writes.
cfssl_prepare() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/csr-key.pem" \
		-subj "/CN=bench000001@ims.mnc001.mcc001.3gppnetwork.org" -out "$1/csr.pem" 2> /dev/null
	printf '{"certificate_request":"%s"}' "$(awk '{ printf "%s\\n", $0 }' "$1/csr.pem")" \
		> "$1/sign.json"
	cat > "$1/cfssl.json" <<-EOF
	{"signing":{"default":{"expiry":"8760h","usages":["digital signature","client auth"]}}}
	EOF
	printf '{"driver":"sqlite3","data_source":"%s"}\n' "$1/cfssl.db" > "$1/cfssl-db.json"
	python3 - "$1/cfssl.db" <<-EOF
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	db.execute("PRAGMA journal_mode=WAL")
	db.execute("CREATE TABLE certificates (serial_number BLOB NOT NULL, "
	           "authority_key_identifier BLOB NOT NULL, ca_label BLOB, status BLOB NOT NULL, "
	           "reason INT, expiry TIMESTAMP, revoked_at TIMESTAMP, pem BLOB NOT NULL, "
	           "PRIMARY KEY (serial_number, authority_key_identifier))")
	db.commit()
	EOF
}

# cfssl_run NAME DIR C [DBCONF]: start cfssl serve on a free port, run
# h2load for DURATION, stop it; sets rate (signs/s, 0 on failure).
cfssl_run() {
	cr_name=$1 cr_dir=$2 cr_c=$3
	rate=0
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		cfssl serve -address 127.0.0.1 -port $port -ca "$cr_dir/st/ca/ca.pem" \
			-ca-key "$cr_dir/st/ca/ca.key" -config "$cr_dir/cfssl.json" \
			-tls-cert "$cr_dir/st/bsf.pem" -tls-key "$cr_dir/st/bsf-key.pem" -loglevel 3 \
			${4:+-db-config "$4"} > "$cr_dir/$cr_name.log" 2>&1 &
		cfpid=$!
		aux=$cfpid
		url=https://127.0.0.1:$port/api/v1/cfssl/sign
		i=0
		while [ $i -lt 100 ] && kill -0 $cfpid 2>/dev/null; do
			if h2load -n 1 -c 1 -d "$cr_dir/sign.json" -H 'content-type: application/json' \
				"$url" 2>/dev/null | grep -q ' 1 succeeded'; then
				break
			fi
			i=$((i + 1))
			sleep 0.05
		done
		if kill -0 $cfpid 2>/dev/null && [ $i -lt 100 ]; then
			out=$(h2load -D "$DURATION" -c "$cr_c" -m 1 -d "$cr_dir/sign.json" \
				-H 'content-type: application/json' "$url" 2>&1) || true
			echo "$out" | grep -E '^(finished in|requests:|status codes:|Application protocol)' |
				sed "s/^/   $cr_name: /"
			if echo "$out" | grep -q ' 0 failed, 0 errored'; then
				rate=$(echo "$out" | awk '/^finished in/ { gsub(",", "", $4); print $4 }')
			fi
		fi
		kill -TERM $cfpid 2>/dev/null || true
		wait $cfpid 2>/dev/null || true
		aux=
		[ $i -lt 100 ] && return 0
	done
	echo "enrol.sh: $cr_name did not start (see $cr_dir/$cr_name.log)" >&2
}

# report_profile RUNDIR: what observe recorded, per enrolment.
report_profile() {
	rd=$1
	case $PROFILE in
	cpu)
		echo "   CPU% over ${win}s of the window, $issued enrolments:"
		cat "$rd/cpu.txt"
		awk -v w="$win" -v n="$issued" '/gba-bsfd +total/ && n > 0 {
			printf "     gba-bsfd CPU per enrolment: %.0f us\n", $3 * w * 1e4 / n }' "$rd/cpu.txt"
		;;
	strace)
		echo "   syscalls of gba-bsfd over ${win}s, $issued enrolments (audit log; strace slows the daemon):"
		awk -v ops="$issued" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && ops > 0 {
			printf "     %-16s %9d calls  %7.2f per enrolment  %8d us/call\n", $NF, $4, $4 / ops, $3 }' \
			"$rd/strace.txt" | head -14
		;;
	sched)
		# timehist -g: per switch-in of a task, the time it slept before
		# (wait), was runnable without a CPU (sch delay) and then ran, and
		# the kernel stack where it switched out.  The sleep that follows
		# a switch-out is charged to that stack's kind.
		echo "   gba-bsfd threads over ${win}s, $issued enrolments; us per enrolment:"
		perf sched timehist -g -i "$rd/sched.data" 2> /dev/null |
			awk -v pid="$bsfd_pid" -v n="$issued" '
			$3 !~ "^gba-bsfd\\[[0-9]+/" pid "\\]$" { next }
			{ t = $3; run[t] += $6; rq[t] += $5
			  if (t in site) sl[t, site[t]] += $4; else sl[t, "other"] += $4
			  if ($0 ~ /futex/) k = "futex"
			  else if ($0 ~ /epoll/) k = "epoll"
			  else if ($0 ~ /fsync|sync_file|write_and_wait|fdatawait|folio_wait|jbd2|issue_flush|sync_dirty_buffer|submit_bio_wait/) k = "flush"
			  else if ($0 ~ /exit_to_user_mode|irqentry_exit|cond_resched/) k = "preempted"
			  else k = "other"
			  site[t] = k; seen[t] = 1 }
			END { if (n <= 0) exit
			  for (t in seen)
				printf "     %-24s run %5.0f  runnable %4.0f  asleep in: flush %4.0f  futex %4.0f  epoll %4.0f  other %4.0f\n",
				       t, 1e3 * run[t] / n, 1e3 * rq[t] / n, 1e3 * sl[t, "flush"] / n,
				       1e3 * sl[t, "futex"] / n, 1e3 * sl[t, "epoll"] / n,
				       1e3 * (sl[t, "other"] + sl[t, "preempted"]) / n }' | sort -k3 -rn
		;;
	perf)
		echo "   perf over ${win}s, $issued enrolments ($rd/perf.data)"
		echo "   self time by group (unwinding not needed):"
		perf report -i "$rd/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
			awk '$1 ~ /%$/ { p = $1; sub("%", "", p); d = $2; s = $4
				if (d ~ /nettle|hogweed|gmp/) g = "crypto math (nettle, hogweed, gmp)"
				else if (d ~ /gnutls/) g = "gnutls (TLS records, X.509 building)"
				else if (d ~ /tasn1/) g = "libtasn1 (gnutls DER)"
				else if (d ~ /sqlite/) g = "sqlite"
				else if (d ~ /nghttp2/) g = "nghttp2"
				else if (d ~ /kernel/) g = "kernel"
				else if (d ~ /libc/ && s ~ /malloc|free|_int_|realloc|calloc|tcache/) g = "libc malloc/free"
				else if (d ~ /libc/ && s ~ /printf|_IO_|strchrnul|itoa/) g = "libc printf family"
				else if (d ~ /libc/) g = "libc other"
				else if (s ~ /^(ber_|der_|SEQUENCE_|SET_OF_|SET_|CHOICE_|OCTET_STRING|INTEGER|OBJECT_IDENTIFIER|asn_|BIT_STRING|ANY_|Native|UTF8String|BOOLEAN|NULL_|GeneralizedTime|UTCTime|OPEN_TYPE|xer_|PrintableString|IA5String|RELATIVE|_asn_|_fetch_present_idx|_search4tag|_t2e_cmp|uper_)/) g = "asn1c runtime"
				else g = d " other"
				t[g] += p }
			END { for (g in t) printf "     %6.2f%%  %s\n", t[g], g }' | sort -rn
		echo "   inclusive (needs unwinding; samples that stop in assembly are lost):"
		perf report -i "$rd/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
			grep -E '^ +[0-9]' | grep -vE '0x0000|0xffff|\[k\] (entry_|do_syscall|__x64_sys_|__sys_)' |
			head -60 | sed 's/^/   /'
		;;
	esac
}

echo "== gbacert enrolment bench: $(nproc) CPUs, workers=$WORKERS," \
	"duration=${DURATION}s, concurrency '$CONCURRENCY', $REQUESTS requests," \
	"$PER_IMPI per IMPI, check=$CHECK, profile=$PROFILE"
min_idle=100
echo "   commit $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)," \
	"state in $dir ($(df -P "$dir" | awk 'NR == 2 { print $1 }'))"

failed=0
results=
for c in $CONCURRENCY; do
	load
	fsync_probe "$dir"
	rd=$dir/c$c
	echo "-- concurrency $c: provisioning $NSUBS subscribers"
	provision "$rd"
	"$BSFD" --demo "$rd/st" --fqdn "$FQDN" --naf-fqdn "$NAF_FQDN" --ub-port 0 \
		--naf-port 0 --policy-dir "$rd/pol" --workers "$WORKERS" \
		--port-file "$rd/ports" 2> "$rd/bsfd.log" &
	bsfd=$!
	while ! grep -q '^naf ' "$rd/ports" 2>/dev/null; do
		if ! wait_file "$rd/ports" $bsfd; then
			echo "enrol.sh: gba-bsfd did not start:" >&2
			cat "$rd/bsfd.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	UB=$(awk '$1 == "ub" { print $2 }' "$rd/ports")
	NAF=$(awk '$1 == "naf" { print $2 }' "$rd/ports")
	set -- --ub "http://127.0.0.1:$UB" --naf "https://127.0.0.1:$NAF" --realm "$FQDN" \
		--naf-fqdn "$NAF_FQDN" --ca "$rd/st/ca.pem" --anchor "$rd/st/ca/root.pem" \
		--ca-dir "$rd/st/ca" --subscribers "$rd/subs.txt" --requests "$REQUESTS" \
		--per-impi "$PER_IMPI" --concurrency "$c" --duration "$DURATION" \
		--crypto-secs "$CRYPTO_SECS" --crypto-repeat "$CRYPTO_REPEAT" --crypto-threads "$WORKERS" --go-file "$rd/go" $cflag
	echo "   bench_enrol $*"
	"$BENCH" "$@" > "$rd/result" &
	bench=$!
	aux=$bench
	if [ "$PROFILE" != none ]; then
		observe "$bsfd" "$bench" "$rd"
	fi
	wait $bench || failed=1
	aux=
	sed 's/^/   /' "$rd/result"
	kill -TERM $bsfd
	wait $bsfd || true
	bsfd_pid=$bsfd
	bsfd=
	cf=0 cfdb=0
	if [ "$BASELINE" = 1 ]; then
		cfssl_prepare "$rd"
		cfssl_run cfssl "$rd" "$c"
		cf=$rate
		cfssl_run cfssl-db "$rd" "$c" "$rd/cfssl-db.json"
		cfdb=$rate
		echo "   cfssl-db recorded $(python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM certificates").fetchone()[0])' \
			"$rd/cfssl.db") certificates"
	fi
	l=$(grep '^enrol ' "$rd/result" || true)
	rl=$(grep '^ratio ' "$rd/result" || true)
	if [ "$(field "$l" exhausted)" = 1 ]; then
		echo "   (the $REQUESTS prepared requests ran out before ${DURATION}s: raise REQUESTS)"
	fi
	report_profile "$rd"
	results="$results$c $(field "$l" rate) $(field "$rl" crypto1_per_s) $(field "$rl" crypto_per_s) $(field "$l" p50_ms) $(field "$l" p99_ms) $(field "$l" ok) $(field "$l" fail) ${cf:-0} ${cfdb:-0}
"
done
load

echo
echo "== enrolments/s over the crypto-only limit (same run; goal >= 0.70 of the $WORKERS-thread limit)"
printf '%s' "$results" | awk -v w="$WORKERS" '
function r(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "n/a" }
BEGIN {
	printf "%-5s %9s %11s %11s %7s %8s %7s %7s %7s %5s %9s %9s %8s %8s\n", "conc", "enrol/s",
	       "crypto-1t/s", "crypto-" w "t/s", "ratio", "ratio-1t", "p50_ms", "p99_ms", "ok", "fail",
	       "cfssl/s", "cfssl-db/s", "/cfssl", "/cfssl-db"
}
NF == 10 {
	printf "%-5s %9.1f %11.1f %11.1f %7s %8s %7.2f %7.2f %7d %5d %9.1f %9.1f %8s %8s\n", $1, $2, $3,
	       $4, r($2, $4), r($2, $3), $5, $6, $7, $8, $9, $10, r($2, $9), r($2, $10)
}'
echo "(ratio: enrol/s over the ${WORKERS}-thread crypto-only limit, the goal; ratio-1t: over one"
echo " thread's.  cfssl: a CSR over HTTPS, 1 verify + 1 sign in Go, no CMC, store or audit.)"
if [ "$min_idle" -lt 95 ]; then
	echo "WARNING: the CPUs were only ${min_idle}% idle at one check: other jobs ran, do not quote these figures"
fi
# The idle checks only sample the start and the end.  A crypto-only run
# that other jobs slowed shows in the scaling: with W threads on an idle
# machine the limit is close to min(W, CPUs) times the 1-thread one.
ncpu=$(nproc)
printf '%s' "$results" | awk -v w="$WORKERS" -v n="$ncpu" '
NF == 10 && $3 > 0 { k = w < n ? w : n
	if ($4 < 0.9 * k * $3)
		printf "WARNING: concurrency %s: the %s-thread crypto limit is only %.2f times the 1-thread one (expected about %d): a disturbed run, do not quote it\n", $1, w, $4 / $3, k }'

if [ $failed = 1 ]; then
	echo "enrol.sh: bench_enrol reported failures (see above and the bsfd.log files in $dir)" >&2
	KEEP=1
	exit 1
fi
