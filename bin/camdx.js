#!/usr/bin/env node
// Runs the bundle in dist/ (scripts/build.mjs: fast to start) when it is at least as new as the
// TypeScript sources, and otherwise the sources themselves through tsx — so an edit takes
// effect at once, built or not.
import { readFileSync } from 'node:fs';
import { newestSource } from '../scripts/sources.mjs';

const root = new URL('..', import.meta.url);
let fresh = false;
try {
  const built = JSON.parse(readFileSync(new URL('dist/build.json', root), 'utf8'));
  fresh = built.newestSource >= newestSource(root.pathname);
} catch {
  // no build: run the sources
}
if (fresh) {
  await import(new URL('dist/main.js', root).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
