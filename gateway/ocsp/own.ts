import { EventEmitter } from 'node:events';
import { randomBytes, type X509Certificate } from 'node:crypto';
import type { Logger } from '../../common/log.js';
import { issuingAnchor } from '../../certs/inspect.js';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import type { ConfView } from '../globalconf/view.js';
import { checkFresh, OcspError, verifyOcspResponse, type OcspFacts } from '../../certs/ocsp/verify.js';

export interface OwnCertificate {
  readonly name: 'auth' | 'signing';
  readonly cert: X509Certificate;
}

/** The certificate is not one an approved CA issued, so there is no responder to ask. */
class NotApproved extends OcspError {}

export interface OwnStatus {
  readonly der: Buffer;
  readonly facts: OcspFacts;
  readonly fetchedAt: number;
}

/**
 * Keeps a fresh OCSP response for each of this gateway's own certificates, fetched from the
 * issuing approved CA's responder (with a nonce) well before it stops counting as fresh, to be
 * handed to peers with every message. Emits `change` when a status changes. A renewed
 * certificate replaces its predecessor through `fetch` + `adopt` (gateway/keyring.ts).
 */
export class OwnOcsp extends EventEmitter {
  private readonly status = new Map<string, OwnStatus>();
  private timer: NodeJS.Timeout | undefined;
  private view: ConfView | undefined;
  private certs: readonly OwnCertificate[];

  constructor(
    certs: readonly OwnCertificate[],
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    super();
    this.certs = certs;
  }

  current(name: OwnCertificate['name']): OwnStatus | undefined {
    return this.status.get(name);
  }

  /** Seconds since each response's thisUpdate, for metrics. */
  ages(): Record<string, number | null> {
    const now = this.clock();
    return Object.fromEntries(this.certs.map((c) => [c.name, this.status.has(c.name) ? (now - this.status.get(c.name)!.facts.thisUpdate) / 1000 : null]));
  }

  /**
   * Uses the configuration's approved CAs and freshness; refreshes at a quarter of the freshness
   * period (≤ 5 min), so a response is renewed three times before it goes stale, and a responder
   * back from an outage is seen within a quarter of the period.
   */
  async start(view: ConfView): Promise<void> {
    this.view = view;
    await this.refresh();
    this.schedule();
  }

  /** A new configuration: the first one starts refreshing; a changed freshness period re-times it. */
  setView(view: ConfView): void {
    const before = this.view;
    this.view = view;
    if (!before) void this.refresh().then(() => this.schedule());
    else if (this.timer && before.conf.ocspFreshnessSeconds !== view.conf.ocspFreshnessSeconds) this.schedule();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    clearInterval(this.timer);
    const every = Math.min(300_000, ((this.view?.conf.ocspFreshnessSeconds ?? 3600) * 1000) / 4);
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    const view = this.view;
    if (!view) return;
    await Promise.all(this.certs.map((c) => this.refreshOne(c, view)));
  }

  private async refreshOne(own: OwnCertificate, view: ConfView): Promise<void> {
    let fetched: OwnStatus;
    try {
      fetched = await this.fetchWith(own.cert, view);
    } catch (err) {
      if (err instanceof NotApproved) this.log.warn({ cert: own.name }, `${err.message}; no OCSP response`);
      else this.log.warn({ cert: own.name, reason: (err as Error).message }, 'OCSP refresh failed; keeping the previous response');
      return;
    }
    // Renewed while the response was on its way: it is about a certificate no longer in use.
    if (!this.certs.includes(own)) return;
    const before = this.status.get(own.name)?.facts.status;
    this.status.set(own.name, fetched);
    if (fetched.facts.status !== 'good') this.log.error({ cert: own.name, status: fetched.facts.status }, 'own certificate is not good according to OCSP');
    if (before !== fetched.facts.status) this.emit('change', own.name, fetched.facts.status);
  }

  /** A verified response (with our nonce) about `cert`, from its CA's responder; throws why there is none. */
  async fetch(cert: X509Certificate): Promise<OwnStatus> {
    if (!this.view) throw new OcspError('the gateway has no global configuration yet, so it knows no approved CA to ask');
    return this.fetchWith(cert, this.view);
  }

  private async fetchWith(cert: X509Certificate, view: ConfView): Promise<OwnStatus> {
    const ca = issuingAnchor(cert, view.anchors, this.clock());
    if (!ca) throw new NotApproved('the certificate is not issued by an approved CA (or is outside its validity)');
    const nonce = randomBytes(16);
    const res = await fetch(ca.ocspUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: new Uint8Array(buildOcspRequest(cert, ca.certificate, nonce)),
      signal: AbortSignal.timeout(10_000),
    }).catch((err: Error & { cause?: { code?: string } }) => {
      throw new OcspError(`the OCSP responder ${ca.ocspUrl} is unreachable (${err.cause?.code ?? err.message})`);
    });
    if (!res.ok) throw new OcspError(`the OCSP responder ${ca.ocspUrl} answered HTTP ${res.status}`);
    const der = Buffer.from(await res.arrayBuffer());
    const facts = verifyOcspResponse(der, cert, ca.certificate);
    if (!facts.nonce?.equals(nonce)) throw new OcspError('the OCSP response does not echo our nonce');
    return { der, facts, fetchedAt: this.clock() };
  }

  /**
   * Puts renewed certificates in place of those of the same name, with their fetched status, in
   * one step and without a `change` event: the caller switches the keys in the same turn, and
   * connections opened on the old keys are left to finish.
   */
  adopt(renewed: ReadonlyArray<{ own: OwnCertificate; status: OwnStatus }>): void {
    this.certs = this.certs.map((c) => renewed.find((r) => r.own.name === c.name)?.own ?? c);
    for (const r of renewed) this.status.set(r.own.name, r.status);
  }

  /** The last response fetched, whatever it says: for stapling, where the peer is the judge (and learns "revoked", not just "missing"). */
  latestDer(name: OwnCertificate['name']): Buffer | undefined {
    return this.status.get(name)?.der;
  }

  /** The response to hand to peers, if it is still fresh and good. */
  freshDer(name: OwnCertificate['name'], freshnessSeconds: number): Buffer | undefined {
    const s = this.status.get(name);
    if (!s) return undefined;
    try {
      checkFresh(s.facts, freshnessSeconds, this.clock());
      return s.der;
    } catch {
      return undefined;
    }
  }
}
