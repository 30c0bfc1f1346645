import { X509Certificate, type KeyObject } from 'node:crypto';
import { buildOcspRequest } from '../../certs/ocsp/client.js';
import { memberOfId, parseMemberId, parseSecurityServerId } from '../../protocol/identifiers.js';
import { signManagementRequest } from '../../protocol/management.js';

export interface RegistrationKeys {
  readonly sign: { readonly key: KeyObject; readonly cert: X509Certificate };
  readonly auth: { readonly key: KeyObject; readonly cert: X509Certificate };
}

export type RegistrationOutcome = 'approved' | 'submitted' | 'already registered';

/**
 * Sends one signed management request to central (X-Road: the security server registers its
 * authentication certificate and its clients itself; the member's signing key vouches for it).
 * Central in simulation mode approves what verifies; otherwise the request waits for an admin.
 */
async function submit(centralUrl: string, envelope: unknown): Promise<RegistrationOutcome> {
  const { status, body } = await postManagementRequest(centralUrl, envelope);
  if (status === 409) return 'already registered';
  if (status < 200 || status > 299) throw new Error(`central refused the management request (${body.error ?? status}): ${body.message}`);
  return body.status === 'approved' ? 'approved' : 'submitted';
}

/** Central's answer to a management request: the request's record, or why it was refused. */
export interface ManagementAnswer {
  readonly status: number;
  readonly body: { readonly id?: number; readonly status?: string; readonly message?: string; readonly error?: string };
}

/** POSTs one signed envelope to central's `/management/requests`. */
export async function postManagementRequest(centralUrl: string, envelope: unknown): Promise<ManagementAnswer> {
  const res = await fetch(`${centralUrl.replace(/\/+$/, '')}/management/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(envelope),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as ManagementAnswer['body'] };
}

/**
 * A fresh OCSP response for each certificate, from its CA's responder as the published
 * configuration names it. The configuration is read here, not verified: it only says where to
 * ask, each issuer is matched by its signature on the certificate, and central checks the
 * response itself — a wrong document only makes central refuse the request.
 */
export async function ocspResponses(centralUrl: string, certificates: readonly X509Certificate[]): Promise<Buffer[]> {
  const res = await fetch(`${centralUrl.replace(/\/+$/, '')}/globalconf`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`cannot read central's global configuration for the OCSP responders (HTTP ${res.status})`);
  const payload = (await res.text()).split('.')[1] ?? '';
  let cas: Array<{ certificate: string; ocspUrl: string }>;
  try {
    cas = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { approvedCAs: Array<{ certificate: string; ocspUrl: string }> }).approvedCAs;
  } catch {
    throw new Error("central's global configuration does not list its approved CAs");
  }
  return Promise.all(
    certificates.map(async (cert) => {
      const ca = cas.map((c) => ({ ...c, x509: new X509Certificate(c.certificate) })).find((c) => cert.checkIssued(c.x509) && cert.verify(c.x509.publicKey));
      if (!ca) throw new Error(`no CA central approves issued ${cert.subject.replace(/\n/g, ', ')}`);
      const answer = await fetch(ca.ocspUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request' },
        body: new Uint8Array(buildOcspRequest(cert, ca.x509)),
        signal: AbortSignal.timeout(10_000),
      });
      if (!answer.ok) throw new Error(`the OCSP responder ${ca.ocspUrl} answered HTTP ${answer.status}`);
      return Buffer.from(await answer.arrayBuffer());
    }),
  );
}

/** Registers the server's authentication certificate (and address), then each client subsystem. */
export async function registerServer(
  centralUrl: string,
  o: { serverId: string; address: string; clients: readonly string[]; keys: RegistrationKeys; skip?: { authCert?: boolean; clients?: readonly string[] } },
): Promise<Array<{ request: string; outcome: RegistrationOutcome }>> {
  const server = parseSecurityServerId(o.serverId);
  if (o.skip?.authCert && o.clients.every((c) => o.skip?.clients?.includes(c))) return [];
  const [signOcsp, authOcsp] = await ocspResponses(centralUrl, [o.keys.sign.cert, o.keys.auth.cert]);
  const owner = { role: 'owner' as const, key: o.keys.sign.key, certificatePem: o.keys.sign.cert.toString(), ocsp: signOcsp! };
  const results: Array<{ request: string; outcome: RegistrationOutcome }> = [];
  if (!o.skip?.authCert) {
    const envelope = signManagementRequest({ type: 'registerAuthCert', instance: server.instance, server: o.serverId, address: o.address, authCertificate: o.keys.auth.cert.toString() }, [
      owner,
      { role: 'auth', key: o.keys.auth.key, ocsp: authOcsp! },
    ]);
    results.push({ request: `authentication certificate of ${o.serverId}`, outcome: await submit(centralUrl, envelope) });
  }
  for (const client of o.clients) {
    if (o.skip?.clients?.includes(client)) continue;
    const member = parseMemberId(memberOfId(client));
    if (member.memberClass !== server.memberClass || member.memberCode !== server.memberCode) throw new Error(`${client} is not a subsystem of ${o.serverId}'s owner`);
    const envelope = signManagementRequest({ type: 'registerClient', instance: server.instance, server: o.serverId, client }, [owner]);
    results.push({ request: `client ${client}`, outcome: await submit(centralUrl, envelope) });
  }
  return results;
}
