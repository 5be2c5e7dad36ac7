#!/usr/bin/python3
"""Build a CMC PKIData (RFC 5272) with pyasn1-modules, independently of
the project's codecs, for the interop tests.

usage: make_pkidata.py CSR.der OUT.der [--crm REQSEQ.der]

The PKIData carries transactionId (wider than 64 bits), senderNonce,
identification (a B-TID), identityProofV2 (SHA-256 key, HMAC-SHA256 over
the DER of reqSequence) and popLinkRandom, and one tcr request holding
the given PKCS#10.  With --crm it also carries a crm request (certReqId
7, template subject and publicKey from the CSR, a popLinkWitnessV2
control, POP raVerified) and writes the reqSequence DER it encoded to
REQSEQ.der.
"""
import hashlib
import hmac
import sys

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ, char
from pyasn1_modules import rfc2986, rfc3280, rfc5280, rfc6402

ID_CMC = (1, 3, 6, 1, 5, 5, 7, 7)


def control(body_id, n, value):
    attr = rfc6402.TaggedAttribute()
    attr['bodyPartID'] = body_id
    attr['attrType'] = univ.ObjectIdentifier(ID_CMC + (n,))
    attr['attrValues'].append(encoder.encode(value))
    return attr


def crm_request(csr):
    info = csr['certificationRequestInfo']
    req = rfc6402.TaggedRequest()
    crm = req['crm']
    crm['certReq']['certReqId'] = 7
    tpl = crm['certReq']['certTemplate']
    name = decoder.decode(encoder.encode(info['subject']), asn1Spec=rfc3280.Name())[0]
    tpl['subject']['rdnSequence'] = name['rdnSequence']
    spk = info['subjectPKInfo']
    tpl['publicKey']['algorithm']['algorithm'] = spk['algorithm']['algorithm']
    tpl['publicKey']['algorithm']['parameters'] = spk['algorithm']['parameters']
    tpl['publicKey']['subjectPublicKey'] = spk['subjectPublicKey']
    link = rfc6402.PopLinkWitnessV2()
    link['keyGenAlgorithm']['algorithm'] = univ.ObjectIdentifier('2.16.840.1.101.3.4.2.1')
    link['macAlgorithm']['algorithm'] = univ.ObjectIdentifier('1.2.840.113549.2.9')
    link['witness'] = b'\x42' * 32
    ctl = crm['certReq']['controls']
    atv = ctl.componentType.clone()
    atv['type'] = univ.ObjectIdentifier(ID_CMC + (33,))
    atv['value'] = encoder.encode(link)
    ctl.append(atv)
    crm['popo']['raVerified'] = crm['popo'].componentType['raVerified'].asn1Object.clone('')
    return req


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
    if len(sys.argv) == 5 and sys.argv[3] == '--crm':
        pki['reqSequence'].append(crm_request(csr))
    req_seq_der = encoder.encode(pki['reqSequence'])
    if len(sys.argv) == 5:
        open(sys.argv[4], 'wb').write(req_seq_der)

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
