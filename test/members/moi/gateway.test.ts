import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/log.js';
import { renderSampleCard } from '../../../members/moi/card/render.js';
import { holderOf, type Citizen } from '../../../members/moi/registry.js';
import { startMoiService, type RunningMoi } from '../../../members/moi/server.js';
import { call } from '../../support/http.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../../support/network.js';
import { userInfo } from '../../support/kyc.js';
import { tempDir } from '../../support/tmp.js';
import { requireTool } from '../../support/tools.js';

const KYC = 'CAMDX/GOV/MOI/KYC/kyc';
const dir = tempDir();
let moi: RunningMoi;
let n: TestNetwork;
let person: Citizen;

beforeAll(async () => {
  moi = await startMoiService({ stateDir: dir.path, port: 0, log: silentLogger });
  n = await startTestNetwork({ extraServices: { [KYC]: moi.url } });
  person = moi.kyc.registry.at(1234)!;
}, 120_000);
afterAll(async () => {
  await n?.close();
  await moi?.close();
  dir.cleanup();
});

/** A bank's onboarding system calling MOI through its own security server. */
async function viaCamdx(endpoint: string, body: unknown) {
  const res = await call(`${n.consumer.consumerUrl}/r1/${KYC}/api/2.0/kyc/${endpoint}`, {
    method: 'POST',
    headers: [['X-Road-Client', CLIENT], ['Content-Type', 'application/json']],
    body: JSON.stringify(body),
  });
  return { status: res.status, service: res.headers['x-road-service'], ...(JSON.parse(res.body.toString()) as { error: number; message: string; data: Record<string, unknown> | null }) };
}


describe('Open KYC through the CamDX gateways', () => {
  it('confirms a person whose every field matches', async () => {
    const r = await viaCamdx('info', userInfo(person));
    expect(r).toEqual({ status: 200, service: KYC, error: 0, message: 'Successfully', data: { idNumber: person.idNumber, score: 1, incorrectFields: [] } });
  });

  it('names the one field that does not match', async () => {
    const r = await viaCamdx('info', { ...userInfo(person), expiredDate: '2099-12-31' });
    expect(r.error).toBe(0);
    expect(r.data).toEqual({ idNumber: person.idNumber, score: 0.875, incorrectFields: ['expiredDate'] });
  });

  it('reports a person who is not in the civil registry', async () => {
    const r = await viaCamdx('info', { ...userInfo(person), idNumber: '000000001' });
    expect([r.status, r.error, r.data]).toEqual([404, 2001, null]);
    expect(r.message).toMatch(/civil registry/);
  });

  it('reads an ID card sent through the exchange', { ...requireTool('khmer-font'), timeout: 30_000 }, async () => {
    const r = await viaCamdx('ocr-idcard', { idImage: renderSampleCard(holderOf(person), 'jpeg', 70).toString('base64') });
    expect(r.error).toBe(0);
    expect(r.data).toMatchObject({ ...userInfo(person), unreadableFields: [], mrzMismatchFields: [] });
  });
});
