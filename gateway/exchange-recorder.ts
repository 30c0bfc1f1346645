import type { XRoadError } from '../protocol/errors.js';
import type { ExchangeRecord, MessageLog, SignedPart } from './messagelog/log.js';
import type { GatewayMetrics } from './opmon/metrics.js';

/** Who a record and its metrics are about, as far as they are known (or may be said) yet. */
export interface Parties {
  readonly messageId: string;
  readonly client: string;
  readonly service: string;
}

/** Metric labels: registered ids only, or a placeholder, so no caller can add label values at will. */
export interface Labels {
  readonly client: string;
  readonly service: string;
}

type Side = ExchangeRecord['side'];

/**
 * Everything one exchange leaves behind, gathered as its steps run — times, sizes, the peer
 * server, the signed parts, the fault — and turned in one place into the message-log record
 * and the metrics. A handler opens one per message and closes it once, whatever happened.
 */
export class ExchangeRecorder {
  private readonly requestInTs: number;
  private parties: Parties;
  private metricLabels: Labels;
  private requestId = 'none';
  private endpoint = '*';
  private peerServer: string | null = null;
  private requestOutTs: number | null = null;
  private responseInTs: number | null = null;
  private requestSize = 0;
  private responseSize = 0;
  private status = 0;
  private request: SignedPart | null = null;
  private response: SignedPart | null = null;
  private fault: XRoadError | undefined;
  private recorded = false;

  constructor(
    private readonly sink: { readonly clock: () => number; readonly metrics: GatewayMetrics; readonly messageLog: MessageLog },
    private readonly side: Side,
    unknown: { parties: Parties; labels: Labels },
  ) {
    this.requestInTs = sink.clock();
    this.parties = unknown.parties;
    this.metricLabels = unknown.labels;
    sink.metrics.inFlight.inc({ side });
  }

  /** The message id as far as it is known ('none' or the placeholder until then). */
  get messageId(): string {
    return this.parties.messageId;
  }

  get labels(): Labels {
    return this.metricLabels;
  }

  identify(parties: Partial<Parties>): void {
    this.parties = { ...this.parties, ...parties };
  }

  label(labels: Partial<Labels>): void {
    this.metricLabels = { ...this.metricLabels, ...labels };
  }

  exchangeId(requestId: string): void {
    this.requestId = requestId;
  }

  /** The endpoint pattern the call matched (never its path: paths carry personal data). */
  matched(endpoint: string): void {
    this.endpoint = endpoint;
  }

  peer(serverId: string): void {
    this.peerServer = serverId;
  }

  /** The request left for the other side (consumer: to the provider's gateway; provider: to the service). */
  requestSent(): void {
    this.requestOutTs = this.sink.clock();
  }

  responseArrived(): void {
    this.responseInTs = this.sink.clock();
  }

  requestBody(bytes: number): void {
    this.requestSize = bytes;
    this.sink.metrics.bytes.inc({ side: this.side, direction: 'request' }, bytes);
  }

  responseBody(bytes: number): void {
    this.responseSize = bytes;
    this.sink.metrics.bytes.inc({ side: this.side, direction: 'response' }, bytes);
  }

  signedRequest(part: SignedPart): void {
    this.request = part;
  }

  signedResponse(part: SignedPart): void {
    this.response = part;
  }

  /** The HTTP status of the service's answer, or of the error answered instead. */
  answered(status: number): void {
    this.status = status;
  }

  failed(fault: XRoadError): void {
    this.fault = fault;
    this.status = fault.httpStatus;
  }

  /** Writes the record durably: on success, before the answer completes. */
  async record(): Promise<void> {
    await this.sink.messageLog.record(this.entry());
    this.recorded = true;
  }

  /**
   * Ends the exchange: the in-flight gauge, and — when `counted` (an exchange, not a refused
   * stranger or a metaservice) — the request counter, the duration, and the record if no
   * success wrote it (failures are recorded without waiting: the caller has its answer).
   */
  close(counted: boolean): void {
    const { metrics, clock } = this.sink;
    metrics.inFlight.dec({ side: this.side });
    if (!counted) return;
    metrics.requests.inc({ side: this.side, ...this.metricLabels, status: String(this.status), fault: this.fault?.type ?? '' });
    metrics.duration.observe({ side: this.side, ...this.metricLabels }, (clock() - this.requestInTs) / 1000);
    if (!this.recorded) this.sink.messageLog.record(this.entry()).catch(() => undefined);
  }

  /** The signed parts so far. */
  get signed(): { readonly request: SignedPart | null; readonly response: SignedPart | null } {
    return { request: this.request, response: this.response };
  }

  /** Whether the other party's server is known (the provider counts only exchanges with an authenticated peer). */
  get hasPeer(): boolean {
    return this.peerServer !== null;
  }

  get hasFailed(): boolean {
    return this.fault !== undefined;
  }

  private entry(): ExchangeRecord {
    return {
      ...this.parties,
      requestId: this.requestId,
      side: this.side,
      endpoint: this.endpoint,
      peerServer: this.peerServer,
      requestInTs: this.requestInTs,
      requestOutTs: this.requestOutTs,
      responseInTs: this.responseInTs,
      responseOutTs: this.sink.clock(),
      requestSize: this.requestSize,
      responseSize: this.responseSize,
      status: this.status,
      succeeded: !this.fault,
      faultCode: this.fault?.type ?? null,
      faultString: this.fault?.message ?? null,
      request: this.request,
      response: this.response,
    };
  }
}
