import express, { type NextFunction, type Request, type Response } from 'express';
import { sendLandingPage, type LandingPage } from '../../common/landing-page.js';
import type { Logger } from '../../common/log.js';
import { KYC_ERRORS, KycError } from './errors.js';
import type { KycService } from './kyc.js';

/**
 * The HTTP face of MOI Open KYC: the deck's five POST endpoints with the `{error, message,
 * data}` envelope, and GET helpers of the emulator (registry photo, sample card, sample liveness
 * recording). Logs carry the route, status, error code and duration — never a body, an ID
 * number or a name.
 */

/** Base64 images of a few MB and liveness recordings; 16 MiB of JSON leaves room for both. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
export const API_PREFIX = '/api/2.0/kyc';

const send = (res: Response, status: number, error: number, message: string, data: unknown) => {
  res.locals.kycError = error;
  res.status(status).json({ error, message, data });
};

function fail(res: Response, err: unknown, log: Logger): void {
  if (err instanceof KycError) return send(res, err.status, err.code, err.message, err.data);
  log.error({ err: { message: (err as Error)?.message } }, 'unexpected error');
  send(res, KYC_ERRORS.internal.status, KYC_ERRORS.internal.code, KYC_ERRORS.internal.title, null);
}

const KYC_POSTS = ['info', 'info-face', 'info-face-idcard', 'info-idcard-liveness', 'ocr-idcard'];
const SAMPLE_GETS = ['GET /sim/registry-photo/{idNumber}', 'GET /sim/sample-card/{idNumber}?format=png|jpeg&quality=1-100', 'GET /sim/liveness-sample/{idNumber}?actions=1,2,3'];

function kycLandingPage(sampleId: string | undefined): LandingPage {
  const samples = sampleId
    ? [
        { href: `/sim/sample-card/${sampleId}?format=png`, text: `Sample ID card of ${sampleId}`, note: 'PNG, for `ocr-idcard` and the face checks' },
        { href: `/sim/registry-photo/${sampleId}`, text: `Registry photo of ${sampleId}` },
      ]
    : [];
  return {
    title: 'MOI Open KYC (simulated)',
    about: [
      "The Ministry of Interior's Open KYC API, the provider system behind the CamDX service `CAMDX/GOV/MOI/KYC/kyc`: members call it through their own " +
        "security server and MOI's (`/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/…` on their consumer port), as the access rights allow.",
      `Endpoints (POST, JSON): ${KYC_POSTS.map((e) => `\`${API_PREFIX}/${e}\``).join(', ')}. Answers are \`{error, message, data}\`. The people are a ` +
        `synthetic civil registry (\`npx camdx moi people\` lists ID numbers); the sample images below come from the simulator itself.`,
    ],
    links: [...samples, { href: '/health', text: 'Health', note: 'JSON' }],
  };
}

export function createKycApp(kyc: KycService, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      log.info({ method: req.method, route, status: res.statusCode, error: res.locals.kycError ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });
  // Any content type is parsed as JSON: clients of the deck's API do not always label their bodies.
  app.use(express.json({ limit: MAX_BODY_BYTES, type: () => true, strict: false }));

  const post = (path: string, handler: (body: unknown) => unknown) =>
    app.post(`${API_PREFIX}${path}`, async (req, res) => {
      try {
        send(res, 200, 0, 'Successfully', await handler(req.body));
      } catch (err) {
        fail(res, err, log);
      }
    });
  post('/info', (b) => kyc.info(b));
  post('/info-face', (b) => kyc.infoFace(b));
  post('/info-face-idcard', (b) => kyc.infoFaceIdcard(b));
  post('/info-idcard-liveness', (b) => kyc.infoIdcardLiveness(b));
  post('/ocr-idcard', (b) => kyc.ocrIdcard(b));

  const image = (type: string, make: (req: Request) => Buffer) => (req: Request, res: Response) => {
    try {
      res.type(type).send(make(req));
    } catch (err) {
      fail(res, err, log);
    }
  };
  const id = (req: Request) => String(req.params.idNumber);
  app.get(
    '/sim/registry-photo/:idNumber',
    image('image/png', (req) => kyc.registryPhoto(id(req))),
  );
  app.get('/sim/sample-card/:idNumber', (req, res) => {
    const jpeg = req.query.format === 'jpeg';
    const quality = req.query.quality === undefined ? 90 : Number(req.query.quality);
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) return fail(res, new KycError('invalidField', 'quality must be an integer 1–100'), log);
    image(jpeg ? 'image/jpeg' : 'image/png', (r) => kyc.sampleCard(id(r), jpeg ? 'jpeg' : 'png', quality))(req, res);
  });
  app.get(
    '/sim/liveness-sample/:idNumber',
    image('video/x-motion-jpeg', (req) => kyc.sampleLiveness(id(req), String(req.query.actions ?? '1,2,3').split(','))),
  );
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', registrySize: kyc.registry.size });
  });
  // A browser gets a page; a program asking for JSON (Accept: application/json) the endpoint list.
  app.get('/', (_req, res) => {
    res.format({
      html: () => sendLandingPage(res, kycLandingPage(kyc.registry.at(0)?.idNumber)),
      json: () => res.json({ service: 'camdx-sim MOI Open KYC', endpoints: [...KYC_POSTS.map((e) => `POST ${API_PREFIX}/${e}`), ...SAMPLE_GETS] }),
    });
  });

  app.use((_req: Request, res: Response) => send(res, KYC_ERRORS.unknownEndpoint.status, KYC_ERRORS.unknownEndpoint.code, `${KYC_ERRORS.unknownEndpoint.title}; GET / lists them`, null));
  // Express needs all four parameters to recognise an error handler (body-parser failures land here).
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return fail(res, new KycError('tooLarge', `at most ${MAX_BODY_BYTES} bytes`), log);
    if (err.status && err.status < 500) return fail(res, new KycError('invalidJson', 'the body could not be parsed'), log);
    fail(res, err, log);
  });
  return app;
}
