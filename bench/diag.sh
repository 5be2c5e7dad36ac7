#!/bin/sh
# diag.sh - one bench_bsf run against a fresh gba-bsfd, observed.
#
#   bench/diag.sh plain|cpu|strace|perf ub|zn [WORKERS [CONC [SECS]]]
#
#   plain   just the bench_bsf result line
#   cpu     CPU% per thread of gba-bsfd and bench_bsf over the middle of
#           the run (utime+stime from /proc, like top -H)
#   strace  strace -c -f of gba-bsfd: syscalls per operation
#   perf    perf record --call-graph dwarf of gba-bsfd, then a report of
#           the heaviest inclusive symbols (perf.data kept in the state dir)
#
# Defaults: WORKERS 2, CONC 8, SECS 8.  BENCH_TMPDIR (default /tmp) is
# where the state and the SQLite database go: BENCH_TMPDIR=/dev/shm puts
# them on tmpfs, which takes fsync out (a diagnostic, not a figure to
# quote).  Expects a built tree, like run.sh.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-}
mode=${2:-}
WORKERS=${3:-2}
CONC=${4:-8}
SECS=${5:-8}
NSUBS=${NSUBS:-1000}
BENCH_TMPDIR=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
case $what/$mode in
plain/ub|plain/zn|cpu/ub|cpu/zn|strace/ub|strace/zn|perf/ub|perf/zn) ;;
*) echo "usage: diag.sh plain|cpu|strace|perf ub|zn [WORKERS [CONC [SECS]]]" >&2; exit 2 ;;
esac

umask 077
dir=$(mktemp -d "$BENCH_TMPDIR/gba-diag.XXXXXX")
bsfd=
cleanup() {
	if [ -n "$bsfd" ]; then
		kill -TERM "$bsfd" 2>/dev/null || true
		wait "$bsfd" 2>/dev/null || true
	fi
	if [ "$what" = perf ]; then
		echo "diag.sh: perf data kept in $dir/perf.data" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

st=$dir/state
mkdir -p "$st"
od -An -v -tx1 -w32 -N $((32 * NSUBS)) /dev/urandom | tr -d ' ' |
	awk '{ printf "bench%06d@ims.mnc001.mcc001.3gppnetwork.org %s %s 8000 0\n", NR, substr($0, 1, 32), substr($0, 33, 32) }' \
	> "$dir/subs.txt"
"$top/bsf/gba-ctl" --db "$st/bsf.db" --key-file "$st/bsf.key" subscriber import "$dir/subs.txt" >/dev/null
"$top/bsf/gba-bsfd" --demo "$st" --ub-port 0 --zn-port 0 --workers "$WORKERS" \
	--port-file "$dir/ports" 2> "$dir/bsfd.log" &
bsfd=$!
i=0
while [ ! -s "$dir/ports" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $bsfd 2>/dev/null; then
		cat "$dir/bsfd.log" >&2
		exit 1
	fi
	sleep 0.05
done
UB=$(awk '$1 == "ub" { print $2 }' "$dir/ports")
ZN=$(awk '$1 == "zn" { print $2 }' "$dir/ports")
echo "diag: $what $mode workers=$WORKERS conc=$CONC secs=$SECS state on $(df -P "$dir" | awk 'NR == 2 { print $1 }')"

# strace: attached for the whole run, so calls / operations is exact
# (up to the Zn set-up: one bootstrap and one warm-up per thread).
sp=
if [ "$what" = strace ]; then
	strace -c -f -p $bsfd -o "$dir/strace.txt" 2>/dev/null &
	sp=$!
	sleep 1
fi
"$top/bench/bench_bsf" --mode "$mode" --ub "http://127.0.0.1:$UB" --http2 \
	--zn "https://127.0.0.1:$ZN" --ca "$st/ca.pem" --cert "$st/naf.pem" --key "$st/naf-key.pem" \
	--subscribers "$dir/subs.txt" --concurrency "$CONC" --duration "$SECS" > "$dir/result" &
bench=$!
# Skip the set-up (Zn bootstraps one B-TID per thread first).
sleep 2
win=$((SECS - 3))
[ $win -ge 1 ] || win=1

cpu_snap() {
	for p in "$@"; do
		for t in /proc/$p/task/*; do
			echo "$p $(basename "$t") $(cut -d' ' -f14,15 "$t/stat" 2>/dev/null)"
		done
	done
}
case $what in
cpu)
	a=$(cpu_snap $bsfd $bench)
	sleep $win
	b=$(cpu_snap $bsfd $bench)
	printf '%s\n--\n%s\n' "$a" "$b" | awk -v s=$win -v hz="$(getconf CLK_TCK)" \
		-v d=$bsfd '$0 == "--" { n = 1; next }
		!n { u[$1 " " $2] = $3 + $4; next }
		{ x = $3 + $4 - u[$1 " " $2]; tot[$1] += x
		  if (x > 0.03 * hz * s) printf "  %-9s thread %-7s %5.1f%%\n", $1 == d ? "gba-bsfd" : "bench_bsf", $2, 100 * x / hz / s }
		END { for (p in tot) printf "  %-9s total          %5.1f%%\n", p == d ? "gba-bsfd" : "bench_bsf", 100 * tot[p] / hz / s }'
	;;
perf)
	perf record -q -F 499 --call-graph dwarf,16384 -p $bsfd -o "$dir/perf.data" -- sleep $win \
		> /dev/null 2>&1 || echo "diag.sh: perf record failed" >&2
	;;
esac
wait $bench || true
if [ -n "$sp" ]; then
	kill -INT $sp
	wait $sp || true
fi
cat "$dir/result"
case $what in
strace)
	ops=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ok=/) { sub("ok=", "", $i); print $i } }' "$dir/result")
	echo "syscalls of gba-bsfd during the run ($ops operations; strace slows it down):"
	awk -v ops="$ops" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ {
		printf "  %-16s %9d calls  %7.2f per operation  %8d us/call\n", $NF, $4, $4 / ops, $3 }' \
		"$dir/strace.txt" | head -12
	;;
perf)
	perf report -i "$dir/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9]' | grep -vE '0x0000|\[k\] (entry_|do_syscall|__x64_sys_|__sys_)' | head -40
	;;
esac
