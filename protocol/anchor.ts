import { createHash, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { checkPart } from './identifiers.js';

/**
 * The configuration anchor: what a security server is given at installation to trust the
 * global configuration — the instance, where to download it, and the certificate(s) whose
 * key signs it. Several certificates let a signing-key rotation overlap old and new.
 */
export interface ConfigurationAnchor {
  readonly format: 'camdx-anchor/1';
  readonly instance: string;
  readonly generatedAt: string;
  readonly centralUrl: string;
  readonly certificates: readonly string[];
  /**
   * The oldest configuration version a gateway may accept before it has a copy of its own: the
   * version central served when this anchor was handed out. Without it a fresh gateway would take
   * any validly signed configuration, however old (a replayed one that still lists a revoked server).
   */
  readonly minVersion?: number;
}

const AnchorSchema = z.strictObject({
  format: z.literal('camdx-anchor/1'),
  instance: z.string(),
  generatedAt: z.iso.datetime(),
  centralUrl: z.url({ protocol: /^https?$/ }),
  certificates: z.array(z.string()).min(1),
  minVersion: z.number().int().nonnegative().optional(),
});

/** SHA-256 thumbprint, base64url — the JWS `x5t#S256` header value. */
export function certificateThumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

export function parseAnchor(text: string): { anchor: ConfigurationAnchor; certificates: X509Certificate[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the configuration anchor is not JSON');
  }
  const result = AnchorSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`the configuration anchor is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const anchor = result.data as ConfigurationAnchor;
  checkPart(anchor.instance, 'anchor instance');
  const certificates = anchor.certificates.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new Error(`the configuration anchor's certificate ${i + 1} is not a PEM certificate`);
    }
  });
  return { anchor, certificates };
}

export function formatAnchor(anchor: ConfigurationAnchor): string {
  return `${JSON.stringify(anchor, null, 2)}\n`;
}
