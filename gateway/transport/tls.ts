import { X509Certificate } from 'node:crypto';
import { certificateHash } from '../../protocol/message-hashes.js';
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.js';
import { certificateFacts, isAuthenticationCertificate } from '../../certs/inspect.js';
import type { ConfView } from '../globalconf/view.js';
import type { KeyAndChain } from '../keys.js';
import { checkFresh, OcspError, verifyOcspResponse } from '../../certs/ocsp/verify.js';

export { certificateHash };

/**
 * Trust anchors for TLS between gateways: the approved CAs themselves, never their roots. The
 * CamDX root also signs CamDigiKey CA, whose users and service accounts are no security servers.
 */
export function approvedCaPems(view: ConfView): string[] {
  return [...new Set(view.anchors.map((a) => a.certificate.toString()))];
}

/**
 * What the peer port's OpenSSL needs to verify a calling gateway's chain: the approved CAs and
 * their roots. Node 20's tls.Server drops `allowPartialTrustChain` (only tls.connect passes it
 * on), so without a root no chain verifies at all; `refuseUnapprovedPeers` then narrows the
 * trust to the approved CAs.
 */
export function peerChainPems(view: ConfView): string[] {
  return [...new Set(view.anchors.flatMap((a) => [a.certificate.toString(), a.root.toString()]))];
}

/**
 * Ends every connection to the peer port whose client certificate no approved CA issued (a
 * CamDigiKey user's or service account's, say), as soon as its handshake completes and before
 * the HTTP server reads a byte of it: such a peer gets no X-Road answer, only a closed socket.
 * Checked on every connection, resumed sessions included.
 */
export function refuseUnapprovedPeers(server: tls.Server, view: () => ConfView | undefined, clock: () => number, log: Logger): void {
  server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
    const raw = socket.getPeerCertificate()?.raw;
    const cert = raw ? new X509Certificate(raw) : undefined;
    if (cert && view()?.issuerOf(cert, clock())) return;
    // The issuer is a CA's name; the subject may be a person's, so it is not logged.
    log.warn({ issuer: cert?.issuer.replace(/\n/g, ', ') ?? null }, 'refused a TLS peer whose certificate no approved CA issued');
    socket.destroy();
  });
}

export function chainPem(k: KeyAndChain): string {
  return k.chain.map((c) => c.toString()).join('');
}

/** OpenSSL's certificate verification failures, as Node names them in a TLS socket's error. */
const CHAIN_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_PURPOSE',
]);

/** TLS 1.2+ between gateways, as X-Road requires; Node's default cipher list is strong. */
export const MIN_TLS = 'TLSv1.2' as const;

/**
 * What is wrong with a peer's authentication certificate: the certificate itself (not fit for
 * authentication, no approved CA, not registered, another server's), or its OCSP status —
 * missing, stale (no fresh response, as after an OCSP outage), or refused (revoked, unknown,
 * badly signed). Each side names the X-Road error from it.
 */
export type PeerCertFault = 'certificate' | 'ocsp-missing' | 'ocsp-stale' | 'ocsp-refused';

export interface PeerCertProblem {
  readonly fault: PeerCertFault;
  readonly message: string;
}

const problem = (fault: PeerCertFault, message: string): PeerCertProblem => ({ fault, message });

/**
 * Why a peer's authentication certificate is not acceptable, or undefined if it is: it must be
 * fit for authentication, chain to an approved CA, be registered for `expectedServer` (or some
 * server), and have a fresh good OCSP status.
 */
export function checkPeerAuthCert(cert: X509Certificate, view: ConfView, ocspDer: Buffer | null | undefined, now: number, expectedServer?: string): PeerCertProblem | undefined {
  if (!isAuthenticationCertificate(certificateFacts(cert))) return problem('certificate', 'the certificate is not an authentication certificate');
  const ca = view.issuerOf(cert, now);
  if (!ca) return problem('certificate', 'the certificate is not issued by an approved CA, or is not valid now');
  const server = view.serverOfAuthCert(certificateHash(cert.raw));
  if (!server) return problem('certificate', 'the certificate is not registered for any security server');
  if (expectedServer && server !== expectedServer) return problem('certificate', `the certificate is registered for ${server}, not ${expectedServer}`);
  if (!ocspDer) return problem('ocsp-missing', 'no OCSP response for the certificate');
  try {
    checkFresh(verifyOcspResponse(ocspDer, cert, ca.certificate), view.conf.ocspFreshnessSeconds, now);
  } catch (err) {
    const stale = err instanceof OcspError && err.stale;
    return problem(stale ? 'ocsp-stale' : 'ocsp-refused', `OCSP: ${(err as Error).message}`);
  }
  return undefined;
}

/** A provider's gateway refused at the handshake: its error carries what was wrong, for the consumer to name the X-Road error. */
export interface RefusedPeerError extends Error {
  readonly code: 'CAMDX_PEER_REJECTED';
  readonly fault: PeerCertFault;
}

const refusedPeer = (serverId: string, fault: PeerCertFault, message: string): RefusedPeerError =>
  Object.assign(new Error(`provider security server ${serverId}: ${message}`), { code: 'CAMDX_PEER_REJECTED' as const, fault });

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
      // One secure context for the pool, not one per connection: building it parses our key and
      // every approved CA, which cost each new connection about as much as its handshake.
      secureContext: tls.createSecureContext({
        key: auth.key.export({ type: 'pkcs8', format: 'pem' }) as string,
        cert: chainPem(auth),
        // Partial chains: the approved CAs are the anchors, not their roots.
        ca: approvedCaPems(view),
        allowPartialTrustChain: true,
        minVersion: MIN_TLS,
      }),
    });
  }

  // Overriding createConnection also leaves out https.Agent's session cache, on purpose: Node skips
  // checkServerIdentity on a resumed session, so only full handshakes keep the pin and OCSP checks.
  override createConnection(options: tls.ConnectionOptions): Duplex {
    let stapled: Buffer | null = null;
    // requestOCSP is a TLSSocket option that tls.connect passes through; the typings omit it.
    const socket = tls.connect({
      ...options,
      ...({ requestOCSP: true } as tls.ConnectionOptions),
      // Runs after the handshake has delivered the stapled OCSP response, before any data is sent.
      checkServerIdentity: (_host: string, peer: PeerCertificate) => {
        const found = checkPeerAuthCert(new X509Certificate(peer.raw), this.view, stapled, this.clock(), this.serverId);
        return found ? refusedPeer(this.serverId, found.fault, found.message) : undefined;
      },
    });
    socket.once('OCSPResponse', (der: Buffer) => {
      stapled = der;
    });
    // OpenSSL's own refusal (no chain to an approved CA, say) is as much a refused peer as a failed pin.
    socket.prependOnceListener('error', (err: Error & { code?: string }) => {
      if (err.code && CHAIN_ERRORS.has(err.code)) {
        const refused = refusedPeer(this.serverId, 'certificate', `its certificate fails verification against the approved CAs: ${err.message}`);
        Object.assign(err, { message: refused.message, code: refused.code, fault: refused.fault });
      }
    });
    // Messages end in small trailer writes; Nagle's algorithm would hold them for a delayed ACK.
    socket.setNoDelay(true);
    return socket;
  }
}
