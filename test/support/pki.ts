import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../common/log.js';
import { createCsr } from '../../certs/csr.js';
import type { Extension } from 'pkijs';
import { initPki } from '../../certs/hierarchy.js';
import { generateKeyPair, type KeyPair, type KeyType } from '../../certs/keys.js';
import { loadOnlinePki, type OnlinePki } from '../../certs/online.js';
import { getProfile, type Identity, type ProfileName } from '../../certs/profiles.js';
import { createPkiServices, startPkiServer, type PkiServices } from '../../certs/server.js';
import { tempDir } from './tmp.js';

/** A logger whose every line is kept, so tests can check what was (not) logged. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('test', 'debug', sink), lines };
}

export interface TestPki {
  readonly stateDir: string;
  readonly dir: string;
  readonly pki: OnlinePki;
  readonly services: PkiServices;
  readonly url: string;
  readonly logLines: string[];
  /** Root + both issuing CAs in one PEM file: the trust anchor file for openssl. */
  readonly caFile: string;
  issuerFile(ca: 'camdx-ca' | 'camdigikey-ca'): string;
  /** Enrols `identity` for `profile`, makes a key and CSR, and issues through the RA. */
  issue(profile: ProfileName, identity: Identity, keyType?: KeyType): { key: KeyPair; cert: X509Certificate; serial: string; certFile: string };
  /** Stops the HTTP service only (state stays), as if the PKI were down. */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestPki(): Promise<TestPki> {
  const tmp = tempDir();
  const { log, lines } = capturingLogger();
  initPki({ stateDir: tmp.path, log });
  const pki = loadOnlinePki(tmp.path);
  const services = createPkiServices(pki);
  const server = await startPkiServer(pki, { host: '127.0.0.1', port: 0, log });
  const caFile = join(tmp.path, 'trust.pem');
  writeFileSync(caFile, [pki.root.toString(), ...[...pki.cas.values()].map((c) => c.pem)].join(''));
  let n = 0;
  return {
    stateDir: tmp.path,
    dir: tmp.path,
    pki,
    services,
    url: server.url,
    logLines: lines,
    caFile,
    issuerFile: (ca) => pki.layout.caCert(ca),
    issue(profile, identity, keyType) {
      const p = getProfile(profile);
      const key = generateKeyPair(keyType ?? p.defaultKeyType);
      const { token } = services.ra.enrol(profile, identity);
      const issued = services.ra.submit(createCsr(p.subject(identity), key.privateKey, [] as Extension[]), token);
      const certFile = join(tmp.path, `issued-${++n}.pem`);
      writeFileSync(certFile, issued.pem);
      return { key, cert: new X509Certificate(issued.der), serial: issued.serial, certFile };
    },
    stopServer: () => server.close(),
    close: async () => {
      if (server.server.listening) await server.close();
      pki.close();
      tmp.cleanup();
    },
  };
}

export const MOI: Identity = { instance: 'CAMDX', memberClass: 'GOV', memberCode: 'MOI', memberName: 'Ministry of Interior' };
