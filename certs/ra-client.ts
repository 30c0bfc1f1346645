import type { KeyObject } from 'node:crypto';
import { describeNetworkError, postBuffer } from '../common/http.js';
import { createCsr } from './csr.js';
import { subjectAltNameExtension } from './extensions.js';
import { getProfile, type Identity, type ProfileName } from './profiles.js';

/** A PKCS#10 request (DER) for `identity` under `profile`: the profile's subject, and its SANs when it carries any. */
export function buildCsr(profile: ProfileName, identity: Identity, privateKey: KeyObject): Buffer {
  const p = getProfile(profile);
  const sans = p.altNames && (identity.dns?.length ?? 0) + (identity.ip?.length ?? 0) > 0 ? [subjectAltNameExtension({ dns: identity.dns ?? [], ip: identity.ip ?? [] })] : [];
  return createCsr(p.subject(identity), privateKey, sans);
}

/** Why the RA gave no certificate, worded for a person: unreachable (with the address), not a camdx PKI, or its refusal and rule. */
export class RaClientError extends Error {
  override name = 'RaClientError';
}

/** Posts a CSR (PEM or DER) with its enrolment token to a PKI's RA; returns the chain (PEM, leaf first). */
export async function submitCsr(pkiUrl: string, csr: Uint8Array, token: string): Promise<string[]> {
  const endpoint = `${pkiUrl.replace(/\/+$/, '')}/ra/certificates`;
  let res: { status: number; text: string };
  try {
    res = await postBuffer(endpoint, { authorization: `Bearer ${token}`, 'content-type': 'application/pkcs10' }, csr, 30_000);
  } catch (err) {
    throw new RaClientError(`cannot reach the PKI at ${pkiUrl} (${describeNetworkError(err)})`);
  }
  let body: { chain?: string[]; error?: string; message?: string };
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    throw new RaClientError(`${endpoint} answered HTTP ${res.status} with no JSON: is ${pkiUrl} a camdx PKI?`);
  }
  if (res.status < 200 || res.status > 299 || !body.chain) throw new RaClientError(`the RA at ${pkiUrl} refused the request (${body.error ?? `HTTP ${res.status}`}): ${body.message ?? ''}`);
  return body.chain;
}

/** Submits a CSR for `identity` to a PKI's RA with an enrolment token; returns the chain (PEM, leaf first). */
export async function requestCertificate(pkiUrl: string, token: string, profile: ProfileName, identity: Identity, privateKey: KeyObject): Promise<string[]> {
  return submitCsr(pkiUrl, buildCsr(profile, identity, privateKey), token);
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
