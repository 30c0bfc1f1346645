import { readFileSync } from 'node:fs';
import type { Identity, ProfileName } from '../certs/profiles.js';

export interface EnrolmentToken {
  readonly token: string;
  readonly profile: ProfileName;
  readonly expiresAt: string;
}

export class PkiUnavailable extends Error {}

/** What central needs from the PKI: enrolment tokens, and the certificates it approves. */
export class PkiClient {
  constructor(
    private readonly url: string,
    private readonly adminTokenFile: string,
  ) {}

  async enrol(profile: ProfileName, identity: Identity): Promise<EnrolmentToken> {
    let token: string;
    try {
      token = readFileSync(this.adminTokenFile, 'utf8').trim();
    } catch {
      throw new PkiUnavailable(`cannot read the PKI admin token from ${this.adminTokenFile}`);
    }
    const res = await this.fetch('/admin/enrolments', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile, identity }),
    });
    const body = (await res.json()) as EnrolmentToken & { message?: string };
    if (!res.ok) throw new PkiUnavailable(`the PKI refused the enrolment: ${body.message ?? res.status}`);
    return { token: body.token, profile: body.profile, expiresAt: body.expiresAt };
  }

  /** The CamDX CA (with its root and OCSP URL) and the TSA, as the PKI publishes them. */
  async trust(): Promise<{ ca: { name: string; certificate: string; rootCertificate: string; ocspUrl: string }; tsa: { name: string; url: string; certificate: string } }> {
    const text = async (path: string) => {
      const res = await this.fetch(path);
      if (!res.ok) throw new PkiUnavailable(`GET ${path} on the PKI answered ${res.status}`);
      return res.text();
    };
    const base = this.url.replace(/\/+$/, '');
    return {
      ca: { name: 'CamDX CA', certificate: await text('/ca/camdx-ca.pem'), rootCertificate: await text('/ca/root-ca.pem'), ocspUrl: `${base}/ocsp` },
      tsa: { name: 'CamDX TSA', url: `${base}/tsa`, certificate: await text('/tsa/certificate.pem') },
    };
  }

  private async fetch(path: string, init?: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.url.replace(/\/+$/, '')}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new PkiUnavailable(`the PKI at ${this.url} is unreachable (${(err as Error).message})`);
    }
  }
}
