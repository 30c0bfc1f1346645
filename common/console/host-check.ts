import { isIPv4 } from 'node:net';
import type { RequestHandler } from 'express';

/** Host name without port: `[::1]:4010` → `::1`, `localhost:4010` → `localhost`. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function isLoopbackHost(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  return isIPv4(name) && name.startsWith('127.');
}

/** Against DNS rebinding: a page served under a foreign name must not reach the API. */
export function hostCheck(hostNames: readonly string[], onRefused?: (host: string) => void): RequestHandler {
  const allowed = new Set(hostNames.map((n) => n.toLowerCase()));
  return (req, res, next) => {
    const name = hostName(req.headers.host ?? '');
    if (name && (isLoopbackHost(name) || allowed.has(name))) return next();
    onRefused?.(req.headers.host ?? '');
    res.status(421).json({ error: 'misdirected', message: `Host ${JSON.stringify(req.headers.host ?? '')} is not a name of this console` });
  };
}
