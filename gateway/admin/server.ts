import { createServer, type Server } from 'node:http';
import { gatewayListenerOptions } from '../transport/listeners.js';
import type { GatewayContext } from '../context.js';
import { KeyReloadError, type ReloadedCertificate } from '../keyring.js';
import { queryRecords } from './records-query.js';
import { bearerMatches } from './token.js';
import { sendLandingPage, type LandingPage } from '../../common/landing-page.js';

/**
 * The admin port: `/metrics` (Prometheus text), `/health`, and the operational records
 * (`/records?from=&to=&client=&service=&limit=`, times in ms since the epoch) as JSON.
 * `POST /ocsp/refresh` fetches fresh OCSP responses for the own certificates now (after a
 * revocation, or when the responder is back) instead of at the next scheduled refresh: 200 with
 * their ages, 502 naming each certificate that got none. `POST /keys/reload` reads the
 * keystores again and switches to renewed certificates without a restart (gateway/keyring.ts;
 * `camdx gateway renew` calls it). These three need the admin token
 * (`Authorization: Bearer`, from `<stateDir>/admin-token`) from every caller, loopback too:
 * records name who called what, and a refresh or reload is an action. `/metrics` and `/health` stay open
 * for Prometheus and central's monitor.
 */
const NEEDS_TOKEN = new Set(['/records', '/ocsp/refresh', '/keys/reload']);

function adminLandingPage(ctx: GatewayContext): LandingPage {
  return {
    title: `CamDX security server ${ctx.config.serverId}: admin port`,
    about: [
      'Operations of this security server. `/metrics` and `/health` are open (Prometheus and central\'s dashboard read them); `/records` (operational records: who called what, when, with what result), `POST /ocsp/refresh` and `POST /keys/reload` need `Authorization: Bearer <token>`, the token in the gateway\'s state directory (`admin-token`).',
      `Information systems call services on the consumer port (${ctx.config.listen.consumer.port}).`,
    ],
    links: [
      { href: '/metrics', text: 'Metrics', note: 'Prometheus text (`camdx_gateway_*`)' },
      { href: '/health', text: 'Health', note: 'JSON: global configuration and OCSP freshness' },
      { href: '/records', text: 'Operational records', note: 'JSON; needs the admin token' },
    ],
  };
}

export function createAdminServer(ctx: GatewayContext, adminToken: string, reloadKeys: () => Promise<ReloadedCertificate[]>, refreshGauges: () => void): Server {
  return createServer(gatewayListenerOptions(ctx.config.limits), (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (NEEDS_TOKEN.has(url.pathname) && !bearerMatches(req.headers.authorization, adminToken)) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer realm="camdx-gateway-admin"');
      return json(401, { error: 'unauthorized', message: `${url.pathname} needs Authorization: Bearer <token>, the token in the gateway's state directory (admin-token)` });
    }
    if (req.method === 'POST' && url.pathname === '/ocsp/refresh') {
      req.resume();
      void ctx.ownOcsp.refresh().then(
        () => json(200, { ocspAgeSeconds: ctx.ownOcsp.ages() }),
        // The previous responses (if any) stay in use; the ages say how long they last.
        (err: Error) => json(502, { error: 'ocsp-unavailable', message: `OCSP refresh failed: ${err.message}`, ocspAgeSeconds: ctx.ownOcsp.ages() }),
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/keys/reload') {
      req.resume();
      void reloadKeys().then(
        (certificates) => json(200, { server: ctx.config.serverId, certificates }),
        (err: Error) => (err instanceof KeyReloadError ? json(err.code === 'ocsp' ? 502 : 409, { error: `${err.code}-refused`, message: err.message }) : json(500, { error: 'reload-failed', message: err.message })),
      );
      return;
    }
    if (req.method !== 'GET') return json(405, { error: 'method-not-allowed', message: 'the admin port answers GET, POST /ocsp/refresh and POST /keys/reload' });
    if (url.pathname === '/metrics') {
      refreshGauges();
      void ctx.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (url.pathname === '/') return sendLandingPage(res, adminLandingPage(ctx));
    if (url.pathname === '/health') {
      const conf = ctx.globalConf.status();
      const ocsp = ctx.ownOcsp.ages();
      const healthy = !conf.outdated && Object.values(ocsp).every((a) => a !== null);
      const certificates = { auth: ctx.keys.auth.cert.serialNumber, signing: ctx.keys.signing.cert.serialNumber };
      return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', server: ctx.config.serverId, globalConf: conf, ocspAgeSeconds: ocsp, certificates, messageLogQueue: ctx.messageLog.queueDepth });
    }
    if (url.pathname === '/records') {
      const answer = queryRecords(ctx, url.searchParams);
      return json(answer.status, answer.body);
    }
    json(404, { error: 'not-found', message: 'the admin port serves /metrics, /health and /records (POST /ocsp/refresh, /keys/reload)' });
  });
}
