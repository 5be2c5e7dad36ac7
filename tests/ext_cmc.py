#!/usr/bin/python3
"""Build CMC PKIData (RFC 5272/6402) outside the project's code path, for
e2e_cmc.sh and e2e_revoke.sh: pyasn1-modules encodes, openssl signs.  The caller wraps the
result with `openssl cms -sign -econtent_type 1.3.6.1.5.5.7.12.2`.

usage:
  ext_cmc.py new KEY.pem BTID KS_NAF_HEX OUT.der
      A first enrolment: a PKCS#10 for KEY.pem (empty subject, signed
      with `openssl dgst -sha256 -sign`) carrying a popLinkWitnessV2
      attribute and the key's subjectKeyIdentifier in an
      extensionRequest, in a tcr; controls transactionId, senderNonce,
      identification (BTID), identityProofV2 and popLinkRandom.  The
      shared key is SHA-256(Ks_NAF || BTID); identityProofV2 is
      HMAC-SHA256 over the reqSequence DER, popLinkWitnessV2 over the
      popLinkRandom value (notes/cmc.md 2.2-2.3).
  ext_cmc.py renew CSR.der OUT.der
      A renewal: the given PKCS#10 in a tcr, with transactionId and
      senderNonce only; the SignedData signer (an issued certificate)
      authenticates it.
  ext_cmc.py revoke OUT.der [--get-crl N] CERT.pem...
      No reqSequence; transactionId, senderNonce, one revokeRequest
      (reason keyCompromise, issuerName and serialNumber from the
      certificate) per CERT.pem given (the same one twice makes two), then
      N getCRL controls (issuerName only) for the first certificate's
      issuer.  The SignedData signer (the certificate itself, or an RA)
      authenticates it.
"""
import hashlib
import hmac
import os
import subprocess
import sys

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ, char
from pyasn1_modules import rfc2986, rfc5280, rfc6402

ID_CMC = (1, 3, 6, 1, 5, 5, 7, 7)
SHA256 = univ.ObjectIdentifier('2.16.840.1.101.3.4.2.1')
HMAC_SHA256 = univ.ObjectIdentifier('1.2.840.113549.2.9')
ECDSA_SHA256 = univ.ObjectIdentifier('1.2.840.10045.4.3.2')


def control(body_id, n, value):
    attr = rfc6402.TaggedAttribute()
    attr['bodyPartID'] = body_id
    attr['attrType'] = univ.ObjectIdentifier(ID_CMC + (n,))
    attr['attrValues'].append(encoder.encode(value))
    return attr


def witness(key, data):
    w = rfc6402.PopLinkWitnessV2()
    w['keyGenAlgorithm']['algorithm'] = SHA256
    w['macAlgorithm']['algorithm'] = HMAC_SHA256
    w['witness'] = hmac.new(key, data, hashlib.sha256).digest()
    return w


def openssl(args, data=None):
    return subprocess.run(['openssl'] + args, input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def make_csr(key_pem, plr, shared):
    """PKCS#10 for an EC P-256 key, with a popLinkWitnessV2 attribute and
    an extensionRequest for the subjectKeyIdentifier (RFC 5280 method 1)
    that the SignedData's sid names (RFC 5272 3.2.1.3.2)."""
    spki_der = openssl(['pkey', '-in', key_pem, '-pubout', '-outform', 'DER'])
    info = rfc2986.CertificationRequestInfo()
    info['version'] = 0
    info['subject']['rdnSequence'] = rfc2986.RDNSequence()
    info['subjectPKInfo'] = decoder.decode(
        spki_der, asn1Spec=rfc2986.SubjectPublicKeyInfo())[0]
    attr = rfc2986.Attribute()
    attr['type'] = univ.ObjectIdentifier(ID_CMC + (33,))
    attr['values'].append(encoder.encode(witness(shared, plr)))
    info['attributes'].append(attr)
    bits = info['subjectPKInfo']['subjectPublicKey'].asOctets()
    ext = rfc5280.Extension()
    ext['extnID'] = rfc5280.id_ce_subjectKeyIdentifier
    ext['extnValue'] = encoder.encode(
        rfc5280.SubjectKeyIdentifier(hashlib.sha1(bits).digest()))
    exts = rfc5280.Extensions()
    exts.append(ext)
    attr = rfc2986.Attribute()
    attr['type'] = univ.ObjectIdentifier('1.2.840.113549.1.9.14')
    attr['values'].append(encoder.encode(exts))
    info['attributes'].append(attr)
    info_der = encoder.encode(info)
    sig = openssl(['dgst', '-sha256', '-sign', key_pem], info_der)
    csr = rfc6402.CertificationRequest()
    csr['certificationRequestInfo'] = decoder.decode(
        info_der, asn1Spec=csr['certificationRequestInfo'])[0]
    csr['signatureAlgorithm']['algorithm'] = ECDSA_SHA256
    csr['signature'] = univ.BitString.fromOctetString(sig)
    return csr


def pkidata(csr):
    pki = rfc6402.PKIData()
    req = rfc6402.TaggedRequest()
    req['tcr']['bodyPartID'] = 1
    req['tcr']['certificationRequest'] = csr
    pki['reqSequence'].append(req)
    pki['controlSequence'].append(
        control(2, 5, univ.Integer(int.from_bytes(os.urandom(8), 'big') >> 1)))
    pki['controlSequence'].append(control(3, 6, univ.OctetString(os.urandom(16))))
    pki['cmsSequence'].clear()
    pki['otherMsgSequence'].clear()
    return pki


def revoke(args):
    ngetcrl = 0
    if len(args) > 2 and args[0] == '--get-crl':
        ngetcrl, args = int(args[1]), args[2:]
    pki = rfc6402.PKIData()
    pki['reqSequence'].clear()
    pki['controlSequence'].append(
        control(1, 5, univ.Integer(int.from_bytes(os.urandom(8), 'big') >> 1)))
    pki['controlSequence'].append(control(2, 6, univ.OctetString(os.urandom(16))))
    issuer = None
    for pem in args:
        der = openssl(['x509', '-in', pem, '-outform', 'DER'])
        tbs = decoder.decode(der, asn1Spec=rfc5280.Certificate())[0]['tbsCertificate']
        rr = rfc6402.RevokeRequest()
        rr['issuerName'] = decoder.decode(encoder.encode(tbs['issuer']),
                                          asn1Spec=rr['issuerName'])[0]
        rr['serialNumber'] = int(tbs['serialNumber'])
        rr['reason'] = 1
        if issuer is None:
            issuer = rr['issuerName']
        n = len(pki['controlSequence']) + 1
        pki['controlSequence'].append(control(n, 17, rr))
    for _ in range(ngetcrl):
        gc = rfc6402.GetCRL()
        gc['issuerName'] = decoder.decode(encoder.encode(issuer), asn1Spec=gc['issuerName'])[0]
        n = len(pki['controlSequence']) + 1
        pki['controlSequence'].append(control(n, 16, gc))
    pki['cmsSequence'].clear()
    pki['otherMsgSequence'].clear()
    return pki


def main():
    if len(sys.argv) > 3 and sys.argv[1] == 'revoke':
        out = sys.argv[2]
        pki = revoke(sys.argv[3:])
    elif len(sys.argv) == 6 and sys.argv[1] == 'new':
        key_pem, btid, ks_naf, out = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        shared = hashlib.sha256(bytes.fromhex(ks_naf) + btid.encode()).digest()
        plr = os.urandom(32)
        pki = pkidata(make_csr(key_pem, plr, shared))
        proof = rfc6402.IdentifyProofV2()
        proof['proofAlgID']['algorithm'] = SHA256
        proof['macAlgId']['algorithm'] = HMAC_SHA256
        proof['witness'] = hmac.new(shared, encoder.encode(pki['reqSequence']),
                                    hashlib.sha256).digest()
        pki['controlSequence'].append(control(4, 2, char.UTF8String(btid)))
        pki['controlSequence'].append(control(5, 34, proof))
        pki['controlSequence'].append(control(6, 22, univ.OctetString(plr)))
    elif len(sys.argv) == 4 and sys.argv[1] == 'renew':
        csr_der, out = open(sys.argv[2], 'rb').read(), sys.argv[3]
        csr = decoder.decode(csr_der, asn1Spec=rfc6402.CertificationRequest())[0]
        pki = pkidata(csr)
    else:
        sys.stderr.write(__doc__)
        return 2
    with open(out, 'wb') as f:
        f.write(encoder.encode(pki))
    return 0


if __name__ == '__main__':
    sys.exit(main())
