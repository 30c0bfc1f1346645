import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import { IdentifierError, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';
import { NEW_CLIENT_SETTINGS, type GatewayConfig } from '../config.js';
import { configPath, ConfigEditError, editGatewayConfig, type ConfigChange, type ReferencedFile } from '../config-store.js';
import type { GatewayContext } from '../context.js';

export interface SettingsApiDeps {
  readonly ctx: GatewayContext;
  readonly audit: AuditWriter;
}

const MAX_PEM = 64 * 1024;
export const Pem = z
  .string()
  .max(MAX_PEM)
  .regex(/^\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/, 'one PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)');

/** A client subsystem's settings, after X-Road's connection types; `certificates` replaces the pinned IS certificates. */
export const ClientPatch = z
  .strictObject({ connection: z.enum(['HTTP', 'HTTPS', 'HTTPS_NO_AUTH']).optional(), certificates: z.array(Pem).max(20).optional() })
  .refine((b) => b.connection !== undefined || b.certificates !== undefined, { message: 'give connection or certificates', path: ['connection'] });

/** A service's provider system: base URL, its own timeout (null: limits.serviceTimeoutMs), TLS verification (null: the system CA store). */
export const ServicePatch = z
  .strictObject({
    url: z.string().min(1).max(2048).optional(),
    timeoutMs: z.number().int().positive().max(86_400_000).nullable().optional(),
    tls: z
      .union([z.strictObject({ verify: z.boolean() }), z.strictObject({ ca: Pem })])
      .nullable()
      .optional(),
  })
  .refine((b) => b.url !== undefined || b.timeoutMs !== undefined || b.tls !== undefined, { message: 'give url, timeoutMs or tls', path: ['url'] });

/** A path's id, as X-Road's admin API writes it (`CAMDX:COM:DEMOBANK:ONBOARDING`) or as CamDX does, URL-encoded (`CAMDX%2FCOM%2FDEMOBANK%2FONBOARDING`). */
const idOf = (param: string) => param.replaceAll(':', '/');

/** Audited as the route (`PATCH /api/v1/clients/{id}`) with the id as the target: one spelling whichever form the path used. */
const action = (req: Request) => `${req.method} /api/v1${String(req.route?.path ?? req.path).replace(':id', '{id}')}`;

function fieldOf(error: z.ZodError): string {
  return error.issues[0]!.path.join('.') || '(body)';
}

/** A certificate the edit refers to, as a file under the state dir named by its content. */
export function certificateFile(config: GatewayConfig, dir: string, pem: string): ReferencedFile {
  const cert = new X509Certificate(pem);
  return { path: join(config.stateDir, dir, `${createHash('sha256').update(cert.raw).digest('hex')}.pem`), text: cert.toString() };
}

function clientView(config: GatewayConfig, id: string) {
  const settings = config.clients[id] ?? NEW_CLIENT_SETTINGS;
  return {
    id,
    connection: settings.connection,
    certificates: settings.certificates.map((file) => {
      const cert = new X509Certificate(readFileSync(file));
      return { file: configPath(config, file), subject: cert.subject.replaceAll('\n', ', '), sha256: cert.fingerprint256, notAfter: new Date(cert.validTo).toISOString() };
    }),
  };
}

export function serviceView(config: GatewayConfig, id: string) {
  const s = config.services[id]!;
  return {
    id,
    url: s.url,
    timeoutMs: s.timeoutMs ?? null,
    effectiveTimeoutMs: s.timeoutMs ?? config.limits.serviceTimeoutMs,
    tls: { verify: s.tls.verify, caFile: s.tls.caFile ? configPath(config, s.tls.caFile) : null },
  };
}

/**
 * `PATCH /clients/{id}` and `PATCH /services/{id}` of a gateway's `/api/v1`: a client's
 * connection type and pinned IS certificates, a service's base URL, timeout and TLS
 * verification. Each edit is validated whole with the rest of gateway.yaml, written atomically
 * and swapped in (gateway/config-store.ts); each answers the settings now in use, and each,
 * applied or refused, is audited with who made it and what it changed (never the values).
 */
export function settingsRouter(deps: SettingsApiDeps): Router {
  const { ctx } = deps;
  const router = Router();
  const json = express.json({ limit: 21 * MAX_PEM });

  const answer = (req: Request, res: Response, target: string, changed: string[], run: () => unknown) => {
    const audit = (status: number, outcome: string, field?: string) => deps.audit(callerOf(res).actor, action(req), target, { status, outcome, changed, ...(field ? { field } : {}) });
    try {
      const body = run();
      audit(200, 'applied');
      res.json(body);
    } catch (err) {
      if (!(err instanceof ConfigEditError)) throw err;
      audit(err.status, 'refused', err.field);
      res.status(err.status).json({ error: err.status === 400 ? 'invalid' : 'conflict', field: err.field, message: err.message });
    }
  };
  const refuse = (req: Request, res: Response, target: string, field: string, message: string) => {
    deps.audit(callerOf(res).actor, action(req), target, { status: 400, outcome: 'refused', field });
    res.status(400).json({ error: 'invalid', field, message });
  };

  router.patch('/clients/:id', json, (req, res) => {
    const id = idOf(String(req.params.id));
    try {
      parseSubsystemId(id, 'id');
    } catch (err) {
      if (err instanceof IdentifierError) return refuse(req, res, id.slice(0, 300), 'id', err.message);
      throw err;
    }
    const body = ClientPatch.safeParse(req.body ?? {});
    if (!body.success) return refuse(req, res, id, fieldOf(body.error), body.error.issues[0]!.message);
    const config = ctx.config;
    const changes: ConfigChange[] = [];
    const files: ReferencedFile[] = [];
    if (body.data.connection) changes.push({ path: ['clients', id, 'connection'], value: body.data.connection });
    if (body.data.certificates) {
      let i = 0;
      try {
        for (; i < body.data.certificates.length; i++) files.push(certificateFile(config, 'client-certificates', body.data.certificates[i]!));
      } catch {
        return refuse(req, res, id, `certificates.${i}`, 'not a certificate that can be read');
      }
      changes.push({ path: ['clients', id, 'certificates'], value: files.map((f) => configPath(config, f.path)) });
    }
    answer(req, res, id, Object.keys(body.data), () => clientView(editGatewayConfig(ctx, changes, files), id));
  });

  router.patch('/services/:id', json, (req, res) => {
    const id = idOf(String(req.params.id));
    try {
      parseServiceId(id, 'id');
    } catch (err) {
      if (err instanceof IdentifierError) return refuse(req, res, id.slice(0, 300), 'id', err.message);
      throw err;
    }
    const body = ServicePatch.safeParse(req.body ?? {});
    if (!body.success) return refuse(req, res, id, fieldOf(body.error), body.error.issues[0]!.message);
    const config = ctx.config;
    if (!config.services[id] && body.data.url === undefined) return refuse(req, res, id, 'url', `${id} has no settings here yet: give its url`);
    const { url, timeoutMs, tls } = body.data;
    const changes: ConfigChange[] = [];
    const files: ReferencedFile[] = [];
    if (url !== undefined) changes.push({ path: ['services', id, 'url'], value: url });
    if (timeoutMs !== undefined) changes.push({ path: ['services', id, 'timeoutMs'], value: timeoutMs ?? undefined });
    if (tls === null) changes.push({ path: ['services', id, 'tls'], value: undefined });
    else if (tls && 'verify' in tls) changes.push({ path: ['services', id, 'tls'], value: { verify: tls.verify } });
    else if (tls) {
      let ca: ReferencedFile;
      try {
        ca = certificateFile(config, 'service-ca', tls.ca);
      } catch {
        return refuse(req, res, id, 'tls.ca', 'not a certificate that can be read');
      }
      files.push(ca);
      changes.push({ path: ['services', id, 'tls'], value: { caFile: configPath(config, ca.path) } });
    }
    answer(req, res, id, Object.keys(body.data), () => serviceView(editGatewayConfig(ctx, changes, files), id));
  });
  return router;
}
