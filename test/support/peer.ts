import https from 'node:https';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { encodeMessageNow, manifestOf, sealWith, startMessage, type WireMessage } from '../../gateway/message/codec.js';
import { decodeManifest, H, MESSAGE_PATH, newSalt, TRAILERS, type RequestHead } from '../../gateway/message/format.js';
import { MessageSigner } from '../../gateway/message/signer.js';

/** The parts of one message on the wire between gateways. */
export type { WireMessage };

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

/** Signs one leaf at once with whatever key and certificate the caller chooses. */
const signAlone = (key: KeyObject, cert: X509Certificate) => {
  const signer = new MessageSigner(key, cert, { batching: false });
  return (leaf: Buffer) => signer.signNow([leaf])[0]!;
};

/**
 * Builds a request message with the gateways' own codec, signed with whatever key and
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
  const id = o.id ?? `forged-${Date.now()}`;
  const start = { head: o.head, salt: newSalt(), ocspSign: o.signOcsp, ocspAuth: o.authOcsp, routing: { client: o.client, service: o.service, id } };
  const fields = {
    type: 'request',
    id,
    requestId: `forged-request-${Math.random().toString(16).slice(2)}`,
    client: o.client,
    service: o.service,
    signedAt: o.signedAt ?? new Date(),
  } as const;
  const { headers, body, trailers } = encodeMessageNow(start, fields, o.body, signAlone(o.signKey, o.signCert));
  return { headers, body, trailers };
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
  const { manifest } = decodeManifest(msg.trailers[H.manifest]);
  const started = startMessage({ head: head as unknown as RequestHead, salt: Buffer.from(msg.headers[H.salt]!, 'base64'), ocspSign: Buffer.alloc(0) });
  const unsigned = manifestOf(started, { ...manifest, signedAt: new Date(manifest.signedAt) }, { digest: manifest.bodyDigest, bytes: manifest.bodyBytes });
  const sealed = sealWith(unsigned, signAlone(signer.key, signer.cert)(unsigned.leaf));
  msg.headers[H.head] = started.headers[H.head]!;
  msg.trailers = sealed.trailers;
}
