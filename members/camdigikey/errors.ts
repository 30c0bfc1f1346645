/**
 * Application errors, reported as the official client expects: HTTP 200 with the numeric code
 * in the inner `error` (non-zero) and `data: null`. The real service's codes are not public
 * (wire document §10); these are ours, documented in the README. 1001 matches the wire
 * document's example.
 */
export const CDK_ERRORS = {
  ACCOUNT_NOT_FOUND: [1001, 'Service account not found'],
  BAD_SIGNATURE: [1002, 'Signatures not match'],
  BAD_PARAMS: [1003, 'Cannot decrypt params'],
  INVALID_REQUEST: [1004, 'Invalid request'],
  INVALID_DOMAIN: [1005, 'Invalid client domain'],
  CLIENT_MISMATCH: [1006, 'Client id does not match the service account'],
  INVALID_RETURN_URL: [1007, 'The success return URL is not on the registered domain'],
  INSECURE_RETURN_URL: [1009, 'A return URL must use https: (http: only on a loopback host)'],
  LOGIN_TOKEN_INVALID: [1101, 'Invalid login token'],
  LOGIN_TOKEN_EXPIRED: [1102, 'Login token expired'],
  LOGIN_TOKEN_USED: [1103, 'Login token already used'],
  AUTH_TOKEN_INVALID: [1111, 'Invalid auth token'],
  AUTH_TOKEN_EXPIRED: [1112, 'Auth token expired'],
  AUTH_TOKEN_USED: [1113, 'Auth token already used'],
  ACCESS_TOKEN_INVALID: [1201, 'Invalid access token'],
  ACCESS_TOKEN_EXPIRED: [1202, 'Access token expired'],
  ACCESS_TOKEN_DISABLED: [1203, 'Access token disabled'],
  ACCOUNT_TOKEN_INVALID: [1211, 'Invalid account token'],
  ACCOUNT_TOKEN_EXPIRED: [1212, 'Account token expired'],
  USER_NOT_FOUND: [1301, 'User not found'],
  USER_UNAVAILABLE: [1302, 'User account is not active'],
} as const;
export type CdkErrorName = keyof typeof CDK_ERRORS;

export class CdkError extends Error {
  readonly code: number;

  constructor(readonly name_: CdkErrorName) {
    super(CDK_ERRORS[name_][1]);
    this.code = CDK_ERRORS[name_][0];
  }
}
