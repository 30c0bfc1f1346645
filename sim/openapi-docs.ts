import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/paths.js';

/**
 * The OpenAPI documents of the shipped services, registered with their services so
 * `getOpenAPI?serviceCode=…` answers them and the catalogue renders them. They ship beside the
 * code (read at provisioning time, from the sources or beside the bundle alike).
 */
export const OPENAPI_FILES = {
  kyc: join(PROJECT_ROOT, 'members', 'moi', 'openapi.yaml'),
  camdigikey: join(PROJECT_ROOT, 'members', 'camdigikey', 'openapi.yaml'),
} as const;

export function openApiDocument(code: keyof typeof OPENAPI_FILES): string {
  return readFileSync(OPENAPI_FILES[code], 'utf8');
}
