import { createServer, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../../common/listen.js';
import { join } from 'node:path';
import { baseUrl, close, listen } from '../../common/http.js';
import type { Logger } from '../../common/log.js';
import { DEFAULT_POPULATION } from '../population/population.js';
import { createKycApp } from './api.js';
import { KycService } from './kyc.js';
import { OcrEngine } from './ocr/engine.js';
import { CivilRegistry } from './registry.js';

export const DEFAULT_MOI_PORT = 4300;

export interface MoiOptions {
  /** MOI's own state directory: the registry database lives here. */
  readonly stateDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly log: Logger;
  readonly population?: { readonly seed: string; readonly size: number };
  /** The time limit of one image check (OCR, faces, liveness); past it the caller gets 503. */
  readonly imageTimeLimitMs?: number;
}

export interface RunningMoi {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly kyc: KycService;
  close(): Promise<void>;
}

/**
 * Starts the MOI Open KYC provider (binds 127.0.0.1 unless told otherwise). The OCR worker starts
 * in the background (~1 s) so the first card does not wait for it; if it cannot start, OCR
 * answers `ocrUnavailable` and everything else keeps working.
 */
export async function startMoiService(options: MoiOptions): Promise<RunningMoi> {
  const population = options.population ?? DEFAULT_POPULATION;
  const registry = new CivilRegistry(join(options.stateDir, 'registry.db'), population.seed, population.size);
  let engine: Promise<OcrEngine> | undefined;
  const ocr = (): Promise<OcrEngine> => {
    engine ??= OcrEngine.start().catch((err: Error) => {
      options.log.error({ err: { message: err.message } }, 'OCR engine failed to start');
      engine = undefined;
      throw err;
    });
    // A worker ended at a time limit is replaced by a new one.
    const current = engine;
    return current.then((e) => {
      if (!e.ended) return e;
      if (engine === current) engine = undefined;
      return ocr();
    });
  };
  void ocr().catch(() => undefined);
  const kyc = new KycService(registry, ocr, options.imageTimeLimitMs === undefined ? {} : { imageTimeLimitMs: options.imageTimeLimitMs });
  const http = limitConnections(createServer(listenerOptions(), createKycApp(kyc, options.log)));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(http, options.port ?? DEFAULT_MOI_PORT, host);
  options.log.info({ port, registrySize: registry.size }, 'MOI Open KYC ready');
  return {
    url: baseUrl(host, port),
    port,
    server: http,
    kyc,
    close: async () => {
      await close(http);
      if (engine) await (await engine.catch(() => undefined))?.stop();
      registry.close();
    },
  };
}
