import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { writeFileAtomic } from '../common/files.js';
import { CamdxError, LocalCode } from '../protocol/errors.js';
import { ConfigError, parseGatewayConfig, type GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';

/**
 * Edits of a running gateway's configuration (issue 19): the edit is applied to gateway.yaml's
 * text (its comments and layout kept), the whole new text is validated by the loader start-up
 * uses, written atomically, and only then swapped in. A refused edit leaves the file as it
 * was, byte for byte, and the gateway on the configuration it had.
 *
 * Only `clients` and `services` change at run time. Everything else (listeners, keystores, the
 * owner, limits) is set up once at start-up, so an edit of it is refused: it needs a restart.
 */
export const EDITABLE_AT_RUN_TIME = ['clients', 'services'] as const;

/** One change of gateway.yaml: `value` undefined removes the key. */
export interface ConfigChange {
  readonly path: readonly [(typeof EDITABLE_AT_RUN_TIME)[number], ...string[]];
  readonly value: unknown;
}

/** A file the edit refers to (a pinned certificate, a CA), written before validation and removed if the edit is refused. */
export interface ReferencedFile {
  readonly path: string;
  readonly text: string;
}

/** A refused edit: 400 when the edit makes the configuration invalid (naming its field), 409 when no edit can apply now. */
export class ConfigEditError extends CamdxError<'Config'> {
  declare readonly field: string;

  constructor(
    readonly status: 400 | 409,
    field: string,
    message: string,
  ) {
    super(LocalCode.Config, message, { field });
    this.name = 'ConfigEditError';
  }
}

/** How gateway.yaml names a file under the state dir: relative to the configuration when it lies below it. */
export function configPath(config: GatewayConfig, file: string): string {
  const rel = relative(config.configDir, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/**
 * Applies `changes` to the running gateway's gateway.yaml and swaps the result in. Returns the
 * configuration now in use. Synchronous from reading the file to the swap, so two edits never
 * interleave; an exchange already under way keeps the configuration it read.
 */
export function editGatewayConfig(ctx: GatewayContext, changes: readonly ConfigChange[], files: readonly ReferencedFile[] = []): GatewayConfig {
  const current = ctx.config;
  const file = current.configFile;
  if (!file) throw new ConfigEditError(409, '(file)', 'this gateway was not started from a configuration file, so there is none to edit');
  for (const change of changes) {
    if (!(EDITABLE_AT_RUN_TIME as readonly string[]).includes(change.path[0])) {
      throw new ConfigEditError(409, change.path.join('.'), `${change.path[0]} is set up at start-up: edit gateway.yaml and restart the gateway`);
    }
  }
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigEditError(409, '(file)', `${file} is not valid YAML now (${doc.errors[0]!.message.split('\n')[0]}); fix it by hand first`);
  for (const { path, value } of changes) {
    if (value === undefined) doc.deleteIn(path);
    else doc.setIn(path, doc.createNode(value));
  }
  const nextText = doc.toString();

  const created = files.filter((f) => !existsSync(f.path));
  for (const f of created) writeFileAtomic(f.path, f.text, 0o644, { durable: true });
  let next: GatewayConfig;
  try {
    next = parseGatewayConfig(nextText, file);
    writeFileAtomic(file, nextText, statSync(file).mode & 0o777, { durable: true });
  } catch (err) {
    for (const f of created) rmSync(f.path, { force: true });
    if (err instanceof ConfigError) throw new ConfigEditError(400, err.field, err.message);
    throw err;
  }
  const swapped = Object.freeze({ ...current, clients: next.clients, services: next.services });
  ctx.replaceConfig(swapped);
  return swapped;
}
