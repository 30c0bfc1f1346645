import { z } from 'zod';

/**
 * What the admin API answers, for its OpenAPI document only: the registry builds the answers
 * (central/registry/*.ts records), these describe them. Requests are validated by schemas.ts.
 */
const method = z.string().meta({ description: 'An HTTP method, or * for any' });

export { ApiError } from '../../common/console/openapi.js';

export const Member = z.object({ id: z.string(), instance: z.string(), memberClass: z.string(), memberCode: z.string(), name: z.string(), subsystems: z.array(z.string()) }).meta({ id: 'Member' });

export const Enrolment = z.object({}).catchall(z.unknown()).meta({ id: 'Enrolment', description: 'A one-time enrolment token from the PKI, shown once.' });

export const Server = z
  .object({
    id: z.string(),
    owner: z.string(),
    serverCode: z.string(),
    address: z.string(),
    authCertHashes: z.array(z.string()),
    clients: z.array(z.string()),
    monitoringUrl: z.string().nullable(),
  })
  .meta({ id: 'SecurityServer' });

export const Service = z
  .object({
    id: z.string(),
    provider: z.string(),
    serviceCode: z.string(),
    endpoints: z.array(z.object({ method, path: z.string() })),
    openApi: z.string().nullable(),
    timestampSynchronously: z.boolean(),
  })
  .meta({ id: 'Service' });

export const Group = z.object({ id: z.string(), code: z.string(), description: z.string(), members: z.array(z.string()) }).meta({ id: 'GlobalGroup' });

export const AccessRight = z
  .object({
    id: z.number().int(),
    subject: z.string(),
    subjectType: z.enum(['SUBSYSTEM', 'GLOBALGROUP', 'LOCALGROUP']),
    service: z.string(),
    method,
    path: z.string(),
    origin: z.string().describe('central:<user>, or request:<id> for a right made by a signed accessRightAdd'),
  })
  .meta({ id: 'AccessRight' });

export const ApprovedCa = z.object({ name: z.string(), certificate: z.string(), rootCertificate: z.string(), ocspUrl: z.string() }).meta({ id: 'ApprovedCa' });
export const ApprovedTsa = z.object({ name: z.string(), url: z.string(), certificate: z.string() }).meta({ id: 'ApprovedTsa' });

export const SignatureCertificate = z
  .object({
    role: z.enum(['owner', 'auth', 'client']),
    subject: z.string(),
    issuer: z.string(),
    serial: z.string().meta({ description: 'hexadecimal' }),
    notBefore: z.iso.datetime(),
    notAfter: z.iso.datetime(),
    keyUsage: z.array(z.string()).meta({ description: 'digitalSignature, nonRepudiation, …' }),
    extendedKeyUsage: z.array(z.string()),
  })
  .meta({ id: 'SignatureCertificate', description: 'The certificate one signature of a management request was made with.' });

export const ManagementRequest = z
  .object({
    id: z.number().int(),
    type: z.enum([
      'registerAuthCert',
      'registerClient',
      'serviceAdd',
      'serviceUpdate',
      'serviceRemove',
      'accessRightAdd',
      'accessRightRemove',
      'maintenanceModeEnable',
      'maintenanceModeDisable',
      'clientDisable',
      'clientEnable',
      'clientDeletion',
      'addressChange',
      'authCertDeletion',
      'localGroupAdd',
      'localGroupRemove',
      'localGroupMemberAdd',
      'localGroupMemberRemove',
    ]),
    server: z.string(),
    subject: z.string().meta({ description: 'The client subsystem, the authentication certificate hash, or the service' }),
    status: z.enum(['pending', 'approved', 'declined']),
    createdAt: z.iso.datetime(),
    decidedAt: z.iso.datetime().nullable(),
    decidedBy: z.string().nullable(),
    reason: z.string().nullable(),
    detail: z.record(z.string(), z.string()),
    signatures: z.array(SignatureCertificate),
  })
  .meta({ id: 'ManagementRequest' });

export const AuditRecord = z
  .object({ id: z.number().int(), at: z.iso.datetime(), actor: z.string(), action: z.string(), target: z.string(), detail: z.record(z.string(), z.unknown()).nullable() })
  .meta({ id: 'AuditRecord' });

export const AuditPage = z
  .object({ records: z.array(AuditRecord), total: z.number().int(), page: z.number().int(), pageSize: z.number().int() })
  .meta({ id: 'AuditPage', description: 'Newest first.' });

export const GlobalConfStatus = z.object({ version: z.number().int(), expiresAt: z.iso.datetime() }).meta({ id: 'GlobalConfStatus' });

export const Session = z
  .object({ name: z.string(), role: z.enum(['administrator', 'observer']), csrfToken: z.string(), expiresAt: z.iso.datetime() })
  .meta({ id: 'Session', description: 'Send csrfToken as X-CSRF-Token with every change.' });

export const User = z.object({ name: z.string(), role: z.enum(['administrator', 'observer']), createdAt: z.iso.datetime() }).meta({ id: 'User' });
