import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import { writeFileAtomic } from '../../common/files.js';
import { parseAnchor } from '../../protocol/anchor.js';
import { formatMemberId, formatSubsystemId, IdentifierError, parseSubsystemId, sameMember } from '../../protocol/identifiers.js';
import { NEW_CLIENT_SETTINGS, type GatewayConfig } from '../config.js';
import { configPath, ConfigEditError, editGatewayConfig, type ConfigChange, type ReferencedFile } from '../config-store.js';
import type { GatewayContext } from '../context.js';
import { registerServer, type RegistrationOutcome } from '../setup/register.js';
import { certificateFile, Pem } from './settings-api.js';
import { CamdxError } from '../../protocol/errors.js';

export interface ClientsApiDeps {
  readonly ctx: GatewayContext;
  readonly audit: AuditWriter;
}

const MAX_PEM = 64 * 1024;

/**
 * A new client of this server, after X-Road's `POST /clients`: a subsystem of the owner, its
 * connection type (HTTPS unless given, as X-Road's), and for HTTPS the pinned IS certificates,
 * which gateway.yaml requires of an HTTPS client.
 */
export const ClientAdd = z.strictObject({
  id: z.string().min(1).max(300),
  connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']).default(NEW_CLIENT_SETTINGS.connection),
  certificates: z.array(Pem).max(20).optional(),
});
export const ClientRegistration = z.object({
  id: z.string(),
  connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']),
  registration: z.enum(['approved', 'submitted', 'already registered']),
});
type ClientRegistrationView = z.infer<typeof ClientRegistration>;

/** A refused step: the answer's status, `error` code and, when one is at fault, the request field. */
class ClientRefusal extends CamdxError<'Config'> {
  constructor(
    readonly status: 400 | 404 | 409 | 502,
    /** Stable: the console API's `error`. */
    readonly reason: string,
    message: string,
    field?: string,
  ) {
    super('Config', message, field === undefined ? {} : { field });
  }
}

/** A path's id, as X-Road's admin API writes it (`CAMDX:COM:DEMOBANK:ONBOARDING`) or URL-encoded. */
const idOf = (param: string) => param.replaceAll(':', '/');
const action = (req: Request) => `${req.method} /api/v1${String(req.route?.path ?? req.path).replace(':id', '{id}')}`;

/**
 * The subsystem `text` names, if it is the owner's. X-Road lets a security server host other
 * members' subsystems, but their registerClient must then carry that member's signature too
 * (central requires it), and this gateway holds only its owner's signing key.
 */
function ownSubsystem(config: GatewayConfig, text: string): string {
  let id;
  try {
    id = parseSubsystemId(text, 'id');
  } catch (err) {
    if (err instanceof IdentifierError) throw new ClientRefusal(400, 'invalid', `${err.message}: a client is a subsystem of this gateway's owner (${config.ownerId}/SUBSYSTEM)`, 'id');
    throw err;
  }
  if (!sameMember(id, config.owner)) {
    throw new ClientRefusal(
      400,
      'not-owner',
      `${formatSubsystemId(id)} is a subsystem of ${formatMemberId(id)}, not of this gateway's owner ${config.ownerId}: its registerClient needs ` +
        `${formatMemberId(id)}'s signature, and this gateway holds only its owner's signing key`,
      'id',
    );
  }
  return formatSubsystemId(id);
}

/** registerClient for `id`, signed with the owner's signing key, to central at the anchor's address. */
async function sendRegisterClient(ctx: GatewayContext, id: string): Promise<RegistrationOutcome> {
  const { config, keys } = ctx;
  const { anchor } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  try {
    const [sent] = await registerServer(anchor.centralUrl, { serverId: config.serverId, address: '', clients: [id], keys: { sign: keys.signing, auth: keys.auth }, skip: { authCert: true } });
    return sent!.outcome;
  } catch (err) {
    // Central's refusal, or a step before it: the OCSP responses the signature carries, central unreachable.
    const message = (err as Error).message;
    throw new ClientRefusal(502, message.startsWith('central refused') ? 'central-refused' : 'registration-failed', `registerClient for ${id} did not go through: ${message}`);
  }
}

interface Snapshot {
  readonly file: string;
  readonly text: string;
  readonly config: GatewayConfig;
}

/**
 * Undoes the add of `id` after central refused it: the old bytes if the file is still as the add
 * left it, else an edit removing `id` alone (another edit came between); and the certificate
 * files the add wrote that nothing refers to now.
 */
function undoAdd(ctx: GatewayContext, id: string, before: Snapshot, written: string, created: readonly ReferencedFile[]): void {
  if (readFileSync(before.file, 'utf8') === written) {
    writeFileAtomic(before.file, before.text, statSync(before.file).mode & 0o777, { durable: true });
    ctx.replaceConfig(Object.freeze({ ...ctx.config, clients: before.config.clients }));
  } else {
    editGatewayConfig(ctx, [{ path: ['clients', id], value: undefined }]);
  }
  const referenced = new Set(Object.values(ctx.config.clients).flatMap((c) => c.certificates));
  for (const f of created) if (!referenced.has(f.path)) rmSync(f.path, { force: true });
}

/** The edit of gateway.yaml that adds `id`, with the certificate files it refers to. */
function addition(config: GatewayConfig, id: string, body: z.infer<typeof ClientAdd>): { changes: ConfigChange[]; files: ReferencedFile[] } {
  const files: ReferencedFile[] = [];
  (body.certificates ?? []).forEach((pem, i) => {
    try {
      files.push(certificateFile(config, 'client-certificates', pem));
    } catch {
      throw new ClientRefusal(400, 'invalid', 'not a certificate that can be read', `certificates.${i}`);
    }
  });
  const value = { connection: body.connection, ...(files.length ? { certificates: files.map((f) => configPath(config, f.path)) } : {}) };
  return { changes: [{ path: ['clients', id], value }], files };
}

/**
 * Adds the client to gateway.yaml (validated whole, swapped in), then sends registerClient; if
 * central refuses, the add is undone. Everything before the first await runs in the request's
 * own tick, so a second add of the same id already sees the first one's entry.
 */
async function addClient(ctx: GatewayContext, body: z.infer<typeof ClientAdd>): Promise<ClientRegistrationView> {
  const config = ctx.config;
  const id = ownSubsystem(config, body.id);
  if (config.clients[id]) {
    throw new ClientRefusal(409, 'conflict', `${id} is already a client here: change it with PATCH /clients/{id}; POST /clients/{id}/register sends registerClient again`, 'id');
  }
  const { changes, files } = addition(config, id, body);
  const created = files.filter((f) => !existsSync(f.path));
  const before: Snapshot = { file: config.configFile ?? '', text: config.configFile ? readFileSync(config.configFile, 'utf8') : '', config };
  try {
    editGatewayConfig(ctx, changes, files);
  } catch (err) {
    // gateway.yaml names the field by its place in the file (clients.<id>.certificates); the request by its own name.
    if (err instanceof ConfigEditError && err.status === 400) throw new ClientRefusal(400, 'invalid', err.message, err.field.replace(`clients.${id}.`, ''));
    throw err;
  }
  const written = readFileSync(before.file, 'utf8');
  try {
    return { id, connection: body.connection, registration: await sendRegisterClient(ctx, id) };
  } catch (err) {
    undoAdd(ctx, id, before, written, created);
    throw err;
  }
}

/** registerClient again for a client this gateway has: in gateway.yaml, or a subsystem of the owner's the global configuration lists. */
async function registerClient(ctx: GatewayContext, text: string): Promise<ClientRegistrationView> {
  const config = ctx.config;
  const id = ownSubsystem(config, text);
  const listed = ctx.globalConf.current?.members.find((m) => m.id === config.ownerId)?.subsystems.some((s) => `${config.ownerId}/${s}` === id);
  const settings = config.clients[id] ?? (listed ? NEW_CLIENT_SETTINGS : undefined);
  if (!settings) throw new ClientRefusal(404, 'unknown-client', `${id} is not a client of this gateway: add it first (POST /clients, camdx gateway client add)`, 'id');
  return { id, connection: settings.connection, registration: await sendRegisterClient(ctx, id) };
}

/**
 * `POST /clients` and `POST /clients/{id}/register` of a gateway's `/api/v1`, after X-Road's
 * security server admin API (`POST /clients`, `PUT /clients/{id}/register`): a new subsystem of
 * the owner into gateway.yaml and registerClient to central, signed by the owner. A refusal
 * changes nothing; each change and refusal is audited with its outcome, never a certificate.
 */
export function clientsRouter(deps: ClientsApiDeps): Router {
  const router = Router();
  const json = express.json({ limit: 21 * MAX_PEM });
  const audit = (req: Request, res: Response, target: string, detail: Record<string, unknown>) => deps.audit(callerOf(res).actor, action(req), target.slice(0, 300), detail);

  /** Runs one step and answers it, or answers its refusal as `{error, field?, message}`; both audited. */
  const run = (req: Request, res: Response, target: string, status: 200 | 201, work: () => Promise<ClientRegistrationView>) => {
    void work().then(
      (body) => {
        audit(req, res, target, { status, outcome: body.registration });
        res.status(status).json(body);
      },
      (err: unknown) => {
        if (!(err instanceof ClientRefusal)) {
          deps.ctx.log.error({ err: { message: (err as Error).message } }, 'client change failed');
          audit(req, res, target, { status: 500, outcome: 'failed' });
          return void res.status(500).json({ error: 'internal-error', message: 'the change failed; gateway.yaml is as it was or as the audit log says' });
        }
        audit(req, res, target, { status: err.status, outcome: 'refused', code: err.reason, ...(err.field ? { field: err.field } : {}) });
        res.status(err.status).json({ error: err.reason, ...(err.field ? { field: err.field } : {}), message: err.message });
      },
    );
  };

  router.post('/clients', json, (req, res) => {
    const target = typeof req.body?.id === 'string' ? (req.body.id as string) : '(none)';
    const body = ClientAdd.safeParse(req.body ?? {});
    if (!body.success) {
      const field = body.error.issues[0]!.path.join('.') || '(body)';
      audit(req, res, target, { status: 400, outcome: 'refused', code: 'invalid', field });
      return void res.status(400).json({ error: 'invalid', field, message: `${field}: ${body.error.issues[0]!.message}` });
    }
    run(req, res, target, 201, () => addClient(deps.ctx, body.data));
  });

  router.post('/clients/:id/register', (req, res) => {
    const id = idOf(String(req.params.id));
    run(req, res, id, 200, () => registerClient(deps.ctx, id));
  });

  // express.json's refusal of a body (too large, not JSON), audited like the others.
  router.use('/clients', (err: { status?: number; message?: string }, req: Request, res: Response, next: NextFunction) => {
    if (!err.status || err.status < 400 || err.status >= 500) return next(err);
    deps.audit(callerOf(res).actor, `${req.method} /api/v1/clients`, '(body)', { status: err.status, outcome: 'refused', field: '(body)' });
    res.status(err.status).json({ error: 'invalid', field: '(body)', message: `the request body is not accepted (${err.message})` });
  });
  return router;
}
