/** Why a management request was refused; `status` is the HTTP status the API answers with. */
export class ManagementRejection extends Error {
  constructor(
    readonly code:
      | 'invalid-request'
      | 'stale-request'
      | 'unknown-member'
      | 'unknown-server'
      | 'untrusted-certificate'
      | 'certificate-status'
      | 'wrong-key-usage'
      | 'identity-mismatch'
      | 'invalid-signature'
      | 'replay'
      | 'unknown-service'
      | 'service-exists'
      | 'out-of-order'
      | 'not-owner'
      | 'unknown-right'
      | 'unknown-subsystem'
      | 'unknown-client'
      | 'not-disabled'
      | 'unknown-certificate'
      | 'right-exists'
      | 'limit'
      | 'unknown-group'
      | 'group-exists'
      | 'foreign-group'
      | 'group-member-exists'
      | 'unknown-group-member'
      | 'group-in-use',
    message: string,
  ) {
    super(message);
    this.name = 'ManagementRejection';
  }

  get status(): number {
    if (this.code === 'invalid-request' || this.code === 'stale-request') return 400;
    if (CONFLICTS.has(this.code)) return 409;
    return this.code.startsWith('unknown') ? 404 : 403;
  }
}

const CONFLICTS = new Set<ManagementRejection['code']>(['replay', 'service-exists', 'out-of-order', 'right-exists', 'limit', 'not-disabled', 'group-exists', 'group-member-exists', 'group-in-use']);
