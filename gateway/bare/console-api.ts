import express, { Router, type Request, type Response } from 'express';
import { callerOf, consoleGate } from '../../common/console/gate.js';
import { sessionRoutes, signOut, type SessionDeps } from '../console/api.js';
import { keysRouter } from '../console/keys-api.js';
import { KeyWorkflowError } from '../setup/key-workflow.js';
import { Initialization, type InitializationStatus } from './initialization.js';
import type { SetupContext } from './setup-context.js';

/** What the bare gateway's API drives: its status, the initial configuration, and the key steps once there is an owner. */
export interface BareSetup {
  status(): InitializationStatus;
  /** Writes gateway.yaml for the owner and server code; warnings say what central does not know yet. */
  initialize(body: { ownerId: string; serverCode: string }): { serverId: string; warnings: string[] };
  readonly context: SetupContext | undefined;
  /** After an import or a registration: the gateway checks whether it may open its ports. */
  changed(): void;
}

const uninitialised = (status: InitializationStatus) => ({ error: 'uninitialised', message: `the gateway is not set up yet; next: ${status.next} (GET /api/v1/initialization/status)` });

/**
 * `/api/v1` of a bare gateway (`camdx gateway run --new`): sign-in with the admin token or the
 * one-time setup code, `/initialization` (X-Road's initial configuration: owner and server
 * code), then the keys and certificates steps of a set-up gateway (gateway/console/keys-api.ts)
 * on the keystores imported so far. Everything else answers 409 `uninitialised`, naming the next step.
 */
export function bareApiRouter(deps: SessionDeps & { readonly setup: BareSetup }): Router {
  const { setup } = deps;
  const router = Router();
  router.use(sessionRoutes(deps));
  router.use(consoleGate({ adminToken: deps.adminToken, sessions: deps.sessions, audit: deps.audit, mount: '/api/v1' }));
  router.delete('/session', signOut(deps));
  router.get('/initialization/status', (_req, res) => void res.json(setup.status()));
  router.post('/initialization', express.json({ limit: 4096 }), (req, res) => initialize(deps, req, res));

  let keys: Router | undefined;
  router.use((req, res, next) => {
    const context = setup.context;
    if (!context) return void res.status(409).json(uninitialised(setup.status()));
    keys ??= keysRouter({ ctx: context, audit: deps.audit, reloadKeys: () => context.reloadKeys() });
    // The gateway looks again after each change: an import may complete the pair, a registration may already be listed.
    res.on('finish', () => req.method !== 'GET' && res.statusCode < 300 && setup.changed());
    keys(req, res, next);
  });
  router.use((_req, res) => void res.status(409).json(uninitialised(setup.status())));
  return router;
}

function initialize(deps: SessionDeps & { readonly setup: BareSetup }, req: Request, res: Response): void {
  const actor = callerOf(res).actor;
  const parsed = Initialization.safeParse(req.body ?? {});
  if (!parsed.success) {
    const field = parsed.error.issues[0]!.path.join('.') || '(body)';
    deps.audit(actor, 'POST /api/v1/initialization', 'gateway', { status: 400, outcome: 'refused', field });
    return void res.status(400).json({ error: 'invalid', field, message: `${field}: ${parsed.error.issues[0]!.message}` });
  }
  try {
    const done = deps.setup.initialize(parsed.data);
    deps.audit(actor, 'POST /api/v1/initialization', done.serverId, { status: 201, outcome: 'initialized' });
    res.status(201).json({ ...deps.setup.status(), warnings: done.warnings });
  } catch (err) {
    if (!(err instanceof KeyWorkflowError)) throw err;
    deps.audit(actor, 'POST /api/v1/initialization', 'gateway', { status: err.status, outcome: 'refused', code: err.reason });
    res.status(err.status).json({ error: err.reason, ...(err.field ? { field: err.field } : {}), message: err.message });
  }
}
