/**
 * Registry failures, each mapped to one HTTP status by the API: `invalid` 400, `not-found`
 * 404, `conflict` 409 (already exists), `in-use` 409 (a delete that would orphan data),
 * `forbidden` 403 (the caller's role may not), `limit` 409 (a bound on what one member may hold).
 */
export type RegistryErrorKind = 'invalid' | 'not-found' | 'conflict' | 'in-use' | 'forbidden' | 'limit';

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export const notFound = (field: string, what: string) => new RegistryError('not-found', field, `${what} is not registered`);
export const conflict = (field: string, what: string) => new RegistryError('conflict', field, `${what} is already registered`);
export const inUse = (field: string, what: string, uses: readonly string[]) => new RegistryError('in-use', field, `${what} cannot be removed while it has ${uses.join(', ')}; remove those first`);
