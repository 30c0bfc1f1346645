import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/files.js';
import { checkPart } from '../protocol/identifiers.js';

/** Settings fixed when the PKI is initialised. */
export interface PkiSettings {
  /** X-Road instance the CAs serve (member identifiers start with it). */
  readonly instance: string;
  /** Base URL under which the PKI service is reachable; OCSP URLs in certificates derive from it. */
  readonly publicUrl: string;
}

export const DEFAULT_PKI_PORT = 4100;
export const DEFAULT_SETTINGS: PkiSettings = { instance: 'CAMDX', publicUrl: `http://127.0.0.1:${DEFAULT_PKI_PORT}` };

export function ocspUrlOf(settings: PkiSettings): string {
  return `${settings.publicUrl.replace(/\/+$/, '')}/ocsp`;
}

export function readSettings(path: string): PkiSettings {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<PkiSettings>;
  return checkSettings(raw);
}

export function writeSettings(path: string, settings: PkiSettings): void {
  writeFileAtomic(path, `${JSON.stringify(checkSettings(settings), null, 2)}\n`);
}

function checkSettings(raw: Partial<PkiSettings>): PkiSettings {
  const instance = checkPart(raw.instance, 'instance');
  let url: URL;
  try {
    url = new URL(String(raw.publicUrl));
  } catch {
    throw new Error(`publicUrl '${String(raw.publicUrl)}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('publicUrl must be http or https');
  return { instance, publicUrl: url.toString().replace(/\/+$/, '') };
}
