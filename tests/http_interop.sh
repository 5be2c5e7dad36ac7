#!/bin/sh
# http_interop.sh - the HTTP layer against independent clients: curl
# (HTTP/1.1, h2 over TLS, h2c prior knowledge) and nghttp (h2c and TLS,
# server push).  Skips (77) when curl or nghttp is missing.
set -u
: "${top_builddir:=..}"
ECHO=${HTTP_ECHO:-./http_echo}
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
command -v nghttp >/dev/null 2>&1 || { echo "nghttp not found: skipped"; exit 77; }
curl --version | grep -q HTTP2 || { echo "curl without HTTP/2: skipped"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/http_interop.XXXXXX") || exit 99
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

fail=0
check() {  # what expected got
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected '$2', got '$3'"
		fail=1
	fi
}

# start NAME ARGS...: run http_echo, wait (bounded) for its port file.
start() {
	name=$1
	shift
	"$ECHO" --port-file "$dir/$name.port" "$@" 2>"$dir/$name.err" &
	pids="$pids $!"
	i=0
	while [ ! -s "$dir/$name.port" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "FAIL $name did not report its port"; cat "$dir/$name.err"; exit 1
		fi
		kill -0 "$!" 2>/dev/null || { echo "FAIL $name exited"; cat "$dir/$name.err"; exit 1; }
		# Poll the file: 200 x 50 ms at most, not a fixed delay.
		sleep 0.05
	done
	read -r port < "$dir/$name.port"
	eval "${name}_port=$port"
}

"$ECHO" --make-pki "$dir" || { echo "FAIL cannot make the PKI"; exit 1; }
start clear
start tls --tls "$dir/server.pem" "$dir/server.key" --client-ca "$dir/ca.pem"
C="http://127.0.0.1:$clear_port"
T="https://127.0.0.1:$tls_port"
printf 'interop body' > "$dir/body"

out=$(curl -s --http1.1 -o "$dir/r1" -w '%{http_code} %{http_version}' \
	--data-binary @"$dir/body" -H 'X-Foo: one' "$C/echo")
check "curl --http1.1 cleartext" "200 1.1" "$out"
check "curl --http1.1 echoed body" "interop body" "$(cat "$dir/r1")"

out=$(curl -s --http2-prior-knowledge -o "$dir/r2" -w '%{http_code} %{http_version}' \
	--data-binary @"$dir/body" "$C/echo")
check "curl --http2-prior-knowledge (h2c)" "200 2" "$out"
check "curl h2c echoed body" "interop body" "$(cat "$dir/r2")"

out=$(curl -s --http2 --cacert "$dir/ca.pem" -o "$dir/r3" -w '%{http_code} %{http_version}' \
	--data-binary @"$dir/body" "$T/echo")
check "curl --http2 over TLS (ALPN h2)" "200 2" "$out"
check "curl h2 echoed body" "interop body" "$(cat "$dir/r3")"

out=$(curl -s --http1.1 --cacert "$dir/ca.pem" -o "$dir/r4" -w '%{http_code} %{http_version}' \
	--data-binary @"$dir/body" "$T/echo")
check "curl --http1.1 over TLS (ALPN http/1.1)" "200 1.1" "$out"
check "curl https/1.1 echoed body" "interop body" "$(cat "$dir/r4")"

out=$(curl -s --http2 --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key" \
	-o "$dir/r5" -w '%{http_code}' "$T/cert")
check "curl with a client certificate" "200" "$out"
check "client certificate seen by the handler" "$(od -An -tx1 "$dir/client.der")" \
	"$(od -An -tx1 "$dir/r5")"

out=$(curl -s --http2 --cacert "$dir/ca.pem" -o /dev/null -w '%{http_code}' "$T/nowhere")
check "curl 404" "404" "$out"

head -c 100000 /dev/zero > "$dir/big"
out=$(curl -s --http1.1 -o /dev/null -w '%{http_code}' --data-binary @"$dir/big" "$C/echo")
check "curl --http1.1 oversize body" "413" "$out"
out=$(curl -s --http2 --cacert "$dir/ca.pem" -o /dev/null -w '%{http_code}' \
	--data-binary @"$dir/big" "$T/echo")
check "curl --http2 oversize body" "413" "$out"

nghttp -nv "$C/push" > "$dir/n1" 2>&1
check "nghttp h2c status" "1" "$(grep -c ':status: 200' "$dir/n1" | awk '{print ($1 >= 1)}')"
check "nghttp h2c push promise" "1" "$(grep -c 'recv PUSH_PROMISE' "$dir/n1" | awk '{print ($1 == 2)}')"
check "nghttp h2c pushed path" "1" "$(grep -c ':path: /pushed/a' "$dir/n1" | awk '{print ($1 >= 1)}')"

nghttp -nv "$T/push" > "$dir/n2" 2>&1
check "nghttp TLS push promise" "1" "$(grep -c 'recv PUSH_PROMISE' "$dir/n2" | awk '{print ($1 == 2)}')"
check "nghttp TLS pushed path" "1" "$(grep -c ':path: /pushed/b' "$dir/n2" | awk '{print ($1 >= 1)}')"

nghttp -nv "$T/echo" -d "$dir/body" > "$dir/n3" 2>&1
check "nghttp TLS POST" "1" "$(grep -c ':status: 200' "$dir/n3" | awk '{print ($1 >= 1)}')"

# The daemons still answer, then stop cleanly on SIGTERM.
out=$(curl -s --http1.1 -o /dev/null -w '%{http_code}' "$C/echo")
check "still serving" "200" "$out"
for p in $pids; do
	kill -TERM "$p"
	wait "$p"
	check "graceful exit of $p" "0" "$?"
done
pids=
if [ $fail -ne 0 ]; then
	for f in "$dir"/n*; do echo "== $f"; cat "$f"; done
fi
exit $fail
