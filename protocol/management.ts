import { randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { signData, signatureAlgorithmFor } from '../certs/signature.js';

/**
 * Management requests: how a security server asks central to register its authentication
 * certificate or a client subsystem. The request is canonical JSON carried as base64url
 * bytes, and every signature covers exactly those bytes:
 *  - registerAuthCert: signed by the owner member's signing key and by the new auth key
 *    (proof that the server holds it);
 *  - registerClient: signed by the server owner's and by the client member's signing key,
 *    so no server owner can claim another member's subsystem;
 *  - serviceAdd, serviceUpdate, serviceRemove: a REST service of one of the server's clients,
 *    signed by the server owner and, for a client of another member, by that member too (as
 *    registerClient): only the service's member can publish, change or withdraw its service.
 *  - accessRightAdd, accessRightRemove: a right of a subsystem to one of those services (all of
 *    it, or one method and path), signed as the service requests are: the service's member
 *    decides who may call it. A removal is a reduction and needs no approval.
 *  - clientDisable (a reduction: applied at once) and clientEnable: a client of the server out of
 *    service or back, signed as registerClient is.
 *  - addressChange, authCertDeletion, clientDeletion (pr-mserv 2.6, 2.4, 2.2): the server owner's
 *    changes to its server's address, authentication certificates and clients.
 *  - localGroupAdd, localGroupRemove, localGroupMemberAdd, localGroupMemberRemove (a reduction):
 *    a provider subsystem's local group (X-Road LOCALGROUP), signed as its service requests are;
 *    a right may name the group on that subsystem's services only.
 *  - maintenanceModeEnable (a reduction: applied at once) and maintenanceModeDisable: the server's
 *    owner takes its server out of service, with a message for callers, and back.
 * Each signature carries an OCSP response for its certificate (as X-Road's management requests
 * carry the signer's, pr-mserv), which central requires good, fresh (ocspFreshnessSeconds) and
 * signed for that certificate by its CA's OCSP signer: a revoked key registers nothing.
 */

const Pem = z.string().startsWith('-----BEGIN CERTIFICATE-----');

/** Central's registry keeps an OpenAPI document of at most 512 KiB (it rides in the global configuration). */
export const MAX_OPENAPI_BYTES = 512 * 1024;
export const MAX_SERVICE_ENDPOINTS = 500;
/**
 * The signed request bytes at most: room for the largest document, JSON-escaped, and 500
 * endpoints. Central's body limit follows from it (base64url adds a third, plus signatures).
 */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const MAX_REQUEST_CHARS = Math.ceil((MAX_REQUEST_BYTES * 4) / 3);
/** The JSON envelope at most: the request as base64url and three signatures, each with certificate and OCSP response. */
export const MAX_ENVELOPE_BYTES = MAX_REQUEST_CHARS + 128 * 1024;

const ServiceEndpoint = z.strictObject({ method: z.string().max(16), path: z.string().min(1).max(1024) });
const ServiceDocument = z
  .string()
  .refine((doc) => Buffer.byteLength(doc, 'utf8') <= MAX_OPENAPI_BYTES, `the OpenAPI document is larger than ${MAX_OPENAPI_BYTES / 1024} KiB`)
  .nullable()
  .optional();
const serviceDefinition = (type: 'serviceAdd' | 'serviceUpdate') =>
  z.strictObject({
    type: z.literal(type),
    instance: z.string(),
    server: z.string(),
    /** The full service id: instance/class/member/subsystem/service. */
    service: z.string().max(1024),
    /** The whole list: serviceUpdate replaces the endpoints (and the document) as they are. */
    endpoints: z.array(ServiceEndpoint).max(MAX_SERVICE_ENDPOINTS),
    openApi: ServiceDocument,
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  });
/** A client of the server taken out of service (clientDisable, a reduction) or back (clientEnable), signed as registerClient is. */
const clientState = (type: 'clientDisable' | 'clientEnable' | 'clientDeletion') =>
  z.strictObject({ type: z.literal(type), instance: z.string(), server: z.string(), client: z.string(), requestedAt: z.iso.datetime(), nonce: z.string().min(16).max(64) });
const accessRight = (type: 'accessRightAdd' | 'accessRightRemove') =>
  z.strictObject({
    type: z.literal(type),
    instance: z.string(),
    server: z.string(),
    service: z.string().max(1024),
    /** The subsystem given (or losing) the right, or a local group of the service's subsystem (its full id). */
    subject: z.string().max(1024),
    subjectType: z.enum(['SUBSYSTEM', 'LOCALGROUP']).default('SUBSYSTEM'),
    method: z.string().max(16).default('*'),
    path: z.string().min(1).max(1024).default('/**'),
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  });
/** A local group (INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE) of one of the server's clients, signed as that client's service requests are. */
const localGroup = <T extends string, S extends z.ZodRawShape>(type: T, extra: S) =>
  z.strictObject({ type: z.literal(type), instance: z.string(), server: z.string(), group: z.string().max(1024), ...extra, requestedAt: z.iso.datetime(), nonce: z.string().min(16).max(64) });
export const ManagementRequestSchema = z.discriminatedUnion('type', [
  localGroup('localGroupAdd', { description: z.string().max(300).default('') }),
  localGroup('localGroupRemove', {}),
  localGroup('localGroupMemberAdd', { member: z.string().max(1024) }),
  localGroup('localGroupMemberRemove', { member: z.string().max(1024) }),
  z.strictObject({
    type: z.literal('registerAuthCert'),
    instance: z.string(),
    server: z.string(),
    address: z.string(),
    authCertificate: Pem,
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  }),
  z.strictObject({
    type: z.literal('registerClient'),
    instance: z.string(),
    server: z.string(),
    client: z.string(),
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  }),
  serviceDefinition('serviceAdd'),
  serviceDefinition('serviceUpdate'),
  z.strictObject({
    type: z.literal('maintenanceModeEnable'),
    instance: z.string(),
    server: z.string(),
    /** What callers are told while the server is out of service. */
    message: z.string().max(500).default(''),
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  }),
  z.strictObject({ type: z.literal('addressChange'), instance: z.string(), server: z.string(), address: z.string().max(300), requestedAt: z.iso.datetime(), nonce: z.string().min(16).max(64) }),
  z.strictObject({
    type: z.literal('authCertDeletion'),
    instance: z.string(),
    server: z.string(),
    /** SHA-256 (hex) of the registered authentication certificate to delete. */
    authCertHash: z.string().regex(/^[0-9a-f]{64}$/),
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  }),
  clientState('clientDeletion'),
  clientState('clientDisable'),
  clientState('clientEnable'),
  z.strictObject({ type: z.literal('maintenanceModeDisable'), instance: z.string(), server: z.string(), requestedAt: z.iso.datetime(), nonce: z.string().min(16).max(64) }),
  accessRight('accessRightAdd'),
  accessRight('accessRightRemove'),
  z.strictObject({
    type: z.literal('serviceRemove'),
    instance: z.string(),
    server: z.string(),
    service: z.string().max(1024),
    requestedAt: z.iso.datetime(),
    nonce: z.string().min(16).max(64),
  }),
]);
export type ManagementRequest = z.infer<typeof ManagementRequestSchema>;
export type ServiceRequest = Extract<ManagementRequest, { type: 'serviceAdd' | 'serviceUpdate' | 'serviceRemove' }>;
export type AccessRightRequest = Extract<ManagementRequest, { type: 'accessRightAdd' | 'accessRightRemove' }>;
export type LocalGroupRequest = Extract<ManagementRequest, { type: 'localGroupAdd' | 'localGroupRemove' | 'localGroupMemberAdd' | 'localGroupMemberRemove' }>;
export const isLocalGroupRequest = (request: ManagementRequest): request is LocalGroupRequest => request.type.startsWith('localGroup');
export const isAccessRightRequest = (request: ManagementRequest): request is AccessRightRequest => request.type === 'accessRightAdd' || request.type === 'accessRightRemove';
export const isServiceRequest = (request: ManagementRequest): request is ServiceRequest => request.type === 'serviceAdd' || request.type === 'serviceUpdate' || request.type === 'serviceRemove';

export type SignatureRole = 'owner' | 'auth' | 'client';
export const SignatureSchema = z.strictObject({
  role: z.enum(['owner', 'auth', 'client']),
  /** The signer's certificate (PEM); omitted for `auth`, whose key is the request's authCertificate. */
  certificate: Pem.optional(),
  /** Signature algorithm OID (ecdsa-with-SHA256, sha256WithRSAEncryption, …). */
  algorithm: z.string(),
  value: z.string(),
  /** OCSP response (DER, base64) for the signer's certificate (for `auth`, the authCertificate). */
  ocsp: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .max(16_384)
    .optional(),
});
export const EnvelopeSchema = z.strictObject({
  request: z
    .string()
    .max(MAX_REQUEST_CHARS)
    .regex(/^[A-Za-z0-9_-]+$/),
  signatures: z.array(SignatureSchema).min(1).max(3),
});
export type ManagementEnvelope = z.infer<typeof EnvelopeSchema>;

export interface RequestSigner {
  readonly role: SignatureRole;
  readonly key: KeyObject;
  readonly certificatePem?: string;
  /** A fresh OCSP response for the signer's certificate. */
  readonly ocsp?: Buffer;
}

type RequestBody = ManagementRequest extends infer R ? (R extends unknown ? Omit<R, 'requestedAt' | 'nonce'> : never) : never;

export function signManagementRequest(body: RequestBody, signers: readonly RequestSigner[], now = Date.now()): ManagementEnvelope {
  const request = { ...body, requestedAt: new Date(now).toISOString(), nonce: randomBytes(16).toString('hex') };
  const bytes = Buffer.from(JSON.stringify(request), 'utf8');
  return {
    request: bytes.toString('base64url'),
    signatures: signers.map((s) => ({
      role: s.role,
      ...(s.certificatePem ? { certificate: s.certificatePem } : {}),
      algorithm: signatureAlgorithmFor(s.key).algorithmId,
      value: signData(bytes, s.key).toString('base64'),
      ...(s.ocsp ? { ocsp: s.ocsp.toString('base64') } : {}),
    })),
  };
}
