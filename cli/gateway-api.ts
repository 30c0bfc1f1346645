import { failCommand } from './context.js';

/**
 * One call to the running gateway's console API (`/api/v1` at its `listen.console`, with
 * `<stateDir>/admin-token`): the `camdx gateway key|csr|cert|service` commands take the
 * console's code path, its checks and its audit log. A refusal exits 1 with the API's code,
 * field and message; a gateway that cannot be reached exits 1 saying so.
 */
export async function gatewayApi<T = Record<string, unknown>>(configFile: string, method: string, path: string, body?: unknown): Promise<T> {
  const { loadGatewayConfig } = await import('../gateway/config.js');
  const { gatewayApiUrl } = await import('../gateway/admin/reload-client.js');
  const { readAdminToken } = await import('../gateway/admin/token.js');
  let url: string;
  let token: string;
  try {
    // A bare gateway in set-up has a gateway.yaml before its keystores: only the console's address and the token are needed here.
    const config = loadGatewayConfig(configFile, { inSetup: true });
    url = gatewayApiUrl(config, path);
    token = readAdminToken(config.stateDir);
  } catch (err) {
    failCommand((err as Error).message, 2);
  }
  return gatewayApiAt<T>(url, token, method, body);
}

/** The call itself, to the console API route `url` with the admin token. */
export async function gatewayApiAt<T = Record<string, unknown>>(url: string, token: string, method: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // Room for what the gateway waits on: a document fetch (10 s), the RA, central's answer with OCSP.
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    failCommand(`the gateway's console API ${url} did not answer (${code ?? (err as Error).message}): is the gateway running?`);
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status >= 400) failCommand(`the gateway refused (${String(answer.error ?? `HTTP ${res.status}`)}${answer.field ? `, ${String(answer.field)}` : ''}): ${String(answer.message ?? '')}`);
  return answer as T;
}
