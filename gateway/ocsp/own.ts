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

export interface OwnStatus {
  readonly der: Buffer;
  readonly facts: OcspFacts;
  readonly fetchedAt: number;
}

/**
 * Keeps a fresh OCSP response for each of this gateway's own certificates, fetched from the
 * issuing approved CA's responder (with a nonce) well before it stops counting as fresh, to be
 * handed to peers with every message. Emits `change` when a status changes.
 */
export class OwnOcsp extends EventEmitter {
  private readonly status = new Map<string, OwnStatus>();
  private timer: NodeJS.Timeout | undefined;
  private view: ConfView | undefined;

  constructor(
    private readonly certs: readonly OwnCertificate[],
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    super();
  }

  current(name: OwnCertificate['name']): OwnStatus | undefined {
    return this.status.get(name);
  }

  /** Seconds since each response's thisUpdate, for metrics. */
  ages(): Record<string, number | null> {
    const now = this.clock();
    return Object.fromEntries(this.certs.map((c) => [c.name, this.status.has(c.name) ? (now - this.status.get(c.name)!.facts.thisUpdate) / 1000 : null]));
  }

  /** Uses the configuration's approved CAs and freshness; refreshes at a quarter of the freshness period (≤ 5 min). */
  async start(view: ConfView): Promise<void> {
    this.view = view;
    await this.refresh();
    this.schedule();
  }

  setView(view: ConfView): void {
    const first = !this.view;
    this.view = view;
    if (first) void this.refresh().then(() => this.schedule());
  }

  stop(): void {
    clearInterval(this.timer);
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
    const ca = issuingAnchor(own.cert, view.anchors, this.clock());
    if (!ca) {
      this.log.warn({ cert: own.name }, 'own certificate is not issued by an approved CA (or is outside its validity); no OCSP response');
      return;
    }
    const nonce = randomBytes(16);
    try {
      const res = await fetch(ca.ocspUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: new Uint8Array(buildOcspRequest(own.cert, ca.certificate, nonce)),
        signal: AbortSignal.timeout(10_000),
      });
      const der = Buffer.from(await res.arrayBuffer());
      const facts = verifyOcspResponse(der, own.cert, ca.certificate);
      if (!facts.nonce?.equals(nonce)) throw new OcspError('the OCSP response does not echo our nonce');
      const before = this.status.get(own.name)?.facts.status;
      this.status.set(own.name, { der, facts, fetchedAt: this.clock() });
      if (facts.status !== 'good') this.log.error({ cert: own.name, status: facts.status }, 'own certificate is not good according to OCSP');
      if (before !== facts.status) this.emit('change', own.name, facts.status);
    } catch (err) {
      this.log.warn({ cert: own.name, reason: (err as Error).message }, 'OCSP refresh failed; keeping the previous response');
    }
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
