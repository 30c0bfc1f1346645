#!/usr/bin/env node
// The sources are TypeScript run through tsx, so `npx camdx` works right after `npm ci`
// with no build step and no stale compiled copy.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
