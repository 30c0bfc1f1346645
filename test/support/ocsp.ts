import type { X509Certificate } from 'node:crypto';
import { buildOcspRequest } from '../../certs/ocsp/client.js';

/** A fresh OCSP response for `cert` from the real responder. */
export async function fetchOcsp(pkiUrl: string, cert: X509Certificate, issuer: X509Certificate): Promise<Buffer> {
  const res = await fetch(`${pkiUrl}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(buildOcspRequest(cert, issuer)) });
  return Buffer.from(await res.arrayBuffer());
}
