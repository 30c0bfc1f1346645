import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificate, randomSerial, selfIssuer } from '../../certs/certificate.js';
import { getProfile } from '../../certs/profiles.js';
import { silentLogger } from '../../common/log.js';
import { exportArchive, type ExportResult } from '../../gateway/messagelog/archive/export.js';
import { verifyArchive, type VerifyReport } from '../../gateway/messagelog/archive/verify.js';
import { MessageLog, type ExchangeRecord } from '../../gateway/messagelog/log.js';
import type { GlobalConf } from '../../protocol/globalconf.js';
import { tempDir } from '../support/tmp.js';

/**
 * Issue 17, rows 2 and 11: an archive of a busy period. Each record here has a signature
 * document of its own, so 33,000 records make 66,000+ zip entries — past the 65,535 a zip
 * without Zip64 can count. The documents are stand-ins (real signing of that many would take
 * minutes): verify must read the archive and fail every record on its content, never refuse
 * the archive. Real documents are verified end to end in timestamping.test.ts and
 * archive-pending.test.ts.
 */
const RECORDS = 33_000;
const SERVER = 'CAMDX/GOV/MOI/SS1';

let dir: ReturnType<typeof tempDir>;
let log: MessageLog;
let database: string;
let archive: string;
let exported: ExportResult;
let walAfterExport: number;
const hashes: string[] = [];

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const subject = { C: 'KH', O: 'Test', CN: 'archive scale' };
const certDer = buildCertificate({ profile: getProfile('root-ca'), subject, publicKey }, randomSerial(), selfIssuer(subject, privateKey));
const wal = () => (existsSync(`${database}-wal`) ? statSync(`${database}-wal`).size : 0);

function exchange(i: number): ExchangeRecord {
  const hash = randomBytes(32).toString('hex');
  hashes.push(hash);
  const part = { manifest: 'not-a-manifest', chain: '', leaf: hash, signature: `<Signature n="${i}"/>`, signatureHash: hash, batchSize: 1, signerDer: certDer, ocspDer: Buffer.from('ocsp') };
  const at = Date.now();
  return {
    messageId: `m-${i}`, requestId: `m-${i}`, side: 'Producer', client: 'CAMDX/COM/DEMOBANK/ONBOARDING', service: 'CAMDX/GOV/MOI/KYC/echo', endpoint: 'POST /echo/**', peerServer: 'CAMDX/COM/DEMOBANK/SS1',
    requestInTs: at, requestOutTs: at, responseInTs: at, responseOutTs: at, requestSize: 0, responseSize: 0, status: 200, succeeded: false, faultCode: null, faultString: null, request: part, response: null,
  };
}

beforeAll(async () => {
  dir = tempDir();
  database = join(dir.path, 'messagelog.db');
  archive = join(dir.path, 'busy.zip');
  // Open all along, as the gateway's is while an operator exports: the export's connection is not the last one, so closing it does not remove the WAL.
  log = new MessageLog(database, silentLogger);
  await Promise.all(Array.from({ length: RECORDS }, (_, i) => log.record(exchange(i))));
  log.storeTimestamp({ token: Buffer.from('token'), root: '00', tsa: 'TSA', genTime: Date.now(), chains: new Map(hashes.map((h) => [h, ''])) });
  const conf = { ocspFreshnessSeconds: 600, approvedCAs: [], approvedTSAs: [] } as unknown as GlobalConf;
  exported = exportArchive({ database, server: SERVER, conf, from: 0, to: Date.now(), out: archive });
  walAfterExport = wal();
}, 60_000);
afterAll(() => {
  log?.close();
  dir?.cleanup();
});

describe('archives of a busy period (issue 17 rows 2 and 11)', () => {
  it('writes more than 65,535 entries with Zip64, so every one of them can be read back', async () => {
    expect(exported).toMatchObject({ records: RECORDS, signatures: RECORDS, archived: RECORDS });
    const zip = await yauzl.fromBufferPromise(readFileSync(archive), { lazyEntries: true });
    try {
      // Two files per signature document; mimetype, README, records.jsonl, the token's two, the certificate, the OCSP response, the manifest.
      expect(zip.entryCount).toBe(2 * RECORDS + 8);
      const names = new Map<string, yauzl.Entry>();
      for await (const entry of zip.eachEntry()) names.set(entry.fileName, entry);
      expect(names.has('META-INF/manifest.json')).toBe(true);
      const last = hashes.at(-1)!;
      const text = async (name: string) => {
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(names.get(name)!)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString();
      };
      expect(await text(`signatures/${last}.xml`)).toBe(`<Signature n="${RECORDS - 1}"/>`);
      expect(JSON.parse(await text('META-INF/manifest.json'))).toMatchObject({ server: SERVER, records: RECORDS });
    } finally {
      zip.close();
    }
    expect((statSync(archive).mode & 0o777).toString(8)).toBe('600');
  });

  it('verify reads the whole archive and names every record (here all stand-ins, so all failed), instead of refusing it', async () => {
    const report: VerifyReport = await verifyArchive(archive, { trustedRoots: [new X509Certificate(certDer)] });
    expect(report.records).toBe(RECORDS);
    expect(report.failures.length).toBe(RECORDS);
    expect(new Set(report.failures.map((f) => f.reason.split(':')[0]))).toEqual(new Set(['request manifest']));
  });

  it('leaves the WAL truncated after the export marks its records archived, and after retention deletes them', () => {
    expect(walAfterExport).toBeLessThan(1 << 20);
    expect(log.prune(Date.now() + 1000)).toBe(RECORDS);
    expect(wal()).toBeLessThan(1 << 20);
  });
});
