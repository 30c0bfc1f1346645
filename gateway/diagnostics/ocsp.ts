import { randomBytes, type X509Certificate } from 'node:crypto';
import { issuingAnchor } from '../../certs/inspect.js';
import { buildOcspRequest, readOcspResponse } from '../../certs/ocsp/client.js';
import { verifyOcspResponse } from '../../certs/ocsp/verify.js';
import type { ApprovedCa } from '../globalconf/view.js';
import { fail, pass, reasonOf, since, type Budget, type CheckResult, type DiagnosticsTarget, type PendingCheck } from './check.js';

type Probe = { readonly kind: 'own'; readonly name: 'auth' | 'signing'; readonly cert: X509Certificate; readonly ca: ApprovedCa } | { readonly kind: 'liveness'; readonly ca: ApprovedCa };

/**
 * One check per OCSP responder of the approved CAs. Where a responder covers one of this
 * gateway's certificates it gets the query the gateway makes every few minutes (about our
 * certificate, with a nonce, the answer verified); a responder of a CA that issued none of ours
 * is asked about that CA's own certificate, and any well-formed OCSP answer counts as alive.
 */
export function ocspChecks(t: DiagnosticsTarget): PendingCheck[] {
  const { view, keys } = t;
  if (!view) return [];
  const byUrl = new Map<string, ApprovedCa[]>();
  for (const ca of view.anchors) byUrl.set(ca.ocspUrl, [...(byUrl.get(ca.ocspUrl) ?? []), ca]);
  const own = keys
    ? ([
        ['auth', keys.auth.cert],
        ['signing', keys.signing.cert],
      ] as const)
    : [];
  return [...byUrl].map(([url, cas]) => {
    let probe: Probe = { kind: 'liveness', ca: cas[0]! };
    for (const [name, cert] of own) {
      const ca = issuingAnchor(cert, cas, t.clock());
      if (ca) {
        probe = { kind: 'own', name, cert, ca };
        break;
      }
    }
    const c = { name: 'ocsp', target: url };
    return { ...c, run: (budget) => ask(c, probe, budget, t.clock) };
  });
}

async function ask(c: Pick<CheckResult, 'name' | 'target'>, probe: Probe, budget: Budget, clock: () => number): Promise<CheckResult> {
  const nonce = randomBytes(16);
  const request = probe.kind === 'own' ? buildOcspRequest(probe.cert, probe.ca.certificate, nonce) : buildOcspRequest(probe.ca.certificate, probe.ca.root, nonce);
  const started = performance.now();
  let der: Buffer;
  try {
    const res = await fetch(c.target, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(request), signal: budget.signal, redirect: 'manual' });
    if (!res.ok) {
      await res.body?.cancel();
      return fail(c, `the responder answered HTTP ${res.status}`, since(started));
    }
    der = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    return fail(c, `the responder is unreachable (${reasonOf(err, budget)})`, since(started));
  }
  const latency = since(started);
  try {
    if (probe.kind === 'liveness')
      return pass(c, `answers (OCSP status ${readOcspResponse(der).responseStatus} to a probe about ${probe.ca.name}'s own certificate; no certificate of ours to ask about)`, latency);
    const facts = verifyOcspResponse(der, probe.cert, probe.ca.certificate);
    if (!facts.nonce?.equals(nonce)) return fail(c, 'the response does not echo our nonce', latency);
    const age = Math.round((clock() - facts.thisUpdate) / 1000);
    if (facts.status !== 'good') return fail(c, `says our ${probe.name} certificate (serial ${probe.cert.serialNumber}) is ${facts.status}`, latency);
    return pass(c, `our ${probe.name} certificate is good (response verified, ${age} s old)`, latency);
  } catch (err) {
    return fail(c, `the answer is refused: ${(err as Error).message}`, latency);
  }
}
