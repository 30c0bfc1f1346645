import { createHash, X509Certificate } from 'node:crypto';
import { certificateFacts, isAuthenticationCertificate, isSigningCertificate, issuingAnchor, type TrustAnchor } from '../../certs/inspect.js';
import { verifyData } from '../../certs/signature.js';
// The OCSP checks gateways apply to message signers, applied alike to management signers.
import { checkFresh, OcspError, verifyOcspResponse } from '../../certs/ocsp/verify.js';
import {
  formatMemberId,
  formatServiceId,
  formatSubsystemId,
  formatLocalGroupId,
  formatSecurityServerId,
  IdentifierError,
  parseLocalGroupId,
  parseSecurityServerId,
  parseServiceId,
  parseSubsystemId,
  sameMember,
  type MemberId,
  type SecurityServerId,
  type ServiceId,
  type SubsystemId,
} from '../../protocol/identifiers.js';
import {
  EnvelopeSchema,
  isAccessRightRequest,
  isLocalGroupRequest,
  isServiceRequest,
  type LocalGroupRequest,
  type AccessRightRequest,
  ManagementRequestSchema,
  type ManagementEnvelope,
  type ManagementRequest,
  type ServiceRequest,
  type SignatureRole,
} from '../../protocol/management.js';
import { checkPathPattern, isMethodPattern, PathError } from '../../protocol/paths.js';
import { MAX_RIGHTS_PER_MEMBER } from '../registry/access.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import type { ManagementRequestRecord } from '../registry/requests.js';
import { certificateHash, checkAddress } from '../registry/servers.js';
import { checkEndpoints, type Endpoint } from '../registry/services.js';
import type { SignerCertificate } from './certificate-details.js';
import { applyLocalGroupChange, checkLocalGroupChange, localGroupDetail } from './local-group-changes.js';
import { ManagementRejection } from './rejection.js';

export { ManagementRejection };

/** Requests that only take something away: applied at once, with no operator to wait for. */
const REDUCTIONS = new Set<ManagementRequestRecord['type']>(['accessRightRemove', 'localGroupMemberRemove', 'maintenanceModeEnable', 'clientDisable']);

/** Requests must be signed within this window of the central server's clock. */
const MAX_SKEW_MS = 10 * 60_000;
const SYSTEM_ACTOR = 'central';

/**
 * Verifies management requests from security servers and applies approved ones. A request is
 * checked completely — shape, freshness, parties, every certificate, its OCSP status and every
 * signature — before anything is recorded; a refusal changes nothing.
 */
export class ManagementService {
  private readonly autoApprove: boolean;
  private readonly ocspFreshnessSeconds: number;
  private readonly clock: () => number;

  constructor(
    private readonly registry: Registry,
    options: { readonly autoApprove: boolean; readonly ocspFreshnessSeconds: number; readonly clock?: (() => number) | undefined },
  ) {
    this.autoApprove = options.autoApprove;
    this.ocspFreshnessSeconds = options.ocspFreshnessSeconds;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Verifies, records and (in the simulation, or for a reduction) approves a request. A refusal
   * changes nothing and is audited, with the sender's server when the request names one.
   */
  submit(body: unknown): ManagementRequestRecord {
    try {
      // One transaction: when automatic approval fails (a client already registered, a service with
      // access rights), the request is not left recorded either, and no configuration is signed.
      return this.registry.core.transaction(() => {
        const record = this.verifyAndRecord(body);
        return this.autoApprove || REDUCTIONS.has(record.type) ? this.approve(SYSTEM_ACTOR, record.id) : record;
      });
    } catch (err) {
      if (err instanceof ManagementRejection) this.audit(body, err);
      throw err;
    }
  }

  private audit(body: unknown, err: ManagementRejection): void {
    let named: { type?: unknown; server?: unknown; service?: unknown } = {};
    try {
      named = JSON.parse(Buffer.from(String((body as { request?: unknown }).request), 'base64url').toString('utf8')) as typeof named;
    } catch {
      // Unreadable: audited without the names.
    }
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 256) : 'unknown');
    this.registry.core.record(`server:${text(named.server)}`, 'request.refused', text(named.service ?? named.server), { type: text(named.type), reason: err.code, message: err.message });
  }

  private verifyAndRecord(body: unknown): ManagementRequestRecord {
    const { envelope, request, bytes } = this.open(body);
    const requestHash = createHash('sha256').update(bytes).digest('hex');
    const server = this.parseServer(request.server);
    const ownerSigner = this.signer(envelope, 'owner', bytes);
    this.checkSigningCert(ownerSigner, server, 'the server owner');
    this.checkStatus(envelope, 'owner', ownerSigner, 'the signing certificate of the server owner');

    if (isServiceRequest(request)) return this.recordServiceRequest(envelope, request, bytes, requestHash, server, ownerSigner);
    if (isAccessRightRequest(request)) return this.recordAccessRightRequest(envelope, request, bytes, requestHash, server, ownerSigner);
    if (isLocalGroupRequest(request)) return this.recordLocalGroupRequest(envelope, request, bytes, requestHash, server, ownerSigner);
    if (request.type === 'addressChange' || request.type === 'authCertDeletion') return this.recordServerChange(request, requestHash, server, ownerSigner);
    if (request.type === 'maintenanceModeEnable' || request.type === 'maintenanceModeDisable') {
      // The owner's signature (checked above) is all a server's own state needs.
      if (this.registry.core.findServerRow(server) === undefined) throw new ManagementRejection('unknown-server', `security server ${request.server} is not registered`);
      const detail: Record<string, string> = request.type === 'maintenanceModeEnable' ? { message: request.message } : {};
      return this.record(() => this.registry.requests.add(request.type, request.server, request.server, requestHash, detail, [{ role: 'owner', certificate: ownerSigner.toString() }]));
    }
    if (request.type === 'registerAuthCert') {
      const authCert = this.certificate(request.authCertificate, 'authCertificate');
      if (!issuingAnchor(authCert, this.anchors(), this.clock()))
        throw new ManagementRejection('untrusted-certificate', 'the authentication certificate is not issued by an approved CA, or is not valid now');
      if (!isAuthenticationCertificate(certificateFacts(authCert))) {
        throw new ManagementRejection('wrong-key-usage', 'the authentication certificate lacks digitalSignature + TLS client usage (or is a signing certificate)');
      }
      if (certificateFacts(authCert).subject.serialNumber !== request.server) {
        throw new ManagementRejection('identity-mismatch', `the authentication certificate is issued to ${certificateFacts(authCert).subject.serialNumber ?? 'no server'}, not ${request.server}`);
      }
      this.verifySignature(envelope, 'auth', bytes, authCert, 'the new authentication key (proof of possession)');
      this.checkStatus(envelope, 'auth', authCert, 'the authentication certificate');
      try {
        checkAddress(request.address);
      } catch (err) {
        throw new ManagementRejection('invalid-request', (err as Error).message);
      }
      return this.record(() =>
        this.registry.requests.add('registerAuthCert', request.server, certificateHash(authCert.raw), requestHash, { address: request.address, certificate: authCert.toString() }, [
          { role: 'owner', certificate: ownerSigner.toString() },
          { role: 'auth', certificate: authCert.toString() },
        ]),
      );
    } else {
      const client = this.parseClient(request.client);
      if (this.registry.core.findServerRow(server) === undefined) throw new ManagementRejection('unknown-server', `security server ${request.server} is not registered`);
      this.memberExists(client, 'client');
      const signers: SignerCertificate[] = [{ role: 'owner', certificate: ownerSigner.toString() }];
      if (!sameMember(client, server)) {
        const clientSigner = this.signer(envelope, 'client', bytes);
        this.checkSigningCert(clientSigner, client, 'the client member');
        this.checkStatus(envelope, 'client', clientSigner, 'the signing certificate of the client member');
        signers.push({ role: 'client', certificate: clientSigner.toString() });
      }
      if (request.type !== 'registerClient') this.checkClientState(request.type, server, formatSubsystemId(client));
      return this.record(() => this.registry.requests.add(request.type, request.server, request.client, requestHash, {}, signers));
    }
  }

  /**
   * The owner's changes to its own server: a new address (checked as registration checks it), or
   * one of its registered authentication certificates deleted (peers refuse it from the next poll).
   */
  private recordServerChange(
    request: Extract<ManagementRequest, { type: 'addressChange' | 'authCertDeletion' }>,
    requestHash: string,
    server: SecurityServerId,
    ownerSigner: X509Certificate,
  ): ManagementRequestRecord {
    if (this.registry.core.findServerRow(server) === undefined) throw new ManagementRejection('unknown-server', `security server ${request.server} is not registered`);
    let detail: Record<string, string>;
    if (request.type === 'addressChange') {
      try {
        checkAddress(request.address);
      } catch (err) {
        throw new ManagementRejection('invalid-request', (err as Error).message);
      }
      detail = { address: request.address };
    } else {
      if (!this.registry.servers.get(server).authCertHashes.includes(request.authCertHash)) {
        throw new ManagementRejection('unknown-certificate', `no authentication certificate with SHA-256 ${request.authCertHash} is registered for ${request.server}`);
      }
      detail = { authCertHash: request.authCertHash };
    }
    return this.record(() => this.registry.requests.add(request.type, request.server, request.server, requestHash, detail, [{ role: 'owner', certificate: ownerSigner.toString() }]));
  }

  /** clientDisable needs a registered client of the server; clientEnable one that is disabled; clientDeletion one that is registered. */
  private checkClientState(type: 'clientDisable' | 'clientEnable' | 'clientDeletion', server: SecurityServerId, client: string): void {
    const listed = this.registry.servers.get(server);
    if (!listed.clients.includes(client)) throw new ManagementRejection('unknown-client', `${client} is not a client of security server ${listed.id}`);
    if (type === 'clientEnable' && !listed.disabledClients.includes(client))
      throw new ManagementRejection('not-disabled', `${client} is not disabled on security server ${listed.id}; there is nothing to enable`);
  }

  /**
   * A service request names a service of one of the sending server's registered clients (in
   * X-Road a security server serves only its clients' services), and the service's member signs
   * it: as the server owner, or — for a client of another member — beside the owner as `client`,
   * as registerClient is signed. A request signed no later than the last one applied to the
   * service is refused, so an old request replayed or delayed cannot undo a newer change.
   */
  private recordServiceRequest(
    envelope: ManagementEnvelope,
    request: ServiceRequest,
    bytes: Buffer,
    requestHash: string,
    server: SecurityServerId,
    ownerSigner: X509Certificate,
  ): ManagementRequestRecord {
    const service = this.parseService(request.service);
    const provider = formatSubsystemId(service);
    if (this.registry.core.findServerRow(server) === undefined) throw new ManagementRejection('unknown-server', `security server ${request.server} is not registered`);
    if (!this.registry.servers.get(server).clients.includes(provider)) {
      throw new ManagementRejection('identity-mismatch', `${provider}, the provider of ${request.service}, is not a client of security server ${request.server}; register the client first`);
    }
    const signers: SignerCertificate[] = [{ role: 'owner', certificate: ownerSigner.toString() }];
    if (!sameMember(service, server)) {
      const memberSigner = this.signer(envelope, 'client', bytes);
      this.checkSigningCert(memberSigner, service, `the member of service ${request.service}`);
      this.checkStatus(envelope, 'client', memberSigner, `the signing certificate of the member of service ${request.service}`);
      signers.push({ role: 'client', certificate: memberSigner.toString() });
    }
    if (this.registry.requests.known(requestHash)) throw new ManagementRejection('replay', 'this management request was already submitted (replay)');
    const requestedAt = new Date(request.requestedAt).toISOString();
    this.checkNewer(request.service, requestedAt);
    const exists = this.serviceExists(service);
    if (request.type === 'serviceAdd' && exists) throw new ManagementRejection('service-exists', `service ${request.service} already exists; send serviceUpdate to change it`);
    if (request.type !== 'serviceAdd' && !exists) throw new ManagementRejection('unknown-service', `service ${request.service} does not exist`);
    const detail: Record<string, string> = { requestedAt };
    if (request.type !== 'serviceRemove') {
      detail.endpoints = JSON.stringify(this.endpoints(request.endpoints));
      if (request.openApi) Object.assign(detail, { openApi: request.openApi, openApiSha256: createHash('sha256').update(request.openApi).digest('hex') });
    }
    return this.record(() => this.registry.requests.add(request.type, request.server, request.service, requestHash, detail, signers));
  }

  /**
   * What the provider subsystem's member may change (its services' rights, its local groups): the
   * subsystem must be a client of the sending server, and when its member is not the server owner,
   * that member signs beside the owner. Anything else is `not-owner`, naming the member who may.
   */
  private providerSigners(envelope: ManagementEnvelope, bytes: Buffer, server: SecurityServerId, ownerSigner: X509Certificate, provider: SubsystemId, what: string): SignerCertificate[] {
    const owner = formatMemberId(provider);
    if (this.registry.core.findServerRow(server) === undefined) throw new ManagementRejection('unknown-server', `security server ${formatSecurityServerId(server)} is not registered`);
    if (!this.registry.servers.get(server).clients.includes(formatSubsystemId(provider))) {
      throw new ManagementRejection(
        'not-owner',
        `${what} belongs to ${formatSubsystemId(provider)}, not a client of security server ${formatSecurityServerId(server)}; only ${owner}, through a server it is a client of, may change it`,
      );
    }
    const signers: SignerCertificate[] = [{ role: 'owner', certificate: ownerSigner.toString() }];
    if (sameMember(provider, server)) return signers;
    if (!envelope.signatures.some((s) => s.role === 'client')) throw new ManagementRejection('not-owner', `${what} is ${owner}'s to change: the request lacks ${owner}'s signature`);
    const memberSigner = this.signer(envelope, 'client', bytes);
    if (certificateFacts(memberSigner).subject.serialNumber !== owner)
      throw new ManagementRejection('not-owner', `${what} is ${owner}'s to change, not ${certificateFacts(memberSigner).subject.serialNumber ?? 'an unnamed member'}'s`);
    this.checkSigningCert(memberSigner, provider, owner);
    this.checkStatus(envelope, 'client', memberSigner, `the signing certificate of ${owner}`);
    return [...signers, { role: 'client', certificate: memberSigner.toString() }];
  }

  /** Rights on a service are the service's member's to give (providerSigners); a local group subject must be that subsystem's. */
  private recordAccessRightRequest(
    envelope: ManagementEnvelope,
    request: AccessRightRequest,
    bytes: Buffer,
    requestHash: string,
    server: SecurityServerId,
    ownerSigner: X509Certificate,
  ): ManagementRequestRecord {
    const service = this.parseService(request.service);
    const signers = this.providerSigners(envelope, bytes, server, ownerSigner, service, `the access rights of ${request.service}`);
    if (!this.serviceExists(service)) throw new ManagementRejection('unknown-service', `service ${request.service} does not exist`);
    const subject = request.subjectType === 'LOCALGROUP' ? this.localGroupSubject(request.subject, service) : this.subsystemSubject(request.subject);
    const right = this.rightPattern(request.method, request.path);
    if (this.registry.requests.known(requestHash)) throw new ManagementRejection('replay', 'this management request was already submitted (replay)');
    const requestedAt = new Date(request.requestedAt).toISOString();
    this.checkNewer(request.service, requestedAt);
    this.checkRightChange(request.type, subject, service, right);
    const detail = { requestedAt, subject, subjectType: request.subjectType, ...right };
    return this.record(() => this.registry.requests.add(request.type, request.server, request.service, requestHash, detail, signers));
  }

  private subsystemSubject(text: string): string {
    const subject = this.parseClient(text);
    this.subsystemExists(subject);
    return formatSubsystemId(subject);
  }

  /** A local group may be given rights on its own subsystem's services only (X-Road's LOCALGROUP is local to its client). */
  private localGroupSubject(text: string, service: ServiceId): string {
    const group = this.parseLocalGroup(text);
    if (formatSubsystemId(group) !== formatSubsystemId(service)) {
      throw new ManagementRejection(
        'foreign-group',
        `local group ${formatLocalGroupId(group)} belongs to ${formatSubsystemId(group)}; it may be given rights only on that subsystem's services, not on ${formatServiceId(service)}`,
      );
    }
    if (!this.registry.localGroups.find(group)) throw new ManagementRejection('unknown-group', `local group ${formatLocalGroupId(group)} does not exist`);
    return formatLocalGroupId(group);
  }

  /** A local group is its subsystem's member's (providerSigners); one group's requests apply in the order they were signed. */
  private recordLocalGroupRequest(
    envelope: ManagementEnvelope,
    request: LocalGroupRequest,
    bytes: Buffer,
    requestHash: string,
    server: SecurityServerId,
    ownerSigner: X509Certificate,
  ): ManagementRequestRecord {
    const group = this.parseLocalGroup(request.group);
    if (group.instance !== this.registry.instance) throw new ManagementRejection('invalid-request', `local group ${request.group} is not of instance ${this.registry.instance}`);
    const signers = this.providerSigners(envelope, bytes, server, ownerSigner, group, `local group ${request.group}`);
    const member = 'member' in request ? this.parseClient(request.member) : undefined;
    if (this.registry.requests.known(requestHash)) throw new ManagementRejection('replay', 'this management request was already submitted (replay)');
    const requestedAt = new Date(request.requestedAt).toISOString();
    this.checkNewer(formatLocalGroupId(group), requestedAt);
    checkLocalGroupChange(this.registry, { type: request.type, group, ...(member ? { member } : {}) });
    const detail = localGroupDetail(request, requestedAt, member);
    return this.record(() => this.registry.requests.add(request.type, request.server, formatLocalGroupId(group), requestHash, detail, signers));
  }

  private parseLocalGroup(text: string) {
    try {
      return parseLocalGroupId(text, 'local group');
    } catch (err) {
      if (err instanceof IdentifierError) throw new ManagementRejection('invalid-request', err.message);
      throw err;
    }
  }

  /** An addition must be new and within the member's limit; a removal must name a right that exists. */
  private checkRightChange(type: AccessRightRequest['type'], subject: string, service: ServiceId, right: { method: string; path: string }): void {
    const existing = this.registry.access.findRight(subject, formatServiceId(service), right.method, right.path);
    const what = `the right of ${subject} to ${right.method} ${right.path} on ${formatServiceId(service)}`;
    if (type === 'accessRightRemove') {
      if (!existing) throw new ManagementRejection('unknown-right', `${what} does not exist`);
      return;
    }
    if (existing) throw new ManagementRejection('right-exists', `${what} already exists`);
    if (this.registry.access.rightsOfMember(service) >= MAX_RIGHTS_PER_MEMBER) {
      throw new ManagementRejection('limit', `${formatMemberId(service)} already has ${MAX_RIGHTS_PER_MEMBER} access rights on its services, the most a member may hold`);
    }
  }

  private rightPattern(method: string, path: string): { method: string; path: string } {
    if (!isMethodPattern(method)) throw new ManagementRejection('invalid-request', `method '${method}' is not an HTTP method or '*'`);
    try {
      checkPathPattern(path);
    } catch (err) {
      if (err instanceof PathError) throw new ManagementRejection('invalid-request', `path: ${err.message}`);
      throw err;
    }
    return { method, path };
  }

  private subsystemExists(id: SubsystemId): void {
    try {
      this.registry.core.subsystemRow(id, 'subject');
    } catch (err) {
      if (err instanceof RegistryError) throw new ManagementRejection('unknown-subsystem', `subsystem ${formatSubsystemId(id)} is not registered`);
      throw err;
    }
  }

  private checkNewer(service: string, requestedAt: string): void {
    const last = this.registry.requests.lastAppliedServiceRequest(service);
    if (last !== null && requestedAt <= last) {
      throw new ManagementRejection('out-of-order', `a request for ${service} signed at ${last} was already applied; this one, signed at ${requestedAt}, is older`);
    }
  }

  private endpoints(endpoints: readonly { method: string; path: string }[]): Endpoint[] {
    try {
      return checkEndpoints(endpoints as Endpoint[]);
    } catch (err) {
      if (err instanceof RegistryError) throw new ManagementRejection('invalid-request', `${err.field}: ${err.message}`);
      throw err;
    }
  }

  approve(actor: string, id: number): ManagementRequestRecord {
    return this.registry.requests.decide(actor, id, true, null, (req) => this.apply(actor, req));
  }

  decline(actor: string, id: number, reason: string | null): ManagementRequestRecord {
    return this.registry.requests.decide(actor, id, false, reason, () => undefined);
  }

  private apply(actor: string, req: ManagementRequestRecord): void {
    const server = parseSecurityServerId(req.server);
    if (req.type === 'registerAuthCert') {
      // As in X-Road, the first registered authentication certificate brings the server into existence.
      if (this.registry.core.findServerRow(server) === undefined) this.registry.servers.add(actor, server, req.detail.address!);
      else this.registry.servers.setAddress(actor, server, req.detail.address!);
      this.registry.servers.addAuthCert(actor, server, new X509Certificate(req.detail.certificate!).raw);
    } else if (req.type === 'registerClient') {
      const client = parseSubsystemId(req.subject);
      this.registry.members.ensureSubsystem(actor, client);
      this.registry.servers.addClient(actor, server, client);
    } else if (req.type === 'addressChange') {
      this.registry.servers.setAddress(actor, server, req.detail.address!);
    } else if (req.type === 'authCertDeletion') {
      this.registry.servers.removeAuthCert(actor, server, req.detail.authCertHash!);
    } else if (req.type === 'clientDeletion') {
      this.registry.servers.removeClient(actor, server, parseSubsystemId(req.subject));
    } else if (req.type === 'clientDisable' || req.type === 'clientEnable') {
      const client = parseSubsystemId(req.subject);
      if (req.type === 'clientEnable') this.checkClientState('clientEnable', server, req.subject);
      this.registry.servers.setClientDisabled(actor, server, client, req.type === 'clientDisable');
    } else if (req.type === 'maintenanceModeEnable' || req.type === 'maintenanceModeDisable') {
      this.registry.servers.setMaintenance(actor, server, req.type === 'maintenanceModeEnable' ? req.detail.message! : null);
    } else if (req.type === 'accessRightAdd' || req.type === 'accessRightRemove') {
      this.applyAccessRight(actor, req);
    } else if (req.type.startsWith('localGroup')) {
      this.checkNewer(req.subject, req.detail.requestedAt!);
      applyLocalGroupChange(this.registry, actor, req);
    } else {
      this.applyService(actor, req);
    }
  }

  private applyAccessRight(actor: string, req: ManagementRequestRecord): void {
    // Checked again, as for services: a newer request may have been applied while this one waited.
    this.checkNewer(req.subject, req.detail.requestedAt!);
    const service = parseServiceId(req.subject);
    const { subject, method, path } = req.detail as { subject: string; method: string; path: string };
    this.checkRightChange(req.type as AccessRightRequest['type'], subject, service, { method, path });
    if (req.type === 'accessRightAdd') {
      const to = req.detail.subjectType === 'LOCALGROUP' ? ({ type: 'LOCALGROUP', id: parseLocalGroupId(subject) } as const) : ({ type: 'SUBSYSTEM', id: parseSubsystemId(subject) } as const);
      this.registry.access.addRight(actor, to, service, method, path, `request:${req.id}`);
    } else {
      this.registry.access.removeRight(actor, this.registry.access.findRight(subject, req.subject, method, path)!.id);
    }
  }

  /** serviceAdd and serviceUpdate state the whole service: the endpoints and the document (none when absent). */
  private applyService(actor: string, req: ManagementRequestRecord): void {
    // Checked again: a newer request for this service may have been approved while this one waited.
    this.checkNewer(req.subject, req.detail.requestedAt!);
    const service = parseServiceId(req.subject);
    if (req.type === 'serviceRemove') return this.registry.services.remove(actor, service);
    const definition = { endpoints: JSON.parse(req.detail.endpoints!) as Endpoint[], openApi: req.detail.openApi ?? null };
    if (req.type === 'serviceAdd') this.registry.services.add(actor, service, definition);
    else this.registry.services.update(actor, service, definition);
  }

  private open(body: unknown): { envelope: ManagementEnvelope; request: ManagementRequest; bytes: Buffer } {
    const envelope = EnvelopeSchema.safeParse(body);
    if (!envelope.success) throw new ManagementRejection('invalid-request', `the envelope is malformed at ${envelope.error.issues[0]!.path.join('.')}: ${envelope.error.issues[0]!.message}`);
    const bytes = Buffer.from(envelope.data.request, 'base64url');
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new ManagementRejection('invalid-request', 'the request is not JSON');
    }
    const request = ManagementRequestSchema.safeParse(raw);
    if (!request.success) throw new ManagementRejection('invalid-request', `the request is malformed at ${request.error.issues[0]!.path.join('.')}: ${request.error.issues[0]!.message}`);
    if (request.data.instance !== this.registry.instance) throw new ManagementRejection('invalid-request', `the request is for instance ${request.data.instance}, not ${this.registry.instance}`);
    if (Math.abs(Date.parse(request.data.requestedAt) - this.clock()) > MAX_SKEW_MS) {
      throw new ManagementRejection('stale-request', 'the request was signed more than 10 minutes from now; check the clock and sign it again');
    }
    return { envelope: envelope.data, request: request.data, bytes };
  }

  private parseServer(text: string) {
    try {
      const server = parseSecurityServerId(text, 'server');
      this.memberExists(server, 'server owner');
      return server;
    } catch (err) {
      if (err instanceof IdentifierError) throw new ManagementRejection('invalid-request', err.message);
      throw err;
    }
  }

  private serviceExists(service: ServiceId): boolean {
    try {
      this.registry.core.serviceRow(service);
      return true;
    } catch (err) {
      if (err instanceof RegistryError && err.kind === 'not-found') return false;
      throw err;
    }
  }

  private parseService(text: string): ServiceId {
    try {
      const service = parseServiceId(text, 'service');
      if (service.instance !== this.registry.instance) throw new ManagementRejection('invalid-request', `service ${formatServiceId(service)} is not of instance ${this.registry.instance}`);
      return service;
    } catch (err) {
      if (err instanceof IdentifierError) throw new ManagementRejection('invalid-request', err.message);
      throw err;
    }
  }

  private parseClient(text: string) {
    try {
      return parseSubsystemId(text, 'client');
    } catch (err) {
      if (err instanceof IdentifierError) throw new ManagementRejection('invalid-request', err.message);
      throw err;
    }
  }

  private memberExists(id: MemberId, what: string): void {
    try {
      this.registry.core.memberRow(id);
    } catch (err) {
      if (err instanceof RegistryError) throw new ManagementRejection('unknown-member', `${what} ${formatMemberId(id)} is not a registered member`);
      throw err;
    }
  }

  private anchors(): TrustAnchor[] {
    return this.registry.trust.listCas().map((ca) => ({ certificate: new X509Certificate(ca.certificate), root: new X509Certificate(ca.rootCertificate) }));
  }

  private certificate(pem: string, field: string): X509Certificate {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new ManagementRejection('invalid-request', `${field} is not a PEM certificate`);
    }
  }

  /** The signature of `role`, verified with its certificate; returns that certificate. */
  private signer(envelope: ManagementEnvelope, role: SignatureRole, bytes: Buffer): X509Certificate {
    const signature = envelope.signatures.find((s) => s.role === role);
    if (!signature?.certificate) throw new ManagementRejection('invalid-signature', `the request lacks the ${role} signature and certificate`);
    const cert = this.certificate(signature.certificate, `${role} certificate`);
    this.verifySignature(envelope, role, bytes, cert, `the ${role}`);
    return cert;
  }

  private verifySignature(envelope: ManagementEnvelope, role: SignatureRole, bytes: Buffer, cert: X509Certificate, who: string): void {
    const signature = envelope.signatures.find((s) => s.role === role);
    if (!signature || !verifyData(bytes, Buffer.from(signature.value, 'base64'), signature.algorithm, cert.publicKey)) {
      throw new ManagementRejection('invalid-signature', `the signature of ${who} does not verify`);
    }
  }

  /** The certificate must be an approved CA's signing certificate issued to `member`. */
  private checkSigningCert(cert: X509Certificate, member: MemberId, who: string): void {
    if (!issuingAnchor(cert, this.anchors(), this.clock()))
      throw new ManagementRejection('untrusted-certificate', `the signing certificate of ${who} is not issued by an approved CA, or is not valid now`);
    const facts = certificateFacts(cert);
    if (!isSigningCertificate(facts)) throw new ManagementRejection('wrong-key-usage', `the certificate of ${who} is not a signing certificate (nonRepudiation only)`);
    if (facts.subject.serialNumber !== formatMemberId(member)) {
      throw new ManagementRejection('identity-mismatch', `the signing certificate of ${who} is issued to ${facts.subject.serialNumber ?? 'no member'}, not ${formatMemberId(member)}`);
    }
  }

  /**
   * The OCSP response the `role` signature carries must be about `cert`, signed by its CA or
   * that CA's delegated OCSP signer, say good, and be no older than ocspFreshnessSeconds: a key
   * revoked (or whose status cannot be shown) must not register anything.
   */
  private checkStatus(envelope: ManagementEnvelope, role: SignatureRole, cert: X509Certificate, who: string): void {
    const now = this.clock();
    const ca = issuingAnchor(cert, this.anchors(), now);
    if (!ca) throw new ManagementRejection('untrusted-certificate', `${who} is not issued by an approved CA, or is not valid now`);
    const ocsp = envelope.signatures.find((s) => s.role === role)?.ocsp;
    if (!ocsp) throw new ManagementRejection('certificate-status', `the ${role} signature carries no OCSP response for ${who}`);
    try {
      checkFresh(verifyOcspResponse(Buffer.from(ocsp, 'base64'), cert, ca.certificate), this.ocspFreshnessSeconds, now);
    } catch (err) {
      if (err instanceof OcspError) throw new ManagementRejection('certificate-status', `${who}: ${err.message}`);
      throw err;
    }
  }

  private record(fn: () => ManagementRequestRecord): ManagementRequestRecord {
    try {
      return fn();
    } catch (err) {
      if (err instanceof RegistryError && err.kind === 'conflict') throw new ManagementRejection('replay', err.message);
      throw err;
    }
  }
}
