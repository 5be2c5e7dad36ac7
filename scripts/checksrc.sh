#!/bin/sh
# checksrc.sh - source rules that a compiler does not enforce.
#  1. banned functions in our C code (gen/ is generated and exempt);
#  2. each third-party header is included by exactly one file;
#  3. asn1c headers (gen/) only from the wrapper module.
# Usage: checksrc.sh [top_srcdir]
set -u
top=${1:-.}
cd "$top" || exit 2
fail=0
files=$(ls lib/*.c lib/*.h ue/*.c ue/*.h bsf/*.[ch] naf/*.[ch] tests/*.c tests/*.h \
	fuzz/*.c bench/*.c 2>/dev/null)

banned='(^|[^_a-z0-9])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|strncpy|alloca|system|popen|rand|random|srand)[[:space:]]*\('
for f in $files; do
	if grep -nE "$banned" "$f" | grep -v 'checksrc: allow'; then
		echo "checksrc: $f: banned function" >&2
		fail=1
	fi
done

# Third-party headers: <x/y.h> or <y.h> that are not libc/POSIX.
for h in $(grep -ho '#include <[^>]*>' $files | sort -u | sed 's/#include <\(.*\)>/\1/'); do
	case $h in
	gnutls/*|nghttp2/*|yaml.h|sqlite3.h|ev.h|jansson.h|http_parser.h) ;;
	*) continue ;;
	esac
	n=$(grep -l "#include <$h>" $files | grep -v '^tests/\|^fuzz/\|^bench/' | wc -l)
	if [ "$n" -gt 1 ]; then
		echo "checksrc: <$h> is included by $n modules:" >&2
		grep -l "#include <$h>" $files | grep -v '^tests/\|^fuzz/\|^bench/' >&2
		fail=1
	fi
done

# Generated asn1c headers: only lib/gba_asn1*.c may include them.
for f in $files; do
	case $f in lib/gba_asn1*.c) continue ;; esac
	if grep -nE '#include "(asn_application|constr_|ContentInfo|Certificate|PKIData|CertConfigMessage)' "$f"; then
		echo "checksrc: $f includes a generated asn1c header" >&2
		fail=1
	fi
done

exit $fail
