// One code path for every call: same origin, the session cookie, and the session's CSRF token on changes.
let csrfToken = '';
let onSessionEnded = () => {};
export function setCsrf(token) { csrfToken = token ?? ''; }
/** Called with the API's message when a call other than the sign-in itself answers 401 (the session ended). */
export function onUnauthorized(fn) { onSessionEnded = fn; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.error = body?.error ?? 'error';
    this.field = body?.field;
    this.rule = body?.rule;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(`/api/v1${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data;
  try { data = text ? JSON.parse(text) : undefined; } catch { data = { message: `HTTP ${res.status}: the answer is not JSON` }; }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && path !== '/session') onSessionEnded(err.message);
    throw err;
  }
  return data;
}

/** An API that this gateway's version may not serve yet (keys, service descriptions): undefined on 404. */
export async function apiIfServed(method, path) {
  try {
    return await api(method, path);
  } catch (err) {
    if (err.status === 404) return undefined;
    throw err;
  }
}

/** Identifiers go into paths as X-Road's admin API writes them: CAMDX/GOV/MOI/KYC/echo → CAMDX:GOV:MOI:KYC:echo. */
export const idPath = (id) => id.split('/').map(encodeURIComponent).join(':');

/** A refusal as a person reads it: the message, and the rule it broke when the API names one. */
export const refusalText = (err) => (err.rule ? `${err.message} (rule: ${err.rule})` : err.message);

/**
 * gateway.yaml names the field it refused by its place in the file (`services.<id>.url`); a page's
 * form names it `url`. Strips the prefix so the refusal is shown next to that field.
 */
export function fieldUnder(err, prefix) {
  if (typeof err.field === 'string' && err.field.startsWith(prefix)) err.field = err.field.slice(prefix.length);
  return err;
}
