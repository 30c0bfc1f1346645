import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { buildTimestampQuery, readTimestampResponse } from '../../certs/tsa/client.js';
import { verifyTimestampToken } from '../../certs/tsa/verify.js';
import { fail, pass, reasonOf, since, type DiagnosticsTarget, type PendingCheck } from './check.js';

/**
 * One check per approved TSA: the RFC 3161 query the message log's timestamper makes, over the
 * digest of random bytes instead of a batch's Merkle root, and the token verified against the
 * TSA certificate the configuration lists.
 */
export function tsaChecks(t: DiagnosticsTarget): PendingCheck[] {
  return (t.view?.tsas() ?? []).map((tsa) => {
    const c = { name: 'tsa', target: tsa.url };
    return {
      ...c,
      async run(budget) {
        const digest = createHash('sha512').update(randomBytes(32)).digest();
        const started = performance.now();
        let der: Uint8Array;
        try {
          const res = await fetch(tsa.url, {
            method: 'POST',
            headers: { 'content-type': 'application/timestamp-query' },
            body: new Uint8Array(buildTimestampQuery(digest, 'sha512', { certReq: true })),
            signal: budget.signal,
            redirect: 'manual',
          });
          if (!res.ok) {
            await res.body?.cancel();
            return fail(c, `${tsa.name} answered HTTP ${res.status}`, since(started));
          }
          der = new Uint8Array(await res.arrayBuffer());
        } catch (err) {
          return fail(c, `${tsa.name} is unreachable (${reasonOf(err, budget)})`, since(started));
        }
        const latency = since(started);
        try {
          const answer = readTimestampResponse(der);
          if (answer.status !== 0 || !answer.token) return fail(c, `${tsa.name} refused: ${answer.statusText ?? `status ${answer.status}`}`, latency);
          verifyTimestampToken(answer.token, digest, [new X509Certificate(tsa.certificate)]);
          return pass(c, `${tsa.name} granted a token that verifies`, latency);
        } catch (err) {
          return fail(c, `${tsa.name}'s answer is refused: ${(err as Error).message}`, latency);
        }
      },
    };
  });
}
