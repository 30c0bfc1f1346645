import { loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { locateCard } from '../../../members/moi/card/locate.js';
import { cardPhotoSignature } from '../../../members/moi/card/photo.js';
import { renderSampleCard } from '../../../members/moi/card/render.js';
import { compareFaces, faceSignature, FACE_MATCH_THRESHOLD, looksBlank } from '../../../members/moi/face/similarity.js';
import { renderFace } from '../../../members/population/face.js';
import { DEFAULT_POPULATION, personAt } from '../../../members/population/population.js';
import { asJpeg, faceVariant, rotatedScan, sampleIndices } from '../../support/moi-images.js';
import { requireTool } from '../../support/tools.js';

const person = (i: number) => personAt(DEFAULT_POPULATION.seed, i);
const signatureOf = async (png: Buffer) => faceSignature(await loadImage(png));

describe('synthetic faces', () => {
  it('are deterministic PNGs of the requested size, different for different seeds', async () => {
    const p = person(7);
    const a = renderFace(p);
    expect(a.subarray(1, 4).toString()).toBe('PNG');
    expect(renderFace(p).equals(a)).toBe(true);
    const img = await loadImage(renderFace(p, 128));
    expect([img.width, img.height]).toEqual([128, 128]);
    const hashes = new Set(Array.from({ length: 50 }, (_, i) => renderFace(person(i), 64).toString('base64')));
    expect(hashes.size).toBe(50);
    expect(() => renderFace(p, 4)).toThrow(RangeError);
  });
});

describe('face check at the documented threshold', () => {
  const indices = sampleIndices(220, DEFAULT_POPULATION.size, 0xface);

  it('false rejects ≤ 5 % over 110 genuine pairs (resized 50–130 %, JPEG 50–90, shifted up to 4 %)', async () => {
    let rejected = 0;
    for (const [k, i] of indices.slice(0, 110).entries()) {
      const photo = renderFace(person(i));
      const probe = await faceVariant(photo, [0.5, 0.75, 1.3, 0.6, 1][k % 5]!, [-0.04, 0.03, 0, 0.04, -0.02][k % 5]!, [0.02, -0.04, 0.04, 0, -0.03][k % 4]!, [50, 70, 90][k % 3]!);
      if (compareFaces(await signatureOf(photo), await signatureOf(probe)).score < FACE_MATCH_THRESHOLD) rejected++;
    }
    expect(rejected / 110).toBeLessThanOrEqual(0.05);
  }, 60_000);

  it('false accepts ≤ 5 % over 110 impostor pairs (probes degraded the same way)', async () => {
    let accepted = 0;
    for (let k = 0; k < 110; k++) {
      const claimed = renderFace(person(indices[110 + k]!));
      const other = renderFace(person(indices[(110 + k + 1) % 220]!));
      const probe = await faceVariant(other, [0.5, 0.75, 1.3, 0.6, 1][k % 5]!, [-0.04, 0.03, 0, 0.04, -0.02][k % 5]!, [0.02, -0.04, 0.04, 0, -0.03][k % 4]!, [50, 70, 90][k % 3]!);
      if (compareFaces(await signatureOf(claimed), await signatureOf(probe)).score >= FACE_MATCH_THRESHOLD) accepted++;
    }
    expect(accepted / 110).toBeLessThanOrEqual(0.05);
  }, 60_000);

  it('matches the photo printed on a card (clean, JPEG 50, rotated) to its registry photo and not to others', { ...requireTool('khmer-font'), timeout: 60_000 }, async () => {
    for (const [k, i] of indices.slice(0, 12).entries()) {
      const p = person(i);
      let scan = renderSampleCard(p, k % 2 ? 'jpeg' : 'png', 50);
      if (k % 3 === 0) scan = await rotatedScan(scan, 1.5);
      const card = cardPhotoSignature(locateCard(await loadImage(scan)).front!);
      expect(compareFaces(await signatureOf(renderFace(p)), card).score).toBeGreaterThanOrEqual(FACE_MATCH_THRESHOLD);
      expect(compareFaces(await signatureOf(renderFace(person(indices[100 + k]!))), card).score).toBeLessThan(FACE_MATCH_THRESHOLD);
    }
  });

  it('sees no face in a blank picture', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const c = createCanvas(200, 200);
    c.getContext('2d').fillStyle = 'rgb(200,210,220)';
    c.getContext('2d').fillRect(0, 0, 200, 200);
    expect(looksBlank(await signatureOf(await asJpeg(c.toBuffer('image/png'), 60)))).toBe(true);
    expect(looksBlank(await signatureOf(renderFace(person(3))))).toBe(false);
  });
});
