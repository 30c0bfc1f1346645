/** PEM armour: the base64 DER between BEGIN/END lines, 64 characters a line. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** All PEM blocks with one of `labels`, in order, as DER. */
export function fromPemAll(text: string, labels: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (labels.includes(m[1]!)) out.push(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

/** True if the bytes look like PEM text rather than DER (DER starts with a SEQUENCE tag). */
export function looksLikePem(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN ');
}

export function certificatesFromPem(text: string): Buffer[] {
  return fromPemAll(text, ['CERTIFICATE']);
}
