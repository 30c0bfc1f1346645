import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { limitConnections, listenerOptions } from '../../common/listen.js';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import ipaddr from 'ipaddr.js';
import { baseUrl, close, listen } from '../../common/http.js';
import type { Logger } from '../../common/log.js';
import type { Person } from '../population/population.js';
import { PopulationStore } from '../population/store.js';
import { API_PREFIX, CamdigikeyService } from './service.js';
import { camdigikeyLayout, loadSigner } from './setup.js';
import { CamdigikeyStore } from './store.js';
import { webRouter } from './web.js';

export interface CamdigikeyOptions {
  readonly stateDir: string;
  readonly host: string;
  /** Plain HTTP: the login pages, and the API for CamDX members through their gateways. */
  readonly httpPort: number;
  /** HTTPS with client certificates: the API for relying parties using the official client. */
  readonly httpsPort: number;
  /** Public base URL of the login pages; default the HTTP listener. */
  readonly webBaseUrl?: string;
  readonly renderFace: (person: Person) => Buffer;
  readonly log: Logger;
  /** Milliseconds since the epoch; tests move it to expire tokens. */
  readonly clock?: () => number;
  /**
   * Who may call the API over plain HTTP: CamDigiKey's own CamDX gateway, by address or host
   * name (names are looked up again every 30 s). Default: loopback and `host` itself; with a
   * wildcard `host` and no list, any source (a warning says so). Relying parties use HTTPS.
   */
  readonly gatewaySources?: readonly string[];
}

export interface RunningCamdigikey {
  readonly httpUrl: string;
  readonly httpsUrl: string;
  readonly service: CamdigikeyService;
  readonly people: PopulationStore;
  stop(): Promise<void>;
}

/** A relying party calling over HTTPS must present a CamDigiKey CA certificate issued to the client id it uses. */
function clientCertificateProblem(req: Request, store: CamdigikeyStore): string | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted) return undefined;
  if (!socket.authorized) return 'a client certificate issued by the CamDigiKey CA is required';
  const clientId = (req.body as { clientId?: unknown } | undefined)?.clientId;
  // An unknown account is answered by the API itself (1001), which is more use to the caller.
  if (req.method === 'POST' && typeof clientId === 'string' && store.account(clientId)) {
    const cert = new X509Certificate(socket.getPeerCertificate().raw);
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    if (cn !== clientId) return `the client certificate is issued to '${cn}', not to service account '${clientId}'`;
  }
  return undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const normalAddress = (a: string) => (ipaddr.isValid(a) ? ipaddr.process(a).toNormalizedString() : a);

/**
 * Whether a plain-HTTP caller's address is one of `sources` (addresses, or names looked up again
 * every 30 s: a gateway container may start later than CamDigiKey, or move).
 */
function sourceCheck(sources: readonly string[]): (address: string | undefined) => Promise<boolean> {
  let cached: { at: number; addresses: Set<string> } | undefined;
  const resolve = async () => {
    const found = new Set<string>();
    for (const source of sources) {
      if (ipaddr.isValid(source)) found.add(normalAddress(source));
      else for (const r of await lookup(source, { all: true }).catch(() => [])) found.add(normalAddress(r.address));
    }
    return found;
  };
  return async (address) => {
    if (!address) return false;
    if (!cached || Date.now() - cached.at > 30_000) cached = { at: Date.now(), addresses: await resolve() };
    return cached.addresses.has(normalAddress(address));
  };
}

/** Plain HTTP carries no client certificate, so only the gateway may use the API there: it is not a way around mTLS. */
function gatewayOnly(o: CamdigikeyOptions) {
  const open = !o.gatewaySources && WILDCARDS.has(o.host);
  if (open) o.log.warn({ host: o.host }, 'CamDigiKey: the plain-HTTP API answers any source; set gatewaySources to its gateway');
  const allowed = sourceCheck(o.gatewaySources ?? ['127.0.0.1', '::1', o.host]);
  return async (req: Request, res: Response, next: NextFunction) => {
    if (open || (req.socket as TLSSocket).encrypted || (await allowed(req.socket.remoteAddress))) return next();
    res.status(403).json({ error: 1008, message: "over plain HTTP this API serves only CamDigiKey's own CamDX gateway; relying parties call it over HTTPS with their client certificate" });
  };
}

export async function startCamdigikey(o: CamdigikeyOptions): Promise<RunningCamdigikey> {
  const layout = camdigikeyLayout(o.stateDir);
  const store = new CamdigikeyStore(layout.database);
  const people = new PopulationStore(layout.population);
  const httpServer = limitConnections(createServer(listenerOptions()));
  const httpPort = await listen(httpServer, o.httpPort, o.host);
  const httpUrl = baseUrl(o.host, httpPort);
  const service = new CamdigikeyService({
    store,
    people,
    signer: loadSigner(layout),
    payloadKey: Buffer.from(readFileSync(layout.payloadKey, 'utf8'), 'base64'),
    webBaseUrl: o.webBaseUrl ?? httpUrl,
    renderFace: o.renderFace,
    log: o.log,
    ...(o.clock ? { clock: o.clock } : {}),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  const api = express.Router();
  api.use(gatewayOnly(o));
  api.use(express.json({ limit: '64kb', type: () => true }));
  api.use((req: Request, res: Response, next: NextFunction) => {
    const problem = clientCertificateProblem(req, store);
    if (problem) return void res.status(403).json({ error: 1008, message: problem });
    next();
  });
  api.get('/certificates/access-token', (_req, res) => void res.json(service.certificateList()));
  api.post(/^\/service-account\/.+$/, (req: Request, res: Response) => {
    const answer = service.handle(req.path.slice(1), req.body);
    res.status(answer.status).json(answer.body);
  });
  app.use(API_PREFIX.replace(/\/$/, ''), api);
  app.use(webRouter(service, people));
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: 1004, message: 'no such endpoint' }));
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return void res.status(413).json({ error: 1004, message: 'the request body is too large' });
    if (err.status && err.status < 500) return void res.status(400).json({ error: 1004, message: 'the request body is not JSON' });
    o.log.error({ err: { message: err.message } }, 'CamDigiKey failure');
    res.status(500).json({ error: 1000, message: 'internal error' });
  });
  httpServer.on('request', app);

  const httpsServer = https.createServer(
    {
      key: readFileSync(layout.tlsKey),
      cert: readFileSync(layout.tlsChain),
      ca: [readFileSync(layout.issuingCa), readFileSync(layout.root)],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ...listenerOptions(),
    },
    app,
  );
  limitConnections(httpsServer);
  const httpsPort = await listen(httpsServer, o.httpsPort, o.host);
  const purge = setInterval(() => store.purge(Date.now() - 86_400_000), 3_600_000);
  purge.unref();
  return {
    httpUrl,
    httpsUrl: baseUrl(o.host, httpsPort, 'https'),
    service,
    people,
    stop: async () => {
      clearInterval(purge);
      await Promise.all([close(httpServer), close(httpsServer as unknown as Server)]);
      store.close();
      people.close();
    },
  };
}
