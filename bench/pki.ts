import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../common/log.js';
import { createCsr } from '../certs/csr.js';
import { initPki } from '../certs/hierarchy.js';
import { generateKeyPair } from '../certs/keys.js';
import { buildOcspRequest, readOcspResponse } from '../certs/ocsp/client.js';
import { loadOnlinePki } from '../certs/online.js';
import { getProfile } from '../certs/profiles.js';
import { createPkiServices } from '../certs/server.js';
import { spawnCamdx } from '../common/child.js';
import { readTimestampResponse, timestampQueryFor } from '../certs/tsa/client.js';
import { httpRate, inProcessRate } from './measure.js';
import { summarise, type RoundsSummary } from './rounds.js';

export interface PkiBenchOptions {
  readonly workDir: string;
  readonly rounds: number;
  readonly seconds: number;
  readonly connections: number;
}

export interface PkiBenchResult {
  readonly ocsp: { readonly inProcess: RoundsSummary; readonly http: RoundsSummary };
  readonly tsa: { readonly inProcess: RoundsSummary; readonly http: RoundsSummary };
}

/**
 * OCSP responses and timestamp tokens per second: in-process (crypto + ASN.1 on one core) and
 * over HTTP against `camdx pki serve` in its own process.
 */
export async function benchPki(options: PkiBenchOptions): Promise<PkiBenchResult> {
  const stateDir = join(options.workDir, 'pki-state');
  rmSync(stateDir, { recursive: true, force: true });
  initPki({ stateDir, log: silentLogger });
  const pki = loadOnlinePki(stateDir);
  const services = createPkiServices(pki);
  const identity = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'BENCH', memberName: 'Bench' };
  const { token } = services.ra.enrol('member-signing', identity);
  const key = generateKeyPair('P-256');
  const issued = services.ra.submit(createCsr(getProfile('member-signing').subject(identity), key.privateKey), token);
  const ocspQuery = buildOcspRequest(new X509Certificate(issued.der), pki.cas.get('camdx-ca')!.cert);
  const tsaQuery = timestampQueryFor(Buffer.from('camdx-sim benchmark'));
  if (readOcspResponse(services.ocsp.respond(ocspQuery)).certStatus !== 'good') throw new Error('OCSP self-check failed');
  if (readTimestampResponse(services.tsa.respond(tsaQuery)).status !== 0) throw new Error('TSA self-check failed');

  const child = await spawnCamdx(['--state-dir', stateDir, '--log-level', 'warn', 'pki', 'serve', '--port', '0'], /listening on (http:\S+)/);
  const server = { url: child.ready[1]!, stop: child.stop };
  try {
    const rounds = Array.from({ length: options.rounds });
    const ocspLocal = rounds.map(() => inProcessRate(() => services.ocsp.respond(ocspQuery), options.seconds));
    const tsaLocal = rounds.map(() => inProcessRate(() => services.tsa.respond(tsaQuery), options.seconds));
    const ocspHttp = [];
    const tsaHttp = [];
    for (const _ of rounds) {
      ocspHttp.push(await httpRate(`${server.url}/ocsp`, ocspQuery, { 'content-type': 'application/ocsp-request' }, options.connections, options.seconds));
      tsaHttp.push(await httpRate(`${server.url}/tsa`, tsaQuery, { 'content-type': 'application/timestamp-query' }, options.connections, options.seconds));
    }
    return {
      ocsp: { inProcess: summarise(ocspLocal), http: summarise(ocspHttp) },
      tsa: { inProcess: summarise(tsaLocal), http: summarise(tsaHttp) },
    };
  } finally {
    await server.stop();
    pki.close();
  }
}
