#!/bin/sh
# Install every Debian package gbacert needs to build, test and fuzz.
# Does nothing when all of them are already present.
set -eu

# nghttp2-server and golang-cfssl are only the benches' baselines
# (bench/run.sh: nghttpd; bench/enrol.sh: cfssl serve).
PKGS="build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev \
asn1c libgnutls28-dev libnghttp2-dev libyaml-dev libsqlite3-dev libev-dev \
libjansson-dev libhttp-parser-dev check \
openssl gnutls-bin nghttp2-client nghttp2-server curl \
python3 python3-pyasn1-modules softhsm2 golang-cfssl"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
