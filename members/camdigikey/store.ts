import { openDatabase, type Db } from '../../common/sqlite.js';
import type { EnvelopeKeys } from './envelope.js';
import type { TokenKind } from './tokens.js';

export interface ServiceAccount {
  readonly clientId: string;
  readonly domain: string;
  readonly keys: EnvelopeKeys;
  /** Where the browser returns after a login when the relying party names no successReturnUrl. */
  readonly callbackUrl: string;
  readonly fallbackUrl: string;
  /** The relying party's mobile app scheme, for `<appId>://camdigikey_login_callback`. */
  readonly appId: string | null;
}

export type TokenStatus = 'ACTIVE' | 'USED' | 'INACTIVE';
export type LoginState = 'PENDING' | 'APPROVED' | 'REJECTED';

export interface TokenRecord {
  readonly jti: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly idNumber: string | null;
  readonly status: TokenStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly loginState: LoginState | null;
  readonly callbackVars: string | null;
  readonly successReturnUrl: string | null;
  /** For an approved login: the auth token it produced (the token text, to hand to the browser once). */
  readonly authToken: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE accounts (
     client_id TEXT PRIMARY KEY,
     domain TEXT NOT NULL,
     aes_key TEXT NOT NULL,
     aes_iv TEXT NOT NULL,
     hmac_key TEXT NOT NULL,
     callback_url TEXT NOT NULL,
     fallback_url TEXT NOT NULL,
     app_id TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE tokens (
     jti TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     client_id TEXT NOT NULL REFERENCES accounts (client_id),
     id_number TEXT,
     status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'USED', 'INACTIVE')),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     login_state TEXT CHECK (login_state IN ('PENDING', 'APPROVED', 'REJECTED')),
     callback_vars TEXT,
     success_return_url TEXT,
     auth_token TEXT
   );
   CREATE INDEX tokens_expiry ON tokens (expires_at);`,
];

/** Service accounts (with their envelope keys, so the file is 0600 under the state dir) and token state. */
export class CamdigikeyStore {
  private readonly db: Db;
  private readonly stmt;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    const db = this.db;
    this.stmt = {
      insertAccount: db.prepare('INSERT INTO accounts (client_id, domain, aes_key, aes_iv, hmac_key, callback_url, fallback_url, app_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      account: db.prepare('SELECT * FROM accounts WHERE client_id = ?'),
      accounts: db.prepare('SELECT client_id, domain, callback_url, fallback_url, app_id, created_at FROM accounts ORDER BY client_id'),
      insertToken: db.prepare(
        'INSERT INTO tokens (jti, kind, client_id, id_number, status, created_at, expires_at, login_state, callback_vars, success_return_url) VALUES (@jti, ' +
          '@kind, @clientId, @idNumber, @status, @createdAt, @expiresAt, @loginState, @callbackVars, @successReturnUrl)',
      ),
      token: db.prepare('SELECT * FROM tokens WHERE jti = ?'),
      setStatus: db.prepare('UPDATE tokens SET status = ? WHERE jti = ? AND status = ?'),
      decideLogin: db.prepare("UPDATE tokens SET login_state = ?, id_number = ?, auth_token = ?, status = 'USED' WHERE jti = ? AND login_state = 'PENDING' AND status = 'ACTIVE'"),
      purge: db.prepare('DELETE FROM tokens WHERE expires_at < ?'),
    };
  }

  addAccount(a: ServiceAccount, at = Date.now()): void {
    this.stmt.insertAccount.run(a.clientId, a.domain, a.keys.aesKey.toString('base64'), a.keys.aesIv.toString('base64'), a.keys.hmacKey.toString('base64'), a.callbackUrl, a.fallbackUrl, a.appId, at);
  }

  account(clientId: string): ServiceAccount | undefined {
    const r = this.stmt.account.get(clientId) as Record<string, string | null> | undefined;
    if (!r) return undefined;
    return {
      clientId: r.client_id!,
      domain: r.domain!,
      keys: { aesKey: Buffer.from(r.aes_key!, 'base64'), aesIv: Buffer.from(r.aes_iv!, 'base64'), hmacKey: Buffer.from(r.hmac_key!, 'base64') },
      callbackUrl: r.callback_url!,
      fallbackUrl: r.fallback_url!,
      appId: r.app_id,
    };
  }

  accounts(): Array<{ clientId: string; domain: string; callbackUrl: string; fallbackUrl: string; appId: string | null }> {
    return (this.stmt.accounts.all() as Array<Record<string, string | null>>).map((r) => ({
      clientId: r.client_id!,
      domain: r.domain!,
      callbackUrl: r.callback_url!,
      fallbackUrl: r.fallback_url!,
      appId: r.app_id,
    }));
  }

  addToken(t: Omit<TokenRecord, 'status' | 'authToken' | 'loginState' | 'callbackVars' | 'successReturnUrl'> & Partial<Pick<TokenRecord, 'loginState' | 'callbackVars' | 'successReturnUrl'>>): void {
    this.stmt.insertToken.run({ loginState: null, callbackVars: null, successReturnUrl: null, ...t, status: 'ACTIVE' });
  }

  token(jti: string): TokenRecord | undefined {
    const r = this.stmt.token.get(jti) as Record<string, string | number | null> | undefined;
    if (!r) return undefined;
    return {
      jti: r.jti as string,
      kind: r.kind as TokenKind,
      clientId: r.client_id as string,
      idNumber: r.id_number as string | null,
      status: r.status as TokenStatus,
      createdAt: r.created_at as number,
      expiresAt: r.expires_at as number,
      loginState: r.login_state as LoginState | null,
      callbackVars: r.callback_vars as string | null,
      successReturnUrl: r.success_return_url as string | null,
      authToken: r.auth_token as string | null,
    };
  }

  /** Moves a token from one status to another; false if it was not in `from` (used, refreshed, logged out). */
  transition(jti: string, from: TokenStatus, to: TokenStatus): boolean {
    return this.stmt.setStatus.run(to, jti, from).changes === 1;
  }

  /** Records the user's answer to a pending login, once. */
  decideLogin(jti: string, state: 'APPROVED' | 'REJECTED', idNumber: string | null, authToken: string | null): boolean {
    return this.stmt.decideLogin.run(state, idNumber, authToken, jti).changes === 1;
  }

  /** Forgets tokens expired before `before` (they would be refused anyway). */
  purge(before: number): number {
    return this.stmt.purge.run(before).changes;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
