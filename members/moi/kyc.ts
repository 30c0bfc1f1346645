import type { Image } from '@napi-rs/canvas';
import { loadImage } from '@napi-rs/canvas';
import { renderFace } from '../population/face.js';
import { locateCard } from './card/locate.js';
import { cardPhotoSignature } from './card/photo.js';
import { renderSampleCard } from './card/render.js';
import { KycError } from './errors.js';
import { compareFaces, faceSignature, looksBlank, type FaceSignature } from './face/similarity.js';
import { Gate } from './gate.js';
import { decodeImage, fromBase64, ImageRejection } from './image/decode.js';
import { ACTIONS, type Action } from './liveness/actions.js';
import { checkLiveness } from './liveness/check.js';
import { RecordingRejection } from './liveness/recording.js';
import { sampleRecording } from './liveness/sample.js';
import type { OcrEngine } from './ocr/engine.js';
import { CARD_FIELDS, readCard } from './ocr/read-card.js';
import { holderOf, type Citizen, type CivilRegistry } from './registry.js';
import { checkUserInfo, parseUserInfo, type InfoCheck } from './userinfo.js';

/**
 * The Open KYC operations, independent of HTTP: each takes the parsed JSON body and returns the
 * `data` of a successful answer, or throws a KycError from the error table.
 */

type Body = Record<string, unknown>;
const MAX_ACTIONS = 10;
const PHOTO_CACHE = 1000;

function asBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new KycError('invalidJson');
  return body as Body;
}

/** A base64 image field → decoded image; every way it can be wrong maps to an error code. */
async function imageField(body: Body, name: string, required: true): Promise<Image>;
async function imageField(body: Body, name: string, required: false): Promise<Image | undefined>;
async function imageField(body: Body, name: string, required: boolean): Promise<Image | undefined> {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new KycError('missingField', name);
    return undefined;
  }
  if (typeof value !== 'string') throw new KycError('invalidField', `${name} must be a base64 string`);
  const bytes = fromBase64(value);
  if (!bytes) throw new KycError('notImage', `${name} is not base64`);
  try {
    return await decodeImage(bytes, name);
  } catch (err) {
    if (!(err instanceof ImageRejection)) throw err;
    throw new KycError(err.reason === 'too-large' ? 'imageTooLarge' : err.reason === 'not-image' ? 'notImage' : 'imageUndecodable', err.message);
  }
}

function parseActions(value: unknown): Action[] {
  if (value === undefined || value === null) throw new KycError('missingField', 'actions');
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ACTIONS) throw new KycError('invalidField', `actions must be an array of 1–${MAX_ACTIONS} action codes`);
  return value.map((a, i) => {
    if (typeof a !== 'string' || !(a in ACTIONS)) throw new KycError('invalidField', `actions[${i}] must be "1" (turn left), "2" (turn right) or "3" (nod)`);
    return a as Action;
  });
}

export interface FaceScores {
  readonly faceDocumentScore: number;
  readonly faceMoiScore: number;
}

export class KycService {
  private readonly photos = new Map<string, FaceSignature>();
  private readonly gate: Gate;

  constructor(
    readonly registry: CivilRegistry,
    private readonly ocr: () => Promise<OcrEngine>,
    options: { imageTimeLimitMs?: number } = {},
  ) {
    this.gate = new Gate(undefined, undefined, options.imageTimeLimitMs);
  }

  private citizen(idNumber: string): Citizen {
    const c = this.registry.find(idNumber);
    if (!c) throw new KycError('unknownPerson');
    return c;
  }

  /** The registry photo's signature, rendered on first use and kept for the next checks. */
  private async photo(c: Citizen): Promise<FaceSignature> {
    const hit = this.photos.get(c.idNumber);
    if (hit) return hit;
    const signature = faceSignature(await loadImage(renderFace(c)));
    if (this.photos.size >= PHOTO_CACHE) this.photos.delete(this.photos.keys().next().value!);
    this.photos.set(c.idNumber, signature);
    return signature;
  }

  private async faceScore(c: Citizen, probe: FaceSignature, what: string): Promise<number> {
    if (looksBlank(probe)) throw new KycError('faceNotFound', what);
    return compareFaces(await this.photo(c), probe).score;
  }

  private cardFace(image: Image): FaceSignature {
    const card = locateCard(image);
    if (!card.front) throw new KycError('cardNotFound', 'no card front (with the photo) in idImage');
    return cardPhotoSignature(card.front);
  }

  info(body: unknown): InfoCheck {
    const info = parseUserInfo(asBody(body));
    return checkUserInfo(info, this.citizen(info.idNumber));
  }

  private checkedUserInfo(body: Body): { citizen: Citizen; userInfo: InfoCheck } {
    if (body.userInfo === undefined || body.userInfo === null) throw new KycError('missingField', 'userInfo');
    const info = parseUserInfo(body.userInfo, 'userInfo.');
    const citizen = this.citizen(info.idNumber);
    return { citizen, userInfo: checkUserInfo(info, citizen) };
  }

  infoFace(body: unknown): Promise<{ userInfo: InfoCheck; faceMoiScore: number }> {
    const b = asBody(body);
    const { citizen, userInfo } = this.checkedUserInfo(b);
    return this.gate.run(async (signal) => {
      const face = await imageField(b, 'faceImg', true);
      signal.throwIfAborted();
      return { userInfo, faceMoiScore: await this.faceScore(citizen, faceSignature(face), 'faceImg') };
    });
  }

  /** `faceMoiScore` compares `faceImg` when given; without it the card's photo is the submitted face. */
  infoFaceIdcard(body: unknown): Promise<{ userInfo: InfoCheck } & FaceScores> {
    const b = asBody(body);
    const { citizen, userInfo } = this.checkedUserInfo(b);
    return this.gate.run(async (signal) => {
      const card = await imageField(b, 'idImage', true);
      const face = await imageField(b, 'faceImg', false);
      signal.throwIfAborted();
      const faceDocumentScore = await this.faceScore(citizen, this.cardFace(card), 'the photo on the card');
      const faceMoiScore = face ? await this.faceScore(citizen, faceSignature(face), 'faceImg') : faceDocumentScore;
      return { userInfo, faceDocumentScore, faceMoiScore };
    });
  }

  infoIdcardLiveness(body: unknown): Promise<{ userInfo: InfoCheck; livenessScore: number } & FaceScores> {
    const b = asBody(body);
    const actions = parseActions(b.actions);
    const { citizen, userInfo } = this.checkedUserInfo(b);
    if (b.liveness === undefined || b.liveness === null) throw new KycError('missingField', 'liveness');
    if (typeof b.liveness !== 'string') throw new KycError('invalidField', 'liveness must be a base64 string');
    const recording = fromBase64(b.liveness);
    if (!recording) throw new KycError('livenessInvalid', 'liveness is not base64');
    return this.gate.run(async (signal) => {
      const card = await imageField(b, 'idImage', true);
      signal.throwIfAborted();
      const faceDocumentScore = await this.faceScore(citizen, this.cardFace(card), 'the photo on the card');
      let result: Awaited<ReturnType<typeof checkLiveness>>;
      try {
        result = await checkLiveness(recording, actions, signal);
      } catch (err) {
        if (err instanceof RecordingRejection || err instanceof ImageRejection) throw new KycError('livenessInvalid', err.message);
        throw err;
      }
      const faceMoiScore = await this.faceScore(citizen, faceSignature(result.frontal), 'the first liveness frame');
      return { userInfo, livenessScore: result.score, faceDocumentScore, faceMoiScore };
    });
  }

  ocrIdcard(body: unknown): Promise<Record<string, unknown>> {
    const b = asBody(body);
    return this.gate.run(async (signal) => {
      const image = await imageField(b, 'idImage', true);
      const engine = await this.ocr().catch(() => {
        throw new KycError('ocrUnavailable');
      });
      // Tesseract cannot be interrupted inside a recognition: past the time limit its worker is ended.
      signal.throwIfAborted();
      signal.addEventListener('abort', () => void engine.end(), { once: true });
      const reading = await readCard(engine, image);
      const data: Record<string, unknown> = {};
      for (const f of CARD_FIELDS) data[f] = reading.fields[f];
      return { ...data, MRZ1: reading.mrz[0], MRZ2: reading.mrz[1], MRZ3: reading.mrz[2], unreadableFields: reading.unreadableFields, mrzMismatchFields: reading.mrzMismatchFields };
    });
  }

  registryPhoto(idNumber: string, size?: number): Buffer {
    return renderFace(this.citizen(idNumber), size);
  }

  sampleCard(idNumber: string, format: 'png' | 'jpeg', quality?: number): Buffer {
    return renderSampleCard(holderOf(this.citizen(idNumber)), format, quality);
  }

  sampleLiveness(idNumber: string, actions: unknown): Buffer {
    return sampleRecording(this.citizen(idNumber), parseActions(actions));
  }
}
