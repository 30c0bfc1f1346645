import { signatureCertificate, type SignatureCertificate, type SignerCertificate } from '../management/certificate-details.js';
import { notFound, RegistryError } from './errors.js';
import { isUniqueViolation, type RegistryCore } from './core.js';

export type RequestType =
  | 'registerAuthCert'
  | 'registerClient'
  | 'serviceAdd'
  | 'serviceUpdate'
  | 'serviceRemove'
  | 'accessRightAdd'
  | 'accessRightRemove'
  | 'maintenanceModeEnable'
  | 'maintenanceModeDisable'
  | 'clientDisable'
  | 'clientEnable'
  | 'clientDeletion'
  | 'addressChange'
  | 'authCertDeletion'
  | 'localGroupAdd'
  | 'localGroupRemove'
  | 'localGroupMemberAdd'
  | 'localGroupMemberRemove';
export type RequestStatus = 'pending' | 'approved' | 'declined';

export interface ManagementRequestRecord {
  readonly id: number;
  readonly type: RequestType;
  readonly server: string;
  /** The client subsystem, the authentication certificate's hash, the service (for access rights too), or the local group. */
  readonly subject: string;
  readonly status: RequestStatus;
  readonly createdAt: string;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly reason: string | null;
  /**
   * What approving applies: address and certificate (PEM) for auth certs; requestedAt, endpoints
   * (JSON) and openApi for services; requestedAt, subject, method and path for access rights. Lists leave openApi out (up to 512 KiB each); openApiSha256 stays.
   */
  readonly detail: Record<string, string>;
  /** The certificate of each signature, for review (empty for requests recorded before signers were kept). */
  readonly signatures: readonly SignatureCertificate[];
}

/** Management requests from security servers, kept for approval and as a record. */
export class Requests {
  private readonly stmt;

  constructor(private readonly core: RegistryCore) {
    const db = core.db;
    this.stmt = {
      insert: db.prepare("INSERT INTO management_requests (type, server, subject, request_hash, detail, signers, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)"),
      decide: db.prepare("UPDATE management_requests SET status = ?, decided_at = ?, decided_by = ?, reason = ? WHERE id = ? AND status = 'pending'"),
      list: db.prepare('SELECT * FROM management_requests ORDER BY id'),
      get: db.prepare('SELECT * FROM management_requests WHERE id = ?'),
      seen: db.prepare('SELECT id FROM management_requests WHERE request_hash = ?'),
      // Normalised ISO timestamps (toISOString) compare as strings.
      lastApplied: db.prepare(
        "SELECT MAX(json_extract(detail, '$.requestedAt')) AS at FROM management_requests WHERE subject = ? AND status = 'approved' AND type IN ('serviceAdd', " +
          "'serviceUpdate', 'serviceRemove', 'accessRightAdd', 'accessRightRemove')",
      ),
    };
  }

  /** Records a request; a request already seen (same signed bytes) is a replay. */
  add(type: RequestType, server: string, subject: string, requestHash: string, detail: Record<string, string>, signers: readonly SignerCertificate[] = []): ManagementRequestRecord {
    if (this.stmt.seen.get(requestHash)) throw new RegistryError('conflict', 'request', 'this management request was already submitted (replay)');
    let id: number;
    try {
      id = this.core.mutate(`server:${server}`, `request.${type}`, server, { subject }, () =>
        Number(this.stmt.insert.run(type, server, subject, requestHash, JSON.stringify(detail), JSON.stringify(signers), this.core.clock()).lastInsertRowid),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new RegistryError('conflict', 'request', 'this management request was already submitted (replay)');
      throw err;
    }
    return this.get(id);
  }

  /** True when these signed bytes were submitted before (whatever became of them). */
  known(requestHash: string): boolean {
    return this.stmt.seen.get(requestHash) !== undefined;
  }

  /** When the newest request applied to `service` (its definition or its rights) was signed (ISO), or null. */
  lastAppliedServiceRequest(service: string): string | null {
    return (this.stmt.lastApplied.get(service) as { at: string | null }).at;
  }

  /** Marks a pending request decided, running `apply` in the same transaction when approving. */
  decide(actor: string, id: number, approve: boolean, reason: string | null, apply: (req: ManagementRequestRecord) => void): ManagementRequestRecord {
    const request = this.get(id);
    if (request.status !== 'pending') throw new RegistryError('conflict', 'id', `request ${id} was already ${request.status}`);
    this.core.transaction(() => {
      if (approve) apply(request);
      this.core.mutate(actor, approve ? 'request.approve' : 'request.decline', request.server, { id, reason }, () =>
        this.stmt.decide.run(approve ? 'approved' : 'declined', this.core.clock(), actor, reason, id),
      );
    });
    return this.get(id);
  }

  get(id: number): ManagementRequestRecord {
    const row = this.stmt.get.get(id) as Record<string, unknown> | undefined;
    if (!row) throw notFound('id', `management request ${id}`);
    return toRecord(row);
  }

  list(): ManagementRequestRecord[] {
    return (this.stmt.list.all() as Array<Record<string, unknown>>).map(toRecord).map(({ detail: { openApi: _document, ...detail }, ...record }) => ({ ...record, detail }));
  }
}

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

function toRecord(row: Record<string, unknown>): ManagementRequestRecord {
  return {
    id: row.id as number,
    type: row.type as RequestType,
    server: row.server as string,
    subject: row.subject as string,
    status: row.status as RequestStatus,
    createdAt: iso(row.created_at)!,
    decidedAt: iso(row.decided_at),
    decidedBy: (row.decided_by as string | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    detail: JSON.parse(row.detail as string) as Record<string, string>,
    signatures: row.signers ? (JSON.parse(row.signers as string) as SignerCertificate[]).map(signatureCertificate) : [],
  };
}
