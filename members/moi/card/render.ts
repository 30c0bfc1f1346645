import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { drawFace } from '../../population/face.js';
import type { Person } from '../../population/population.js';
import { registerCardFonts, FONT } from '../fonts.js';
import { td1Lines } from '../mrz/td1.js';
import { BACK, CARD, FRONT, SHEET, SHEET_SIZE, printedDate, type FrontField } from './layout.js';

/** What a card shows: a registry person, or anyone shaped like one (cards of non-residents, forgeries). */
export type CardHolder = Pick<Person, 'idNumber' | 'lastNameKh' | 'firstNameKh' | 'lastNameEn' | 'firstNameEn' | 'gender' | 'dob' | 'idIssuedDate' | 'idExpiryDate' | 'address' | 'faceSeed'>;

export interface CardOptions {
  /** Print these MRZ lines instead of the correct ones (to make a forged or damaged card). */
  readonly mrz?: readonly [string, string, string];
}

const FRONT_TINT = 'rgb(200,222,234)';
const BACK_TINT = 'rgb(214,206,228)';
const INK = 'rgb(20,24,40)';

/** Faint wavy security lines: low contrast, so binarisation drops them but the card looks printed. */
function guilloche(ctx: SKRSContext2D, colour: string, phase: number): void {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.2;
  for (let k = 0; k < 14; k++) {
    ctx.beginPath();
    for (let x = 0; x <= CARD.width; x += 8) {
      const y = 40 + k * 44 + 14 * Math.sin((x / CARD.width) * Math.PI * 4 + k * 0.7 + phase);
      if (x === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
}

function cardShape(ctx: SKRSContext2D, tint: string, edge: string): void {
  ctx.fillStyle = tint;
  ctx.beginPath();
  ctx.roundRect(0, 0, CARD.width, CARD.height, 28);
  ctx.fill();
  ctx.save();
  ctx.clip();
  guilloche(ctx, edge, tint === FRONT_TINT ? 0 : 1.3);
  ctx.restore();
  ctx.strokeStyle = edge;
  ctx.lineWidth = 3;
  ctx.stroke();
}

function text(ctx: SKRSContext2D, value: string, x: number, y: number, font: string, size: number, colour = INK): void {
  ctx.font = `${size}px ${font}`;
  ctx.fillStyle = colour;
  ctx.fillText(value, x, y);
}

function frontValues(h: CardHolder): Record<FrontField, string> {
  return {
    idNumber: h.idNumber,
    lastNameKh: h.lastNameKh,
    firstNameKh: h.firstNameKh,
    lastNameEn: h.lastNameEn,
    firstNameEn: h.firstNameEn,
    gender: h.gender,
    dob: printedDate(h.dob),
    issuedDate: printedDate(h.idIssuedDate),
    expiredDate: printedDate(h.idExpiryDate),
  };
}

function drawFront(ctx: SKRSContext2D, h: CardHolder): void {
  cardShape(ctx, FRONT_TINT, 'rgb(176,202,218)');
  ctx.textAlign = 'center';
  text(ctx, 'ព្រះរាជាណាចក្រកម្ពុជា', CARD.width / 2, 52, FONT.khmer, 30);
  text(ctx, 'KINGDOM OF CAMBODIA · IDENTITY CARD', CARD.width / 2, 96, FONT.label, 24);
  ctx.textAlign = 'left';
  const { photo } = FRONT;
  ctx.save();
  ctx.translate(photo.x, photo.y);
  drawFace(ctx, h, photo.w);
  ctx.restore();
  ctx.strokeStyle = 'rgb(120,140,160)';
  ctx.lineWidth = 2;
  ctx.strokeRect(photo.x, photo.y, photo.w, photo.h);
  const values = frontValues(h);
  for (const [name, f] of Object.entries(FRONT.fields) as [FrontField, (typeof FRONT.fields)[FrontField]][]) {
    text(ctx, f.label, f.x, f.labelY, /[\u1780-\u17FF]/.test(f.label) ? FONT.khmer : FONT.label, 17, 'rgb(70,80,100)');
    text(ctx, values[name], f.x, f.baseline, name.endsWith('Kh') ? FONT.khmer : FONT.mrz, f.size);
  }
  text(ctx, 'SPECIMEN · camdx-sim · not an identity document', 40, 600, FONT.label, 20, 'rgb(170,40,40)');
}

function drawBack(ctx: SKRSContext2D, h: CardHolder, mrz: readonly string[]): void {
  cardShape(ctx, BACK_TINT, 'rgb(196,186,214)');
  text(ctx, 'អាសយដ្ឋាន  Address', 40, BACK.addressLabelY, FONT.khmer, 20, 'rgb(70,80,100)');
  text(ctx, `${h.address.street}, ${h.address.province}`, 40, BACK.addressBaseline, FONT.label, 28);
  text(ctx, 'Issued by the Ministry of Interior (simulated)', 40, 180, FONT.label, 20, 'rgb(70,80,100)');
  const { band } = BACK.mrz;
  ctx.fillStyle = 'rgb(232,230,238)';
  ctx.fillRect(band.x, band.y, band.w, band.h);
  ctx.font = `${BACK.mrz.fontSize}px ${FONT.mrz}`;
  ctx.fillStyle = 'rgb(0,0,0)';
  mrz.forEach((line, i) => {
    // Character by character on the ICAO grid, so the pitch is exact whatever the font's advances.
    for (let c = 0; c < line.length; c++) {
      const w = ctx.measureText(line[c]!).width;
      ctx.fillText(line[c]!, BACK.mrz.x + c * BACK.mrz.pitch + (BACK.mrz.pitch - w) / 2, BACK.mrz.baselines[i]!);
    }
  });
}

/** The MRZ a correct card for `h` carries. */
export function mrzFor(h: CardHolder): [string, string, string] {
  return td1Lines({ documentNumber: h.idNumber, lastName: h.lastNameEn, firstName: h.firstNameEn, sex: h.gender, dob: h.dob, expiry: h.idExpiryDate });
}

/** Both sides of the card on a white page (see layout.ts), as a canvas. */
export function drawCardSheet(h: CardHolder, options: CardOptions = {}): Canvas {
  registerCardFonts();
  const canvas = createCanvas(SHEET_SIZE.width, SHEET_SIZE.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgb(255,255,255)';
  ctx.fillRect(0, 0, SHEET_SIZE.width, SHEET_SIZE.height);
  ctx.save();
  ctx.translate(SHEET.margin, SHEET.margin);
  drawFront(ctx, h);
  ctx.restore();
  ctx.save();
  ctx.translate(SHEET.margin, SHEET.margin + CARD.height + SHEET.gap);
  drawBack(ctx, h, options.mrz ?? mrzFor(h));
  ctx.restore();
  return canvas;
}

/** A sample card scan as PNG, or JPEG at `quality` (1–100). */
export function renderSampleCard(h: CardHolder, format: 'png' | 'jpeg' = 'png', quality = 90, options: CardOptions = {}): Buffer {
  const canvas = drawCardSheet(h, options);
  return format === 'png' ? canvas.toBuffer('image/png') : canvas.encodeSync('jpeg', Math.max(1, Math.min(100, Math.round(quality))));
}
