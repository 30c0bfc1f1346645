import { PassThrough } from 'node:stream';
import { createCanvas } from '@napi-rs/canvas';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { mrzFor, renderSampleCard } from '../../../members/moi/card/render.js';
import { holderOf, type Citizen } from '../../../members/moi/registry.js';
import { startMoiService, type RunningMoi } from '../../../members/moi/server.js';
import { renderFace } from '../../../members/population/face.js';
import { call } from '../../support/http.js';
import { userInfo } from '../../support/kyc.js';
import { tempDir } from '../../support/tmp.js';
import { requireTool } from '../../support/tools.js';

const dir = tempDir();
const logged: string[] = [];
let moi: RunningMoi;
let alice: Citizen;
let bob: Citizen;

beforeAll(async () => {
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => logged.push(d.toString()));
  moi = await startMoiService({ stateDir: dir.path, port: 0, log: createLogger('moi', 'debug', sink) });
  alice = moi.kyc.registry.at(42)!;
  bob = moi.kyc.registry.at(43)!;
});
afterAll(async () => {
  await moi?.close();
  dir.cleanup();
});

interface Answer {
  status: number;
  error: number;
  message: string;
  data: Record<string, unknown> | null;
}

async function post(endpoint: string, body: unknown, raw?: string): Promise<Answer> {
  const res = await call(`${moi.url}/api/2.0/kyc/${endpoint}`, { method: 'POST', headers: [['Content-Type', 'application/json']], body: raw ?? JSON.stringify(body) });
  const json = JSON.parse(res.body.toString()) as Omit<Answer, 'status'>;
  return { status: res.status, ...json };
}

const b64 = (b: Buffer) => b.toString('base64');
const card = (c: Citizen) => b64(renderSampleCard(holderOf(c), 'jpeg', 80));

describe('POST /api/2.0/kyc/info', () => {
  it('matches a registry person field for field, with the matching rules applied', async () => {
    const ok = await post('info', userInfo(alice));
    expect(ok).toEqual({ status: 200, error: 0, message: 'Successfully', data: { idNumber: alice.idNumber, score: 1, incorrectFields: [] } });
    // Case, spacing, accents, zero-width spaces, another date format: still the same person.
    const loose = { ...userInfo(alice), firstNameEn: ` ${alice.firstNameEn.toLowerCase()} `, lastNameKh: `\u200b${alice.lastNameKh}`, dob: alice.dob.split('-').reverse().join('/') };
    expect((await post('info', loose)).data).toEqual({ idNumber: alice.idNumber, score: 1, incorrectFields: [] });
  });

  it('names each field that differs and scores the share that matches', async () => {
    const r = await post('info', { ...userInfo(alice), lastNameEn: bob.lastNameEn === alice.lastNameEn ? 'NOBODY' : bob.lastNameEn, gender: alice.gender === 'M' ? 'F' : 'M' });
    expect(r.data).toEqual({ idNumber: alice.idNumber, score: 0.75, incorrectFields: ['lastNameEn', 'gender'] });
    const partial = await post('info', { idNumber: alice.idNumber, dob: alice.dob });
    expect(partial.data).toEqual({ idNumber: alice.idNumber, score: 1, incorrectFields: [] });
  });

  it('refuses bad input with a code and a message naming the field', async () => {
    const cases: Array<[unknown, number, number, RegExp, string?]> = [
      [null, 400, 1000, /JSON/, '{not json'],
      [[1, 2], 400, 1000, /JSON object/],
      [{ dob: alice.dob }, 400, 1001, /idNumber/],
      [{ idNumber: alice.idNumber }, 400, 1001, /at least one field/],
      [{ idNumber: 12345678, dob: alice.dob }, 400, 1002, /idNumber must be a string/],
      [{ idNumber: '12-34', dob: alice.dob }, 400, 1002, /9 digits/],
      [{ idNumber: alice.idNumber, dob: '31/02/1990' }, 400, 1002, /dob must be a date/],
      [{ idNumber: alice.idNumber, gender: 'X' }, 400, 1002, /gender/],
      [{ idNumber: alice.idNumber, firstNameEn: ['A'] }, 400, 1002, /firstNameEn must be a string/],
      [{ idNumber: '000000001', dob: alice.dob }, 404, 2001, /civil registry/],
    ];
    for (const [body, status, error, message, raw] of cases) {
      const r = await post('info', body, raw);
      expect([r.status, r.error, r.data]).toEqual([status, error, null]);
      expect(r.message).toMatch(message);
    }
  });
});

describe('face endpoints', () => {
  it('info-face scores the registry photo high and another person low', async () => {
    const same = await post('info-face', { userInfo: userInfo(alice), faceImg: b64(renderFace(alice, 200)) });
    expect(same.error).toBe(0);
    expect(same.data!.userInfo).toEqual({ idNumber: alice.idNumber, score: 1, incorrectFields: [] });
    expect(same.data!.faceMoiScore).toBeGreaterThan(0.9);
    const other = await post('info-face', { userInfo: userInfo(alice), faceImg: b64(renderFace(bob)) });
    expect(other.data!.faceMoiScore).toBeLessThan(0.5);
  });

  it('info-face-idcard compares the photo on the card (and an optional selfie)', requireTool('khmer-font'), async () => {
    const r = await post('info-face-idcard', { userInfo: userInfo(alice), idImage: card(alice) });
    expect(r.error).toBe(0);
    expect(r.data!.faceDocumentScore).toBeGreaterThan(0.9);
    expect(r.data!.faceMoiScore).toBe(r.data!.faceDocumentScore);
    const forged = await post('info-face-idcard', { userInfo: userInfo(alice), idImage: card(bob), faceImg: b64(renderFace(alice)) });
    expect(forged.data!.faceDocumentScore).toBeLessThan(0.5);
    expect(forged.data!.faceMoiScore).toBeGreaterThan(0.9);
  });

  it('info-idcard-liveness scores the actions and both faces', requireTool('khmer-font'), async () => {
    const recording = (await call(`${moi.url}/sim/liveness-sample/${alice.idNumber}?actions=2,3`)).body;
    const r = await post('info-idcard-liveness', { actions: ['2', '3'], userInfo: userInfo(alice), idImage: card(alice), liveness: b64(recording) });
    expect(r.error).toBe(0);
    expect(r.data).toMatchObject({ userInfo: { idNumber: alice.idNumber, score: 1, incorrectFields: [] }, livenessScore: 1 });
    expect(r.data!.faceMoiScore).toBeGreaterThan(0.9);
    expect(r.data!.faceDocumentScore).toBeGreaterThan(0.9);
    const wrong = await post('info-idcard-liveness', { actions: ['1', '3'], userInfo: userInfo(alice), idImage: card(alice), liveness: b64(recording) });
    expect(wrong.data!.livenessScore).toBe(0.5);
  });
});

describe('POST /api/2.0/kyc/ocr-idcard', requireTool('khmer-font'), () => {
  it('reads a sample card fetched from the service', async () => {
    const scan = (await call(`${moi.url}/sim/sample-card/${alice.idNumber}?format=jpeg&quality=60`)).body;
    const r = await post('ocr-idcard', { idImage: b64(scan) });
    const [m1, m2, m3] = mrzFor(holderOf(alice));
    expect(r).toEqual({
      status: 200,
      error: 0,
      message: 'Successfully',
      data: { ...userInfo(alice), MRZ1: m1, MRZ2: m2, MRZ3: m3, unreadableFields: [], mrzMismatchFields: [] },
    });
  }, 30_000);

  it('refuses a card whose MRZ check digit is wrong', async () => {
    const [l1, l2, l3] = mrzFor(holderOf(bob));
    const broken = l2.slice(0, 14) + String((Number(l2[14]) + 1) % 10) + l2.slice(15);
    const r = await post('ocr-idcard', { idImage: b64(renderSampleCard(holderOf(bob), 'png', 90, { mrz: [l1, broken, l3] })) });
    expect([r.status, r.error]).toEqual([422, 3104]);
    expect(r.message).toMatch(/Expiration date check digit/i);
    expect(r.data).toEqual({ MRZ1: l1, MRZ2: broken, MRZ3: l3 });
  }, 30_000);
});

describe('bad uploads', () => {
  const pngOf = (w: number, h: number) => {
    const c = createCanvas(w, h);
    c.getContext('2d').fillStyle = 'rgb(230,230,230)';
    c.getContext('2d').fillRect(0, 0, w, h);
    return c.toBuffer('image/png');
  };
  /** A tiny PNG whose header claims 60,000 × 60,000 pixels. */
  const bomb = () => {
    const png = PNG.sync.write(new PNG({ width: 4, height: 4 }));
    png.writeUInt32BE(60_000, 16);
    png.writeUInt32BE(60_000, 20);
    return png;
  };

  it('answers each with its code, never a crash', { ...requireTool('khmer-font'), timeout: 30_000 }, async () => {
    const info = userInfo(alice);
    const cases: Array<[string, unknown, number, number]> = [
      ['info-face', { faceImg: b64(renderFace(alice)) }, 400, 1001],
      ['info-face', { userInfo: 'alice', faceImg: b64(renderFace(alice)) }, 400, 1002],
      ['info-face', { userInfo: info }, 400, 1001],
      ['info-face', { userInfo: info, faceImg: 42 }, 400, 1002],
      ['info-face', { userInfo: info, faceImg: '%%% not base64 %%%' }, 422, 3001],
      ['info-face', { userInfo: info, faceImg: b64(Buffer.from('just some text, not an image')) }, 422, 3001],
      ['info-face', { userInfo: info, faceImg: b64(bomb()) }, 413, 3002],
      ['info-face', { userInfo: info, faceImg: b64(renderFace(alice).subarray(0, 300)) }, 422, 3003],
      ['info-face', { userInfo: info, faceImg: b64(pngOf(200, 200)) }, 422, 3201],
      ['info-face', { userInfo: { ...info, idNumber: '000000001' }, faceImg: b64(renderFace(alice)) }, 404, 2001],
      ['info-face-idcard', { userInfo: info, idImage: b64(renderFace(alice)) }, 422, 3101],
      ['ocr-idcard', {}, 400, 1001],
      ['ocr-idcard', { idImage: b64(pngOf(900, 600)) }, 422, 3101],
      ['info-idcard-liveness', { userInfo: info, idImage: card(alice), liveness: 'AAAA' }, 400, 1001],
      ['info-idcard-liveness', { actions: ['4'], userInfo: info, idImage: card(alice), liveness: 'AAAA' }, 400, 1002],
      ['info-idcard-liveness', { actions: '1', userInfo: info, idImage: card(alice), liveness: 'AAAA' }, 400, 1002],
      ['info-idcard-liveness', { actions: ['1'], userInfo: info, idImage: card(alice) }, 400, 1001],
      ['info-idcard-liveness', { actions: ['1'], userInfo: info, idImage: card(alice), liveness: b64(Buffer.from('not a video at all')) }, 422, 4001],
      ['no-such-endpoint', {}, 404, 1004],
    ];
    for (const [endpoint, body, status, error] of cases) {
      const r = await post(endpoint, body);
      expect({ endpoint, status: r.status, error: r.error }).toEqual({ endpoint, status, error });
      expect(r.message.length).toBeGreaterThan(10);
    }
  });

  it('refuses a body over the size limit with 413 and keeps serving', async () => {
    const huge = JSON.stringify({ userInfo: userInfo(alice), faceImg: 'A'.repeat(17 * 1024 * 1024) });
    const r = await post('info-face', undefined, huge);
    expect([r.status, r.error]).toEqual([413, 1003]);
    expect((await post('info', userInfo(alice))).error).toBe(0);
  });

  it('GET helpers answer unknown people and bad parameters with the envelope', async () => {
    const unknown = await call(`${moi.url}/sim/sample-card/000000001`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error).toBe(2001);
    const quality = await call(`${moi.url}/sim/sample-card/${alice.idNumber}?format=jpeg&quality=500`);
    expect(JSON.parse(quality.body.toString()).error).toBe(1002);
    const photo = await call(`${moi.url}/sim/registry-photo/${alice.idNumber}`);
    expect(photo.headers['content-type']).toBe('image/png');
    expect(photo.body.equals(renderFace(alice))).toBe(true);
  });

  it('logs no personal data', () => {
    const text = logged.join('');
    expect(text).toContain('"route":"/api/2.0/kyc/info"');
    for (const c of [alice, bob]) for (const value of [c.idNumber, c.lastNameEn, c.firstNameEn, c.lastNameKh, c.dob]) expect(text).not.toContain(value);
  });
});
