export const SESSION_COOKIE = 'camdx_session';

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** HttpOnly, SameSite=Strict, Path=/ always; Secure only when the listener is https. */
export function sessionCookie(value: string, options: { secure?: boolean; maxAgeSeconds?: number } = {}): string {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'HttpOnly', 'SameSite=Strict', 'Path=/'];
  if (options.maxAgeSeconds !== undefined) attrs.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) attrs.push('Secure');
  return attrs.join('; ');
}

export const clearedSessionCookie = (secure = false) => sessionCookie('', { secure, maxAgeSeconds: 0 });
