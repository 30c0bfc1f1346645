import { loadImage } from '@napi-rs/canvas';
import { parse } from 'mrz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mrzFor, renderSampleCard, type CardHolder } from '../../../members/moi/card/render.js';
import { KycError } from '../../../members/moi/errors.js';
import { OcrEngine } from '../../../members/moi/ocr/engine.js';
import { readCard, type CardField } from '../../../members/moi/ocr/read-card.js';
import { CivilRegistry, holderOf } from '../../../members/moi/registry.js';
import { DEFAULT_POPULATION, personAt } from '../../../members/population/population.js';
import { asJpeg, pngChunks, rewrittenPng, rotatedScan, sampleIndices } from '../../support/moi-images.js';
import { tempDir } from '../../support/tmp.js';
import { requireTool } from '../../support/tools.js';

// One worker for the whole file: starting one costs ~1 s and ~150 MB.
let engine: OcrEngine;
let registry: CivilRegistry;
const dir = tempDir();
beforeAll(async () => {
  engine = await OcrEngine.start();
  registry = new CivilRegistry(`${dir.path}/registry.db`);
});
afterAll(async () => {
  await engine?.stop();
  registry?.close();
  dir.cleanup();
});

const expected = (h: CardHolder): Record<CardField, string> => ({
  idNumber: h.idNumber,
  firstNameKh: h.firstNameKh,
  lastNameKh: h.lastNameKh,
  firstNameEn: h.firstNameEn,
  lastNameEn: h.lastNameEn,
  gender: h.gender,
  dob: h.dob,
  issuedDate: h.idIssuedDate,
  expiredDate: h.idExpiryDate,
});

/** Reads each holder's card as `variant` makes it; counts valid MRZs and all-fields-correct cards. */
async function survey(holders: CardHolder[], variant: (h: CardHolder) => Promise<Buffer>) {
  let mrzValid = 0;
  let allFields = 0;
  const misses: string[] = [];
  for (const h of holders) {
    const image = await loadImage(await variant(h));
    try {
      const reading = await readCard(engine, image);
      if (reading.mrz.join('') === mrzFor(h).join('') && parse([...reading.mrz]).valid) mrzValid++;
      const want = expected(h);
      const wrong = (Object.keys(want) as CardField[]).filter((f) => reading.fields[f] !== want[f]);
      if (wrong.length === 0) allFields++;
      else misses.push(`${h.idNumber}: ${wrong.join(', ')}`);
    } catch (err) {
      misses.push(`${h.idNumber}: ${(err as Error).message}`);
    }
  }
  return { mrzValid, allFields, misses };
}

const people = () => sampleIndices(100, DEFAULT_POPULATION.size, 0x5eed).map((i) => holderOf(registry.at(i)!));

describe('OCR of sample cards of 100 random registry people', requireTool('khmer-font'), () => {
  it('clean PNG: MRZ valid ≥ 98, every field right ≥ 95', async () => {
    const r = await survey(people(), async (h) => renderSampleCard(h, 'png'));
    expect(r.mrzValid, r.misses.join('\n')).toBeGreaterThanOrEqual(98);
    expect(r.allFields, r.misses.join('\n')).toBeGreaterThanOrEqual(95);
  }, 300_000);

  it('JPEG quality 50: MRZ valid ≥ 98, every field right ≥ 95', async () => {
    const r = await survey(people(), async (h) => renderSampleCard(h, 'jpeg', 50));
    expect(r.mrzValid, r.misses.join('\n')).toBeGreaterThanOrEqual(98);
    expect(r.allFields, r.misses.join('\n')).toBeGreaterThanOrEqual(95);
  }, 300_000);

  it('rotated 1–2° either way: MRZ valid ≥ 98, every field right ≥ 95', async () => {
    let k = 0;
    const r = await survey(people(), async (h) => {
      k++;
      return rotatedScan(renderSampleCard(h, 'png'), (k % 2 ? 1 : -1) * (1 + (k % 11) / 10));
    });
    expect(r.mrzValid, r.misses.join('\n')).toBeGreaterThanOrEqual(98);
    expect(r.allFields, r.misses.join('\n')).toBeGreaterThanOrEqual(95);
  }, 300_000);
});

describe('OCR without the registry', requireTool('khmer-font'), () => {
  it('reads cards of people who are not in the registry, re-encoded with their metadata stripped', async () => {
    // Same population rules, indices past the registry's end: ID numbers the registry has never seen.
    const strangers = Array.from({ length: 12 }, (_, i) => personAt('someone-else', DEFAULT_POPULATION.size + 17 + i * 101));
    for (const s of strangers) expect(registry.find(s.idNumber)).toBeUndefined();
    const r = await survey(strangers, async (h) => {
      const png = rewrittenPng(renderSampleCard(h, 'png'));
      expect(pngChunks(png).filter((c) => !['IHDR', 'IDAT', 'IEND'].includes(c))).toEqual([]);
      return strangers.indexOf(h as (typeof strangers)[number]) % 2 ? asJpeg(png, 80) : png;
    });
    expect(r.misses).toEqual([]);
    expect(r.allFields).toBe(strangers.length);
  }, 60_000);
});

describe('cards that must not read as valid', requireTool('khmer-font'), () => {
  const holder = () => holderOf(registry.at(321)!);
  const expectError = async (png: Buffer, kind: KycError['kind']) => {
    const err = await readCard(engine, await loadImage(png)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KycError);
    expect((err as KycError).kind).toBe(kind);
    return err as KycError;
  };

  it('flags a corrupted document-number check digit instead of repairing it', async () => {
    const h = holder();
    const [l1, l2, l3] = mrzFor(h);
    const wrong = String((Number(l1[14]) + 3) % 10);
    const err = await expectError(renderSampleCard(h, 'png', 90, { mrz: [l1.slice(0, 14) + wrong + l1.slice(15), l2, l3] }), 'mrzCheckDigit');
    expect(err.message).toMatch(/Document number check digit/);
    expect((err.data as { MRZ1: string }).MRZ1[14]).toBe(wrong);
  });

  it('flags a birth date that does not match its check digit', async () => {
    const h = holder();
    const [l1, l2, l3] = mrzFor(h);
    // Change a digit of the date (not the check digit): the tampered date must not pass.
    const day = String((Number(l2[5]) + 1) % 10);
    await expectError(renderSampleCard(h, 'jpeg', 70, { mrz: [l1, l2.slice(0, 5) + day + l2.slice(6), l3] }), 'mrzCheckDigit');
  });

  it('reports a page with no card, and a card front without its back', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const blank = createCanvas(800, 600);
    blank.getContext('2d').fillStyle = '#fff';
    blank.getContext('2d').fillRect(0, 0, 800, 600);
    await expectError(blank.toBuffer('image/png'), 'cardNotFound');
    const sheet = await loadImage(renderSampleCard(holder(), 'png'));
    const frontOnly = createCanvas(sheet.width, Math.round(sheet.height / 2));
    frontOnly.getContext('2d').drawImage(sheet, 0, 0);
    await expectError(frontOnly.toBuffer('image/png'), 'mrzNotFound');
  });

  it('reports an MRZ it cannot read (smudged) as unreadable, not as a guess', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const sheet = await loadImage(renderSampleCard(holder(), 'png'));
    const c = createCanvas(sheet.width, sheet.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(sheet, 0, 0);
    // Ink blots over characters of the first MRZ line.
    ctx.fillStyle = '#000';
    for (let i = 0; i < 6; i++) ctx.fillRect(200 + i * 110, 638 + 60 + 40 + 440 + 28, 26, 34);
    const err = await readCard(engine, await loadImage(c.toBuffer('image/png'))).then(
      () => undefined,
      (e: unknown) => e as KycError,
    );
    expect(err?.kind).toBe('mrzUnreadable');
    expect((err?.data as { MRZ1: string }).MRZ1).toContain('?');
  });
});
