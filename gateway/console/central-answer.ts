import type { Request, Response } from 'express';
import { callerOf, type AuditWriter } from '../../common/console/gate.js';
import { ServiceRequestRefused, type ServiceRequestOutcome } from '../setup/service-requests.js';

export type Answer = (req: Request, res: Response, status: number, body: unknown, target: string, outcome: string) => void;

/** Answers and audits one console action (who, what, on what, with which status). */
export function answerer(audit: AuditWriter): Answer {
  return (req, res, status, body, target, outcome) => {
    audit(callerOf(res).actor, `${req.method} /api/v1${req.path}`, target.slice(0, 300), { status, outcome });
    res.status(status).json(body);
  };
}

/** What the console says of a request central took: applied (the next configuration carries it) or waiting for an operator. */
export const progressOf = (outcome: ServiceRequestOutcome) => (outcome.status === 'approved' ? 'in progress' : 'waiting for approval');

/**
 * Sends a signed request and answers what central said: 201 applied, 202 waiting for approval,
 * central's own refusal (its 4xx and reason), or 502 when it could not be reached.
 */
export function sendToCentral(
  answer: Answer,
  req: Request,
  res: Response,
  target: string,
  sent: () => Promise<ServiceRequestOutcome>,
  fields: Record<string, unknown>,
  onSent?: (outcome: ServiceRequestOutcome) => void,
): void {
  void sent().then(
    (outcome) => {
      onSent?.(outcome);
      answer(req, res, outcome.status === 'approved' ? 201 : 202, { ...fields, requestId: outcome.id, status: progressOf(outcome) }, target, 'sent');
    },
    (err: Error) =>
      err instanceof ServiceRequestRefused
        ? answer(req, res, [400, 403, 404, 409].includes(err.status) ? err.status : 502, { error: `central-${err.reason}`, message: err.message }, target, 'refused')
        : answer(req, res, 502, { error: 'central-unavailable', message: `the request did not reach central: ${err.message}` }, target, 'failed'),
  );
}
