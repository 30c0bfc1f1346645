import type { X509Certificate } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import type { ReloadedCertificate } from '../keyring.js';
import { importCertificate } from '../setup/certificate-import.js';
import { rolesInUse, type KeyWorkflowContext } from '../setup/key-context.js';
import { csrFor, KeyWorkflowError, registerAuthCert, submitToRa } from '../setup/key-workflow.js';
import { keyIdOf, newPendingKey, readPendingKeys } from '../setup/pending-keys.js';
import { certificateHash } from '../../protocol/message-hashes.js';
import { listedFor, readSavedAuth } from '../setup/saved-auth.js';

export interface KeysApiDeps {
  readonly ctx: KeyWorkflowContext;
  readonly audit: AuditWriter;
  readonly reloadKeys: () => Promise<ReloadedCertificate[]>;
}

const MAX_PEM = 64 * 1024;

/** X-Road's key usage types, in CamDX's words: `auth` (TLS between gateways) or `signing` (messages). */
export const NewKey = z.strictObject({ role: z.enum(['auth', 'signing']) });
/** Optional, as X-Road's `member_id`: if given, it must be this gateway's own owner (and server); the subject is built here either way. */
export const CsrGenerate = z.strictObject({ memberId: z.string().max(300).optional(), serverId: z.string().max(300).optional() });
export const CertificateRequest = z.strictObject({
  enrolmentToken: z.string().min(1).max(1000),
  raUrl: z.url({ protocol: /^https?$/ }).max(2048),
});
export const CertificateImport = z.strictObject({ certificate: z.string().min(1).max(MAX_PEM) });

/** Audited as the route (`POST /api/v1/keys/{id}/csrs`), the id in the target. */
const action = (req: Request) =>
  `${req.method} /api/v1${String(req.route?.path ?? req.path)
    .replace(':id', '{id}')
    .replace(':hash', '{hash}')}`;
const fieldOf = (error: z.ZodError) => error.issues[0]!.path.join('.') || '(body)';

function certificateView(cert: X509Certificate, ocspAgeSeconds: number | null | undefined, good: boolean) {
  return {
    subject: cert.subject.replaceAll('\n', ', '),
    issuer: cert.issuer.replaceAll('\n', ', '),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    ocsp: { ageSeconds: ocspAgeSeconds ?? null, good },
  };
}

/** The certificates in use, by role (a bare gateway in set-up lists those imported so far). */
function tokenCertificates(ctx: KeyWorkflowContext) {
  const freshness = ctx.globalConf.current?.ocspFreshnessSeconds ?? 3600;
  const ages = ctx.ownOcsp.ages();
  return Object.fromEntries(rolesInUse(ctx).map((role) => [role, certificateView(ctx.keys[role]!.cert, ages[role], ctx.ownOcsp.freshDer(role, freshness) !== undefined)]));
}

function keysView(ctx: KeyWorkflowContext) {
  const freshness = ctx.globalConf.current?.ocspFreshnessSeconds ?? 3600;
  const registered = ctx.globalConf.current?.securityServers.find((s) => s.id === ctx.config.serverId)?.authCertHashes ?? [];
  const inUse = rolesInUse(ctx).map((role) => {
    const cert = ctx.keys[role]!.cert;
    const hash = certificateHash(cert.raw);
    return {
      id: keyIdOf(cert.publicKey),
      role,
      state: 'in-use' as const,
      certificate: {
        serial: cert.serialNumber.toLowerCase(),
        hash,
        subject: cert.subject.replaceAll('\n', ', '),
        notAfter: new Date(cert.validTo).toISOString(),
        ocsp: { good: ctx.ownOcsp.freshDer(role, freshness) !== undefined },
        ...(role === 'auth' ? { registered: registered.includes(hash) } : {}),
      },
    };
  });
  const saved = readSavedAuth(ctx.config.stateDir);
  const waiting = saved
    ? [
        {
          id: keyIdOf(saved.cert.publicKey),
          role: 'auth' as const,
          state: 'saved' as const,
          certificate: {
            serial: saved.cert.serialNumber.toLowerCase(),
            hash: certificateHash(saved.cert.raw),
            subject: saved.cert.subject.replaceAll('\n', ', '),
            notAfter: new Date(saved.cert.validTo).toISOString(),
            registered: listedFor(ctx.globalConf.current, ctx.config.serverId, saved.cert),
          },
        },
      ]
    : [];
  const pending = readPendingKeys(ctx.config.stateDir).map((k) => ({ id: k.id, role: k.role, state: 'pending' as const, keyType: k.keyType, createdAt: k.createdAt }));
  return [...inUse, ...waiting, ...pending];
}

/**
 * The gateway's keys and certificates, after X-Road's security server admin API (`/keys`,
 * `/keys/{id}/csrs`, `/token-certificates`): a new key for `auth` or `signing`, its CSR (the
 * subject this gateway's owner and server only), the certificate from the RA with an enrolment
 * token, its import with `gateway init`'s checks and the keystore swap, and registerAuthCert.
 * Every change and every refusal is audited with its outcome; never a key, token or PEM.
 */
export function keysRouter(deps: KeysApiDeps): Router {
  const router = Router();
  const json = express.json({ limit: 2 * MAX_PEM });
  const audit = (req: Request, res: Response, target: string, status: number, outcome: string, detail: Record<string, unknown> = {}) =>
    deps.audit(callerOf(res).actor, action(req), target, { status, outcome, ...detail });

  /** Runs a step: its answer, or its refusal as `{error, field?, message}`; both audited. */
  const step = async (req: Request, res: Response, target: string, status: 200 | 201, run: () => Promise<{ body: unknown; outcome: string; detail?: Record<string, unknown> }>) => {
    try {
      const done = await run();
      audit(req, res, target, status, done.outcome, done.detail);
      res.status(status).json(done.body);
    } catch (err) {
      if (!(err instanceof KeyWorkflowError)) {
        audit(req, res, target, 500, 'failed');
        return void res.status(500).json({ error: 'internal-error', message: `the ${action(req)} step failed: ${(err as Error).message}` });
      }
      audit(req, res, target, err.status, 'refused', { code: err.reason, ...(err.field ? { field: err.field } : {}) });
      res.status(err.status).json({ error: err.reason, ...(err.field ? { field: err.field } : {}), message: err.message });
    }
  };
  const parse = <T>(req: Request, res: Response, target: string, schema: z.ZodType<T>): T | undefined => {
    const body = schema.safeParse(req.body ?? {});
    if (body.success) return body.data;
    const field = fieldOf(body.error);
    audit(req, res, target, 400, 'refused', { code: 'invalid', field });
    res.status(400).json({ error: 'invalid', field, message: `${field}: ${body.error.issues[0]!.message}` });
    return undefined;
  };
  const { ctx } = deps;

  router.get('/token-certificates', (_req, res) => void res.json(tokenCertificates(ctx)));
  router.get('/keys', (_req, res) => void res.json(keysView(ctx)));
  router.post('/keys', json, (req, res) => {
    const body = parse(req, res, ctx.config.serverId, NewKey);
    if (!body) return;
    void step(req, res, ctx.config.serverId, 201, async () => {
      const { pending, replaced } = newPendingKey(ctx.config.stateDir, body.role);
      return {
        body: { id: pending.id, role: pending.role, keyType: pending.keyType, ...(replaced ? { replaced } : {}) },
        outcome: 'created',
        detail: { key: pending.id, role: pending.role, ...(replaced ? { replaced } : {}) },
      };
    });
  });
  router.post('/keys/:id/csrs', json, (req, res) => {
    const id = String(req.params.id).slice(0, 100);
    const body = parse(req, res, id, CsrGenerate);
    if (!body) return;
    void step(req, res, id, 201, async () => {
      const csr = csrFor(ctx, id, body);
      return { body: { id: csr.key.id, role: csr.key.role, subject: csr.subject, csr: csr.pem }, outcome: 'generated' };
    });
  });
  router.post('/keys/:id/certificate-requests', json, (req, res) => {
    const id = String(req.params.id).slice(0, 100);
    const body = parse(req, res, id, CertificateRequest);
    if (!body) return;
    void step(req, res, id, 201, async () => {
      const issued = await submitToRa(ctx, id, body.enrolmentToken, body.raUrl);
      return {
        body: { id: issued.key.id, role: issued.key.role, serial: issued.cert.serialNumber.toLowerCase(), notAfter: new Date(issued.cert.validTo).toISOString(), certificate: issued.chain.join('') },
        outcome: 'issued',
        detail: { serial: issued.cert.serialNumber },
      };
    });
  });
  router.post('/token-certificates', json, (req, res) => {
    const body = parse(req, res, ctx.config.serverId, CertificateImport);
    if (!body) return;
    void step(req, res, ctx.config.serverId, 201, async () => {
      const imported = await importCertificate(ctx, body.certificate, deps.reloadKeys);
      return {
        body: { ...imported, serial: imported.serial.toLowerCase() },
        outcome: imported.state === 'saved' ? 'saved' : 'imported',
        detail: { role: imported.role, key: imported.keyId, serial: imported.serial },
      };
    });
  });
  router.post('/token-certificates/:hash/register', (req, res) => {
    const hash = String(req.params.hash).slice(0, 100);
    void step(req, res, hash, 200, async () => {
      const { outcome, address } = await registerAuthCert(ctx, hash);
      return { body: { hash: hash.toLowerCase(), server: ctx.config.serverId, address, outcome }, outcome: outcome === 'approved' ? 'registered' : outcome };
    });
  });
  return router;
}
