import { join } from 'node:path';
import type { Router } from 'express';
import { consolePagesRouter } from '../../common/console/pages-router.js';
import { PROJECT_ROOT } from '../../common/paths.js';

/**
 * The gateway's console pages (X-Road's security server UI): one page app whose scripts fetch
 * `/api/v1` with the session cookie and build every row with DOM calls.
 */
export function gatewayPagesRouter(): Router {
  return consolePagesRouter(
    join(PROJECT_ROOT, 'gateway', 'console', 'static'),
    ['console.js', 'api.js', 'pages.js', 'pages-keys.js', 'pages-services.js', 'pages-setup.js', 'pages-rights.js', 'pages-server.js', 'setup.js', 'gateway.css'],
    {
      // A bare gateway's one-time setup link (gateway/bare/): it trades the code in its fragment for a session.
      '/console/setup': 'setup.html',
    },
  );
}
