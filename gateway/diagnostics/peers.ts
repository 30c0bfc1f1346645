import { isIP } from 'node:net';
import tls from 'node:tls';
import type { GlobalConf } from '../../protocol/globalconf.js';
import type { ConfView } from '../globalconf/view.js';
import type { GatewayKeys } from '../keys.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import { approvedCaPems, chainPem, checkPeerAuthCert, MIN_TLS } from '../transport/tls.js';
import { fail, pass, since, type Budget, type CheckResult, type DiagnosticsTarget, type PendingCheck } from './check.js';
import { subsystemOfId } from '../../protocol/identifiers.js';

type Server = GlobalConf['securityServers'][number];

/**
 * The other security servers this gateway's clients may call: those hosting a subsystem with a
 * service that an access right opens to one of this server's client subsystems (directly or
 * through a global group). Servers nobody here may call are not this gateway's concern.
 */
export function callablePeers(view: ConfView, serverId: string): Server[] {
  const clients = view.server(serverId)?.clients ?? [];
  const providers = new Set<string>();
  for (const service of view.conf.services) {
    if (clients.some((client) => view.mayCall(client, service.id))) providers.add(subsystemOfId(service.id));
  }
  const peers = new Map<string, Server>();
  for (const provider of providers) for (const s of view.serversHosting(provider)) if (s.id !== serverId) peers.set(s.id, s);
  return [...peers.values()];
}

/** One check per callable peer: a TLS handshake as the consumer side makes it, then the pin and the stapled OCSP status. */
export function peerChecks(t: DiagnosticsTarget): PendingCheck[] {
  const { view, keys } = t;
  if (!view) return [];
  return callablePeers(view, t.config.serverId).map((server) => {
    const c = { name: 'peer', target: `${server.id} ${server.address}` };
    if (!keys) return { ...c, run: async () => fail(c, 'not checked: this gateway cannot present its authentication certificate (see the keys check)') };
    return { ...c, run: (budget) => handshake(c, server, keys, view, t.clock, budget) };
  });
}

/**
 * Connects to the peer's TLS port presenting our authentication certificate, trusting the
 * approved CAs only (as `PinnedAgent` does), and judges what it presents: the certificate must
 * be one the configuration pins for that server, with a fresh good OCSP response stapled. The
 * socket is closed as soon as that is known; nothing is sent over it.
 */
function handshake(c: Pick<CheckResult, 'name' | 'target'>, server: Server, keys: GatewayKeys, view: ConfView, clock: () => number, budget: Budget): Promise<CheckResult> {
  const cut = server.address.lastIndexOf(':');
  const host = server.address.slice(0, cut).replace(/^\[|\]$/g, '');
  const port = Number(server.address.slice(cut + 1));
  const started = performance.now();
  return new Promise((resolve) => {
    let stapled: Buffer | null = null;
    let connected = false;
    const socket = tls.connect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      key: keys.auth.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      cert: chainPem(keys.auth),
      ca: approvedCaPems(view),
      allowPartialTrustChain: true,
      minVersion: MIN_TLS,
      // requestOCSP is a TLSSocket option tls.connect passes through; the typings omit it.
      ...({ requestOCSP: true } as tls.ConnectionOptions),
      // The pin, not a name in the certificate, identifies the peer (checked at secureConnect).
      checkServerIdentity: () => undefined,
    });
    const done = (result: CheckResult) => {
      budget.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => done(fail(c, connected ? `no TLS handshake within ${budget.ms / 1000} s` : `no TCP connection within ${budget.ms / 1000} s`, since(started)));
    if (budget.signal.aborted) return onAbort();
    budget.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => (connected = true));
    socket.once('OCSPResponse', (der: Buffer) => (stapled = der));
    socket.once('error', (err: Error & { code?: string }) =>
      done(fail(c, connected ? `TLS handshake failed (${err.code ?? 'error'}): ${err.message}` : `unreachable (${err.code ?? err.message})`, since(started))),
    );
    socket.once('secureConnect', () => {
      const latency = since(started);
      const cert = socket.getPeerX509Certificate();
      if (!cert) return done(fail(c, 'presented no certificate', latency));
      const hash = certificateHash(cert.raw);
      if (!server.authCertHashes.includes(hash)) {
        const pinned = server.authCertHashes.map((h) => `${h.slice(0, 16)}…`).join(', ') || 'none';
        return done(fail(c, `presents certificate ${hash.slice(0, 16)}… (serial ${cert.serialNumber}), which does not match its pin in the global configuration (${pinned})`, latency));
      }
      const problem = checkPeerAuthCert(cert, view, stapled, clock(), server.id);
      if (problem) return done(fail(c, `the pinned certificate is not acceptable: ${problem.message}`, latency));
      done(pass(c, `${socket.getProtocol() ?? 'TLS'} handshake, pinned certificate ${hash.slice(0, 16)}… matches, stapled OCSP good`, latency));
    });
  });
}
