import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Tesseract from 'tesseract.js';

/**
 * One tesseract.js worker, offline. The language data comes from the `@tesseract.js-data/eng`
 * package's `4.0.0` folder — the only English data that includes the legacy engine, which reads
 * OCR-B where the LSTM engine does not (`<` becomes K or L). `cacheMethod: 'none'` stops the
 * worker from writing a 23 MB copy into the working directory and preferring it next time.
 *
 * Recognitions run one at a time: parameters are per worker, so a job sets its own whitelist
 * and page mode and recognises before the next job may touch them.
 */

export interface OcrSymbol {
  readonly text: string;
  readonly confidence: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface OcrLine {
  readonly text: string;
  readonly confidence: number;
  readonly y0: number;
  readonly y1: number;
  readonly symbols: readonly OcrSymbol[];
}

export interface OcrJob {
  readonly image: Buffer;
  readonly whitelist: string;
  /** Tesseract page-segmentation mode: 6 a block of lines, 7 one line. */
  readonly pageMode: '6' | '7';
}

function languageDir(): string {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0');
  // A missing file would make the worker fall back to a CDN download and crash asynchronously.
  if (!existsSync(join(dir, 'eng.traineddata.gz'))) throw new Error(`tesseract language data missing at ${dir}; run npm ci`);
  return dir;
}

export class OcrEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  // A terminated tesseract worker never settles the recognition it was running: end() rejects it here.
  private endWorker: (err: Error) => void = () => undefined;
  private readonly ending = new Promise<never>((_resolve, reject) => (this.endWorker = reject));

  private constructor(private readonly worker: Tesseract.Worker) {
    this.ending.catch(() => undefined);
  }

  static async start(): Promise<OcrEngine> {
    const worker = await Tesseract.createWorker('eng', Tesseract.OEM.TESSERACT_ONLY, {
      langPath: languageDir(),
      gzip: true,
      cacheMethod: 'none',
      legacyCore: true,
      legacyLang: true,
      // The worker reports failures through promise rejections; nothing goes to the console.
      errorHandler: () => undefined,
    });
    // The legacy classifier otherwise adapts to each image it sees, and results would depend on
    // which cards the worker read before.
    await worker.setParameters({ classify_enable_learning: '0', classify_enable_adaptive_matcher: '0' });
    return new OcrEngine(worker);
  }

  /** Recognises one image; lines top to bottom with per-symbol boxes and confidences (0–100). */
  recognize(job: OcrJob): Promise<OcrLine[]> {
    const recognise = async () => {
      await this.worker.setParameters({ tessedit_char_whitelist: job.whitelist, tessedit_pageseg_mode: job.pageMode as Tesseract.PSM });
      // A worker ended meanwhile must not be called: tesseract.js would reject a promise of its own
      // that nobody holds (an unhandled rejection), not the one returned here.
      if (this.stopped) throw new Error('the OCR worker was ended');
      const { data } = await this.worker.recognize(job.image, {}, { blocks: true, text: false });
      const lines: OcrLine[] = [];
      for (const block of data.blocks ?? []) {
        for (const paragraph of block.paragraphs) {
          for (const line of paragraph.lines) {
            const symbols = line.words.flatMap((w) => w.symbols.map((s) => ({ text: s.text, confidence: s.confidence, ...s.bbox })));
            lines.push({ text: line.text.replace(/\s+$/, ''), confidence: line.confidence, y0: line.bbox.y0, y1: line.bbox.y1, symbols });
          }
        }
      }
      return lines.sort((a, b) => a.y0 - b.y0);
    };
    const run = () => (this.stopped ? Promise.reject(new Error('the OCR worker was ended')) : Promise.race([recognise(), this.ending]));
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** True once the worker has been ended; such an engine is replaced, not used. */
  get ended(): boolean {
    return this.stopped;
  }

  /** Ends the worker now, in the middle of a recognition if need be (which then rejects). */
  async end(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.endWorker(new Error('the OCR worker was ended'));
    await this.worker.terminate().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.end();
  }
}
