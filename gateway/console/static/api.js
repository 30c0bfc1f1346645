// The shared API client (common/console/static/api-core.js), and the gateway's own helpers.
import { api } from './api-core.js';

export * from './api-core.js';

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

/**
 * gateway.yaml names the field it refused by its place in the file (`services.<id>.url`); a page's
 * form names it `url`. Strips the prefix so the refusal is shown next to that field.
 */
export function fieldUnder(err, prefix) {
  if (typeof err.field === 'string' && err.field.startsWith(prefix)) err.field = err.field.slice(prefix.length);
  return err;
}
