#!/bin/sh
# ccm.sh - CCM delivery figures (bench/README.md, "CCM push").
#
# Starts gba-bsfd with the provisioning NAF on a cleartext listener (no
# --tls-cert: the figures are about the subscription machinery, not
# TLS), a fresh CA (gba-ctl ca init) and the PKI portal policy, then
# runs bench_ccm against it: idle subscriptions and RSS per
# subscription, raw signing rate, fan-out, and latency of a message
# queued by another process.
#
# knobs: SUBS (1000) PROTO (h1 | h2 | h2push) WORKERS (2) POLL_MS (1000)
#        SIGN (4000) LATENCY (200) BENCH_TMPDIR (/tmp) KEEP=1
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BSFD=${BSFD:-$top/bsf/gba-bsfd}
CTL=${CTL:-$top/bsf/gba-ctl}
BENCH=${BENCH:-$top/bench/bench_ccm}
SUBS=${SUBS:-1000}
PROTO=${PROTO:-h1}
WORKERS=${WORKERS:-2}
POLL_MS=${POLL_MS:-1000}
SIGN=${SIGN:-4000}
LATENCY=${LATENCY:-200}
BENCH_TMPDIR=${BENCH_TMPDIR:-/tmp}
KEEP=${KEEP:-0}
for b in "$BSFD" "$CTL" "$BENCH"; do
	[ -x "$b" ] || { echo "ccm.sh: $b not built (make first)" >&2; exit 2; }
done

umask 077
dir=$(mktemp -d "$BENCH_TMPDIR/gba-bench-ccm.XXXXXX")
bsfd=
cleanup() {
	if [ -n "$bsfd" ]; then
		kill -TERM "$bsfd" 2>/dev/null || true
		wait "$bsfd" 2>/dev/null || true
	fi
	if [ "$KEEP" = 1 ]; then
		echo "ccm.sh: state kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== gbacert CCM bench: $(nproc) CPUs, workers=$WORKERS, proto=$PROTO, subs=$SUBS," \
	"poll=${POLL_MS}ms, open files $(ulimit -n) (hard $(ulimit -Hn))"
echo "   state in $dir ($(df -P "$dir" | awk 'NR == 2 { print $1 }'))"

"$CTL" ca init "$dir/ca" --name "bench" >/dev/null
mkdir -p "$dir/pol"
cp "$top/policies/pki-portal.yaml" "$dir/pol/naf.yaml"

"$BSFD" --db "$dir/bench.db" --key-file "$dir/bench.key" --fqdn bsf.bench \
	--ub-port 0 --naf-port 0 --naf-fqdn naf.gbacert.test --ca-dir "$dir/ca" \
	--ca-name gbacert-subscriber-ca --policy-dir "$dir/pol" --naf-secret "$dir/naf.secret" \
	--audit-log "$dir/audit.jsonl" --workers "$WORKERS" --ccm-poll-ms "$POLL_MS" \
	--max-connections "$SUBS" --port-file "$dir/ports" 2>"$dir/bsfd.log" &
bsfd=$!
i=0
while [ ! -s "$dir/ports" ] || ! grep -q '^naf ' "$dir/ports"; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$bsfd" 2>/dev/null; then
		echo "ccm.sh: gba-bsfd did not start:" >&2
		cat "$dir/bsfd.log" >&2
		exit 1
	fi
	sleep 0.05
done
NAF=$(awk '$1 == "naf" { print $2 }' "$dir/ports")

"$BENCH" --db "$dir/bench.db" --key-file "$dir/bench.key" --ca-dir "$dir/ca" \
	--naf-port "$NAF" --pid "$bsfd" --subs "$SUBS" --proto "$PROTO" --threads "$WORKERS" \
	--sign "$SIGN" --latency "$LATENCY" --jitter-ms "$POLL_MS"
rc=$?
grep -c '"event":"ccm' "$dir/audit.jsonl" | sed 's/^/audit ccm records: /'
exit $rc
