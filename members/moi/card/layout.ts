/**
 * Geometry of the sample card, shared by the renderer and the reader so the two cannot drift.
 * One side is ID-1 (85.60 × 53.98 mm) at 300 dpi; a "scan" holds the front above the back on a
 * white page, the way integrators usually upload both sides as one image. The MRZ uses OCR-B
 * at ICAO's pitch of 10 characters per inch (30 px) and 50 px between lines.
 */

export const DPI = 300;
export const CARD = { width: 1011, height: 638 } as const;
export const SHEET = { margin: 40, gap: 60 } as const;
export const SHEET_SIZE = { width: CARD.width + 2 * SHEET.margin, height: 2 * CARD.height + SHEET.gap + 2 * SHEET.margin } as const;

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Front side, in card pixels. */
export const FRONT = {
  photo: { x: 40, y: 140, w: 280, h: 280 },
  /** Data fields: `box` is where the value is printed (the reader crops it), `baseline` where the renderer writes. */
  fields: {
    idNumber: { label: 'លេខ  ID No.', x: 350, labelY: 150, baseline: 205, size: 40, box: { x: 344, y: 160, w: 400, h: 58 } },
    lastNameKh: { label: 'នាមត្រកូល  Surname (Khmer)', x: 350, labelY: 232, baseline: 285, size: 34, box: { x: 344, y: 238, w: 280, h: 70 } },
    firstNameKh: { label: 'នាមខ្លួន  Given name', x: 640, labelY: 232, baseline: 285, size: 34, box: { x: 634, y: 238, w: 340, h: 70 } },
    lastNameEn: { label: 'Surname', x: 350, labelY: 322, baseline: 365, size: 34, box: { x: 344, y: 330, w: 280, h: 46 } },
    firstNameEn: { label: 'Given name', x: 640, labelY: 322, baseline: 365, size: 34, box: { x: 634, y: 330, w: 360, h: 46 } },
    gender: { label: 'ភេទ  Sex', x: 350, labelY: 400, baseline: 443, size: 34, box: { x: 344, y: 408, w: 80, h: 46 } },
    dob: { label: 'ថ្ងៃខែឆ្នាំកំណើត  Date of birth', x: 520, labelY: 400, baseline: 443, size: 34, box: { x: 514, y: 408, w: 300, h: 46 } },
    issuedDate: { label: 'Date of issue', x: 350, labelY: 478, baseline: 521, size: 34, box: { x: 344, y: 486, w: 280, h: 46 } },
    expiredDate: { label: 'Date of expiry', x: 660, labelY: 478, baseline: 521, size: 34, box: { x: 654, y: 486, w: 300, h: 46 } },
  },
} as const;

export type FrontField = keyof typeof FRONT.fields;

/** Back side, in card pixels. */
export const BACK = {
  addressLabelY: 70,
  addressBaseline: 120,
  mrz: { x: 56, baselines: [500, 550, 600] as const, fontSize: 41.5, pitch: 30, linePitch: 50, band: { x: 20, y: 440, w: 971, h: 185 } },
} as const;

/** Printed dates read DD.MM.YYYY, as on Cambodian cards. */
export const printedDate = (iso: string) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`;
