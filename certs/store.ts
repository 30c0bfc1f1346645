import type { Statement } from 'better-sqlite3';
import { openDatabase, type Db } from '../common/sqlite.js';
import type { CaName, Identity, ProfileName } from './profiles.js';

/** RFC 5280 CRLReason codes (7 is unused). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface CertificateRecord {
  readonly serial: string;
  readonly ca: CaName;
  readonly profile: ProfileName;
  readonly subject: string;
  readonly identity: Identity;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly issuedAt: number;
  readonly status: 'good' | 'revoked';
  readonly revokedAt: number | null;
  readonly revocationReason: RevocationReason | null;
  readonly der: Buffer;
}

export interface EnrolmentRecord {
  readonly tokenHash: string;
  readonly profile: ProfileName;
  readonly identity: Identity;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
  readonly usedSerial: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE certificates (
     serial TEXT NOT NULL,
     ca TEXT NOT NULL,
     profile TEXT NOT NULL,
     subject TEXT NOT NULL,
     identity TEXT NOT NULL,
     not_before INTEGER NOT NULL,
     not_after INTEGER NOT NULL,
     issued_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),
     revoked_at INTEGER,
     revocation_reason INTEGER,
     der BLOB NOT NULL,
     PRIMARY KEY (ca, serial)
   );
   CREATE TABLE enrolments (
     token_hash TEXT PRIMARY KEY,
     profile TEXT NOT NULL,
     identity TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER,
     used_serial TEXT
   );
   CREATE TABLE tsa_serials (id INTEGER PRIMARY KEY CHECK (id = 1), next INTEGER NOT NULL);
   INSERT INTO tsa_serials (id, next) VALUES (1, 1);`,
];

const REASON_NAMES = Object.fromEntries(Object.entries(REVOCATION_REASONS).map(([k, v]) => [v, k])) as Record<number, RevocationReason>;

interface CertificateRow {
  serial: string;
  ca: string;
  profile: string;
  subject: string;
  identity: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  status: string;
  revoked_at: number | null;
  revocation_reason: number | null;
  der: Buffer;
}

function toRecord(row: CertificateRow): CertificateRecord {
  return {
    serial: row.serial,
    ca: row.ca as CaName,
    profile: row.profile as ProfileName,
    subject: row.subject,
    identity: JSON.parse(row.identity) as Identity,
    notBefore: row.not_before,
    notAfter: row.not_after,
    issuedAt: row.issued_at,
    status: row.status as 'good' | 'revoked',
    revokedAt: row.revoked_at,
    revocationReason: row.revocation_reason === null ? null : (REASON_NAMES[row.revocation_reason] ?? 'unspecified'),
    der: row.der,
  };
}

/** The issued-certificate register, enrolment tokens and the TSA serial counter (SQLite, WAL). */
export class PkiStore {
  private readonly db: Db;
  private readonly stmt: Record<string, Statement>;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    const db = this.db;
    this.stmt = {
      insertCert: db.prepare(
        `INSERT INTO certificates (serial, ca, profile, subject, identity, not_before, not_after, issued_at, status, der)
         VALUES (@serial, @ca, @profile, @subject, @identity, @notBefore, @notAfter, @issuedAt, 'good', @der)`,
      ),
      getCert: db.prepare('SELECT * FROM certificates WHERE ca = ? AND serial = ?'),
      findCert: db.prepare('SELECT * FROM certificates WHERE serial = ?'),
      countCerts: db.prepare('SELECT COUNT(*) AS n FROM certificates'),
      listCerts: db.prepare('SELECT * FROM certificates ORDER BY issued_at, serial'),
      revoke: db.prepare(`UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE ca = ? AND serial = ? AND status = 'good'`),
      insertEnrolment: db.prepare('INSERT INTO enrolments (token_hash, profile, identity, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      getEnrolment: db.prepare('SELECT * FROM enrolments WHERE token_hash = ?'),
      useEnrolment: db.prepare('UPDATE enrolments SET used_at = ?, used_serial = ? WHERE token_hash = ? AND used_at IS NULL'),
      reserveTsa: db.prepare('UPDATE tsa_serials SET next = next + ? WHERE id = 1 RETURNING next - ? AS first'),
    };
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insertCertificate(rec: Omit<CertificateRecord, 'status' | 'revokedAt' | 'revocationReason'>): void {
    this.stmt.insertCert!.run({ ...rec, identity: JSON.stringify(rec.identity) });
  }

  getCertificate(ca: CaName, serial: string): CertificateRecord | undefined {
    const row = this.stmt.getCert!.get(ca, serial) as CertificateRow | undefined;
    return row && toRecord(row);
  }

  /** Serials are random 127-bit numbers, so a serial alone finds at most one certificate in practice. */
  findBySerial(serial: string): CertificateRecord[] {
    return (this.stmt.findCert!.all(serial.toUpperCase()) as CertificateRow[]).map(toRecord);
  }

  countCertificates(): number {
    return (this.stmt.countCerts!.get() as { n: number }).n;
  }

  listCertificates(): CertificateRecord[] {
    return (this.stmt.listCerts!.all() as CertificateRow[]).map(toRecord);
  }

  /** Marks a good certificate revoked; false if it is unknown or already revoked. */
  revoke(ca: CaName, serial: string, reason: RevocationReason, at: number): boolean {
    return this.stmt.revoke!.run(at, REVOCATION_REASONS[reason], ca, serial).changes === 1;
  }

  insertEnrolment(tokenHash: string, profile: ProfileName, identity: Identity, createdAt: number, expiresAt: number): void {
    this.stmt.insertEnrolment!.run(tokenHash, profile, JSON.stringify(identity), createdAt, expiresAt);
  }

  getEnrolment(tokenHash: string): EnrolmentRecord | undefined {
    const row = this.stmt.getEnrolment!.get(tokenHash) as
      { token_hash: string; profile: string; identity: string; created_at: number; expires_at: number; used_at: number | null; used_serial: string | null } | undefined;
    return (
      row && {
        tokenHash: row.token_hash,
        profile: row.profile as ProfileName,
        identity: JSON.parse(row.identity) as Identity,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        usedAt: row.used_at,
        usedSerial: row.used_serial,
      }
    );
  }

  /** Consumes a token; false if another request consumed it first. */
  useEnrolment(tokenHash: string, serial: string, at: number): boolean {
    return this.stmt.useEnrolment!.run(at, serial, tokenHash).changes === 1;
  }

  /** Reserves `count` consecutive TSA serials and returns the first; durable once this returns. */
  reserveTsaSerials(count: number): number {
    return (this.stmt.reserveTsa!.get(count, count) as { first: number }).first;
  }
}
