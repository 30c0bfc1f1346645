import { sign, verify, type KeyLike, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml, type SignatureAlgorithm } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asXRoadError } from '../../gateway/errors.js';
import { encodeMessage, verifyMessage, type ManifestFields, type MessageStart, type WireMessage } from '../../gateway/message/codec.js';
import { MessageSigner } from '../../gateway/message/signer.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';
import { fixtureVerifier, loadFixturePki, PKI_FILES, readMutations, readVectors, receivingSide, WIRE_V1, wireOf, type WireVector } from '../support/wire-fixtures.js';

/**
 * Issue 21: the codec writes and reads exactly the wire format of a1678c5. The golden vectors
 * (test/fixtures/wire-v1/, recorded by scripts/record-wire-vectors.ts from that commit's
 * encoder) verify; encoding their inputs again gives the same bytes, except the ECDSA
 * SignatureValue (k is random), and that document verifies with xmlsec1 and with xml-crypto;
 * and every recorded bad input is refused with the X-Road type a1678c5 gave it.
 */
const pki = loadFixturePki();
const { vectors } = readVectors();
const { mutations } = readMutations();
const verifier = fixtureVerifier(pki);
const byName = (pairs: ReadonlyArray<[string, string]>, name: string) => pairs.find(([n]) => n === name)?.[1];
const withoutSignatureValue = (xml: string) => xml.replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue/>');

describe('the golden vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s verifies with the codec, stating what was recorded', (_name, v) => {
    const verified = verifyMessage(wireOf(v), v.type, verifier, v.expect);
    expect(verified.head).toEqual(v.inputs.head);
    expect(verified.manifest).toEqual(v.outputs.manifest);
    expect(verified.leaf.toString('base64')).toBe(v.outputs.leaf);
    expect(verified.signature).toBe(v.outputs.signatureDocument);
    expect(verified.chain).toBe(byName(v.outputs.trailers, 'x-camdx-hash-chain'));
  });
});

const startOf = (v: WireVector): MessageStart => ({
  head: v.inputs.head,
  salt: Buffer.from(v.inputs.salt, 'base64'),
  ocspSign: Buffer.from(v.inputs.ocspSign, 'base64'),
  ...(v.inputs.ocspAuth ? { ocspAuth: Buffer.from(v.inputs.ocspAuth, 'base64') } : {}),
  ...(v.inputs.routing ? { routing: v.inputs.routing } : {}),
});

const fieldsOf = (v: WireVector): ManifestFields => ({ ...v.inputs.fields, signedAt: new Date(v.inputs.fields.signedAt) });

/** Encodes each batch of vectors as the gateways do: one MessageSigner, its clock at the recorded signing time, every message of the batch asked for in one turn. */
async function encodeAgain(): Promise<Map<string, WireMessage>> {
  const encoded = new Map<string, WireMessage>();
  const batches = [...new Set(vectors.map((v) => v.inputs.batch.join(',')))].map((names) => vectors.filter((v) => v.inputs.batch.join(',') === names));
  for (const batch of batches) {
    const signer = new MessageSigner(pki.signKey, pki.signCert, { batching: true, clock: () => Date.parse(batch[0]!.inputs.documentSignedAt) });
    const messages = await Promise.all(batch.map((v) => encodeMessage(startOf(v), fieldsOf(v), Buffer.from(v.inputs.body, 'base64'), signer)));
    batch.forEach((v, i) => encoded.set(v.name, messages[i]!));
  }
  return encoded;
}

/** XMLDSig ECDSA is raw r‖s; xml-crypto has no ECDSA of its own. */
class EcdsaSha256 implements SignatureAlgorithm {
  getSignature(signedInfo: Parameters<SignatureAlgorithm['getSignature']>[0], key: KeyLike): string {
    return sign('sha256', Buffer.from(signedInfo as string), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }).toString('base64');
  }
  verifySignature(material: string, key: KeyLike, value: string): boolean {
    return verify('sha256', Buffer.from(material), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }, Buffer.from(value, 'base64'));
  }
  getAlgorithmName(): string {
    return 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
  }
}

function xmlCryptoVerifies(xml: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const sig = new SignedXml({ publicCert: pki.signCert.toString(), getCertFromKeyInfo: () => null });
  sig.SignatureAlgorithms[new EcdsaSha256().getAlgorithmName()] = EcdsaSha256 as unknown as new () => SignatureAlgorithm;
  sig.loadSignature(doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0] as unknown as Node);
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}

describe('encoding the vectors’ inputs again', () => {
  let encoded: Map<string, WireMessage>;
  const tmp = tempDir('camdx-wire-v1-');
  beforeAll(async () => {
    encoded = await encodeAgain();
  });
  afterAll(() => tmp.cleanup());
  const documentOf = (name: string) => Buffer.from(encoded.get(name)!.trailers['x-camdx-signature']!, 'base64').toString('utf8');
  const names = vectors.map((v) => [v.name, v] as const);

  it.each(names)('%s: the same headers in the same order, the same body, manifest and chain', (_name, v) => {
    const again = encoded.get(v.name)!;
    expect(Object.entries(again.headers)).toEqual(v.outputs.headers);
    expect(again.body.toString('base64')).toBe(v.outputs.body);
    expect(Object.keys(again.trailers)).toEqual(v.outputs.trailers.map(([n]) => n));
    expect(again.trailers['x-camdx-manifest']).toBe(byName(v.outputs.trailers, 'x-camdx-manifest'));
    expect(again.trailers['x-camdx-hash-chain']).toBe(byName(v.outputs.trailers, 'x-camdx-hash-chain'));
  });

  it.each(names)('%s: the same signature document but for its SignatureValue', (_name, v) => {
    expect(withoutSignatureValue(documentOf(v.name))).toBe(withoutSignatureValue(v.outputs.signatureDocument));
  });

  it.each(names)('%s: the new document verifies with xml-crypto under the fixture key (and a tampered one does not)', (_name, v) => {
    const xml = documentOf(v.name);
    expect(xmlCryptoVerifies(xml)).toBe(true);
    expect(xmlCryptoVerifies(xml.replace(/<cdx:Count>\d+</, '<cdx:Count>7<'))).toBe(false);
  });

  it.each(names)('%s: the new document verifies with xmlsec1 under the fixture certificate', requireTool('xmlsec1'), async (_name, v) => {
    const file = join(tmp.path, `${v.name}.xml`);
    writeFileSync(file, documentOf(v.name));
    const result = await run('xmlsec1', ['--verify', '--pubkey-cert-pem', join(WIRE_V1, PKI_FILES.signCert), '--enabled-reference-uris', 'empty', '--enabled-key-data', 'key-name', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('OK');
  });

  it('xmlsec1 refuses a document whose SignatureValue is another (the check is sound)', requireTool('xmlsec1'), async () => {
    const xml = documentOf('request');
    const other = /<ds:SignatureValue>([^<]+)</.exec(documentOf('response'))![1]!;
    const file = join(tmp.path, 'swapped.xml');
    writeFileSync(file, xml.replace(/<ds:SignatureValue>[^<]+</, `<ds:SignatureValue>${other}<`));
    const result = await run('xmlsec1', ['--verify', '--pubkey-cert-pem', join(WIRE_V1, PKI_FILES.signCert), '--enabled-reference-uris', 'empty', '--enabled-key-data', 'key-name', file]);
    expect(result.code).not.toBe(0);
  });
});

describe('bad input, refused as a1678c5 refused it', () => {
  const vector = (name: string) => vectors.find((v) => v.name === name)!;

  it.each(Object.entries(mutations).map(([name, m]) => [name, m.type, m] as const))('%s: %s', (_name, _type, m) => {
    const v = vector(m.vector);
    let type = 'accepted';
    try {
      verifyMessage(wireOf(v, m.change), v.type, verifier, { ...v.expect, ...m.change.expect });
    } catch (err) {
      type = asXRoadError(err, receivingSide(v.type)).type;
    }
    expect(type).toBe(m.type);
  });
});
