import type { KeyObject } from 'node:crypto';
import { createCsr } from './csr.js';
import { subjectAltNameExtension } from './extensions.js';
import { getProfile, type Identity, type ProfileName } from './profiles.js';

/** Submits a CSR for `identity` to a PKI's RA with an enrolment token; returns the chain (PEM, leaf first). */
export async function requestCertificate(pkiUrl: string, token: string, profile: ProfileName, identity: Identity, privateKey: KeyObject): Promise<string[]> {
  const p = getProfile(profile);
  const sans = p.altNames && (identity.dns?.length ?? 0) + (identity.ip?.length ?? 0) > 0 ? [subjectAltNameExtension({ dns: identity.dns ?? [], ip: identity.ip ?? [] })] : [];
  const res = await fetch(`${pkiUrl.replace(/\/+$/, '')}/ra/certificates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: new Uint8Array(createCsr(p.subject(identity), privateKey, sans)),
  });
  const body = (await res.json()) as { chain?: string[]; error?: string; message?: string };
  if (!res.ok) throw new Error(`the RA refused the ${profile} certificate (${body.error}): ${body.message}`);
  return body.chain!;
}

/** Enrols through the PKI's admin API, then requests the certificate: for services that administer themselves. */
export async function enrolAndRequest(pkiUrl: string, adminToken: string, profile: ProfileName, identity: Identity, privateKey: KeyObject): Promise<string[]> {
  const res = await fetch(`${pkiUrl.replace(/\/+$/, '')}/admin/enrolments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profile, identity }),
  });
  const body = (await res.json()) as { token?: string; message?: string };
  if (!res.ok) throw new Error(`the PKI refused the enrolment for ${profile}: ${body.message}`);
  return requestCertificate(pkiUrl, body.token!, profile, identity, privateKey);
}
