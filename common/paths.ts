import { fileURLToPath } from 'node:url';

/**
 * The repository root, for files that ship beside the code (dashboard pages, fonts, bin/). It is
 * one level up both from this file and from the bundle in dist/, so it holds either way.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
