import type { GatewayConfig } from '../config.js';
import type { KeyRole, ReloadedCertificate } from '../keyring.js';
import { readAdminToken } from './token.js';

/**
 * Where to reach a gateway's console API (`/api/v1…`) from this machine: its `listen.console`
 * (a wildcard bind is reached on loopback). A configuration without one cannot be managed.
 */
export function gatewayApiUrl(config: GatewayConfig, path: string): string {
  if (!config.listen.console)
    throw new Error(`${config.serverId} has no console listener: add \`console: { host: 127.0.0.1, port: <port> }\` under listen in its gateway.yaml and restart it (its admin API lives there)`);
  const { host, port } = config.listen.console;
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}/api/v1${path}`;
}

/**
 * Asks the running gateway of `config` to switch to the keystores on disk (`POST /api/v1/keys/reload`,
 * gateway/keyring.ts) and returns what it now uses for `role`, which must be `serial`; or
 * 'not running' when nothing listens on its console port (it reads the keystores when it starts).
 * Throws why the gateway did not switch.
 */
export async function reloadGatewayKeys(config: GatewayConfig, role: KeyRole, serial: string): Promise<ReloadedCertificate | 'not running'> {
  const token = readAdminToken(config.stateDir);
  const url = gatewayApiUrl(config, '/keys/reload');
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return 'not running';
    throw new Error(`the gateway's console API ${url} did not answer (${code ?? (err as Error).message})`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { certificates?: ReloadedCertificate[]; message?: string; error?: string };
  if (res.status === 401) throw new Error(`the gateway at ${url} refused the admin token in ${config.stateDir}`);
  if (!res.ok) throw new Error(`the gateway kept its keys (${body.error ?? `HTTP ${res.status}`}): ${body.message ?? ''}`);
  const now = body.certificates?.find((c) => c.name === role);
  if (!now || now.serial !== serial) throw new Error(`the gateway at ${url} uses serial ${now?.serial ?? 'unknown'} for ${role}, not the new ${serial}: is it the gateway of ${config.serverId}?`);
  return now;
}
