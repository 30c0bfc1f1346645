import { type KeyObject, type X509Certificate } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../../common/log.js';
import type { Person } from '../population/population.js';
import type { PopulationStore } from '../population/store.js';
import { openRequest, requestSignatureValid, sealResponse, type RequestEnvelope, type ResponseEnvelope } from './envelope.js';
import { CdkError } from './errors.js';
import type { CamdigikeyStore, ServiceAccount, TokenRecord } from './store.js';
import { cleanToken, mintToken, readToken, type TokenKind } from './tokens.js';

export const ISSUER = 'CamDX-CamDigiKey';
export const API_PREFIX = '/api/v3.0/authentication/';

/** Lifetimes, in seconds. Login and auth tokens are short and single-use. */
export const LIFETIMES: Readonly<Record<TokenKind, number>> = { LOGIN: 300, AUTH: 120, USER: 3600, ORGANIZATION: 3600, ACCOUNT: 365 * 86400 };

export interface Signer {
  readonly key: KeyObject;
  readonly cert: X509Certificate;
  /** The token-signing root: the first certificate of relying parties' truststores. */
  readonly root: X509Certificate;
}

export interface ServiceDeps {
  readonly store: CamdigikeyStore;
  readonly people: PopulationStore;
  readonly signer: Signer;
  readonly payloadKey: Buffer;
  /** Base URL of the login pages (the `loginUrl` handed to relying parties). */
  readonly webBaseUrl: string;
  readonly renderFace: (person: Person) => Buffer;
  readonly log: Logger;
  readonly clock?: () => number;
}

/** How an API call ends: an envelope (HTTP 200 whatever the inner error) or, when no envelope can be made, plain JSON. */
export type ApiAnswer = { readonly status: 200; readonly body: ResponseEnvelope } | { readonly status: 400 | 401; readonly body: { error: number; message: string } };

const USER_STATUS = { DISABLED: 0, ENABLED: 1, EXPIRED: 2, DELETED: 4 } as const;

/** `localhost`, a `.localhost` name (RFC 6761) or a loopback address: the simulation's own sites. */
function loopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/**
 * A return URL the browser may be sent to: `https:`, or `http:` on a loopback host. Any other
 * scheme (`javascript:`, `data:`, an app scheme) would run or open something other than the
 * relying party's site.
 */
function parseReturnUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CdkError('INVALID_RETURN_URL');
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHost(url.hostname))) return url;
  throw new CdkError('INSECURE_RETURN_URL');
}

type Inner = Record<string, unknown>;
const str = (inner: Inner, field: string): string => {
  const v = inner[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw new CdkError('INVALID_REQUEST');
  return v;
};

/**
 * The CamDigiKey v3 API behind the envelope: service accounts, login, access/refresh/logout,
 * organisation tokens, user lookup with account tokens, and the user's face. Failures are
 * CdkErrors, answered inside the envelope with HTTP 200 as the official client expects.
 */
export class CamdigikeyService {
  private readonly clock: () => number;

  constructor(private readonly deps: ServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  now(): number {
    return this.clock();
  }

  certificateList(): { data: string[] } {
    return { data: [this.deps.signer.cert.toString(), this.deps.signer.root.toString()] };
  }

  /** Handles one enveloped POST to `API_PREFIX + path`. */
  handle(path: string, body: unknown): ApiAnswer {
    const envelope = body as Partial<RequestEnvelope> | null;
    if (!envelope || typeof envelope.clientId !== 'string' || typeof envelope.params !== 'string' || typeof envelope.signature !== 'string') {
      return { status: 400, body: { error: 1004, message: 'expected {"clientId", "params", "signature"}' } };
    }
    const account = this.deps.store.account(envelope.clientId);
    // Without the account there are no keys to seal an answer with: plain JSON, as an HTTP error.
    if (!account) return { status: 401, body: { error: 1001, message: 'Service account not found' } };
    const seal = (inner: unknown): ApiAnswer => ({ status: 200, body: sealResponse(account.keys, inner) });
    try {
      if (!requestSignatureValid(envelope as RequestEnvelope, account.keys)) throw new CdkError('BAD_SIGNATURE');
      let inner: Inner;
      try {
        inner = openRequest(envelope as RequestEnvelope, account.keys) as Inner;
      } catch {
        throw new CdkError('BAD_PARAMS');
      }
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new CdkError('INVALID_REQUEST');
      // The official client sends the inner clientId and domain only when set in its environment.
      if (inner.clientId !== undefined && inner.clientId !== account.clientId) throw new CdkError('CLIENT_MISMATCH');
      if (inner.domain !== undefined && inner.domain !== account.domain) throw new CdkError('INVALID_DOMAIN');
      const data = this.dispatch(path, account, inner);
      return seal({ error: 0, message: 'Success', data });
    } catch (err) {
      if (err instanceof CdkError) {
        this.deps.log.info({ clientId: account.clientId, call: path, error: err.code }, 'CamDigiKey call refused');
        return seal({ error: err.code, message: err.message, data: null });
      }
      throw err;
    }
  }

  private dispatch(path: string, account: ServiceAccount, inner: Inner): unknown {
    switch (path) {
      case 'service-account/login-token':
        return this.loginToken(account, inner);
      case 'service-account/access-token':
        return this.accessToken(account, inner);
      case 'service-account/access-token/status':
        return this.status(account, inner);
      case 'service-account/refresh-access-token':
        return this.refresh(account, inner);
      case 'service-account/access-token/logout':
        return this.logout(account, inner);
      case 'service-account/organization-access-token':
        return this.organisation(account);
      case 'service-account/lookup':
        return this.lookup(account, inner);
      case 'service-account/lookup/user-profile':
        return this.userProfile(account, inner);
      case 'service-account/user-face':
        return this.face(account, inner);
      default:
        throw new CdkError('INVALID_REQUEST');
    }
  }

  private issue(kind: TokenKind, account: ServiceAccount, idNumber: string | null, extra: Partial<Pick<TokenRecord, 'loginState' | 'callbackVars' | 'successReturnUrl'>> = {}) {
    const now = this.clock();
    const exp = now + LIFETIMES[kind] * 1000;
    const { token, jti } = mintToken({ kind, clientId: account.clientId, iat: Math.floor(now / 1000), exp: Math.floor(exp / 1000) }, this.deps.signer.key, this.deps.payloadKey);
    this.deps.store.addToken({ jti, kind, clientId: account.clientId, idNumber, createdAt: now, expiresAt: exp, ...extra });
    return { token, jti, createdAt: now, expiresAt: exp };
  }

  /** A token of this account, of one of `kinds`, still usable; the CdkErrors say why not. */
  private live(
    account: ServiceAccount,
    text: unknown,
    kinds: readonly TokenKind[],
    errors: {
      invalid: 'ACCESS_TOKEN_INVALID' | 'AUTH_TOKEN_INVALID' | 'ACCOUNT_TOKEN_INVALID';
      expired: 'ACCESS_TOKEN_EXPIRED' | 'AUTH_TOKEN_EXPIRED' | 'ACCOUNT_TOKEN_EXPIRED';
      used: 'ACCESS_TOKEN_DISABLED' | 'AUTH_TOKEN_USED';
    },
  ): TokenRecord {
    let token: string;
    try {
      token = cleanToken(text);
    } catch {
      throw new CdkError(errors.invalid);
    }
    const claims = readToken(token, this.deps.signer.cert.publicKey, this.deps.payloadKey);
    const record = claims && this.deps.store.token(claims.jti);
    if (!claims || !record || !kinds.includes(record.kind) || record.clientId !== account.clientId) throw new CdkError(errors.invalid);
    if (record.expiresAt <= this.clock()) throw new CdkError(errors.expired);
    if (record.status !== 'ACTIVE') throw new CdkError(errors.used);
    return record;
  }

  private person(idNumber: string | null): Person {
    const person = idNumber ? this.deps.people.byIdNumber(idNumber) : undefined;
    if (!person) throw new CdkError('USER_NOT_FOUND');
    return person;
  }

  private loginToken(account: ServiceAccount, inner: Inner) {
    const returnUrl = inner.successReturnUrl;
    if (returnUrl !== undefined && returnUrl !== null) {
      const url = parseReturnUrl(String(returnUrl));
      if (url.hostname !== account.domain && !url.hostname.endsWith(`.${account.domain}`)) throw new CdkError('INVALID_RETURN_URL');
    }
    // The registered addresses are where the browser goes when no success URL is given, or on failure.
    parseReturnUrl(account.callbackUrl);
    parseReturnUrl(account.fallbackUrl);
    const callbackVars = inner.callbackVars === undefined || inner.callbackVars === null ? null : JSON.stringify(inner.callbackVars);
    if (callbackVars && callbackVars.length > 2048) throw new CdkError('INVALID_REQUEST');
    const { token } = this.issue('LOGIN', account, null, { loginState: 'PENDING', callbackVars, successReturnUrl: returnUrl ? String(returnUrl) : null });
    return { loginToken: token, loginUrl: this.loginUrl(token) };
  }

  /** The login page of a login token, on the public base URL (never on a request's Host header). */
  loginUrl(loginToken: string): string {
    return `${this.deps.webBaseUrl.replace(/\/+$/, '')}/login?loginToken=${encodeURIComponent(loginToken)}`;
  }

  private accessToken(account: ServiceAccount, inner: Inner) {
    const auth = this.live(account, inner.authToken, ['AUTH'], { invalid: 'AUTH_TOKEN_INVALID', expired: 'AUTH_TOKEN_EXPIRED', used: 'AUTH_TOKEN_USED' });
    return this.deps.store.transaction(() => {
      if (!this.deps.store.transition(auth.jti, 'ACTIVE', 'USED')) throw new CdkError('AUTH_TOKEN_USED');
      return { accessToken: this.issue('USER', account, auth.idNumber).token };
    });
  }

  private status(account: ServiceAccount, inner: Inner) {
    const record = this.live(account, inner.accessToken, ['USER', 'ORGANIZATION'], { invalid: 'ACCESS_TOKEN_INVALID', expired: 'ACCESS_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    const times = {
      iss: ISSUER,
      type: record.kind === 'USER' ? 'USER' : 'ORGANIZATION',
      nbf: Math.floor(record.createdAt / 1000),
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.createdAt / 1000),
      jti: record.jti,
    };
    if (record.kind === 'ORGANIZATION') return { status: true, accessToken: String(inner.accessToken), domain: account.domain, ...times };
    const p = this.person(record.idNumber);
    return {
      status: true,
      accessToken: cleanToken(inner.accessToken),
      domain: account.domain,
      camdigikey_id: p.camdigikeyId,
      last_name_en: p.lastNameEn,
      first_name_en: p.firstNameEn,
      last_name_kh: p.lastNameKh,
      first_name_kh: p.firstNameKh,
      gender: p.gender,
      mobile_phone: p.phone,
      email: p.email,
      nationality: p.nationality,
      personal_code: p.idNumber,
      dob: p.dob,
      ...times,
    };
  }

  private refresh(account: ServiceAccount, inner: Inner) {
    const old = this.live(account, inner.accessToken, ['USER'], { invalid: 'ACCESS_TOKEN_INVALID', expired: 'ACCESS_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    return this.deps.store.transaction(() => {
      if (!this.deps.store.transition(old.jti, 'ACTIVE', 'INACTIVE')) throw new CdkError('ACCESS_TOKEN_DISABLED');
      const fresh = this.issue('USER', account, old.idNumber);
      return { service_account_id: account.clientId, accessToken: fresh.token, created_date: new Date(fresh.createdAt).toISOString() };
    });
  }

  private logout(account: ServiceAccount, inner: Inner) {
    const record = this.live(account, inner.accessToken, ['USER', 'ORGANIZATION'], { invalid: 'ACCESS_TOKEN_INVALID', expired: 'ACCESS_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    if (!this.deps.store.transition(record.jti, 'ACTIVE', 'INACTIVE')) throw new CdkError('ACCESS_TOKEN_DISABLED');
    return { accessToken: cleanToken(inner.accessToken), status: 0, jwtId: record.jti };
  }

  private organisation(account: ServiceAccount) {
    const t = this.issue('ORGANIZATION', account, null);
    return { accessToken: t.token, created_date: new Date(t.createdAt).toISOString() };
  }

  private lookup(account: ServiceAccount, inner: Inner) {
    this.live(account, inner.accessToken, ['USER', 'ORGANIZATION'], { invalid: 'ACCESS_TOKEN_INVALID', expired: 'ACCESS_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    const p = this.person(str(inner, 'personalCode'));
    const t = this.issue('ACCOUNT', account, p.idNumber);
    return {
      camdigikey_id: p.camdigikeyId,
      account_token: t.token,
      expired_date: new Date(t.expiresAt).toISOString(),
      ...this.profile(p),
    };
  }

  private userProfile(account: ServiceAccount, inner: Inner) {
    const record = this.live(account, inner.accountToken, ['ACCOUNT'], { invalid: 'ACCOUNT_TOKEN_INVALID', expired: 'ACCOUNT_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    const p = this.person(record.idNumber);
    return { camdigikey_id: p.camdigikeyId, user_status: USER_STATUS[p.accountStatus], ...this.profile(p) };
  }

  private face(account: ServiceAccount, inner: Inner) {
    const record = this.live(account, inner.accessToken, ['USER'], { invalid: 'ACCESS_TOKEN_INVALID', expired: 'ACCESS_TOKEN_EXPIRED', used: 'ACCESS_TOKEN_DISABLED' });
    return { face: this.deps.renderFace(this.person(record.idNumber)).toString('base64') };
  }

  private profile(p: Person) {
    return {
      surname_en: p.lastNameEn,
      given_name_en: p.firstNameEn,
      surname_kh: p.lastNameKh,
      given_name_kh: p.firstNameKh,
      gender: p.gender,
      mobile_phone_number: p.phone,
      email_address: p.email,
      nationality: p.nationality,
      personal_code: p.idNumber,
    };
  }

  /** The login a login token started, for the pages (undefined if the token is not a live login token). */
  login(loginToken: string): { record: TokenRecord; account: ServiceAccount } | undefined {
    let token: string;
    try {
      token = cleanToken(loginToken);
    } catch {
      return undefined;
    }
    const claims = readToken(token, this.deps.signer.cert.publicKey, this.deps.payloadKey);
    const record = claims && this.deps.store.token(claims.jti);
    const account = record && this.deps.store.account(record.clientId);
    return record && account && record.kind === 'LOGIN' ? { record, account } : undefined;
  }

  /**
   * The user's answer in the app: approving issues a single-use auth token bound to the user.
   * Each login token can be answered once, before it expires.
   */
  answerLogin(loginToken: string, approve: boolean, personalCode?: string): { redirect: string; appCallback: string | null } {
    const login = this.login(loginToken);
    if (!login) throw new CdkError('LOGIN_TOKEN_INVALID');
    const { record, account } = login;
    if (record.expiresAt <= this.clock()) throw new CdkError('LOGIN_TOKEN_EXPIRED');
    if (record.loginState !== 'PENDING' || record.status !== 'ACTIVE') throw new CdkError('LOGIN_TOKEN_USED');
    if (!approve) {
      if (!this.deps.store.decideLogin(record.jti, 'REJECTED', null, null)) throw new CdkError('LOGIN_TOKEN_USED');
      return { redirect: this.redirect(this.login(loginToken)!.record, account), appCallback: null };
    }
    const person = this.person(personalCode ?? null);
    if (person.accountStatus !== 'ENABLED') throw new CdkError('USER_UNAVAILABLE');
    return this.deps.store.transaction(() => {
      const auth = this.issue('AUTH', account, person.idNumber);
      if (!this.deps.store.decideLogin(record.jti, 'APPROVED', person.idNumber, auth.token)) throw new CdkError('LOGIN_TOKEN_USED');
      const decided = this.login(loginToken)!.record;
      return { redirect: this.redirect(decided, account), appCallback: account.appId ? `${account.appId}://camdigikey_login_callback?authToken=${encodeURIComponent(auth.token)}` : null };
    });
  }

  /** Where the browser goes once a login is answered: the success URL with the auth token, or the fallback with the error. */
  redirect(record: TokenRecord, account: ServiceAccount): string {
    if (record.loginState === 'APPROVED' && record.authToken) {
      const url = new URL(record.successReturnUrl ?? account.callbackUrl);
      url.searchParams.set('authToken', record.authToken);
      if (record.callbackVars) url.searchParams.set('callbackVars', record.callbackVars);
      return url.toString();
    }
    const url = new URL(account.fallbackUrl);
    url.searchParams.set('errorCode', record.loginState === 'REJECTED' ? 'USER_REJECTED' : 'LOGIN_EXPIRED');
    url.searchParams.set('errorMessage', record.loginState === 'REJECTED' ? 'The user declined the login' : 'The login was not approved in time');
    return url.toString();
  }
}
