import { createCanvas, type Canvas, type Image } from '@napi-rs/canvas';

/** An 8-bit grey image, row-major. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type Drawable = Image | Canvas;

/** Draws `source` onto a fresh canvas of its own size. */
export function canvasOf(source: Drawable): Canvas {
  const canvas = createCanvas(source.width, source.height);
  canvas.getContext('2d').drawImage(source, 0, 0);
  return canvas;
}

/** Rec. 601 luma of a canvas region (the whole canvas by default). */
export function grayOf(canvas: Canvas, x = 0, y = 0, w = canvas.width, h = canvas.height): Gray {
  const rgba = canvas.getContext('2d').getImageData(x, y, w, h).data;
  const data = new Uint8Array(w * h);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) data[i] = (rgba[p]! * 299 + rgba[p + 1]! * 587 + rgba[p + 2]! * 114 + 500) / 1000;
  return { width: w, height: h, data };
}

/** Mean of (green − red) over a region: tells the blue-green front from the lilac back. */
export function greenMinusRed(canvas: Canvas, x: number, y: number, w: number, h: number): number {
  const rgba = canvas.getContext('2d').getImageData(x, y, w, h).data;
  let sum = 0;
  for (let p = 0; p < rgba.length; p += 4) sum += rgba[p + 1]! - rgba[p]!;
  return sum / (rgba.length / 4);
}

/** `source` rotated by `degrees` about its centre on a white ground, same size. */
export function rotated(source: Drawable, degrees: number): Canvas {
  const canvas = createCanvas(source.width, source.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgb(255,255,255)';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.translate(source.width / 2, source.height / 2);
  ctx.rotate((degrees * Math.PI) / 180);
  ctx.drawImage(source, -source.width / 2, -source.height / 2);
  return canvas;
}

/** A region of `source` scaled to `w` × `h`. */
export function cropScaled(source: Drawable, sx: number, sy: number, sw: number, sh: number, w: number, h: number): Canvas {
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, sx, sy, sw, sh, 0, 0, w, h);
  return canvas;
}

/** Otsu's threshold over a grey histogram: the split that best separates ink from paper. */
export function otsu(gray: Gray): number {
  const hist = new Array<number>(256).fill(0);
  for (const v of gray.data) hist[v]!++;
  const total = gray.data.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * hist[i]!;
  let sumB = 0;
  let weightB = 0;
  let best = 0;
  let threshold = 128;
  for (let t = 0; t < 256; t++) {
    weightB += hist[t]!;
    if (weightB === 0) continue;
    const weightF = total - weightB;
    if (weightF === 0) break;
    sumB += t * hist[t]!;
    const meanB = sumB / weightB;
    const meanF = (sumAll - sumB) / weightF;
    const between = weightB * weightF * (meanB - meanF) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/**
 * Paper and ink grey levels of a text region: paper is the most common value (text covers a
 * small part of any field), ink the mean of the darkest 2 %. Robust to a patterned background
 * where Otsu's split may fall between the paper and its faint pattern.
 */
export function paperAndInk(gray: Gray): { paper: number; ink: number } {
  const hist = new Array<number>(256).fill(0);
  for (const v of gray.data) hist[v]!++;
  let paper = 0;
  for (let v = 1; v < 256; v++) if (hist[v]! > hist[paper]!) paper = v;
  let want = Math.max(1, Math.round(gray.data.length * 0.02));
  let sum = 0;
  let n = 0;
  for (let v = 0; v < 256 && want > 0; v++) {
    const take = Math.min(hist[v]!, want);
    sum += take * v;
    n += take;
    want -= take;
  }
  return { paper, ink: n > 0 ? sum / n : 0 };
}
