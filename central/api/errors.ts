import type { Response } from 'express';
import { ZodError } from 'zod';
import { IdentifierError } from '../../protocol/identifiers.js';
import { ManagementRejection } from '../management/service.js';
import { PkiUnavailable } from '../pki-client.js';
import { RegistryError } from '../registry/errors.js';

const STATUS = { invalid: 400, 'not-found': 404, conflict: 409, 'in-use': 409, forbidden: 403, limit: 409 } as const;

/** Maps any failure to a status and a body a person can act on; unknown errors say nothing internal. */
export function sendError(res: Response, err: unknown, onUnexpected: (err: unknown) => void): void {
  if (err instanceof ZodError) {
    const issue = err.issues[0]!;
    res.status(400).json({ error: 'invalid', field: issue.path.join('.') || '(body)', rule: issue.code, message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
  } else if (err instanceof IdentifierError) {
    res.status(400).json({ error: 'invalid', field: err.field, rule: err.rule, message: err.message });
  } else if (err instanceof RegistryError) {
    res.status(STATUS[err.kind]).json({ error: err.kind, field: err.field, message: err.message });
  } else if (err instanceof ManagementRejection) {
    res.status(err.status).json({ error: err.code, message: err.message });
  } else if (err instanceof PkiUnavailable) {
    res.status(502).json({ error: 'pki-unavailable', message: err.message });
  } else {
    onUnexpected(err);
    res.status(500).json({ error: 'internal-error', message: 'the central server failed to handle the request' });
  }
}
