import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Side = 'Client' | 'Producer';

/** Prometheus metrics of one gateway (prom-client), exposed on the admin port at /metrics. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'side' | 'client' | 'service' | 'status' | 'fault'>;
  readonly duration: Histogram<'side' | 'client' | 'service'>;
  readonly inFlight: Gauge<'side'>;
  readonly bytes: Counter<'side' | 'direction'>;
  readonly signSeconds: Histogram;
  readonly signBatchSize: Histogram;
  readonly verifySeconds: Histogram<'cached'>;
  readonly ocspAge: Gauge<'certificate'>;
  readonly ocspGood: Gauge<'certificate'>;
  readonly confAge: Gauge;
  readonly confVersion: Gauge;
  readonly confOutdated: Gauge;
  readonly logQueue: Gauge;
  readonly unstamped: Gauge;
  readonly unstampedAge: Gauge;
  readonly stampBatchSize: Histogram;
  readonly tsaSeconds: Histogram<'tsa'>;
  readonly tsaFailures: Counter<'tsa'>;

  constructor(labels: { server: string }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ server: labels.server });
    // prom-client's default set includes gauges named *_total, which promtool rejects; these are the ones that matter.
    new Gauge({
      name: 'camdx_gateway_process_resident_memory_bytes',
      help: 'Resident set size of the gateway process.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'camdx_gateway_process_heap_used_bytes',
      help: 'V8 heap in use.',
      registers,
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
    new Gauge({
      name: 'camdx_gateway_process_uptime_seconds',
      help: 'Seconds since the gateway process started.',
      registers,
      collect() {
        this.set(process.uptime());
      },
    });
    // A bare gateway's admin port says 0 (gateway/bare/admin.ts); one that runs this registry is set up.
    new Gauge({ name: 'camdx_gateway_initialised', help: 'Whether the security server is set up and carries traffic (0 while its set-up is under way).', registers }).set(1);
    this.requests = new Counter({
      name: 'camdx_gateway_requests_total',
      help:
        'Exchanges handled and requests refused, by side (Client = consumer gateway, Producer = provider gateway), client, service, HTTP status and X-Road ' +
        'fault type ("" on success). client and service are registered ids, "unregistered" (looked up, not found), "unresolved" (refused before they were ' +
        'looked up) or, on the provider, "unverified".',
      labelNames: ['side', 'client', 'service', 'status', 'fault'],
      registers,
    });
    this.duration = new Histogram({
      name: 'camdx_gateway_request_duration_seconds',
      help: 'Time from the request arriving at this gateway to the response leaving it.',
      labelNames: ['side', 'client', 'service'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.inFlight = new Gauge({ name: 'camdx_gateway_in_flight_requests', help: 'Exchanges in progress.', labelNames: ['side'], registers });
    this.bytes = new Counter({ name: 'camdx_gateway_body_bytes_total', help: 'Body bytes carried, by side and direction (request or response).', labelNames: ['side', 'direction'], registers });
    this.signSeconds = new Histogram({ name: 'camdx_gateway_sign_seconds', help: 'Time to sign one batch.', buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05], registers });
    this.signBatchSize = new Histogram({ name: 'camdx_gateway_sign_batch_size', help: 'Messages covered by one signature.', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers });
    this.verifySeconds = new Histogram({
      name: 'camdx_gateway_verify_seconds',
      help: 'Time to verify a signature document (cached = a batch signature already verified).',
      labelNames: ['cached'],
      buckets: [0.00001, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01],
      registers,
    });
    this.ocspAge = new Gauge({ name: 'camdx_gateway_ocsp_age_seconds', help: "Age of the OCSP response held for this gateway's own certificate.", labelNames: ['certificate'], registers });
    this.ocspGood = new Gauge({ name: 'camdx_gateway_ocsp_good', help: '1 if the own certificate has a fresh good OCSP response, else 0.', labelNames: ['certificate'], registers });
    this.confAge = new Gauge({ name: 'camdx_gateway_globalconf_age_seconds', help: 'Seconds since the global configuration in use was generated.', registers });
    this.confVersion = new Gauge({ name: 'camdx_gateway_globalconf_version', help: 'Version of the global configuration in use.', registers });
    this.confOutdated = new Gauge({ name: 'camdx_gateway_globalconf_outdated', help: '1 when the global configuration has expired (no traffic), else 0.', registers });
    this.logQueue = new Gauge({ name: 'camdx_gateway_messagelog_queue_depth', help: 'Records waiting to be written to the message log.', registers });
    this.unstamped = new Gauge({ name: 'camdx_gateway_timestamp_unstamped_signatures', help: 'Signature documents in the message log waiting for a timestamp.', registers });
    this.unstampedAge = new Gauge({ name: 'camdx_gateway_timestamp_oldest_unstamped_age_seconds', help: 'Age of the oldest signature document waiting for a timestamp (0 if none).', registers });
    this.stampBatchSize = new Histogram({
      name: 'camdx_gateway_timestamp_batch_size',
      help: 'Signature documents covered by one timestamp token.',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000],
      registers,
    });
    this.tsaSeconds = new Histogram({
      name: 'camdx_gateway_tsa_request_seconds',
      help: 'Time for an approved TSA to answer.',
      labelNames: ['tsa'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.tsaFailures = new Counter({ name: 'camdx_gateway_tsa_failures_total', help: 'Timestamp requests that failed, by TSA.', labelNames: ['tsa'], registers });
  }
}
