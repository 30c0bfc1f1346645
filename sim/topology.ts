/**
 * The default CamDX network: who is in it, on which ports, and who may call what. `npm start`,
 * docker-compose.yml, the Prometheus configuration and the shipped access-control matrix all
 * describe this one network; tests check they agree.
 */

export const INSTANCE = 'CAMDX';

export const PORTS = {
  central: 4000,
  /** Central's console listener: /console, /api, /dashboard, /catalogue, /metrics. */
  centralConsole: 4010,
  pki: 4100,
  camdigikeyHttp: 4200,
  camdigikeyHttps: 4443,
  moi: 4300,
  demoBank: 4400,
  prometheus: 9090,
  grafana: 3000,
} as const;

export interface MemberNode {
  /** Short name: container and directory names (`gw-<key>`, `var/sim/<key>`). */
  readonly key: 'demobank' | 'moc' | 'moi' | 'tsc';
  readonly member: string;
  readonly name: string;
  readonly subsystem: string;
  readonly serverCode: 'SS1';
  /** `console`: the gateway's console listener (`/api/v1`), loopback like the others under npm start. */
  readonly ports: { readonly consumer: number; readonly peer: number; readonly admin: number; readonly console: number };
  /** Service code this member provides, if any, and the provider system's port. */
  readonly provides?: { readonly code: string; readonly port: number };
}

export const MEMBERS: readonly MemberNode[] = [
  { key: 'demobank', member: `${INSTANCE}/COM/DEMOBANK`, name: 'Demo Bank Plc', subsystem: 'ONBOARDING', serverCode: 'SS1', ports: { consumer: 8080, peer: 5500, admin: 9080, console: 9180 } },
  { key: 'moc', member: `${INSTANCE}/GOV/MOC`, name: 'Ministry of Commerce', subsystem: 'BIZREG', serverCode: 'SS1', ports: { consumer: 8081, peer: 5501, admin: 9081, console: 9181 } },
  {
    key: 'moi',
    member: `${INSTANCE}/GOV/MOI`,
    name: 'Ministry of Interior',
    subsystem: 'KYC',
    serverCode: 'SS1',
    ports: { consumer: 8082, peer: 5502, admin: 9082, console: 9182 },
    provides: { code: 'kyc', port: PORTS.moi },
  },
  {
    key: 'tsc',
    member: `${INSTANCE}/GOV/TSC`,
    name: 'Techo Startup Center',
    subsystem: 'CAMDIGIKEY',
    serverCode: 'SS1',
    ports: { consumer: 8083, peer: 5503, admin: 9083, console: 9183 },
    provides: { code: 'camdigikey', port: PORTS.camdigikeyHttp },
  },
];

/**
 * The members' information systems call their gateways over plain HTTP (X-Road's HTTP connection
 * type, set per client in each gateway.yaml) so the README's curl examples work as written; new
 * clients elsewhere get HTTPS with a pinned certificate. Any local program can then act as these
 * clients (docs/security.md).
 */
export const DEMO_CLIENTS_OVER_HTTP = true;

export const clientOf = (m: MemberNode) => `${m.member}/${m.subsystem}`;
export const serviceOf = (m: MemberNode) => `${m.member}/${m.subsystem}/${m.provides!.code}`;
const byKey = (key: MemberNode['key']) => MEMBERS.find((m) => m.key === key)!;

export const KYC_SERVICE = serviceOf(byKey('moi'));
export const CAMDIGIKEY_SERVICE = serviceOf(byKey('tsc'));

/** MOI's Open KYC API (members/moi/api.ts). */
export const KYC_ENDPOINTS = ['/api/2.0/kyc/info', '/api/2.0/kyc/info-face', '/api/2.0/kyc/info-face-idcard', '/api/2.0/kyc/info-idcard-liveness', '/api/2.0/kyc/ocr-idcard'].map((path) => ({
  method: 'POST',
  path,
}));
/** CamDigiKey's v3 API (members/camdigikey/service.ts). */
export const CAMDIGIKEY_ENDPOINTS = [
  { method: 'GET', path: '/api/v3.0/authentication/certificates/access-token' },
  { method: 'POST', path: '/api/v3.0/authentication/service-account/**' },
];

export interface AccessRule {
  readonly subject: string;
  readonly service: string;
  /** Absent: every method and path. */
  readonly method?: string;
  readonly path?: string;
}

/** Default rights: MOC may call all of kyc and camdigikey; DEMOBANK only kyc/info and camdigikey. */
export const ACCESS_RULES: readonly AccessRule[] = [
  { subject: clientOf(byKey('moc')), service: KYC_SERVICE },
  { subject: clientOf(byKey('moc')), service: CAMDIGIKEY_SERVICE },
  { subject: clientOf(byKey('demobank')), service: KYC_SERVICE, method: 'POST', path: '/api/2.0/kyc/info' },
  { subject: clientOf(byKey('demobank')), service: CAMDIGIKEY_SERVICE },
];

/** The demo relying party (Demo Bank's web site) and its CamDigiKey service account. */
export const DEMO_RELYING_PARTY = { clientId: 'demo-bank-web', domain: 'localhost', appId: 'demobank' } as const;

/** Every port of the default network, moved by `offset` (`camdx start --port-offset`) so two networks can share a machine. */
export function simPorts(offset = 0) {
  const shift = <T extends Record<string, number>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v + offset])) as { [K in keyof T]: number };
  return {
    ...shift(PORTS),
    members: Object.fromEntries(MEMBERS.map((m) => [m.key, shift(m.ports)])) as Record<MemberNode['key'], { consumer: number; peer: number; admin: number; console: number }>,
  };
}
export type SimPorts = ReturnType<typeof simPorts>;
