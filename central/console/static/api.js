// The shared API client (common/console/static/api-core.js), and how central's paths carry identifiers.
export * from './api-core.js';

/** Identifiers go into paths as their parts (CAMDX/GOV/MOI → CAMDX/GOV/MOI, each part encoded). */
export const idPath = (id) => id.split('/').map(encodeURIComponent).join('/');
