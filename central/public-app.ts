import express from 'express';
import { sendLandingPage } from '../common/landing-page.js';
import type { Logger } from '../common/log.js';
import { MAX_ENVELOPE_BYTES } from '../protocol/management.js';
import { sendError } from './api/errors.js';
import type { CentralFaults } from './faults.js';
import type { ConfPublisher } from './globalconf/publisher.js';
import { errorHandler, notFound, requestMetrics } from './http-common.js';
import { ManagementRejection, type ManagementService } from './management/service.js';
import { managementRequestType, type CentralMetrics } from './metrics.js';
import type { CentralSettings } from './settings.js';

export interface PublicAppDeps {
  readonly publisher: ConfPublisher;
  readonly management: ManagementService;
  readonly settings: CentralSettings;
  readonly metrics: CentralMetrics;
  readonly faults: CentralFaults;
  readonly log: Logger;
}

/**
 * What the security servers use, and nothing else (as X-Road keeps its central server's public
 * face apart from its administration): the signed global configuration and the management
 * request endpoint, which authenticates each request by its signatures. The console, the admin
 * API, metrics and the dashboard are on the console listener (console-app.ts).
 */
export function createPublicApp(deps: PublicAppDeps): express.Express {
  const { publisher, management, log, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestMetrics(metrics, log));

  // What a browser opening the printed URL sees: that this is not the console, and where that is.
  app.get('/', (_req, res) => {
    sendLandingPage(res, {
      title: `CamDX central server (instance ${deps.settings.instance}): public port`,
      about: [
        'Security servers download the signed global configuration here and send their management requests (authentication certificate, client and service registrations).',
        `Administration is on the console listener: ${deps.settings.consoleUrl}/console (the admin API is \`${deps.settings.consoleUrl}/api\`).`,
      ],
      links: [
        { href: '/globalconf', text: 'Global configuration', note: `the signed configuration (JWS), version ${publisher.current.version}` },
        { href: `${deps.settings.consoleUrl}/console`, text: 'Console', note: 'sign in to manage members, servers, services and access rights' },
        { href: `${deps.settings.consoleUrl}/dashboard`, text: 'Dashboard', note: 'read-only, no sign-in' },
      ],
    });
  });

  app.get('/globalconf', deps.faults.guard(), (req, res) => {
    const { jws, version } = publisher.current;
    const etag = `"v${version}"`;
    res.set({ ETag: etag, 'Cache-Control': 'no-cache' });
    if (req.get('if-none-match') === etag) {
      metrics.confDownloads.inc({ result: 'not_modified' });
      return void res.status(304).end();
    }
    metrics.confDownloads.inc({ result: 'full' });
    res.type('application/jose').send(jws);
  });

  app.post('/management/requests', deps.faults.guard(), express.json({ limit: MAX_ENVELOPE_BYTES }), (req, res) => {
    try {
      const record = management.submit(req.body);
      metrics.managementRequests.inc({ type: record.type, outcome: record.status });
      log.info({ id: record.id, type: record.type, server: record.server, status: record.status }, 'management request accepted');
      void publisher.settled().then(() => res.status(record.status === 'approved' ? 201 : 202).json(record));
    } catch (err) {
      metrics.managementRequests.inc({ type: managementRequestType(req.body), outcome: err instanceof ManagementRejection ? err.code : 'error' });
      log.info({ reason: (err as Error).message }, 'management request refused');
      sendError(res, err, (e) => log.error({ err: { message: (e as Error).message } }, 'management failure'));
    }
  });

  app.use(notFound);
  app.use(errorHandler(log));
  return app;
}
