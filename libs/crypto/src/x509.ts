import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bits, bool, explicit, octets, oid, seq, set, small, time, tlv, uint, utf8 } from './der';

/**
 * A private CA and the certificates Postbote's services present to each other (mutual
 * TLS): ECDSA P-256 keys, SHA-256 signatures, what RFC 5280 requires and nothing else.
 * The common name of a service's certificate is its identity (`config`, `fetcher`, …).
 */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  readonly certificate: X509Certificate;
  readonly key: KeyObject;
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const CN = '2.5.4.3';
const O = '2.5.4.10';
const DAY_MS = 86_400_000;

function name(commonName: string): Buffer {
  return seq(set(seq(oid(O), utf8('Postbote'))), set(seq(oid(CN), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function keyId(spki: Buffer): Buffer {
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's contents. For a
  // P-256 SPKI those are its last 65 bytes (the uncompressed point).
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

interface TbsInput {
  readonly subject: string;
  readonly issuer: string;
  readonly spki: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: Buffer[];
}

function certificate(tbs: TbsInput, signer: KeyObject): Buffer {
  const body = seq(
    explicit(0, small(2)),
    uint(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ECDSA_SHA256,
    name(tbs.issuer),
    seq(time(tbs.notBefore), time(tbs.notAfter)),
    name(tbs.subject),
    tbs.spki,
    explicit(3, seq(...tbs.extensions)),
  );
  return seq(body, ECDSA_SHA256, bits(sign('sha256', body, signer)));
}

function keyPair(): { key: KeyObject; spki: Buffer; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function createCertificateAuthority(options: { commonName: string; days: number; now?: Date }): CertificateAuthority {
  const now = options.now ?? new Date();
  const { key, spki, keyPem } = keyPair();
  const der = certificate(
    {
      subject: options.commonName,
      issuer: options.commonName,
      spki,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + options.days * DAY_MS),
      extensions: [
        extension('2.5.29.19', true, seq(bool(true), small(0))),
        // keyCertSign and cRLSign (bits 5 and 6).
        extension('2.5.29.15', true, bits(Buffer.from([0x06]), 1)),
        extension('2.5.29.14', false, octets(keyId(spki))),
      ],
    },
    key,
  );
  const certPem = pem('CERTIFICATE', der);
  return { certPem, keyPem, certificate: new X509Certificate(certPem), key };
}

export interface LeafOptions {
  /** The identity: a service name for service certificates. */
  readonly commonName: string;
  /** Host names and IP addresses clients connect to (subjectAltName). */
  readonly names: readonly string[];
  readonly days: number;
  readonly now?: Date;
}

/** A certificate for both ends of a connection (serverAuth and clientAuth), signed by `ca`. */
export function issueCertificate(ca: { certificate: X509Certificate; key: KeyObject }, options: LeafOptions): IssuedCertificate {
  const now = options.now ?? new Date();
  const { spki, keyPem } = keyPair();
  const caSpki = ca.certificate.publicKey.export({ type: 'spki', format: 'der' });
  const altNames = options.names.map((n) => {
    const v = isIP(n);
    if (v === 4) return tlv(0x87, Buffer.from(n.split('.').map(Number)));
    if (v === 6) return tlv(0x87, ipv6Bytes(n));
    return tlv(0x82, Buffer.from(n, 'ascii'));
  });
  const notAfter = new Date(Math.min(now.getTime() + options.days * DAY_MS, new Date(ca.certificate.validTo).getTime()));
  const der = certificate(
    {
      subject: options.commonName,
      issuer: ca.certificate.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '',
      spki,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter,
      extensions: [
        extension('2.5.29.19', true, seq()),
        // digitalSignature (bit 0).
        extension('2.5.29.15', true, bits(Buffer.from([0x80]), 7)),
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
        extension('2.5.29.17', false, seq(...altNames)),
        extension('2.5.29.14', false, octets(keyId(spki))),
        extension('2.5.29.35', false, seq(tlv(0x80, keyId(caSpki)))),
      ],
    },
    ca.key,
  );
  return { certPem: pem('CERTIFICATE', der), keyPem };
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g: string) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
