import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeFileAtomic } from '../../common/files.js';
import type { RawGatewayConfig } from '../config.js';

export interface GatewayFileSpec {
  readonly owner: string;
  readonly serverCode: string;
  readonly host: string;
  readonly ports: { readonly consumer: number; readonly peer: number; readonly admin: number; readonly console?: number };
  /** Where the console listener binds: loopback unless given (the simulation binds it with the rest). */
  readonly consoleHost?: string;
  /** Service id → base URL of the provider system. */
  readonly services?: Readonly<Record<string, string>>;
  readonly extra?: Partial<RawGatewayConfig>;
}

/**
 * Writes `gateway.yaml` in `dir`, next to `anchor.json`, `sign.p12` and `auth.p12` (and their
 * password files), with paths relative to the file so the directory can be moved.
 */
export function writeGatewayConfig(dir: string, spec: GatewayFileSpec): string {
  const config: RawGatewayConfig = {
    owner: spec.owner,
    serverCode: spec.serverCode,
    anchor: 'anchor.json',
    stateDir: '.',
    keystores: { auth: { file: 'auth.p12', passwordFile: 'auth.p12.password' }, signing: { file: 'sign.p12', passwordFile: 'sign.p12.password' } },
    services: Object.fromEntries(Object.entries(spec.services ?? {}).map(([id, url]) => [id, { url }])),
    ...spec.extra,
    listen: {
      consumer: { host: spec.host, port: spec.ports.consumer },
      peer: { host: spec.host, port: spec.ports.peer },
      admin: { host: spec.host, port: spec.ports.admin },
      ...(spec.ports.console !== undefined ? { console: { host: spec.consoleHost ?? '127.0.0.1', port: spec.ports.console } } : {}),
      ...spec.extra?.listen,
    },
  };
  const file = join(dir, 'gateway.yaml');
  writeFileAtomic(file, `# Written by camdx; see README "Gateway configuration".\n${toYaml(config)}`);
  return file;
}
