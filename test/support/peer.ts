import https from 'node:https';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { decodeManifest, encodeHead, encodeManifest, H, manifestLeaf, MESSAGE_PATH, newSalt, saltedDigest, TRAILERS, type Manifest, type RequestHead } from '../../gateway/message/format.js';
import { XmlBatchSigner } from '../../gateway/message/xmldsig.js';

/** The parts of one message on the wire between gateways. */
export interface WireMessage {
  headers: Record<string, string>;
  body: Buffer;
  trailers: Record<string, string>;
}

export interface WireResponse extends WireMessage {
  status: number;
}

export interface TlsIdentity {
  readonly key: KeyObject;
  readonly chain: readonly X509Certificate[];
}

/** Sends a message to a gateway's peer port as some TLS identity, without checking who answers. */
export function sendToPeer(url: string, tls: TlsIdentity, msg: WireMessage): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}${MESSAGE_PATH}`, {
      method: 'POST',
      headers: { ...msg.headers, trailer: TRAILERS },
      key: tls.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: tls.chain.map((c) => c.toString()).join(''),
      rejectUnauthorized: false,
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
          body: Buffer.concat(chunks),
          trailers: Object.fromEntries(Object.entries(res.trailers).map(([k, v]) => [k, String(v)])),
        }),
      );
    });
    req.on('error', reject);
    req.write(msg.body);
    req.addTrailers(msg.trailers);
    req.end();
  });
}

/**
 * Builds a request message as a consumer gateway would, signed with whatever key and
 * certificate the caller chooses — the tool of a forger.
 */
export function craftRequest(o: {
  signKey: KeyObject;
  signCert: X509Certificate;
  signOcsp: Buffer;
  authOcsp: Buffer;
  client: string;
  service: string;
  head: RequestHead;
  body: Buffer;
  id?: string;
  signedAt?: Date;
}): WireMessage {
  const salt = newSalt();
  const headText = encodeHead(o.head);
  const manifest: Manifest = {
    v: 1,
    type: 'request',
    id: o.id ?? `forged-${Date.now()}`,
    requestId: `forged-request-${Math.random().toString(16).slice(2)}`,
    client: o.client,
    service: o.service,
    signedAt: (o.signedAt ?? new Date()).toISOString(),
    salt: salt.toString('base64'),
    headDigest: saltedDigest(salt, Buffer.from(headText, 'base64url')),
    bodyDigest: saltedDigest(salt, o.body),
    bodyBytes: o.body.length,
  };
  const encoded = encodeManifest(manifest);
  const xml = new XmlBatchSigner(o.signKey, o.signCert).sign({ root: manifestLeaf(encoded.bytes), count: 1, signedAt: new Date() });
  return {
    headers: {
      'content-type': 'application/octet-stream',
      [H.head]: headText,
      'x-camdx-salt': salt.toString('base64'),
      [H.ocspSign]: o.signOcsp.toString('base64'),
      [H.ocspAuth]: o.authOcsp.toString('base64'),
      [H.client]: o.client,
      [H.service]: o.service,
      [H.id]: manifest.id,
    },
    body: o.body,
    trailers: { [H.manifest]: encoded.text, [H.chain]: '', [H.signature]: Buffer.from(xml).toString('base64') },
  };
}

/**
 * Rewrites the head of a message in flight (request or response) and signs it again with a
 * real signing key, as a modified gateway of that member would: `edit` gets the head's JSON
 * (method, path, query, headers — or status, headers) and may change anything, including
 * what no honest gateway would send. The manifest's head digest, the leaf and the signature
 * document are made anew; the salt, the body and everything else stay.
 */
export function resignHead(msg: WireMessage, signer: { key: KeyObject; cert: X509Certificate }, edit: (head: { headers: Array<[string, string]> } & Record<string, unknown>) => void): void {
  const head = JSON.parse(Buffer.from(msg.headers[H.head]!, 'base64url').toString('utf8')) as { headers: Array<[string, string]> } & Record<string, unknown>;
  edit(head);
  const headText = Buffer.from(JSON.stringify(head)).toString('base64url');
  const salt = Buffer.from(msg.headers['x-camdx-salt']!, 'base64');
  const { manifest } = decodeManifest(msg.trailers[H.manifest]);
  const encoded = encodeManifest({ ...manifest, headDigest: saltedDigest(salt, Buffer.from(headText, 'base64url')) });
  const xml = new XmlBatchSigner(signer.key, signer.cert).sign({ root: manifestLeaf(encoded.bytes), count: 1, signedAt: new Date() });
  msg.headers[H.head] = headText;
  msg.trailers = { [H.manifest]: encoded.text, [H.chain]: '', [H.signature]: Buffer.from(xml).toString('base64') };
}
