import type { KeyObject, X509Certificate } from 'node:crypto';
import { parseMemberId, parseSecurityServerId } from '../../protocol/identifiers.js';
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
  const res = await fetch(`${centralUrl.replace(/\/+$/, '')}/management/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
  const body = (await res.json()) as { status?: string; message?: string; error?: string };
  if (res.status === 409) return 'already registered';
  if (!res.ok) throw new Error(`central refused the management request (${body.error ?? res.status}): ${body.message}`);
  return body.status === 'approved' ? 'approved' : 'submitted';
}

/** Registers the server's authentication certificate (and address), then each client subsystem. */
export async function registerServer(
  centralUrl: string,
  o: { serverId: string; address: string; clients: readonly string[]; keys: RegistrationKeys; skip?: { authCert?: boolean; clients?: readonly string[] } },
): Promise<Array<{ request: string; outcome: RegistrationOutcome }>> {
  const server = parseSecurityServerId(o.serverId);
  const owner = { role: 'owner' as const, key: o.keys.sign.key, certificatePem: o.keys.sign.cert.toString() };
  const results: Array<{ request: string; outcome: RegistrationOutcome }> = [];
  if (!o.skip?.authCert) {
    const envelope = signManagementRequest({ type: 'registerAuthCert', instance: server.instance, server: o.serverId, address: o.address, authCertificate: o.keys.auth.cert.toString() }, [owner, { role: 'auth', key: o.keys.auth.key }]);
    results.push({ request: `authentication certificate of ${o.serverId}`, outcome: await submit(centralUrl, envelope) });
  }
  for (const client of o.clients) {
    if (o.skip?.clients?.includes(client)) continue;
    const member = parseMemberId(client.split('/').slice(0, 3).join('/'));
    if (member.memberClass !== server.memberClass || member.memberCode !== server.memberCode) throw new Error(`${client} is not a subsystem of ${o.serverId}'s owner`);
    const envelope = signManagementRequest({ type: 'registerClient', instance: server.instance, server: o.serverId, client }, [owner]);
    results.push({ request: `client ${client}`, outcome: await submit(centralUrl, envelope) });
  }
  return results;
}
