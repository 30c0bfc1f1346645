import { createServer, type Server } from 'node:http';
import { gatewayListenerOptions } from '../transport/listeners.js';
import type { GatewayContext } from '../context.js';
import { sendLandingPage, type LandingPage } from '../../common/landing-page.js';

/**
 * The admin port: `/metrics` (Prometheus text) and `/health`, open for Prometheus and central's
 * monitor. The operational records and the actions (OCSP refresh, key reload) moved to the
 * console API (`listen.console`, `/api/v1`, gateway/console/), which takes the admin token.
 */
const MOVED = new Set(['/records', '/ocsp/refresh', '/keys/reload']);

function adminLandingPage(ctx: GatewayContext): LandingPage {
  return {
    title: `CamDX security server ${ctx.config.serverId}: admin port`,
    about: [
      "Operations of this security server. `/metrics` and `/health` are open (Prometheus and central's dashboard read them). The operational records (who " +
        'called what, when, with what result) and the actions are on the console API (`listen.console`, `/api/v1`), with `Authorization: Bearer <token>`, the ' +
        "token in the gateway's state directory (`admin-token`).",
      `Information systems call services on the consumer port (${ctx.config.listen.consumer.port}).`,
    ],
    links: [
      { href: '/metrics', text: 'Metrics', note: 'Prometheus text (`camdx_gateway_*`)' },
      { href: '/health', text: 'Health', note: 'JSON: global configuration and OCSP freshness' },
    ],
  };
}

export function createAdminServer(ctx: GatewayContext, refreshGauges: () => void): Server {
  return createServer(gatewayListenerOptions(ctx.config.limits), (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (MOVED.has(url.pathname)) {
      req.resume();
      const where = ctx.config.listen.console ? `port ${ctx.config.listen.console.port}` : 'listen.console, which this gateway.yaml does not set yet';
      return json(404, { error: 'moved', message: `${url.pathname} moved to the console API: /api/v1${url.pathname} on ${where}, with the admin token` });
    }
    if (req.method !== 'GET') return json(405, { error: 'method-not-allowed', message: 'the admin port answers GET /metrics and /health; actions are on the console API (/api/v1)' });
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
      return json(healthy ? 200 : 503, {
        status: healthy ? 'ok' : 'degraded',
        server: ctx.config.serverId,
        globalConf: conf,
        ocspAgeSeconds: ocsp,
        certificates,
        messageLogQueue: ctx.messageLog.queueDepth,
      });
    }
    json(404, { error: 'not-found', message: 'the admin port serves /metrics and /health; the rest is on the console API (/api/v1)' });
  });
}
