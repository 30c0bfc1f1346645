import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { seededRandom } from './random.js';

/**
 * Synthetic registry photos: a passport-style head-and-shoulders drawing, deterministic from the
 * person's face seed. Every trait a face check can see varies from person to person — face
 * shape, skin tone, hair style and colour, eyes, brows, nose, mouth, ears, facial hair, glasses,
 * marks, clothing — so two people rarely share more than a few of them. The faces are drawings,
 * not photographs: they exercise the data flow of a face check, not a face-recognition model.
 *
 * Used by MOI (registry photo, sample ID cards, liveness recordings) and CamDigiKey (user face).
 */

export interface FacePerson {
  readonly faceSeed: number;
  readonly gender: 'M' | 'F';
}

/**
 * Head pose for liveness recordings: `yaw` −1 (turned fully to the subject's left, features
 * shift to the image's right) … 1, `pitch` −1 (chin up) … 1 (chin down, a nod). 0/0 is the
 * frontal registry pose.
 */
export interface FacePose {
  readonly yaw: number;
  readonly pitch: number;
}

export const DEFAULT_FACE_SIZE = 256;

// The palettes: rows of colours laid out by hand (prettier-ignore; prettier would put one a line).
// prettier-ignore
const SKIN: readonly (readonly [number, number, number])[] = [
  [255, 224, 196], [241, 194, 160], [224, 172, 135], [198, 144, 106], [176, 122, 86], [150, 100, 68], [120, 80, 55], [232, 190, 150], [210, 160, 120],
];
// prettier-ignore
const HAIR: readonly (readonly [number, number, number])[] = [[20, 16, 14], [38, 28, 22], [62, 42, 30], [92, 64, 44], [130, 96, 62], [150, 150, 150], [200, 200, 196], [80, 30, 20]];
// prettier-ignore
const IRIS: readonly (readonly [number, number, number])[] = [[50, 30, 20], [78, 52, 34], [30, 22, 18], [96, 70, 40], [60, 80, 60]];
// prettier-ignore
const CLOTHES: readonly (readonly [number, number, number])[] = [
  [255, 255, 255], [30, 40, 90], [20, 20, 20], [120, 20, 30], [40, 90, 60], [200, 200, 210], [90, 60, 120], [180, 120, 40], [60, 110, 170], [230, 150, 160],
];

const rgb = ([r, g, b]: readonly [number, number, number], k = 1) => `rgb(${Math.round(Math.min(255, r * k))},${Math.round(Math.min(255, g * k))},${Math.round(Math.min(255, b * k))})`;

/** Every random choice is drawn up front and in a fixed order, so a pose never changes the face. */
function traits(person: FacePerson) {
  const rnd = seededRandom(person.faceSeed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rnd();
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const male = person.gender === 'M';
  const skinBase = pick(SKIN);
  const skinJitter = between(0.92, 1.06);
  return {
    background: [between(205, 235), between(215, 240), between(228, 250)] as const,
    skin: [skinBase[0] * skinJitter, skinBase[1] * skinJitter, skinBase[2] * skinJitter] as const,
    faceW: between(0.23, 0.3),
    faceH: between(0.29, 0.35),
    jaw: between(0.55, 1.0), // 1 = round chin, lower = pointed
    cheek: between(0.85, 1.1),
    hair: pick(HAIR),
    hairStyle: Math.floor(rnd() * 5),
    hairVolume: between(0.02, 0.09),
    fringe: between(0, 1),
    eyeY: between(-0.08, 0.05),
    eyeGap: between(0.3, 0.44),
    eyeSize: between(0.045, 0.075),
    eyeOpen: between(0.45, 0.85),
    iris: pick(IRIS),
    browThick: between(0.012, 0.035),
    browTilt: between(-0.35, 0.35),
    browArch: between(0, 0.05),
    browLift: between(0.07, 0.12),
    noseLen: between(0.12, 0.24),
    noseW: between(0.05, 0.1),
    mouthY: between(0.3, 0.44),
    mouthW: between(0.14, 0.26),
    lipThick: between(0.015, 0.04),
    smile: between(-0.02, 0.06),
    lip: [between(150, 200), between(70, 110), between(70, 100)] as const,
    earSize: between(0.07, 0.12),
    clothes: pick(CLOTHES),
    collar: Math.floor(rnd() * 3),
    neckW: between(0.11, 0.16),
    glasses: rnd() < 0.18,
    glassesRound: rnd() < 0.5,
    facialHair: male ? Math.floor(rnd() * 4) : 0, // 0 none, 1 moustache, 2 goatee, 3 beard shadow
    mole: rnd() < 0.3 ? ([between(-0.6, 0.6), between(-0.2, 0.5)] as const) : undefined,
    male,
  };
}

type Traits = ReturnType<typeof traits>;

function drawHairBack(ctx: SKRSContext2D, t: Traits, cx: number, cy: number, rx: number, ry: number, s: number): void {
  ctx.fillStyle = rgb(t.hair);
  const v = t.hairVolume * s;
  ctx.beginPath();
  if (!t.male && t.hairStyle <= 2) {
    // Long hair falling to the shoulders behind the head.
    const len = t.hairStyle === 0 ? 1.5 : t.hairStyle === 1 ? 1.15 : 0.9;
    ctx.ellipse(cx, cy - ry * 0.15, rx + v * 1.6, ry * 0.95 + v, 0, Math.PI, 0);
    ctx.lineTo(cx + rx + v * 1.4, cy + ry * len);
    ctx.lineTo(cx - rx - v * 1.4, cy + ry * len);
    ctx.closePath();
    ctx.fill();
  } else if (!t.male && t.hairStyle === 3) {
    // A bun on top.
    ctx.arc(cx, cy - ry - v * 1.5, rx * 0.45, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawHairTop(ctx: SKRSContext2D, t: Traits, cx: number, cy: number, rx: number, ry: number, s: number): void {
  const v = t.hairVolume * s;
  ctx.fillStyle = rgb(t.hair);
  if (t.male && t.hairStyle === 4) {
    // Receding: hair only at the sides.
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.ellipse(cx + side * rx * 0.92, cy - ry * 0.3, rx * 0.16, ry * 0.35, 0, 0, Math.PI * 2);
      ctx.fill();
    }
    return;
  }
  ctx.beginPath();
  const top = cy - ry - v;
  ctx.ellipse(cx, cy - ry * 0.2, rx + v * 0.6, ry * 0.85 + v, 0, Math.PI, 0);
  // Hairline: a fringe hangs lower, a side parting tilts it.
  const hairline = cy - ry * (0.55 - 0.35 * t.fringe);
  const part = t.hairStyle % 2 === 0 ? 0.25 : -0.25;
  ctx.bezierCurveTo(cx + rx, hairline, cx + rx * part, hairline - ry * 0.25, cx - rx - v * 0.6, cy - ry * 0.2);
  ctx.closePath();
  ctx.fill();
  if (t.male && t.hairStyle === 1) {
    // Spiky crop: triangles along the top.
    ctx.beginPath();
    for (let i = -3; i <= 3; i++) {
      const x = cx + (i / 3.5) * rx;
      ctx.moveTo(x - rx * 0.12, top + v);
      ctx.lineTo(x, top - v * 1.2);
      ctx.lineTo(x + rx * 0.12, top + v);
    }
    ctx.fill();
  }
}

function drawEyes(ctx: SKRSContext2D, t: Traits, cx: number, ey: number, rx: number, s: number): void {
  const gap = t.eyeGap * rx * 2;
  const ew = t.eyeSize * s;
  for (const side of [-1, 1]) {
    const x = cx + (side * gap) / 2;
    ctx.fillStyle = 'rgb(250,250,248)';
    ctx.beginPath();
    ctx.ellipse(x, ey, ew, ew * t.eyeOpen, 0, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = rgb(t.iris);
    ctx.beginPath();
    ctx.arc(x, ey, ew * t.eyeOpen * 0.9, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = 'rgb(10,10,10)';
    ctx.beginPath();
    ctx.arc(x, ey, ew * t.eyeOpen * 0.4, 0, Math.PI * 2);
    ctx.fill();
    ctx.strokeStyle = 'rgb(40,30,25)';
    ctx.lineWidth = Math.max(1, s * 0.008);
    ctx.beginPath();
    ctx.ellipse(x, ey, ew, ew * t.eyeOpen, 0, Math.PI, 0);
    ctx.stroke();
    // Brow
    const by = ey - t.browLift * s;
    ctx.strokeStyle = rgb(t.hair, 0.8);
    ctx.lineWidth = t.browThick * s;
    ctx.lineCap = 'round';
    ctx.beginPath();
    const tilt = t.browTilt * ew * side;
    ctx.moveTo(x - ew * 1.2, by + tilt);
    ctx.quadraticCurveTo(x, by - t.browArch * s, x + ew * 1.2, by - tilt);
    ctx.stroke();
    if (t.glasses) {
      ctx.strokeStyle = 'rgb(30,30,30)';
      ctx.lineWidth = Math.max(1.5, s * 0.01);
      ctx.beginPath();
      if (t.glassesRound) ctx.arc(x, ey, ew * 1.7, 0, Math.PI * 2);
      else ctx.rect(x - ew * 1.8, ey - ew * 1.2, ew * 3.6, ew * 2.4);
      ctx.stroke();
    }
  }
  if (t.glasses) {
    ctx.beginPath();
    ctx.moveTo(cx - gap / 2 + ew * 1.7, ey);
    ctx.lineTo(cx + gap / 2 - ew * 1.7, ey);
    ctx.stroke();
  }
}

function drawNoseAndMouth(ctx: SKRSContext2D, t: Traits, cx: number, cy: number, ry: number, s: number): void {
  const noseTop = cy - ry * 0.05;
  const noseBottom = noseTop + t.noseLen * s;
  ctx.strokeStyle = rgb(t.skin, 0.62);
  ctx.lineWidth = Math.max(1.5, s * 0.011);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx - t.noseW * s * 0.2, noseTop);
  ctx.quadraticCurveTo(cx - t.noseW * s * 0.5, noseBottom, cx - t.noseW * s * 0.5, noseBottom);
  ctx.quadraticCurveTo(cx, noseBottom + t.noseW * s * 0.35, cx + t.noseW * s * 0.5, noseBottom);
  ctx.stroke();
  ctx.fillStyle = rgb(t.skin, 0.45);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.ellipse(cx + side * t.noseW * s * 0.25, noseBottom, t.noseW * s * 0.12, t.noseW * s * 0.07, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  const my = cy + t.mouthY * ry * 1.6;
  const mw = t.mouthW * s;
  ctx.fillStyle = rgb(t.lip);
  ctx.beginPath();
  ctx.moveTo(cx - mw / 2, my);
  ctx.quadraticCurveTo(cx, my - t.lipThick * s - t.smile * s * 0.3, cx + mw / 2, my);
  ctx.quadraticCurveTo(cx, my + t.lipThick * s * 1.6 + t.smile * s, cx - mw / 2, my);
  ctx.fill();
  ctx.strokeStyle = rgb(t.lip, 0.55);
  ctx.lineWidth = Math.max(1, s * 0.006);
  ctx.beginPath();
  ctx.moveTo(cx - mw / 2, my);
  ctx.quadraticCurveTo(cx, my + t.smile * s, cx + mw / 2, my);
  ctx.stroke();
  if (t.facialHair === 1 || t.facialHair === 2) {
    ctx.fillStyle = rgb(t.hair);
    ctx.beginPath();
    ctx.ellipse(cx, my - t.lipThick * s - s * 0.015, mw * 0.55, s * 0.018, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  if (t.facialHair === 2) {
    ctx.beginPath();
    ctx.ellipse(cx, my + s * 0.07, mw * 0.22, s * 0.035, 0, 0, Math.PI * 2);
    ctx.fill();
  }
}

/** Draws the face into `ctx` at the origin, `s` pixels square. */
export function drawFace(ctx: SKRSContext2D, person: FacePerson, s: number, pose: FacePose = { yaw: 0, pitch: 0 }): void {
  const t = traits(person);
  // Nothing may spill outside the square (the card draws the photo into a frame).
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, s, s);
  ctx.clip();
  ctx.fillStyle = rgb(t.background);
  ctx.fillRect(0, 0, s, s);
  const cx = s / 2;
  const cy = s * 0.5;
  const rx = t.faceW * s;
  const ry = t.faceH * s;
  // Pose: inner features move across the face (and the head outline a little), so the
  // liveness check can read the turn from where the features sit inside the silhouette.
  const fx = cx - pose.yaw * rx * 0.45;
  const fy = cy + pose.pitch * ry * 0.3;
  const hx = cx - pose.yaw * rx * 0.08;

  // Shoulders and neck.
  ctx.fillStyle = rgb(t.clothes);
  ctx.beginPath();
  ctx.ellipse(cx, s * 1.08, s * 0.48, s * 0.3, 0, Math.PI, 0);
  ctx.fill();
  ctx.fillStyle = rgb(t.skin, 0.9);
  ctx.fillRect(cx - t.neckW * s, cy + ry * 0.6, t.neckW * s * 2, s * 0.25);
  if (t.collar > 0) {
    ctx.fillStyle = t.collar === 1 ? 'rgb(250,250,250)' : rgb(t.clothes, 0.6);
    ctx.beginPath();
    ctx.moveTo(cx - t.neckW * s * 1.6, s * 0.82);
    ctx.lineTo(cx, s * 0.93);
    ctx.lineTo(cx + t.neckW * s * 1.6, s * 0.82);
    ctx.lineTo(cx, s * 0.88);
    ctx.closePath();
    ctx.fill();
  }

  drawHairBack(ctx, t, hx, cy, rx, ry, s);
  // Ears: the near ear grows, the far one hides as the head turns.
  ctx.fillStyle = rgb(t.skin, 0.93);
  for (const side of [-1, 1]) {
    const visible = 1 - Math.max(0, side * -pose.yaw) * 0.9;
    ctx.beginPath();
    ctx.ellipse(hx + side * rx * 0.98, cy + ry * 0.05, t.earSize * s * 0.55 * visible, t.earSize * s, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  // Face: an egg whose lower half narrows with the jaw.
  ctx.fillStyle = rgb(t.skin);
  ctx.beginPath();
  ctx.ellipse(hx, cy, rx * t.cheek, ry * 0.7, 0, Math.PI, 0);
  ctx.bezierCurveTo(hx + rx * t.cheek, cy + ry * 0.6, hx + rx * t.jaw * 0.6, cy + ry, hx, cy + ry);
  ctx.bezierCurveTo(hx - rx * t.jaw * 0.6, cy + ry, hx - rx * t.cheek, cy + ry * 0.6, hx - rx * t.cheek, cy);
  ctx.fill();
  if (t.facialHair === 3) {
    ctx.fillStyle = rgb(t.hair);
    ctx.globalAlpha = 0.35;
    ctx.beginPath();
    ctx.ellipse(hx, cy + ry * 0.62, rx * 0.75, ry * 0.38, 0, 0, Math.PI);
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  drawHairTop(ctx, t, hx, cy, rx, ry, s);
  drawEyes(ctx, t, fx, fy + t.eyeY * s, rx, s);
  drawNoseAndMouth(ctx, t, fx, fy, ry, s);
  if (t.mole) {
    ctx.fillStyle = rgb(t.skin, 0.4);
    ctx.beginPath();
    ctx.arc(fx + t.mole[0] * rx, fy + t.mole[1] * ry, s * 0.01, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.restore();
}

/** A square PNG of the person's face, `size` pixels wide (default 256). */
export function renderFace(person: FacePerson, size: number = DEFAULT_FACE_SIZE, pose?: FacePose): Buffer {
  if (!Number.isInteger(size) || size < 32 || size > 2048) throw new RangeError(`face size must be an integer in 32..2048, not ${size}`);
  const canvas = createCanvas(size, size);
  drawFace(canvas.getContext('2d'), person, size, pose);
  return canvas.toBuffer('image/png');
}
