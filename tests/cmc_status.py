#!/usr/bin/python3
"""Print the statuses of a CMC PKIResponse (RFC 5272), read with
pyasn1-modules, independently of the project's codecs.

usage: cmc_status.py [--text] PKIRESPONSE.der

The input is the eContent of a Full PKI Response, e.g. what
`openssl cms -verify -out` writes.  One line per statusInfoV2 control:

    BODYPARTS STATUS FAILINFO

BODYPARTS is the bodyList joined with ',' (a bodyPartPath as ids joined
with '/'), STATUS and FAILINFO the RFC names (FAILINFO '-' without a
failInfo).  --text appends the statusString.  Exit status 1 when the
input is not a DER PKIResponse or holds no statusInfoV2.
"""
import sys

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import char, namedtype, univ
from pyasn1_modules import rfc6402

ID_CMC_STATUS_INFO_V2 = univ.ObjectIdentifier('1.3.6.1.5.5.7.7.25')


# rfc6402.CMCStatusInfoV2 cannot be decoded (pendInfo and extendedFailInfo
# are both untagged SEQUENCEs); the same type without extendedFailInfo,
# which RFC 5274 says not to send, from rfc6402's own components.
class OtherInfo(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('failInfo', rfc6402.CMCFailInfo()),
        namedtype.NamedType('pendInfo', rfc6402.PendInfo()))


class StatusV2(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType('cMCStatus', rfc6402.CMCStatus()),
        namedtype.NamedType('bodyList',
                            univ.SequenceOf(componentType=rfc6402.BodyPartReference())),
        namedtype.OptionalNamedType('statusString', char.UTF8String()),
        namedtype.OptionalNamedType('otherInfo', OtherInfo()))


def body_ref(ref):
    if ref.getName() == 'bodyPartID':
        return str(int(ref['bodyPartID']))
    return '/'.join(str(int(x)) for x in ref['bodyPartPath'])


def main():
    args = sys.argv[1:]
    text = bool(args) and args[0] == '--text'
    if text:
        args = args[1:]
    if len(args) != 1:
        sys.stderr.write('usage: cmc_status.py [--text] PKIRESPONSE.der\n')
        return 2
    data = open(args[0], 'rb').read()
    resp, rest = decoder.decode(data, asn1Spec=rfc6402.PKIResponse())
    if rest or encoder.encode(resp) != data:
        sys.stderr.write('cmc_status: not a DER PKIResponse\n')
        return 1
    n = 0
    for attr in resp['controlSequence']:
        if attr['attrType'] != ID_CMC_STATUS_INFO_V2:
            continue
        for value in attr['attrValues']:
            st, rest = decoder.decode(value, asn1Spec=StatusV2())
            if rest:
                sys.stderr.write('cmc_status: trailing bytes in a statusInfoV2\n')
                return 1
            fail = '-'
            if st['otherInfo'].isValue and st['otherInfo'].getName() == 'failInfo':
                fail = st['otherInfo']['failInfo'].prettyPrint()
            line = '%s %s %s' % (','.join(body_ref(r) for r in st['bodyList']),
                                 st['cMCStatus'].prettyPrint(), fail)
            if text and st['statusString'].isValue:
                line += ' ' + str(st['statusString'])
            print(line)
            n += 1
    if n == 0:
        sys.stderr.write('cmc_status: no statusInfoV2\n')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
