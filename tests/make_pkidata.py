#!/usr/bin/python3
"""Build a CMC PKIData (RFC 5272) with pyasn1-modules, independently of
the project's codecs, for the interop tests.

usage: make_pkidata.py CSR.der OUT.der

The PKIData carries transactionId (wider than 64 bits), senderNonce,
identification (a B-TID), identityProofV2 (SHA-256 key, HMAC-SHA256 over
the DER of reqSequence) and popLinkRandom, and one tcr request holding
the given PKCS#10.
"""
import hashlib
import hmac
import sys

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ, char
from pyasn1_modules import rfc2986, rfc5280, rfc6402

ID_CMC = (1, 3, 6, 1, 5, 5, 7, 7)


def control(body_id, n, value):
    attr = rfc6402.TaggedAttribute()
    attr['bodyPartID'] = body_id
    attr['attrType'] = univ.ObjectIdentifier(ID_CMC + (n,))
    attr['attrValues'].append(encoder.encode(value))
    return attr


def main():
    csr_der = open(sys.argv[1], 'rb').read()
    csr, rest = decoder.decode(csr_der, asn1Spec=rfc2986.CertificationRequest())
    assert not rest

    pki = rfc6402.PKIData()
    req = rfc6402.TaggedRequest()
    tcr = req['tcr']
    tcr['bodyPartID'] = 2
    tcr['certificationRequest'] = decoder.decode(
        csr_der, asn1Spec=rfc6402.CertificationRequest())[0]
    pki['reqSequence'].append(req)
    req_seq_der = encoder.encode(pki['reqSequence'])

    btid = 'I1U8vpY3qJ0hiuZNrke/NQ==@bsf.mnc001.mcc001.pub.3gppnetwork.org'
    secret = bytes.fromhex(
        '7a205ce786b14dad6f28d1f8b39d74aba2a172a3c134043bb036912e2036b610')
    key = hashlib.sha256(secret + btid.encode()).digest()
    proof = rfc6402.IdentifyProofV2()
    proof['proofAlgID']['algorithm'] = univ.ObjectIdentifier('2.16.840.1.101.3.4.2.1')
    proof['macAlgId']['algorithm'] = univ.ObjectIdentifier('1.2.840.113549.2.9')
    proof['witness'] = hmac.new(key, req_seq_der, hashlib.sha256).digest()

    pki['controlSequence'].append(control(1, 5, univ.Integer(0x0123456789abcdef0123)))
    pki['controlSequence'].append(control(3, 6, univ.OctetString(b'\x5a' * 16)))
    pki['controlSequence'].append(control(4, 2, char.UTF8String(btid)))
    pki['controlSequence'].append(control(5, 34, proof))
    pki['controlSequence'].append(control(6, 22, univ.OctetString(b'\xa5' * 64)))
    # empty cmsSequence and otherMsgSequence are still encoded
    pki['cmsSequence'].clear()
    pki['otherMsgSequence'].clear()
    open(sys.argv[2], 'wb').write(encoder.encode(pki))


if __name__ == '__main__':
    main()
