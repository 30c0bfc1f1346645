import https from 'node:https';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { encodeHead, encodeManifest, H, manifestLeaf, MESSAGE_PATH, newSalt, saltedDigest, TRAILERS, type Manifest, type RequestHead } from '../../gateway/message/format.js';
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
