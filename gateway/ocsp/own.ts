import { EventEmitter } from 'node:events';
import { randomBytes, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/files.js';
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

/** The first retry after a failed refresh; each further failure doubles it, up to RETRY_CAP_MS (or a quarter of the freshness period if shorter). */
const FIRST_RETRY_MS = 1000;
const RETRY_CAP_MS = 30_000;

/**
 * Keeps a fresh OCSP response for each of this gateway's own certificates, fetched from the
 * issuing approved CA's responder (with a nonce) well before it stops counting as fresh, to be
 * handed to peers with every message. Emits `change` when a status changes. A renewed
 * certificate replaces its predecessor through `fetch` + `adopt` (gateway/keyring.ts).
 *
 * Each response is also kept in `dir` (`<stateDir>/ocsp/<name>.der`), so a gateway restarted
 * while the responder is away carries on with the stored one for as long as it is fresh; it is
 * verified again when loaded, never taken on trust. A failed refresh is retried with back-off
 * (1 s doubling, at most 30 s or a quarter of the freshness period), not at the next scheduled
 * refresh: a responder that comes back is seen within seconds.
 */
export class OwnOcsp extends EventEmitter {
  private readonly status = new Map<string, OwnStatus>();
  private timer: NodeJS.Timeout | undefined;
  private view: ConfView | undefined;
  private certs: readonly OwnCertificate[];
  private started: Promise<void> | undefined;
  private running = false;
  /** The delay before the next retry while refreshes fail; 0 while they succeed. */
  private retryMs = 0;
  private failedAttempts = 0;

  constructor(
    certs: readonly OwnCertificate[],
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    /** Where the responses are kept across restarts; none: memory only. */
    private readonly dir?: string,
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
   * Uses the configuration's approved CAs and freshness: loads the stored responses still fresh,
   * then refreshes at a quarter of the freshness period (≤ 5 min), so a response is renewed three
   * times before it goes stale. Never throws: without a responder the gateway starts and retries.
   */
  start(view: ConfView): Promise<void> {
    this.view = view;
    // The first configuration may arrive through setView while the gateway starts: one first round.
    this.started ??= this.firstRound(view);
    return this.started;
  }

  private async firstRound(view: ConfView): Promise<void> {
    this.running = true;
    this.loadStored(view);
    await this.refresh().catch(() => undefined);
  }

  /** A new configuration: the first one starts refreshing; a changed freshness period re-times it. */
  setView(view: ConfView): void {
    const before = this.view;
    if (!this.started) return void this.start(view);
    this.view = view;
    if (!this.retryMs && before?.conf.ocspFreshnessSeconds !== view.conf.ocspFreshnessSeconds) this.scheduleNext(true);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleNext(succeeded: boolean): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    const quarter = ((this.view?.conf.ocspFreshnessSeconds ?? 3600) * 1000) / 4;
    this.retryMs = succeeded ? 0 : Math.min(this.retryMs ? this.retryMs * 2 : FIRST_RETRY_MS, RETRY_CAP_MS, quarter);
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), succeeded ? Math.min(300_000, quarter) : this.retryMs);
    this.timer.unref();
  }

  /**
   * Fetches a response for every own certificate now; throws an `OcspError` naming each
   * certificate that got none (it keeps its previous response). Re-times the schedule: the normal
   * one after success, the next back-off step after a failure.
   */
  async refresh(): Promise<void> {
    const view = this.view;
    if (!view) throw new OcspError('the gateway has no global configuration yet, so it knows no approved CA to ask');
    const failures = (await Promise.all(this.certs.map((c) => this.refreshOne(c, view)))).filter((f) => f !== undefined);
    this.noteOutcome(failures);
    this.scheduleNext(failures.length === 0);
    if (failures.length > 0) throw new OcspError(failures.join('; '));
  }

  /** Logs a run of failures once at its start and once at its end, not at every retry. */
  private noteOutcome(failures: string[]): void {
    if (failures.length === 0) {
      if (this.failedAttempts > 0) this.log.info({ failedAttempts: this.failedAttempts }, 'OCSP responses refreshed again after failed attempts');
      this.failedAttempts = 0;
      return;
    }
    if (this.failedAttempts++ === 0) this.log.warn({ reason: failures.join('; ') }, 'OCSP refresh failed; keeping the previous responses and retrying with back-off');
    else this.log.debug({ attempt: this.failedAttempts, reason: failures.join('; ') }, 'OCSP refresh failed again');
  }

  /** Undefined when a response was fetched, else `name: why not`. */
  private async refreshOne(own: OwnCertificate, view: ConfView): Promise<string | undefined> {
    let fetched: OwnStatus;
    try {
      fetched = await this.fetchWith(own.cert, view);
    } catch (err) {
      return `${own.name}: ${(err as Error).message}${err instanceof NotApproved ? '; no OCSP response' : ''}`;
    }
    // Renewed while the response was on its way: it is about a certificate no longer in use.
    if (!this.certs.includes(own)) return undefined;
    this.put(own.name, fetched);
    return undefined;
  }

  private put(name: OwnCertificate['name'], fetched: OwnStatus): void {
    const before = this.status.get(name)?.facts.status;
    this.status.set(name, fetched);
    this.store(name, fetched.der);
    if (fetched.facts.status !== 'good') this.log.error({ cert: name, status: fetched.facts.status }, 'own certificate is not good according to OCSP');
    if (before !== fetched.facts.status) this.emit('change', name, fetched.facts.status);
  }

  private storedPath(name: OwnCertificate['name']): string | undefined {
    return this.dir && join(this.dir, `${name}.der`);
  }

  private store(name: OwnCertificate['name'], der: Buffer): void {
    const path = this.storedPath(name);
    if (!path) return;
    try {
      // Not fsynced: a torn file fails verification when loaded and is ignored.
      writeFileAtomic(path, der, 0o600);
    } catch (err) {
      this.log.warn({ cert: name, reason: (err as Error).message }, 'cannot keep the OCSP response on disk; it lives in memory until the next refresh');
    }
  }

  /** Takes each stored response that verifies for the certificate in use now and is still fresh and good. */
  private loadStored(view: ConfView): void {
    for (const own of this.certs) {
      const path = this.storedPath(own.name);
      if (!path || this.status.has(own.name)) continue;
      let der: Buffer;
      try {
        der = readFileSync(path);
      } catch {
        continue;
      }
      try {
        const ca = issuingAnchor(own.cert, view.anchors, this.clock());
        if (!ca) throw new NotApproved('the certificate is not issued by an approved CA (or is outside its validity)');
        const facts = verifyOcspResponse(der, own.cert, ca.certificate);
        checkFresh(facts, view.conf.ocspFreshnessSeconds, this.clock());
        this.status.set(own.name, { der, facts, fetchedAt: this.clock() });
        this.log.info({ cert: own.name, thisUpdate: new Date(facts.thisUpdate).toISOString() }, 'using the stored OCSP response until a fresh one is fetched');
      } catch (err) {
        this.log.info({ cert: own.name, reason: (err as Error).message }, 'the stored OCSP response is not usable; fetching a new one');
      }
    }
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
    // A bare gateway's first certificate of a role has no predecessor: it joins the list.
    this.certs = [...this.certs.filter((c) => !renewed.some((r) => r.own.name === c.name)), ...renewed.map((r) => r.own)];
    for (const r of renewed) {
      this.status.set(r.own.name, r.status);
      this.store(r.own.name, r.status.der);
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
