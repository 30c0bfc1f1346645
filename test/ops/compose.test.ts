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

const ROOT = join(import.meta.dirname, '../..');
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const camdxServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

describe('docker-compose.yml', () => {
  it('passes docker-compose config', async () => {
    const res = await run('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet']);
    expect(res.code, res.stderr).toBe(0);
  });

  it('has the topology of npm start: one gateway container per member on the same ports, central, PKI, providers, Prometheus, Grafana', () => {
    for (const m of MEMBERS) {
      const gw = compose.services[`gw-${m.key}`]!;
      expect(gw.command).toEqual(['node', 'gateway', m.key]);
      expect(gw.ports).toEqual([`${m.ports.consumer}:${m.ports.consumer}`, `${m.ports.admin}:${m.ports.admin}`]);
    }
    expect(compose.services.central!.ports).toEqual([`${PORTS.central}:${PORTS.central}`]);
    expect(compose.services.pki!.ports).toEqual([`${PORTS.pki}:${PORTS.pki}`]);
    expect(compose.services.camdigikey!.ports).toEqual([`${PORTS.camdigikeyHttp}:${PORTS.camdigikeyHttp}`, `${PORTS.camdigikeyHttps}:${PORTS.camdigikeyHttps}`]);
    expect(compose.services.moi!.ports).toEqual([`${PORTS.moi}:${PORTS.moi}`]);
    expect(compose.services.prometheus!.image).toMatch(/^prom\/prometheus:/);
    expect(compose.services.grafana!.image).toMatch(/^grafana\/grafana:/);
    for (const [, s] of camdxServices) expect(ROLES).toContain(s.command![1]);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/ENTRYPOINT \["node", "\/app\/bin\/camdx\.js"\]/);
  });
});

describe("the containers' commands, run as processes on loopback", () => {
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
