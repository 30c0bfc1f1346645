import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCamdx, type ChildService } from '../../common/child.js';
import { ROLES } from '../../sim/nodes.js';
import { MEMBERS, PORTS } from '../../sim/topology.js';
import { run } from '../support/run.js';
import { freePortOffset } from '../support/sim.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

const ROOT = join(import.meta.dirname, '../..');
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  networks?: Record<string, unknown>;
  volumes?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
}

/** The file as docker-compose resolves it (anchors merged, variables interpolated), with only `vars` set of ours. */
function composeConfig(vars: Record<string, string> = {}): Compose {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAMDX_')));
  const text = execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { env: { ...env, ...vars }, encoding: 'utf8' });
  return parse(text) as Compose;
}
const needsCompose = requireTool('docker-compose');
// Read while the file is collected; without docker-compose every suite below is a named skip.
const compose: Compose = needsCompose.skip ? { services: {}, volumes: {}, networks: {} } : composeConfig();
const camdxServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const STATE = '/var/lib/camdx';
/** Named volumes a service mounts: name → mount point. */
const namedVolumes = (s: Service) => Object.fromEntries((s.volumes ?? []).map((v) => v.split(':')).filter(([src]) => !src!.startsWith('.') && !src!.startsWith('/')).map(([src, target]) => [src!, target!]));
const published = (c: Compose) => Object.values(c.services).flatMap((s) => s.ports ?? []);

describe('docker-compose.yml', needsCompose, () => {
  it('passes docker-compose config', async () => {
    const res = await run('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet']);
    expect(res.code, res.stderr).toBe(0);
  });

  it('has the topology of npm start: one gateway container per member on the same ports, central, PKI, providers, Prometheus, Grafana', () => {
    const host = (port: number) => `127.0.0.1:${port}:${port}/tcp`;
    for (const m of MEMBERS) {
      const gw = compose.services[`gw-${m.key}`]!;
      expect(gw.command).toEqual(['node', 'gateway', m.key]);
      expect(gw.ports).toEqual([host(m.ports.consumer), host(m.ports.admin), host(m.ports.console)]);
    }
    expect(compose.services.central!.ports).toEqual([host(PORTS.central), host(PORTS.centralConsole)]);
    // The console listener is what the healthcheck and Prometheus ask (the public port has no /health or /metrics).
    expect(JSON.stringify(compose.services.central!.healthcheck)).toContain(`http://127.0.0.1:${PORTS.centralConsole}/health`);
    expect(compose.services.pki!.ports).toEqual([host(PORTS.pki)]);
    expect(compose.services.camdigikey!.ports).toEqual([host(PORTS.camdigikeyHttp), host(PORTS.camdigikeyHttps)]);
    // MOI is reached through its gateway only.
    expect(compose.services.moi!.ports).toBeUndefined();
    expect(compose.services.prometheus!.image).toMatch(/^prom\/prometheus:/);
    expect(compose.services.grafana!.image).toMatch(/^grafana\/grafana:/);
    for (const [, s] of camdxServices) expect(ROLES).toContain(s.command![1]);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/ENTRYPOINT \["node", "\/app\/bin\/camdx\.js"\]/);
  });

  it('publishes every port on 127.0.0.1 only, unless CAMDX_BIND names another address', () => {
    const ports = published(compose);
    expect(ports.length).toBeGreaterThan(10);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+\/tcp$/);
    const exposed = published(composeConfig({ CAMDX_BIND: '0.0.0.0' }));
    expect(exposed).toEqual(ports.map((p) => p.replace(/^127\.0\.0\.1:/, '0.0.0.0:')));
  });

  it('puts MOI and CamDigiKey on their own gateway\'s network only', () => {
    const on = (network: string) => Object.entries(compose.services).filter(([, s]) => Object.keys(s.networks ?? {}).includes(network)).map(([name]) => name).sort();
    expect(Object.keys(compose.services.moi!.networks!)).toEqual(['moi']);
    expect(Object.keys(compose.services.camdigikey!.networks!)).toEqual(['camdigikey']);
    expect(on('moi')).toEqual(['gw-moi', 'moi']);
    expect(on('camdigikey')).toEqual(['camdigikey', 'gw-tsc']);
    // No service is left on compose's default network, where everything would meet.
    for (const [name, s] of Object.entries(compose.services)) expect(Object.keys(s.networks ?? {}), name).not.toContain('default');
  });

  it('gives each part one volume at its own directory; only provision mounts the others\' and the root CA\'s, and gets the root passphrase', () => {
    const own: Record<string, string> = {
      pki: `${STATE}/pki`,
      central: `${STATE}/central`,
      camdigikey: `${STATE}/camdigikey`,
      moi: `${STATE}/moi`,
      'demo-bank': `${STATE}/camdigikey/accounts/demo-bank-web`,
      ...Object.fromEntries(MEMBERS.map((m) => [`gw-${m.key}`, `${STATE}/sim/${m.key}`])),
    };
    for (const [name, s] of camdxServices.filter(([n]) => n !== 'provision')) {
      expect(namedVolumes(s), name).toEqual({ [name]: own[name] });
      expect(s.environment ?? {}, name).not.toHaveProperty('CAMDX_ROOT_PASSPHRASE');
    }
    for (const name of ['prometheus', 'grafana']) expect(namedVolumes(compose.services[name]!)).toEqual({});
    const provision = compose.services.provision!;
    expect(namedVolumes(provision)).toEqual({ provision: STATE, 'root-ca': `${STATE}/pki/offline`, ...Object.fromEntries(Object.entries(own).filter(([n]) => n !== 'moi')) });
    expect(provision.environment).toHaveProperty('CAMDX_ROOT_PASSPHRASE');
    expect(composeConfig({ CAMDX_ROOT_PASSPHRASE: 'from-the-operator' }).services.provision!.environment!.CAMDX_ROOT_PASSPHRASE).toBe('from-the-operator');
    expect(Object.keys(compose.volumes).sort()).toEqual([...Object.keys(own), 'provision', 'root-ca'].sort());
    // Each mount point exists in the image, owned by the process's user, so new volumes start with that owner; no anonymous VOLUME.
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).not.toMatch(/^VOLUME/m);
    const made = /RUN install -d -o node -g node -m 700 ((?:[^\n]*\\\n)*[^\n]*)/.exec(dockerfile)![1]!.split(/[\s\\]+/).filter(Boolean);
    for (const target of Object.values(namedVolumes(provision))) expect(made).toContain(target);
  });

  it('has a healthcheck on every long-running service and conditions on every dependency', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (name !== 'provision') expect(s.healthcheck?.test?.[0], name).toBe('CMD');
      // Roots: provision starts first; MOI needs nothing.
      if (name === 'provision' || name === 'moi') continue;
      expect(Array.isArray(s.depends_on), name).toBe(false);
      const deps = Object.entries(s.depends_on ?? {}) as Array<[string, { condition: string }]>;
      expect(deps.length, name).toBeGreaterThan(0);
      for (const [dep, { condition }] of deps) {
        const expected = dep === 'provision' ? (name === 'pki' ? 'service_started' : 'service_completed_successfully') : 'service_healthy';
        expect(condition, `${name} → ${dep}`).toBe(expected);
      }
    }
    expect(compose.services['gw-moi']!.depends_on).toHaveProperty('moi');
    expect(compose.services['gw-tsc']!.depends_on).toHaveProperty('camdigikey');
  });
});

describe("the containers' commands, run as processes on loopback", needsCompose, () => {
  const dir = tempDir();
  const children: ChildService[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    dir.cleanup();
  });

  it('bring the network up from an empty state directory and carry calls', async () => {
    const offset = await freePortOffset();
    // Exactly the compose commands, in the compose file's order, each as its own process.
    const start = (args: string[], ready: RegExp) => spawnCamdx(['--state-dir', dir.path, ...args, '--addressing', 'loopback', '--port-offset', String(offset)], ready, { timeoutMs: 120_000, logFile: join(dir.path, `${args.join('-')}.log`) });
    const serving = camdxServices.filter(([name]) => name !== 'provision');
    const provision = camdxServices.find(([name]) => name === 'provision')!;
    const started = Promise.all(serving.map(([, s]) => start(s.command!, /ready at/)));
    const provisioned = await run(process.execPath, [join(ROOT, 'bin/camdx.js'), '--state-dir', dir.path, ...provision[1].command!, '--addressing', 'loopback', '--port-offset', String(offset)]);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    children.push(...(await started));

    const gateway = (key: string) => `http://127.0.0.1:${MEMBERS.find((m) => m.key === key)!.ports.consumer + offset}`;
    const kyc = await fetch(`${gateway('demobank')}/r1/CAMDX/GOV/MOI/KYC/kyc/api/2.0/kyc/info`, { method: 'POST', headers: { 'x-road-client': 'CAMDX/COM/DEMOBANK/ONBOARDING', 'content-type': 'application/json' }, body: JSON.stringify({ idNumber: '010000019', lastNameEn: 'HENG' }) });
    expect(await kyc.json()).toMatchObject({ error: 0, data: { idNumber: '010000019', score: 1 } });
    const certs = await fetch(`${gateway('moc')}/r1/CAMDX/GOV/TSC/CAMDIGIKEY/camdigikey/api/v3.0/authentication/certificates/access-token`, { headers: { 'x-road-client': 'CAMDX/GOV/MOC/BIZREG' } });
    expect(((await certs.json()) as { data: string[] }).data).toHaveLength(2);
    const bank = await fetch(`http://127.0.0.1:${PORTS.demoBank + offset}/`);
    expect(await bank.text()).toContain('Log in with CamDigiKey');
  }, 240_000);
});
