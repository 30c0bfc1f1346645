import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSampleCard } from '../../../members/moi/card/render.js';
import { KycError } from '../../../members/moi/errors.js';
import { KycService } from '../../../members/moi/kyc.js';
import { OcrEngine } from '../../../members/moi/ocr/engine.js';
import { CivilRegistry, holderOf } from '../../../members/moi/registry.js';
import { startMoiService, type RunningMoi } from '../../../members/moi/server.js';
import { call } from '../../support/http.js';
import { userInfo } from '../../support/kyc.js';
import { capturingLogger } from '../../support/pki.js';
import { tempDir } from '../../support/tmp.js';
import { requireTool } from '../../support/tools.js';

const LIMIT_MS = 150;
const dir = tempDir();
let moi: RunningMoi;

beforeAll(async () => {
  moi = await startMoiService({ stateDir: dir.path, port: 0, log: capturingLogger().log, population: { seed: 'time-limit', size: 20 }, imageTimeLimitMs: LIMIT_MS });
});
afterAll(async () => {
  await moi?.close();
  dir.cleanup();
});

const post = async (endpoint: string, body: unknown) => {
  const started = Date.now();
  const res = await call(`${moi.url}/api/2.0/kyc/${endpoint}`, { method: 'POST', headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
  return { status: res.status, took: Date.now() - started, ...(JSON.parse(res.body.toString()) as { error: number; message: string }) };
};

describe('image checks past their time limit', requireTool('khmer-font'), () => {
  it('answer 503 with a clear message within the limit + 1 s (OCR, liveness)', async () => {
    const person = moi.kyc.registry.at(3)!;
    const card = renderSampleCard(holderOf(person), 'jpeg', 80).toString('base64');
    const recording = (await call(`${moi.url}/sim/liveness-sample/${person.idNumber}?actions=1,2,3`)).body.toString('base64');
    const answers = [await post('ocr-idcard', { idImage: card }), await post('info-idcard-liveness', { actions: ['1', '2', '3'], userInfo: userInfo(person), idImage: card, liveness: recording })];
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.error).toBe(5004);
      expect(a.message).toMatch(/took longer than its time limit and was stopped.*150 ms/);
      expect(a.took).toBeLessThan(LIMIT_MS + 1000);
    }
  });

  it('end the OCR worker that was still recognising', async () => {
    const registry = new CivilRegistry(join(dir.path, 'unit.db'), 'time-limit', 20);
    const engine = await OcrEngine.start();
    try {
      const kyc = new KycService(registry, () => Promise.resolve(engine), { imageTimeLimitMs: LIMIT_MS });
      const card = renderSampleCard(holderOf(registry.at(5)!), 'png').toString('base64');
      const refused = await kyc.ocrIdcard({ idImage: card }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(KycError);
      expect((refused as KycError).kind).toBe('timeLimit');
      expect(engine.ended).toBe(true);
    } finally {
      await engine.stop();
      registry.close();
    }
  }, 30_000);
});
