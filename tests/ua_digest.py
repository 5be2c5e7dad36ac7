#!/usr/bin/python3
"""GBA HTTP Digest (TS 33.220 Ua, RFC 2617 qop=auth-int) computed in the
test, independently of lib/gba_digest.c, so that curl can talk to the
PKI portal.  username = B-TID, password = base64(Ks_NAF).

usage:
  ua_digest.py authorize CHALLENGE METHOD URI BODY BTID KS_NAF_HEX CNONCE
      CHALLENGE is the WWW-Authenticate value.  Prints the Authorization
      value for one request with nc=00000001.
  ua_digest.py rspauth CHALLENGE AUTH_INFO URI RESPONSE_BODY BTID KS_NAF_HEX CNONCE
      Exit 0 when Authentication-Info's rspauth is the one the server
      must compute for this exchange (the response body is hashed:
      auth-int), 1 otherwise.
"""
import base64
import hashlib
import re
import sys

NC = '00000001'


def params(header):
    scheme, _, rest = header.strip().partition(' ')
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)', rest):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, out


def md5(s):
    return hashlib.md5(s if isinstance(s, bytes) else s.encode()).hexdigest()


def ha1(ch, btid, ks_naf):
    password = base64.b64encode(bytes.fromhex(ks_naf)).decode()
    return md5('%s:%s:%s' % (btid, ch['realm'], password))


def response(h1, ch, a2, cnonce):
    return md5('%s:%s:%s:%s:%s:%s' % (h1, ch['nonce'], NC, cnonce, 'auth-int', md5(a2)))


def body(path):
    with open(path, 'rb') as f:
        return f.read()


def main():
    a = sys.argv
    if len(a) == 9 and a[1] == 'authorize':
        scheme, ch = params(a[2])
        if scheme.lower() != 'digest' or 'auth-int' not in ch.get('qop', '').split(','):
            sys.stderr.write('not a Digest challenge offering auth-int\n')
            return 1
        if ch.get('algorithm', 'MD5').upper() != 'MD5':
            sys.stderr.write('algorithm %s not handled here\n' % ch['algorithm'])
            return 1
        method, uri, btid, ks_naf, cnonce = a[3], a[4], a[6], a[7], a[8]
        h1 = ha1(ch, btid, ks_naf)
        resp = response(h1, ch, '%s:%s:%s' % (method, uri, md5(body(a[5]))), cnonce)
        fields = [('username', btid), ('realm', ch['realm']), ('nonce', ch['nonce']),
                  ('uri', uri), ('response', resp), ('algorithm', 'MD5'),
                  ('cnonce', cnonce)]
        if 'opaque' in ch:
            fields.append(('opaque', ch['opaque']))
        out = ', '.join('%s="%s"' % f for f in fields)
        print('Digest %s, qop=auth-int, nc=%s' % (out, NC))
        return 0
    if len(a) == 9 and a[1] == 'rspauth':
        _, ch = params(a[2])
        _, info = params('x ' + a[3])
        uri, btid, ks_naf, cnonce = a[4], a[6], a[7], a[8]
        h1 = ha1(ch, btid, ks_naf)
        want = response(h1, ch, ':%s:%s' % (uri, md5(body(a[5]))), cnonce)
        ok = (info.get('rspauth') == want and info.get('cnonce', cnonce) == cnonce and
              info.get('nc', NC) == NC and info.get('qop', 'auth-int') == 'auth-int')
        return 0 if ok else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main())
