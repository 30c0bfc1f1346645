import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { idPath } from '../../central/admin-client.js';
import { freePort } from '../../common/ports.js';
import type { RawGatewayConfig } from '../../gateway/config.js';
import { CLIENT, startTestNetwork, type TestNetwork } from '../support/network.js';
import { openssl, run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';

/**
 * Issue 19, "Owner and subsystems": a new subsystem of the owner through the console API
 * (`POST /clients`) goes into gateway.yaml and, in a signed registerClient, to central; a
 * refused one changes nothing, byte for byte. `camdx gateway client …` takes the same path.
 */
const BIN = join(import.meta.dirname, '../../bin/camdx.js');
const SERVER = 'CAMDX/COM/DEMOBANK/SS1';
const NEWSUB = 'CAMDX/COM/DEMOBANK/NEWSUB';
let net: TestNetwork;
let dir: { path: string; cleanup(): void };
let isPem: string;

beforeAll(async () => {
  dir = tempDir();
  const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir.path, 'is.key'), '-out', join(dir.path, 'is.pem'), '-subj', '/CN=new information system', '-days', '2']);
  expect(made.code, made.stderr).toBe(0);
  isPem = readFileSync(join(dir.path, 'is.pem'), 'utf8');
  // HTTPS clients need the consumer's TLS listener.
  net = await startTestNetwork({ consumerConfig: { listen: { consumerTls: { host: '127.0.0.1', port: await freePort() } } } as unknown as Partial<RawGatewayConfig> });
}, 60_000);
afterAll(async () => {
  await net?.close();
  dir?.cleanup();
});

const yamlText = () => readFileSync(net.consumer.config, 'utf8');
const yamlClients = () => (parseYaml(yamlText()) as { clients: Record<string, { connection: string; certificates?: string[] }> }).clients;
const centralClients = async () => (await net.central.admin.call<{ clients: string[] }>('GET', `/servers/${idPath(SERVER)}`)).clients;
const clientCertificateFiles = () => {
  try {
    return readdirSync(join(net.consumer.dir, 'client-certificates')).sort();
  } catch {
    return [];
  }
};
async function post(path: string, body?: unknown) {
  const res = await net.consumer.admin(path, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const auditLines = () => readFileSync(join(net.consumer.dir, 'console-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; detail: Record<string, unknown> });

/** The refusal changes nothing: gateway.yaml byte for byte, central's clients, the certificate files. */
async function expectUnchanged(refused: () => Promise<unknown>): Promise<void> {
  const [text, clients, files] = [yamlText(), await centralClients(), clientCertificateFiles()];
  await refused();
  expect(yamlText()).toBe(text);
  expect(await centralClients()).toEqual(clients);
  expect(clientCertificateFiles()).toEqual(files);
}

describe('POST /api/v1/clients', () => {
  it("adds a subsystem of the owner with connection HTTPS to gateway.yaml and registers it at central; GET /clients shows it registered after a poll", async () => {
    expect(await centralClients()).not.toContain(NEWSUB);
    const added = await post('/clients', { id: NEWSUB, certificates: [isPem] });
    expect(added).toEqual({ status: 201, body: { id: NEWSUB, connection: 'HTTPS', registration: 'approved' } });
    expect(yamlClients()[NEWSUB]).toEqual({ connection: 'HTTPS', certificates: [expect.stringMatching(/^client-certificates\/[0-9a-f]{64}\.pem$/)] });
    // Central created the subsystem on approving registerClient and lists it as a client of this server.
    expect(await centralClients()).toContain(NEWSUB);
    await expect
      .poll(async () => ((await (await net.consumer.admin('/clients')).json()) as Array<{ id: string; registered: boolean; connection: string; certificates: number }>).find((c) => c.id === NEWSUB), { timeout: 10_000, interval: 200 })
      .toEqual({ id: NEWSUB, connection: 'HTTPS', certificates: 1, registered: true, disabled: false });
    expect(auditLines().at(-1)).toMatchObject({ action: 'POST /api/v1/clients', target: NEWSUB, detail: { status: 201, outcome: 'approved' } });
  });

  it("refuses another member's subsystem (its member would have to sign), changing nothing", async () => {
    await expectUnchanged(async () => {
      const refused = await post('/clients', { id: 'CAMDX/GOV/MOI/OTHERSUB', connection: 'HTTP' });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'not-owner', field: 'id' });
      expect(String(refused.body.message)).toMatch(/CAMDX\/GOV\/MOI's signature.*only its owner's signing key/);
    });
    expect(auditLines().at(-1)).toMatchObject({ target: 'CAMDX/GOV/MOI/OTHERSUB', detail: { status: 400, outcome: 'refused', code: 'not-owner' } });
  });

  it('refuses a client configured here already (409), an id that is no subsystem, and HTTPS without a pinned certificate, changing nothing', async () => {
    await expectUnchanged(async () => {
      expect(await post('/clients', { id: NEWSUB, connection: 'HTTP' })).toMatchObject({ status: 409, body: { error: 'conflict', field: 'id' } });
      expect(await post('/clients', { id: CLIENT })).toMatchObject({ status: 409, body: { error: 'conflict' } });
      expect(await post('/clients', { id: 'CAMDX/COM/DEMOBANK' })).toMatchObject({ status: 400, body: { error: 'invalid', field: 'id' } });
      const bare = await post('/clients', { id: 'CAMDX/COM/DEMOBANK/NOCERT' });
      expect(bare).toMatchObject({ status: 400, body: { error: 'invalid', field: 'certificates' } });
      expect(String(bare.body.message)).toMatch(/HTTPS clients \(the default\) need at least one pinned IS certificate/);
    });
  });

  it("undoes the add when registerClient does not go through (the OCSP responder is down), byte for byte", async () => {
    const pki = net.central.pki;
    const fault = (down: boolean) =>
      fetch(`${pki.url}/admin/faults/ocsp`, { method: 'PUT', headers: { authorization: `Bearer ${readFileSync(pki.pki.layout.adminToken, 'utf8').trim()}`, 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
    expect((await fault(true)).status).toBe(200);
    try {
      await expectUnchanged(async () => {
        const refused = await post('/clients', { id: 'CAMDX/COM/DEMOBANK/LATER', connection: 'HTTPS_NO_AUTH' });
        expect(refused).toMatchObject({ status: 502, body: { error: 'registration-failed' } });
        expect(String(refused.body.message)).toMatch(/registerClient for CAMDX\/COM\/DEMOBANK\/LATER did not go through: the OCSP responder .* answered HTTP/);
      });
    } finally {
      expect((await fault(false)).status).toBe(200);
    }
    const listed = (await (await net.consumer.admin('/clients')).json()) as Array<{ id: string }>;
    expect(listed.map((c) => c.id)).not.toContain('CAMDX/COM/DEMOBANK/LATER');
  });
});

describe('POST /api/v1/clients/{id}/register', () => {
  it('sends registerClient again for a client here (central: already registered); an unknown one is 404', async () => {
    expect(await post(`/clients/${CLIENT.replaceAll('/', ':')}/register`)).toEqual({ status: 200, body: { id: CLIENT, connection: 'HTTP', registration: 'already registered' } });
    expect(await post('/clients/CAMDX:COM:DEMOBANK:NOWHERE/register')).toMatchObject({ status: 404, body: { error: 'unknown-client', field: 'id' } });
  });
});

describe('camdx gateway client', () => {
  it('list prints one line per client: id, connection type, pinned certificates, registered', async () => {
    const listed = await run(process.execPath, [BIN, 'gateway', 'client', 'list', '--config', net.consumer.config]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${CLIENT}\\s+HTTP\\s+0 certificates\\s+registered yes$`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${NEWSUB}\\s+HTTPS\\s+1 certificate\\s+registered yes$`, 'm'));
    expect(listed.stdout.trim().split('\n')).toHaveLength(3);
  });

  it("register and add take the console API's path: its answers and its refusals", async () => {
    const camdx = (...args: string[]) => run(process.execPath, [BIN, 'gateway', 'client', ...args, '--config', net.consumer.config]);
    const [registered, foreign] = await Promise.all([camdx('register', CLIENT), camdx('add', 'CAMDX/GOV/MOI/OTHERSUB', '--connection', 'HTTP')]);
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toBe(`${CLIENT} (HTTP): registerClient already registered\n`);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^camdx: the gateway refused \(not-owner, id\): CAMDX\/GOV\/MOI\/OTHERSUB is a subsystem of CAMDX\/GOV\/MOI/);
  });
});
