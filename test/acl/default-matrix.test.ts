import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGlobalConf } from '../../central/globalconf/snapshot.js';
import { Registry } from '../../central/registry/registry.js';
import { DEFAULT_CENTRAL_SETTINGS } from '../../central/settings.js';
import { ConfView } from '../../gateway/globalconf/view.js';
import { parseMemberId, parseServiceId, parseSubsystemId } from '../../protocol/identifiers.js';
import { matchMethod, matchPath, normaliseRequestPath, type MethodPattern } from '../../protocol/paths.js';
import { loadMatrix, type AclCase } from '../../sim/acl/matrix.js';
import { ACCESS_RULES, CAMDIGIKEY_ENDPOINTS, CAMDIGIKEY_SERVICE, clientOf, KYC_ENDPOINTS, KYC_SERVICE, MEMBERS, serviceOf } from '../../sim/topology.js';

/**
 * The shipped matrix must describe the default network of sim/topology.ts: every client ×
 * service pair, every published endpoint, a deny at the edge of every rule, and each
 * expectation equal to what the network itself would decide. "What the network decides" is
 * not re-implemented here: the rules go into a real central registry (which applies its own
 * defaults: no method = '*', no path = '/**'), are published as a global configuration, and
 * judged by the provider gateway's own lookup (ConfView.allowingRight over protocol/paths.ts).
 */

const matrix = loadMatrix(join(import.meta.dirname, '../../acl/default-matrix.yaml'));
const clients = MEMBERS.map(clientOf);
const services = MEMBERS.filter((m) => m.provides).map(serviceOf);
const ENDPOINTS: Record<string, ReadonlyArray<{ method: string; path: string }>> = { [KYC_SERVICE]: KYC_ENDPOINTS, [CAMDIGIKEY_SERVICE]: CAMDIGIKEY_ENDPOINTS };

const registry = new Registry(':memory:', DEFAULT_CENTRAL_SETTINGS.instance, DEFAULT_CENTRAL_SETTINGS.memberClasses);
afterAll(() => registry.close());
for (const m of MEMBERS) {
  registry.members.add('test', parseMemberId(m.member), m.name);
  registry.members.addSubsystem('test', parseSubsystemId(clientOf(m)));
}
for (const service of services) {
  registry.services.add('test', parseServiceId(service), { endpoints: ENDPOINTS[service]!.map((e) => ({ method: e.method as MethodPattern, path: e.path })) });
}
for (const r of ACCESS_RULES) registry.access.addRight('test', { type: 'SUBSYSTEM', id: parseSubsystemId(r.subject) }, parseServiceId(r.service), r.method, r.path);
const view = new ConfView(buildGlobalConf(registry, DEFAULT_CENTRAL_SETTINGS, 1, Date.now()));

const requestPath = (c: AclCase) => normaliseRequestPath(c.path.split('?')[0]!);
const allowedByNetwork = (c: AclCase) => view.allowingRight(c.client, c.service, c.method, requestPath(c)) !== undefined;

describe('acl/default-matrix.yaml', () => {
  it('names only clients and services of the default network, each sent to its own member’s gateway', () => {
    for (const c of matrix.cases) {
      expect(clients).toContain(c.client);
      expect(services).toContain(c.service);
      const member = MEMBERS.find((m) => clientOf(m) === c.client)!;
      expect(c.gateway).toBe(`http://127.0.0.1:${member.ports.consumer}`);
    }
  });

  it('covers every client subsystem × provided service pair', () => {
    const missing = clients.flatMap((client) => services.filter((service) => !matrix.cases.some((c) => c.client === client && c.service === service)).map((service) => `${client} → ${service}`));
    expect(missing).toEqual([]);
  });

  it('calls every KYC and CamDigiKey endpoint as every client', () => {
    const missing = clients.flatMap((client) =>
      services.flatMap((service) =>
        ENDPOINTS[service]!.filter((e) => !matrix.cases.some((c) => c.client === client && c.service === service && matchMethod(e.method as MethodPattern, c.method) && matchPath(e.path, requestPath(c)))).map(
          (e) => `${client} → ${e.method} ${service}${e.path}`,
        ),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('expects exactly what the published access rights decide, case by case', () => {
    const disagreements = matrix.cases.filter((c) => (c.expect === 'allow') !== allowedByNetwork(c)).map((c) => `#${c.index + 1} ${c.name}: matrix says ${c.expect}`);
    expect(disagreements).toEqual([]);
    // Both verdicts occur, so the comparison above is not trivially true.
    expect(new Set(matrix.cases.map((c) => c.expect))).toEqual(new Set(['allow', 'deny']));
  });

  it('has a denied case at the edge of every rule', () => {
    // A case the rule does not cover, on the rule's service; for a rule narrowed to a method or
    // path, from the rule's own subject (so the narrowing itself is tested).
    for (const rule of ACCESS_RULES) {
      const right = view.conf.accessRights.find((r) => r.subject === rule.subject && r.service === rule.service)!;
      const narrowed = rule.method !== undefined || rule.path !== undefined;
      const edge = matrix.cases.filter(
        (c) =>
          c.expect === 'deny' &&
          c.service === rule.service &&
          (!narrowed || c.client === rule.subject) &&
          !(c.client === rule.subject && matchMethod(right.method as MethodPattern, c.method) && matchPath(right.path, requestPath(c))),
      );
      expect(edge.length, `no denied case for ${rule.subject} → ${rule.service} ${right.method} ${right.path}`).toBeGreaterThan(0);
    }
    // The brief's examples: a narrowed right's other endpoint, its wrong method, and clients with no rule at all.
    const has = (client: string, service: string, method: string, path: string) =>
      matrix.cases.some((c) => c.client === client && c.service === service && c.method === method && c.path === path && c.expect === 'deny');
    expect(has('CAMDX/COM/DEMOBANK/ONBOARDING', KYC_SERVICE, 'POST', '/api/2.0/kyc/ocr-idcard')).toBe(true);
    expect(has('CAMDX/COM/DEMOBANK/ONBOARDING', KYC_SERVICE, 'GET', '/api/2.0/kyc/info')).toBe(true);
    expect(has('CAMDX/GOV/MOI/KYC', CAMDIGIKEY_SERVICE, 'GET', '/api/v3.0/authentication/certificates/access-token')).toBe(true);
    expect(has('CAMDX/GOV/TSC/CAMDIGIKEY', KYC_SERVICE, 'POST', '/api/2.0/kyc/info')).toBe(true);
  });
});
