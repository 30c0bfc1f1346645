import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { close, listen } from '../../common/http.js';
import { TRAILERS } from '../../gateway/message/format.js';
import type { TestNetwork } from './network.js';
import { sendToPeer, type TlsIdentity, type WireMessage, type WireResponse } from './peer.js';

export interface Mitm {
  readonly port: number;
  /** Changes the next requests (or responses) in flight; undefined relays faithfully. */
  tamperRequest: ((m: WireMessage) => void) | undefined;
  tamperResponse: ((m: WireResponse) => void) | undefined;
  /** Answer with this instead of the real response (a response swapped from another request). */
  replaceResponse: WireResponse | undefined;
  lastRequest: WireMessage | undefined;
  lastResponse: WireResponse | undefined;
  close(): Promise<void>;
}

async function readMessage(req: IncomingMessage): Promise<WireMessage> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-camdx-') || k === 'content-type') headers[k] = String(v);
  return { headers, body: Buffer.concat(chunks), trailers: Object.fromEntries(Object.entries(req.trailers).map(([k, v]) => [k, String(v)])) };
}

/**
 * A man in the middle who holds valid authentication keys: it answers the consumer gateway
 * as the provider's server (its key, and its stapled OCSP response) and calls the provider as
 * the consumer's server. Transport security is therefore fully broken; only message security
 * stands between it and the provider.
 */
export async function startMitm(o: { asProvider: TlsIdentity; providerOcsp: () => Promise<Buffer>; asConsumer: TlsIdentity; providerUrl: string }): Promise<Mitm> {
  const staple = await o.providerOcsp();
  const state: Mitm = { port: 0, tamperRequest: undefined, tamperResponse: undefined, replaceResponse: undefined, lastRequest: undefined, lastResponse: undefined, close: async () => undefined };
  const server = https.createServer(
    { key: o.asProvider.key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: o.asProvider.chain.map((c) => c.toString()).join(''), requestCert: false },
    (req, res) => {
      void (async () => {
        const msg = await readMessage(req);
        state.tamperRequest?.(msg);
        state.lastRequest = structuredClone(msg);
        const answer = state.replaceResponse ?? (await sendToPeer(o.providerUrl, o.asConsumer, msg));
        state.lastResponse = structuredClone(answer);
        state.tamperResponse?.(answer);
        const relayed = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => k.startsWith('x-camdx-') || k === 'content-type' || k === 'x-road-error'));
        res.writeHead(answer.status, { ...relayed, ...(Object.keys(answer.trailers).length ? { trailer: TRAILERS } : {}) });
        res.write(answer.body);
        if (Object.keys(answer.trailers).length) res.addTrailers(answer.trailers);
        res.end();
      })().catch(() => res.destroy());
    },
  );
  server.on('OCSPRequest', (_c: Buffer, _i: Buffer, cb: (e: Error | null, r: Buffer | null) => void) => cb(null, staple));
  const port = await listen(server, 0, '127.0.0.1');
  return Object.assign(state, { port, close: () => close(server) });
}

/** Points the provider's registered address at the man in the middle and waits for the consumer to see it. */
export async function routeThroughMitm(n: TestNetwork, mitm: Mitm, on: boolean): Promise<void> {
  const address = on ? `127.0.0.1:${mitm.port}` : `127.0.0.1:${n.provider.spec.ports.peer}`;
  await n.central.admin.call('PATCH', `/servers/CAMDX/GOV/MOI/SS1`, { address });
  const version = (await n.central.admin.call<{ version: number }>('GET', '/globalconf/status')).version;
  for (let i = 0; i < 50; i++) {
    const health = (await (await fetch(`${n.consumer.adminUrl}/health`)).json()) as { globalConf: { version: number } };
    if (health.globalConf.version >= version) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the consumer did not pick up the new address');
}
