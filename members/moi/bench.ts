import { createCanvas, loadImage } from '@napi-rs/canvas';
import { parse } from 'mrz';
import { renderFace } from '../population/face.js';
import { DEFAULT_POPULATION, personAt, type Person } from '../population/population.js';
import { mrzFor, renderSampleCard } from './card/render.js';
import { compareFaces, faceSignature } from './face/similarity.js';
import { rotated } from './image/raster.js';
import { checkLiveness } from './liveness/check.js';
import { sampleRecording } from './liveness/sample.js';
import { OcrEngine } from './ocr/engine.js';
import { readCard } from './ocr/read-card.js';

/**
 * MOI figures for `npm run bench`: OCR time per card (decode, locate, MRZ, printed fields,
 * Khmer names — rendering excluded) for clean PNG, JPEG q50 and 1.5°-rotated scans, with how
 * many read fully right; face-check time (decode the probe, signature, compare with a cached
 * registry signature); liveness time per recording. One OCR worker, as the service runs.
 */

export interface OcrVariantFigures {
  readonly msPerCard: number;
  readonly mrzValid: number;
  readonly allFieldsRight: number;
}

export interface MoiBenchFigures {
  readonly cards: number;
  readonly ocr: Record<'png' | 'jpeg50' | 'rotated', OcrVariantFigures>;
  readonly faceCheckMs: number;
  readonly livenessMsPerRecording: number;
  readonly livenessFrames: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function ocrVariant(engine: OcrEngine, people: Person[], make: (p: Person) => Promise<Buffer>): Promise<OcrVariantFigures> {
  const times: number[] = [];
  let mrzValid = 0;
  let allFieldsRight = 0;
  for (const p of people) {
    const scan = await make(p);
    const started = performance.now();
    try {
      const r = await readCard(engine, await loadImage(scan));
      times.push(performance.now() - started);
      if (r.mrz.join('') === mrzFor(p).join('') && parse([...r.mrz]).valid) mrzValid++;
      const f = r.fields;
      const right = [
        f.idNumber === p.idNumber,
        f.firstNameKh === p.firstNameKh,
        f.lastNameKh === p.lastNameKh,
        f.firstNameEn === p.firstNameEn,
        f.lastNameEn === p.lastNameEn,
        f.gender === p.gender,
        f.dob === p.dob,
        f.issuedDate === p.idIssuedDate,
        f.expiredDate === p.idExpiryDate,
      ];
      if (right.every(Boolean)) allFieldsRight++;
    } catch {
      times.push(performance.now() - started);
    }
  }
  return { msPerCard: Math.round(median(times)), mrzValid, allFieldsRight };
}

export async function benchMoi(options: { cards?: number } = {}): Promise<MoiBenchFigures> {
  const cards = options.cards ?? 30;
  const people = Array.from({ length: cards }, (_, i) => personAt(DEFAULT_POPULATION.seed, (i * 163) % DEFAULT_POPULATION.size));
  const engine = await OcrEngine.start();
  try {
    const png = await ocrVariant(engine, people, async (p) => renderSampleCard(p, 'png'));
    const jpeg50 = await ocrVariant(engine, people, async (p) => renderSampleCard(p, 'jpeg', 50));
    const turned = await ocrVariant(engine, people, async (p) => rotated(await loadImage(renderSampleCard(p, 'png')), 1.5).toBuffer('image/png'));

    const faceTimes: number[] = [];
    for (const p of people) {
      const reference = faceSignature(await loadImage(renderFace(p)));
      const selfie = createCanvas(200, 200);
      selfie.getContext('2d').drawImage(await loadImage(renderFace(p)), 6, -4, 200, 200);
      const probe = selfie.encodeSync('jpeg', 75);
      const started = performance.now();
      compareFaces(reference, faceSignature(await loadImage(probe)));
      faceTimes.push(performance.now() - started);
    }

    const recording = sampleRecording(people[0]!, ['1', '2', '3']);
    const livenessTimes: number[] = [];
    let frames = 0;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      frames = (await checkLiveness(recording, ['1', '2', '3'])).frames;
      livenessTimes.push(performance.now() - started);
    }
    return {
      cards,
      ocr: { png, jpeg50, rotated: turned },
      faceCheckMs: Math.round(median(faceTimes) * 10) / 10,
      livenessMsPerRecording: Math.round(median(livenessTimes)),
      livenessFrames: frames,
    };
  } finally {
    await engine.stop();
  }
}
