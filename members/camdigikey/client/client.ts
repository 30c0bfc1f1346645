import { timingSafeEqual, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { keysFromBase64, openResponse, sealRequest, type EnvelopeKeys, type ResponseEnvelope } from '../envelope.js';
import { cleanToken, tokenSignatureValid } from '../tokens.js';

/**
 * A TypeScript client of CamDigiKey v3 that behaves like the official Node client
 * (camdigikey-v3-wire.md): same envelope, same token cleaning, the auth token's signature
 * checked before it is exchanged, `validateJwt` answering `{is_valid, payload}`. It talks to the
 * service's HTTPS endpoint with a PKCS#12 keystore, or — for CamDX members — to their own
 * gateway over plain HTTP with an `X-Road-Client` header.
 */

export class CamDigiKeyError extends Error {
  constructor(
    message: string,
    readonly errorCode: number | string,
  ) {
    super(message);
  }
}

export interface ClientConfig {
  readonly clientId: string;
  readonly hmacKey: string;
  readonly aesSecretKey: string;
  readonly aesIvParams: string;
  readonly clientDomain: string;
  /** `https://…` for the service itself, or the gateway's `http://…/r1/CAMDX/GOV/TSC/CAMDIGIKEY/camdigikey`. */
  readonly serverBaseUrl: string;
  /** For HTTPS: the service-account keystore (it also carries the CA of the server's certificate). */
  readonly keystore?: { readonly pfx: Buffer; readonly passphrase: string };
  /** The token-signing root (the truststore's first certificate). */
  readonly trustRoot: X509Certificate;
  /** For calls through a CamDX gateway. */
  readonly xroadClient?: string;
  /** Send the inner clientId/domain (the official client does only when its environment has them). */
  readonly innerIdentity?: boolean;
}

/** Byte equality in constant time (the response MAC is checked the same way, in envelope.ts). */
const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

interface Inner {
  readonly error: number | string;
  readonly message: string;
  readonly data: unknown;
}

export class CamDigiKeyClient {
  private readonly keys: EnvelopeKeys;
  private readonly agent: https.Agent | undefined;
  private signer: X509Certificate | undefined;

  constructor(private readonly config: ClientConfig) {
    this.keys = keysFromBase64(config.aesSecretKey, config.aesIvParams, config.hmacKey);
    this.agent = config.keystore ? new https.Agent({ pfx: config.keystore.pfx, passphrase: config.keystore.passphrase, keepAlive: true }) : undefined;
  }

  private request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = new URL(`${this.config.serverBaseUrl.replace(/\/+$/, '')}/api/v3.0/authentication/${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json', 'content-type': 'application/json', ...(payload ? { 'content-length': payload.length } : {}) };
    if (this.config.xroadClient) headers['x-road-client'] = this.config.xroadClient;
    return new Promise((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, { method, headers, ...(this.agent && url.protocol === 'https:' ? { agent: this.agent } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** One enveloped call: non-2xx is an HTTP error, a non-zero inner error a CamDigiKeyError. */
  private async call(path: string, inner: Record<string, unknown>): Promise<Inner> {
    const res = await this.request('POST', `service-account/${path}`, sealRequest(this.config.clientId, this.keys, inner));
    if (res.status < 200 || res.status > 299) throw Object.assign(new Error(`Request failed with status code ${res.status}`), { status: res.status, body: res.json });
    const answer = openResponse(res.json as ResponseEnvelope, this.keys) as Inner;
    if (answer.error !== 0) throw new CamDigiKeyError(answer.message, answer.error);
    return answer;
  }

  private identity(withDomain: boolean): Record<string, unknown> {
    if (this.config.innerIdentity === false) return {};
    return withDomain ? { clientId: this.config.clientId, domain: this.config.clientDomain } : { clientId: this.config.clientId };
  }

  /** The token signer, from the certificate list, accepted if the list contains the trusted root (as the official client checks). */
  async signerCertificate(): Promise<X509Certificate> {
    if (this.signer && Date.parse(this.signer.validTo) > Date.now()) return this.signer;
    const res = await this.request('GET', 'certificates/access-token');
    const list = ((res.json as { data?: string[] }).data ?? []).map((pem) => new X509Certificate(pem));
    if (!list.some((c) => sameBytes(c.raw, this.config.trustRoot.raw))) throw new CamDigiKeyError('Invalid certificate chain', 100);
    this.signer = list[0]!;
    return this.signer;
  }

  getLoginToken(opts: { callbackVars?: unknown; successReturnUrl?: string } = {}) {
    return this.call('login-token', {
      ...this.identity(true),
      requestedDate: Date.now(),
      callbackVars: opts.callbackVars ?? null,
      ...(opts.successReturnUrl ? { successReturnUrl: opts.successReturnUrl } : {}),
    });
  }

  async getUserAccessToken(authToken: unknown) {
    const token = cleanToken(authToken);
    if (!tokenSignatureValid(token, (await this.signerCertificate()).publicKey)) throw new CamDigiKeyError('Invalid auth token signature.', 101);
    return this.call('access-token', { clientId: this.config.clientId, authToken: token });
  }

  async validateJwt(jwt: unknown): Promise<{ is_valid: boolean; payload: unknown }> {
    const token = cleanToken(jwt);
    try {
      if (!tokenSignatureValid(token, (await this.signerCertificate()).publicKey)) return { is_valid: false, payload: null };
      const res = await this.call('access-token/status', { ...this.identity(false), accessToken: token });
      return res.data ? { is_valid: (res.data as { status: boolean }).status, payload: res.data } : { is_valid: false, payload: null };
    } catch {
      return { is_valid: false, payload: null };
    }
  }

  refreshUserAccessToken(accessToken: unknown) {
    return this.call('refresh-access-token', { clientId: this.config.clientId, accessToken: cleanToken(accessToken) });
  }

  logoutAccessToken(accessToken: unknown) {
    return this.call('access-token/logout', { clientId: this.config.clientId, accessToken: cleanToken(accessToken) });
  }

  getOrganizationAccessToken() {
    return this.call('organization-access-token', { ...this.identity(true), requestedDate: Date.now() });
  }

  lookupUserProfile(accessToken: unknown, personalCode: string) {
    return this.call('lookup', { clientId: this.config.clientId, domain: this.config.clientDomain, accessToken: cleanToken(accessToken), personalCode });
  }

  verifyAccountToken(accountToken: unknown) {
    return this.call('lookup/user-profile', { clientId: this.config.clientId, domain: this.config.clientDomain, accountToken: cleanToken(accountToken) });
  }

  getUserFace(accessToken: unknown) {
    return this.call('user-face', { clientId: this.config.clientId, accessToken: cleanToken(accessToken) });
  }

  close(): void {
    this.agent?.destroy();
  }
}
