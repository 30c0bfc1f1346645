import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { centralLayout } from '../../central/settings.js';
import { buildCertificate, randomSerial, selfIssuer } from '../../certs/certificate.js';
import { generateKeyPair } from '../../certs/keys.js';
import { getProfile } from '../../certs/profiles.js';
import { silentLogger } from '../../common/log.js';
import { freePort } from '../../common/ports.js';
import { loadGatewayConfig } from '../../gateway/config.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { H } from '../../gateway/message/format.js';
import type { ExchangeRecord } from '../../gateway/messagelog/log.js';
import { gatewayKeystore, provisionGateway, type GatewaySpec } from '../../sim/provision.js';
import { startTestCentral, type TestCentral } from './central.js';
import { startEcho, type EchoService } from './echo.js';
import { call } from './http.js';
import { CLIENT, SERVICE } from './network.js';
import { fetchOcsp } from './ocsp.js';
import { certNames, increments, metricCounts, normaliseRecord, Tokens } from './outcome-records.js';
import { routeThroughTamperingRelay } from './outcome-relay.js';
import { craftRequest, sendToPeer, type TlsIdentity, type WireMessage } from './peer.js';

/**
 * The outcomes of issue 21: a success and a failure at each step of an exchange, through a
 * consumer and a provider gateway running in this process on one frozen clock per scenario.
 * For each, what the caller is told (HTTP status, X-Road type) and what each gateway leaves
 * (message-log records, normalised by outcome-records.ts, and metric increments). Recorded
 * from a1678c5 into test/fixtures/wire-v1/outcomes.json; test/gateway/wire-outcomes.test.ts
 * runs them again and expects the same.
 */

export interface Answer {
  readonly status: number;
  /** X-Road-Error, or null for a success. */
  readonly type: string | null;
}

export interface SideOutcome {
  readonly records: ReadonlyArray<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface Outcome {
  /** One per message sent (a replay sends two). */
  readonly answers: readonly Answer[];
  readonly consumer: SideOutcome;
  readonly provider: SideOutcome;
}

/** Registered in the instance but a client of no security server. */
const UNLISTED = 'CAMDX/COM/DEMOBANK/UNLISTED';
/** A client of the consumer's server with no access right at all. */
const NO_RIGHTS = 'CAMDX/COM/DEMOBANK/OTHER';
/** A service of the provider whose information system is not listening. */
const DOWN_SERVICE = 'CAMDX/GOV/MOI/KYC/down';
/** A service of a provider whose security server is registered at a port nothing listens on. */
const UNREACHABLE_SERVICE = 'CAMDX/GOV/MOC/BIZREG/gone';

const ROGUE_MEMBER = { C: 'KH', O: 'Demo Bank Plc', serialNumber: 'CAMDX/COM/DEMOBANK', CN: 'DEMOBANK' };

/** A signing certificate that names the consumer's member, issued by no approved CA (self-signed). */
function rogueSigner(): { key: TlsIdentity['key']; cert: X509Certificate } {
  const { privateKey, publicKey } = generateKeyPair('P-256');
  const der = buildCertificate({ profile: getProfile('member-signing'), subject: ROGUE_MEMBER, publicKey }, randomSerial(), selfIssuer(ROGUE_MEMBER, privateKey));
  return { key: privateKey, cert: new X509Certificate(der) };
}

const rogue = rogueSigner();

export interface OutcomeNetwork {
  readonly central: TestCentral;
  readonly echo: EchoService;
  readonly consumer: RunningGateway;
  readonly provider: RunningGateway;
  readonly consumerUrl: string;
  readonly peerUrl: string;
  /** As the consumer's gateway: its TLS identity, signing key and their OCSP responses. */
  readonly asConsumer: { tls: TlsIdentity; signKey: TlsIdentity['key']; signCert: X509Certificate; signOcsp: Buffer; authOcsp: Buffer };
  /** As the provider's gateway on the wire: its TLS identity (its authentication key and chain). */
  readonly asProvider: { tls: TlsIdentity };
  readonly certNames: (der: Buffer) => string;
  /** The gateways' clock: frozen per scenario, live in between. */
  freeze(at: number | undefined): void;
  close(): Promise<void>;
}

async function spec(member: string, name: string, subsystems: string[], services: GatewaySpec['services'] = {}): Promise<GatewaySpec> {
  const ports = { consumer: await freePort(), peer: await freePort(), admin: await freePort() };
  return { member, name, serverCode: 'SS1', subsystems, host: '127.0.0.1', ports, services };
}

/** The scenarios' network, in-process: central, an echo service, the consumer's and the provider's gateways on one clock. */
export async function startOutcomeNetwork(): Promise<OutcomeNetwork> {
  // No timestamping round during the run: its metrics and writes are not an exchange's.
  const central = await startTestCentral({ autoApprove: true, timestampingIntervalSeconds: 3600 });
  const echo = await startEcho();
  const ctx = { central: central.admin, centralUrl: central.running.url, pkiUrl: central.pki.url, anchorFile: centralLayout(central.stateDir).anchor };
  const provision = async (s: GatewaySpec) => {
    const dir = join(central.stateDir, 'gateways', s.member.split('/')[2]!);
    mkdirSync(dir, { recursive: true });
    return { dir, config: await provisionGateway(ctx, s, dir) };
  };
  const any = [{ method: '*', path: '/**' }];
  const provider = await provision(
    await spec('CAMDX/GOV/MOI', 'Ministry of Interior', ['KYC'], {
      [SERVICE]: { url: echo.url, endpoints: [{ method: 'POST', path: '/echo/**' }, { method: 'GET', path: '/echo/**' }] },
      [DOWN_SERVICE]: { url: `http://127.0.0.1:${await freePort()}`, endpoints: any },
    }),
  );
  const consumer = await provision({ ...(await spec('CAMDX/COM/DEMOBANK', 'Demo Bank Plc', ['ONBOARDING', 'OTHER'])), plainHttpClients: true });
  // Provisioned and registered, never started: its peer port stays closed.
  await provision(await spec('CAMDX/GOV/MOC', 'Ministry of Commerce', ['BIZREG'], { [UNREACHABLE_SERVICE]: { url: echo.url, endpoints: any } }));
  await central.admin.call('POST', '/subsystems', { id: UNLISTED });
  for (const method of ['POST', 'GET']) await central.admin.call('POST', '/access-rights', { subject: CLIENT, service: SERVICE, method, path: '/echo/**' });
  for (const service of [DOWN_SERVICE, UNREACHABLE_SERVICE]) await central.admin.call('POST', '/access-rights', { subject: CLIENT, service });

  let frozen: number | undefined;
  const clock = () => frozen ?? Date.now();
  const started = await Promise.allSettled([provider, consumer].map((g) => startGateway(loadGatewayConfig(g.config), silentLogger, clock)));
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((g) => g.stop()));
    await echo.close();
    await central.close();
    throw failed.reason;
  }
  const [providerGateway, consumerGateway] = running as [RunningGateway, RunningGateway];
  const camdxCa = central.pki.pki.cas.get('camdx-ca')!.cert;
  const sign = gatewayKeystore(consumer.dir, 'sign');
  const auth = gatewayKeystore(consumer.dir, 'auth');
  const providerAuth = gatewayKeystore(provider.dir, 'auth');
  return {
    central,
    echo,
    consumer: consumerGateway,
    provider: providerGateway,
    consumerUrl: `http://127.0.0.1:${consumerGateway.ports.consumer}`,
    peerUrl: `https://127.0.0.1:${providerGateway.ports.peer}`,
    asConsumer: {
      tls: { key: auth.key, chain: [auth.cert, camdxCa] },
      signKey: sign.key,
      signCert: sign.cert,
      signOcsp: await fetchOcsp(central.pki.url, sign.cert, camdxCa),
      authOcsp: await fetchOcsp(central.pki.url, auth.cert, camdxCa),
    },
    asProvider: { tls: { key: providerAuth.key, chain: [providerAuth.cert, camdxCa] } },
    certNames: certNames({ 'consumer-sign': sign.cert, 'provider-sign': gatewayKeystore(provider.dir, 'sign').cert, rogue: rogue.cert }),
    freeze: (at) => (frozen = at),
    close: async () => {
      await Promise.all(running.map((g) => g.stop()));
      await echo.close();
      await central.close();
    },
  };
}

// ---- the scenarios ------------------------------------------------------------------------------

type Scenario = (n: OutcomeNetwork, at: number) => Promise<Answer[]>;

const answerOf = (status: number, type: string | string[] | undefined): Answer => ({ status, type: typeof type === 'string' ? type : null });

/** A client's call at the consumer gateway, with its own message id. */
async function viaConsumer(n: OutcomeNetwork, path: string, client: string, id: string, method = 'POST'): Promise<Answer[]> {
  const headers: Array<[string, string]> = [['X-Road-Client', client], ['X-Road-Id', id], ['Content-Type', 'text/plain']];
  const res = await call(`${n.consumerUrl}${path}`, { method, headers, ...(method === 'GET' ? {} : { body: 'payload' }) });
  return [answerOf(res.status, res.headers['x-road-error'])];
}

/** A request as the consumer's gateway would sign it (or as `signer`), sent straight to the provider's peer port. */
function forge(n: OutcomeNetwork, at: number, id: string, o: { client?: string; service?: string; signer?: { key: TlsIdentity['key']; cert: X509Certificate } } = {}): WireMessage {
  const { asConsumer: c } = n;
  return craftRequest({
    signKey: o.signer?.key ?? c.signKey,
    signCert: o.signer?.cert ?? c.signCert,
    signOcsp: o.signer ? Buffer.alloc(0) : c.signOcsp,
    authOcsp: c.authOcsp,
    client: o.client ?? CLIENT,
    service: o.service ?? SERVICE,
    head: { method: 'POST', path: '/echo/peer', query: '', headers: [['Content-Type', 'text/plain']] },
    body: Buffer.from('peer payload'),
    id,
    signedAt: new Date(at),
  });
}

async function toProvider(n: OutcomeNetwork, ...messages: WireMessage[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const msg of messages) {
    const res = await sendToPeer(n.peerUrl, n.asConsumer.tls, msg);
    answers.push(answerOf(res.status, res.headers['x-road-error']));
  }
  return answers;
}

/** A success, then a failure at each step: at the consumer (parse … connect), verification on both sides, then at the provider. */
const SCENARIOS: Record<string, Scenario> = {
  success: (n) => viaConsumer(n, `/r1/${SERVICE}/echo/x?q=1`, CLIENT, 'outcome-success'),
  parse: (n) => viaConsumer(n, '/r1/CAMDX/GOV', CLIENT, 'outcome-parse', 'GET'),
  client: (n) => viaConsumer(n, `/r1/${SERVICE}/echo/x`, UNLISTED, 'outcome-client'),
  service: (n) => viaConsumer(n, '/r1/CAMDX/GOV/MOI/KYC/nosuch/x', CLIENT, 'outcome-service'),
  connect: (n) => viaConsumer(n, `/r1/${UNREACHABLE_SERVICE}/x`, CLIENT, 'outcome-connect'),
  verify: (n, at) => toProvider(n, forge(n, at, 'outcome-verify', { signer: rogue })),
  // The provider answers; a relay holding its TLS identity flips a byte of the body on the way back (see STAGING).
  verifyResponse: (n) => viaConsumer(n, `/r1/${SERVICE}/echo/x`, CLIENT, 'outcome-verify-response'),
  replay: (n, at) => {
    const msg = forge(n, at, 'outcome-replay');
    return toProvider(n, msg, msg);
  },
  access: (n) => viaConsumer(n, `/r1/${SERVICE}/echo/x`, NO_RIGHTS, 'outcome-access'),
  serviceCall: (n) => viaConsumer(n, `/r1/${DOWN_SERVICE}/x`, CLIENT, 'outcome-service-call'),
  // The provider's own checks of the same steps, reached by messages no consumer gateway would send.
  providerParse: (n, at) => {
    const msg = forge(n, at, 'outcome-provider-parse');
    msg.headers[H.head] = `${msg.headers[H.head]!}=`;
    return toProvider(n, msg);
  },
  providerClient: (n, at) => toProvider(n, forge(n, at, 'outcome-provider-client', { client: UNLISTED })),
  providerService: (n, at) => toProvider(n, forge(n, at, 'outcome-provider-service', { service: 'CAMDX/GOV/MOI/KYC/nosuch' })),
};

/**
 * What a scenario needs around it, made before its clock is frozen and its counts are taken and
 * undone after: the changes of configuration it waits for are not its outcome.
 */
const STAGING: Partial<Record<string, (n: OutcomeNetwork) => Promise<() => Promise<void>>>> = {
  verifyResponse: routeThroughTamperingRelay,
};

// ---- observing them -----------------------------------------------------------------------------

/** Collects what a gateway hands its message log, as the handlers built it. */
function capture(g: RunningGateway, into: ExchangeRecord[]): () => void {
  const log = g.context.messageLog;
  const record = log.record;
  log.record = (entry) => {
    into.push(entry);
    return record.call(log, entry);
  };
  return () => {
    log.record = record;
  };
}

const inFlight = async (g: RunningGateway) => (await g.context.metrics.inFlight.get()).values.reduce((sum, v) => sum + v.value, 0);

/** A handler counts and records in its `finally`, which may run after the caller has its answer. */
async function settled(n: OutcomeNetwork): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await inFlight(n.consumer)) + (await inFlight(n.provider)) > 0) {
    if (Date.now() > end) throw new Error('an exchange is still in flight after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setImmediate(resolve));
}

async function observe(n: OutcomeNetwork, scenario: Scenario): Promise<Outcome> {
  const at = Date.now();
  n.freeze(at);
  const gateways = { consumer: n.consumer, provider: n.provider };
  const records = { consumer: [] as ExchangeRecord[], provider: [] as ExchangeRecord[] };
  const before = { consumer: await metricCounts(n.consumer.context.metrics.registry), provider: await metricCounts(n.provider.context.metrics.registry) };
  const release = [capture(n.consumer, records.consumer), capture(n.provider, records.provider)];
  try {
    const answers = await scenario(n, at);
    await settled(n);
    const normaliser = { tokens: new Tokens(), at, certName: n.certNames };
    const side = async (which: 'consumer' | 'provider'): Promise<SideOutcome> => ({
      records: records[which].map((r) => normaliseRecord(r, normaliser)),
      metrics: increments(before[which], await metricCounts(gateways[which].context.metrics.registry)),
    });
    // Consumer first: its tokens are numbered before the provider's, as its messages come first.
    const consumer = await side('consumer');
    return { answers, consumer, provider: await side('provider') };
  } finally {
    release.forEach((undo) => undo());
    n.freeze(undefined);
  }
}

/** Until one exchange passes: both gateways have the configuration, their OCSP responses, a connection. */
export async function warmUp(n: OutcomeNetwork): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    const [answer] = await viaConsumer(n, `/r1/${SERVICE}/echo/warm-up`, CLIENT, 'outcome-warm-up');
    if (answer!.status === 200) return;
    if (Date.now() > end) throw new Error(`the outcome network does not carry an exchange: ${answer!.type}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Starts the network, runs every scenario in turn, and stops it. */
export async function runOutcomeScenarios(): Promise<Record<string, Outcome>> {
  const n = await startOutcomeNetwork();
  try {
    await warmUp(n);
    await settled(n);
    const outcomes: Record<string, Outcome> = {};
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      const undo = await STAGING[name]?.(n);
      try {
        outcomes[name] = await observe(n, scenario);
      } finally {
        await undo?.();
      }
    }
    return outcomes;
  } finally {
    await n.close();
  }
}
