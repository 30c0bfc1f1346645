import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import type { Duplex } from 'node:stream';
import { certificateFacts, isAuthenticationCertificate } from '../../certs/inspect.js';
import type { ConfView } from '../globalconf/view.js';
import type { KeyAndChain } from '../keys.js';
import { checkFresh, verifyOcspResponse } from '../../certs/ocsp/verify.js';

export const certificateHash = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** Trust anchors for TLS between gateways: the approved CAs and their roots, from the configuration. */
export function approvedCaPems(view: ConfView): string[] {
  return [...new Set(view.anchors.flatMap((a) => [a.certificate.toString(), a.root.toString()]))];
}

export function chainPem(k: KeyAndChain): string {
  return k.chain.map((c) => c.toString()).join('');
}

/** TLS 1.2+ between gateways, as X-Road requires; Node's default cipher list is strong. */
export const MIN_TLS = 'TLSv1.2' as const;

/**
 * Why a peer's authentication certificate is not acceptable, or undefined if it is: it must be
 * fit for authentication, chain to an approved CA, be registered for `expectedServer` (or some
 * server), and have a fresh good OCSP status.
 */
export function checkPeerAuthCert(cert: X509Certificate, view: ConfView, ocspDer: Buffer | null | undefined, now: number, expectedServer?: string): string | undefined {
  if (!isAuthenticationCertificate(certificateFacts(cert))) return 'the certificate is not an authentication certificate';
  const ca = view.issuerOf(cert, now);
  if (!ca) return 'the certificate is not issued by an approved CA, or is not valid now';
  const server = view.serverOfAuthCert(certificateHash(cert.raw));
  if (!server) return 'the certificate is not registered for any security server';
  if (expectedServer && server !== expectedServer) return `the certificate is registered for ${server}, not ${expectedServer}`;
  if (!ocspDer) return 'no OCSP response for the certificate';
  try {
    checkFresh(verifyOcspResponse(ocspDer, cert, ca.certificate), view.conf.ocspFreshnessSeconds, now);
  } catch (err) {
    return `OCSP: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Keep-alive pool of TLS 1.2+ connections to one provider security server, presenting our
 * authentication certificate and accepting the peer only if its certificate is the one
 * registered for that server (pinned by hash, so a name in the certificate plays no part)
 * with a fresh good OCSP response stapled in the handshake. A failed check ends the
 * connection before any request byte is sent.
 */
export class PinnedAgent extends https.Agent {
  constructor(
    private readonly serverId: string,
    auth: KeyAndChain,
    private readonly view: ConfView,
    private readonly clock: () => number,
    options: { maxSockets: number; idleTimeoutMs: number },
  ) {
    super({
      keepAlive: true,
      maxSockets: options.maxSockets,
      timeout: options.idleTimeoutMs,
      key: auth.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: chainPem(auth),
      ca: approvedCaPems(view),
      minVersion: MIN_TLS,
    });
  }

  override createConnection(options: tls.ConnectionOptions): Duplex {
    let stapled: Buffer | null = null;
    // requestOCSP is a TLSSocket option that tls.connect passes through; the typings omit it.
    const socket = tls.connect({
      ...options,
      ...({ requestOCSP: true } as tls.ConnectionOptions),
      // Runs after the handshake has delivered the stapled OCSP response, before any data is sent.
      checkServerIdentity: (_host: string, peer: PeerCertificate) => {
        const problem = checkPeerAuthCert(new X509Certificate(peer.raw), this.view, stapled, this.clock(), this.serverId);
        return problem ? Object.assign(new Error(`provider security server ${this.serverId}: ${problem}`), { code: 'CAMDX_PEER_REJECTED' }) : undefined;
      },
    });
    socket.once('OCSPResponse', (der: Buffer) => {
      stapled = der;
    });
    // Messages end in small trailer writes; Nagle's algorithm would hold them for a delayed ACK.
    socket.setNoDelay(true);
    return socket;
  }
}
