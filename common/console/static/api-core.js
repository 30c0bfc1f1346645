// One code path for every call: same origin, the session cookie, and the session's CSRF token on changes.
// Shared by central's and the gateway's consoles; each page names its API in <html data-api="…">.
const base = document.documentElement.dataset.api ?? '/api';
let csrfToken = '';
let onSessionEnded = () => {};
export function setCsrf(token) {
  csrfToken = token ?? '';
}
/** Called with the API's message when a call other than the sign-in itself answers 401 (the session ended). */
export function onUnauthorized(fn) {
  onSessionEnded = fn;
}

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
  const res = await fetch(`${base}${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = { message: `HTTP ${res.status}: the answer is not JSON` };
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && path !== '/session') onSessionEnded(err.message);
    throw err;
  }
  return data;
}

/** A refusal as a person reads it: the message, and the rule it broke when the API names one. */
export const refusalText = (err) => (err.rule ? `${err.message} (rule: ${err.rule})` : err.message);
