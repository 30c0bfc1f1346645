import { z } from 'zod';
import { HTTP_METHODS } from '../../protocol/paths.js';

/** Request bodies of the admin API, validated once at the edge. Identifiers are checked by protocol/identifiers. */
const id = z.string().min(1).max(1024);
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

export const AddMember = z.strictObject({ id, name: text(200) });
export const RenameMember = z.strictObject({ name: text(200) });
export const AddSubsystem = z.strictObject({ id });
/** Checked in full (http/https, no credentials, query or fragment) by the registry, which names the rule. */
const monitoringUrl = z.string().max(2048);
export const AddServer = z.strictObject({ id, address: z.string().max(300), monitoringUrl: monitoringUrl.optional() });
/** Either or both; `monitoringUrl: null` stops monitoring the server. */
export const UpdateServer = z
  .strictObject({ address: z.string().max(300).optional(), monitoringUrl: monitoringUrl.nullable().optional() })
  .refine((b) => b.address !== undefined || b.monitoringUrl !== undefined, 'give address, monitoringUrl (null to clear) or both');
export const AddClient = z.strictObject({ client: id });
export const Endpoint = z.strictObject({ method: z.enum([...HTTP_METHODS, '*']), path: z.string().max(1024) });
export const AddService = z.strictObject({
  id,
  endpoints: z.array(Endpoint).max(500).default([]),
  openApi: z.string().nullable().optional(),
  timestampSynchronously: z.boolean().default(false),
});
export const UpdateService = z.strictObject({
  endpoints: z.array(Endpoint).max(500).optional(),
  openApi: z.string().nullable().optional(),
  timestampSynchronously: z.boolean().optional(),
});
export const AddGroup = z.strictObject({ code: z.string().max(255), description: text(500) });
export const AddGroupMember = z.strictObject({ member: id });
export const AddRight = z.strictObject({
  subject: id,
  service: id,
  method: z.enum([...HTTP_METHODS, '*']).default('*'),
  path: z.string().max(1024).default('/**'),
});
export const AddCa = z.strictObject({ name: text(200), certificate: z.string(), rootCertificate: z.string(), ocspUrl: z.string().max(2048) });
export const AddTsa = z.strictObject({ name: text(200), url: z.string().max(2048), certificate: z.string() });
export const Decline = z.strictObject({ reason: text(500).optional() });

/** Query of GET /audit: the paged, filtered form (actor, action, from, to, page, pageSize), or the older after/limit. */
const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, such as 2026-09-02T10:00:00Z' });
export const AuditQuery = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(200).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  page: whole(1, 1_000_000).default(1),
  pageSize: whole(1, 500).default(50),
  after: whole(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: whole(1, 5000).optional(),
});
/** The parameters that ask for the paged answer; without them (or with after/limit) the answer is the older array. */
export const AUDIT_PAGE_PARAMS = ['actor', 'action', 'from', 'to', 'page', 'pageSize'] as const;
