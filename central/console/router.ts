import { join } from 'node:path';
import type { Router } from 'express';
import { consolePagesRouter } from '../../common/console/pages-router.js';
import { PROJECT_ROOT } from '../../common/paths.js';

/**
 * Central's console: one page app. The page holds no data; its scripts fetch `/api` with the
 * session cookie and build every row with DOM calls.
 */
export function consoleRouter(): Router {
  return consolePagesRouter(join(PROJECT_ROOT, 'central', 'console', 'static'), ['console.js', 'api.js', 'pages.js', 'pages-admin.js']);
}
