import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditWriter } from '../../common/console/gate.js';

/** `<stateDir>/console-audit.log`: one JSON line per sign-in, refusal or change (who, what, when, outcome). */
export const consoleAuditFile = (stateDir: string) => join(stateDir, 'console-audit.log');

/**
 * Appends to the gateway's console audit log, created 0600 (it names who did what). A line is
 * written whole with one append, so a crash leaves at most the last line missing, never half of one.
 */
export function gatewayAuditWriter(stateDir: string, clock: () => number = Date.now): AuditWriter {
  const file = consoleAuditFile(stateDir);
  closeSync(openSync(file, 'a', 0o600));
  return (actor, action, target, detail) => {
    appendFileSync(file, `${JSON.stringify({ at: new Date(clock()).toISOString(), actor, action, target, ...(detail ? { detail } : {}) })}\n`);
  };
}
