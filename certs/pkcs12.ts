import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { OID } from './oids.js';

/**
 * PKCS#12 keystores: one private key with its certificate chain, protected by a password.
 *
 * The key is encrypted by node:crypto as a PBES2 EncryptedPrivateKeyInfo (PBKDF2-HMAC-SHA256,
 * AES-256-CBC) — forge's own builder only handles RSA keys, and our defaults are EC. node-forge
 * supplies the ASN.1 encoding of the container and the RFC 7292 MAC key derivation, and parses
 * keystores (EC keys come back as PrivateKeyInfo ASN.1, which node:crypto then imports).
 * The result uses OpenSSL 3's modern defaults (SHA-256 MAC), which OpenSSL, Node's TLS `pfx`
 * option and node-forge all read.
 */

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const MAC_ITERATIONS = 2048;

const oid = (value: string) => asn1.create(U, T.OID, false, asn1.oidToDer(value).getBytes());
const octets = (bytes: Uint8Array) => asn1.create(U, T.OCTETSTRING, false, Buffer.from(bytes).toString('binary'));
const seq = (items: forge.asn1.Asn1[]) => asn1.create(U, T.SEQUENCE, true, items);
const set = (items: forge.asn1.Asn1[]) => asn1.create(U, T.SET, true, items);
const explicit0 = (item: forge.asn1.Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [item]);
const integer = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
const der = (item: forge.asn1.Asn1) => Buffer.from(asn1.toDer(item).getBytes(), 'binary');
const dataContentInfo = (safeBags: forge.asn1.Asn1[]) => seq([oid(OID.pkcs7Data), explicit0(octets(der(seq(safeBags))))]);

function bagAttributes(localKeyId: Buffer | undefined, friendlyName: string | undefined): forge.asn1.Asn1[] {
  const attrs: forge.asn1.Asn1[] = [];
  if (localKeyId) attrs.push(seq([oid(OID.localKeyId), set([octets(localKeyId)])]));
  if (friendlyName) attrs.push(seq([oid(OID.friendlyName), set([asn1.create(U, T.BMPSTRING, false, friendlyName)])]));
  return attrs.length > 0 ? [set(attrs)] : [];
}

export interface KeystoreInput {
  /** Omit for a truststore that holds certificates only. */
  readonly privateKey?: KeyObject;
  /** DER certificates; the first one belongs to the key. */
  readonly certificates: readonly Uint8Array[];
  readonly password: string;
  readonly friendlyName?: string;
}

export function createKeystore(input: KeystoreInput): Buffer {
  const localKeyId = input.privateKey ? randomBytes(20) : undefined;
  const certBags = input.certificates.map((certDer, i) =>
    seq([oid(OID.certBag), explicit0(seq([oid(OID.x509Certificate), explicit0(octets(certDer))])), ...bagAttributes(i === 0 ? localKeyId : undefined, i === 0 ? input.friendlyName : undefined)]),
  );
  const contents = [dataContentInfo(certBags)];
  if (input.privateKey) {
    const encrypted = input.privateKey.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: input.password });
    const keyBag = seq([oid(OID.pkcs8ShroudedKeyBag), explicit0(asn1.fromDer(encrypted.toString('binary'))), ...bagAttributes(localKeyId, input.friendlyName)]);
    contents.push(dataContentInfo([keyBag]));
  }
  const authSafe = der(seq(contents)).toString('binary');

  const salt = randomBytes(16).toString('binary');
  const macKey = forge.pkcs12.generateKey(input.password, forge.util.createBuffer(salt), 3, MAC_ITERATIONS, 32, forge.md.sha256.create());
  const hmac = forge.hmac.create();
  hmac.start('sha256', macKey);
  hmac.update(authSafe);
  const macData = seq([
    seq([seq([oid(OID.sha256), asn1.create(U, T.NULL, false, '')]), asn1.create(U, T.OCTETSTRING, false, hmac.digest().getBytes())]),
    asn1.create(U, T.OCTETSTRING, false, salt),
    integer(MAC_ITERATIONS),
  ]);
  return der(seq([integer(3), seq([oid(OID.pkcs7Data), explicit0(asn1.create(U, T.OCTETSTRING, false, authSafe))]), macData]));
}

export interface Keystore {
  readonly privateKey?: KeyObject;
  readonly certificates: readonly X509Certificate[];
}

/** Reads a keystore (ours, OpenSSL's, or Java's PKCS#12); throws on a wrong password or bad MAC. */
export function readKeystore(p12: Uint8Array, password: string): Keystore {
  let parsed: forge.pkcs12.Pkcs12Pfx;
  try {
    parsed = forge.pkcs12.pkcs12FromAsn1(asn1.fromDer(Buffer.from(p12).toString('binary')), true, password);
  } catch (err) {
    throw new Error(`cannot open the PKCS#12 keystore: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  let privateKey: KeyObject | undefined;
  const certificates: X509Certificate[] = [];
  for (const safe of parsed.safeContents) {
    for (const bag of safe.safeBags) {
      const bagAsn1 = (bag as { asn1?: forge.asn1.Asn1 }).asn1;
      if (bag.type === forge.pki.oids.certBag) {
        const certDer = bag.cert ? der(forge.pki.certificateToAsn1(bag.cert)) : der(bagAsn1!);
        certificates.push(new X509Certificate(certDer));
      } else if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bagAsn1!;
        privateKey = createPrivateKey({ key: der(info), format: 'der', type: 'pkcs8' });
      }
    }
  }
  if (certificates.length === 0) throw new Error('the PKCS#12 keystore holds no certificate');
  // The key's certificate goes first, whatever order the file used.
  if (privateKey) {
    const i = certificates.findIndex((c) => c.checkPrivateKey(privateKey!));
    if (i < 0) throw new Error('the PKCS#12 keystore holds no certificate for its key');
    certificates.unshift(...certificates.splice(i, 1));
  }
  return privateKey ? { privateKey, certificates } : { certificates };
}
