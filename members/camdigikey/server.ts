import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
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

export async function startCamdigikey(o: CamdigikeyOptions): Promise<RunningCamdigikey> {
  const layout = camdigikeyLayout(o.stateDir);
  const store = new CamdigikeyStore(layout.database);
  const people = new PopulationStore(layout.population);
  const httpServer = createServer();
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
    },
    app,
  );
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
