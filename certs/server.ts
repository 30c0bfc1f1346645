import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../common/listen.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { baseUrl, close, listen } from '../common/http.js';
import type { Logger } from '../common/log.js';
import { sendLandingPage, type LandingPage } from '../common/landing-page.js';
import { pemFileDer } from './hierarchy.js';
import { ISSUING_CAS, type CaName, type Identity, type IssuingCaName } from './profiles.js';
import { OcspResponder } from './ocsp/responder.js';
import type { OnlinePki } from './online.js';
import { toPem } from './pem.js';
import { MAX_CSR_BYTES, RaRejection, RegistrationAuthority } from './ra.js';
import { isRevocationReason, revokeBySerial } from './revocation.js';
import { ocspUrlOf } from './settings.js';
import { TimestampAuthority } from './tsa/authority.js';

/** Request size limits: OCSP and TSA queries are a few hundred bytes; allow generous headroom. */
const MAX_OCSP_BYTES = 16 * 1024;
const MAX_TSA_BYTES = 16 * 1024;

export interface PkiServices {
  readonly ra: RegistrationAuthority;
  readonly ocsp: OcspResponder;
  readonly tsa: TimestampAuthority;
}

export function createPkiServices(pki: OnlinePki, ocspValiditySeconds?: number): PkiServices {
  return {
    ra: new RegistrationAuthority(pki.store, pki.cas, ocspUrlOf(pki.settings)),
    ocsp: new OcspResponder(pki.cas, pki.ocspSigners, pki.store, ocspValiditySeconds === undefined ? {} : { validitySeconds: ocspValiditySeconds }),
    tsa: new TimestampAuthority(pki.tsa, pki.store),
  };
}

const CA_FILES: readonly CaName[] = ['root-ca', ...ISSUING_CAS];

function bearer(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function fail(res: Response, status: number, error: string, message: string): void {
  res.status(status).json({ error, message });
}

/** The PKI's HTTP face: CA certificates, the RA's CSR endpoint, OCSP, TSA and a small admin API. */
/**
 * Simulated outages (`camdx fault`): a service marked down answers 503, as a responder behind
 * a failed load balancer would, while the rest of the PKI keeps working.
 */
export interface PkiFaults {
  tsa: boolean;
  ocsp: boolean;
  /** Extra delay before the TSA answers, in ms (a slow TSA). */
  tsaDelayMs: number;
}

function pkiLandingPage(instance: string): LandingPage {
  return {
    title: `CamDX PKI (instance ${instance})`,
    about: [
      "The simulated network's certification authorities: the CamDX CA issues members' signing and security servers' authentication certificates, the " +
        "CamDigiKey CA its relying parties' client certificates; below them the registration authority, the OCSP responder and the time-stamping authority.",
      'Certificates are issued to a PKCS#10 request with a one-time enrolment token from central: `POST /ra/certificates` with `Authorization: Bearer ' +
        '<token>`, or `npx camdx pki issue --csr … --token-file …`. OCSP: `POST /ocsp` or `GET /ocsp/<base64 request>`; time stamps: `POST /tsa`.',
    ],
    links: [
      { href: '/ca', text: 'CA certificates', note: 'JSON list' },
      ...CA_FILES.map((name) => ({ href: `/ca/${name}.pem`, text: `${name}.pem` })),
      { href: '/tsa/certificate.pem', text: 'TSA certificate' },
      { href: '/health', text: 'Health', note: 'JSON' },
    ],
  };
}

export function createPkiApp(pki: OnlinePki, services: PkiServices, log: Logger, faults: PkiFaults = { tsa: false, ocsp: false, tsaDelayMs: 0 }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false);
  const raw = (limit: number) => express.raw({ type: () => true, limit });

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The route, never the URL: OCSP GET paths carry the request, others may carry tokens.
      const route = (req.route?.path as string | undefined) ?? req.path.split('/').slice(0, 2).join('/');
      log.debug({ method: req.method, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  // A browser gets a page; a program asking for JSON (Accept: application/json) the endpoint list.
  app.get('/', (_req, res) => {
    res.format({
      html: () => sendLandingPage(res, pkiLandingPage(pki.settings.instance)),
      json: () =>
        res.json({
          service: 'camdx-sim PKI',
          instance: pki.settings.instance,
          endpoints: {
            caCertificates: '/ca',
            enrol: 'POST /ra/certificates (PKCS#10 CSR, Authorization: Bearer <enrolment token>)',
            ocsp: 'POST /ocsp (application/ocsp-request) or GET /ocsp/<base64 request>',
            tsa: 'POST /tsa (application/timestamp-query); its certificate at /tsa/certificate.pem',
          },
        }),
    });
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/ca', (_req, res) => {
    res.json(
      CA_FILES.map((name) => ({
        name,
        subject: name === 'root-ca' ? pki.root.subject : pki.cas.get(name as IssuingCaName)!.cert.subject,
        pem: `/ca/${name}.pem`,
      })),
    );
  });
  app.get('/ca/:file', (req, res) => {
    const name = String(req.params.file).replace(/\.pem$/, '') as CaName;
    if (!CA_FILES.includes(name)) return fail(res, 404, 'not-found', `no CA '${name}'; try ${CA_FILES.join(', ')}`);
    const der = name === 'root-ca' ? Buffer.from(pki.root.raw) : pemFileDer(pki.layout.caCert(name));
    res.type('application/x-pem-file').send(toPem(der, 'CERTIFICATE'));
  });

  app.post('/ra/certificates', raw(MAX_CSR_BYTES), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const issued = services.ra.submit(body, bearer(req));
      log.info({ serial: issued.serial, profile: issued.profile }, 'certificate issued');
      res.status(201).json({ serial: issued.serial, profile: issued.profile, certificate: issued.pem, chain: issued.chain });
    } catch (err) {
      if (!(err instanceof RaRejection)) throw err;
      log.info({ rule: err.rule }, 'certificate request refused');
      fail(res, err.rule === 'token.missing' ? 401 : err.rule.startsWith('token.') ? 403 : 400, err.rule, err.message);
    }
  });

  const unavailable = (service: 'tsa' | 'ocsp') => (_req: Request, res: Response, next: NextFunction) =>
    faults[service] ? fail(res, 503, 'unavailable', `the ${service.toUpperCase()} is down (simulated fault)`) : next();
  app.use('/ocsp', unavailable('ocsp'));
  app.use('/tsa', unavailable('tsa'));
  app.post('/ocsp', raw(MAX_OCSP_BYTES), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.type('application/ocsp-response').send(services.ocsp.respond(body));
  });
  app.get(/^\/ocsp\/(.+)$/, (req, res) => {
    const encoded = req.path.slice('/ocsp/'.length);
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      der = Buffer.alloc(0);
    }
    res.type('application/ocsp-response').send(services.ocsp.respond(der));
  });

  app.get('/tsa/certificate.pem', (_req, res) => {
    res.type('application/x-pem-file').send(pki.tsa.cert.toString());
  });
  app.post('/tsa', raw(MAX_TSA_BYTES), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = () => res.type('application/timestamp-reply').send(services.tsa.respond(body));
    if (faults.tsaDelayMs > 0) setTimeout(answer, faults.tsaDelayMs);
    else answer();
  });

  const admin = express.Router();
  admin.use((req, res, next) => {
    if (!sameSecret(bearer(req), pki.adminToken)) return fail(res, 401, 'unauthorized', 'the admin API needs Authorization: Bearer <admin token>');
    next();
  });
  admin.use(express.json({ limit: 16 * 1024 }));
  admin.post('/enrolments', (req, res) => {
    const { profile, identity, ttlSeconds } = (req.body ?? {}) as { profile?: unknown; identity?: unknown; ttlSeconds?: unknown };
    if (typeof profile !== 'string' || typeof identity !== 'object' || identity === null) {
      return fail(res, 400, 'invalid-request', 'expected {"profile": string, "identity": object, "ttlSeconds"?: number}');
    }
    try {
      const enrolment = services.ra.enrol(profile, identity as Identity, ttlSeconds === undefined ? undefined : Number(ttlSeconds));
      log.info({ profile: enrolment.profile }, 'enrolment token issued');
      res.status(201).json({ ...enrolment, expiresAt: enrolment.expiresAt.toISOString() });
    } catch (err) {
      fail(res, 400, 'invalid-enrolment', (err as Error).message);
    }
  });
  admin.post('/revocations', (req, res) => {
    const { serial, reason = 'unspecified' } = (req.body ?? {}) as { serial?: unknown; reason?: unknown };
    if (typeof serial !== 'string' || typeof reason !== 'string' || !isRevocationReason(reason)) {
      return fail(res, 400, 'invalid-request', 'expected {"serial": hex string, "reason"?: an RFC 5280 reason name}');
    }
    const result = revokeBySerial(pki.store, serial, reason);
    if (result.outcome !== 'revoked') return fail(res, result.outcome === 'already-revoked' ? 409 : 404, result.outcome, result.message);
    log.info({ serial: result.record.serial, reason }, 'certificate revoked');
    res.json({ serial: result.record.serial, ca: result.record.ca, status: 'revoked', reason });
  });
  admin.get('/faults', (_req, res) => void res.json(faults));
  admin.put('/faults/:service', (req, res) => {
    const service = req.params.service;
    const { down, delayMs } = (req.body ?? {}) as { down?: unknown; delayMs?: unknown };
    const validDelay = delayMs === undefined || (Number.isInteger(delayMs) && (delayMs as number) >= 0 && (delayMs as number) <= 600_000);
    if ((service !== 'tsa' && service !== 'ocsp') || typeof down !== 'boolean' || !validDelay || (delayMs !== undefined && service !== 'tsa')) {
      return fail(res, 400, 'invalid-request', 'PUT /admin/faults/tsa {"down": bool, "delayMs"?: 0-600000} or /admin/faults/ocsp {"down": bool}');
    }
    faults[service] = down;
    if (service === 'tsa') faults.tsaDelayMs = (delayMs as number | undefined) ?? 0;
    log.warn({ service, down, delayMs }, 'simulated fault');
    res.json(faults);
  });
  admin.get('/certificates', (_req, res) => {
    res.json(pki.store.listCertificates().map(({ der: _der, ...meta }) => meta));
  });
  app.use('/admin', admin);

  app.use((_req: Request, res: Response) => fail(res, 404, 'not-found', 'no such endpoint; GET / lists them'));
  // Express needs all four parameters to recognise an error handler.
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return fail(res, 413, 'too-large', 'the request body is larger than this endpoint accepts');
    if (err.status && err.status < 500) return fail(res, err.status, 'invalid-request', 'the request body could not be read');
    log.error({ err: { message: err.message } }, 'unexpected error');
    fail(res, 500, 'internal-error', 'the PKI service failed to handle the request');
  });
  return app;
}

export interface RunningPki {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startPkiServer(pki: OnlinePki, options: { host: string; port: number; log: Logger; ocspValiditySeconds?: number }): Promise<RunningPki> {
  const app = createPkiApp(pki, createPkiServices(pki, options.ocspValiditySeconds), options.log);
  const http = limitConnections(createServer(listenerOptions(), app));
  const port = await listen(http, options.port, options.host);
  return { url: baseUrl(options.host, port), port, server: http, close: () => close(http) };
}
