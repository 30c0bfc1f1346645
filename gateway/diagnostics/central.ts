import { readFileSync } from 'node:fs';
import { parseAnchor } from '../../protocol/anchor.js';
import { MAX_GLOBALCONF_BYTES, verifyGlobalConf } from '../../protocol/globalconf.js';
import type { GatewayConfig } from '../config.js';
import { fail, pass, reasonOf, since, type PendingCheck } from './check.js';

/**
 * Central reachable: downloads the global configuration from the URL in the gateway's anchor
 * and verifies it as the gateway would (X-Road's "global configuration download" test). A
 * reachable central that serves something the anchor does not vouch for is a failure too.
 */
export function centralCheck(config: GatewayConfig): PendingCheck {
  const { anchor, certificates } = parseAnchor(readFileSync(config.anchor, 'utf8'));
  const url = `${anchor.centralUrl.replace(/\/+$/, '')}/globalconf`;
  const c = { name: 'central', target: url };
  return {
    ...c,
    async run(budget) {
      const started = performance.now();
      let body: Buffer;
      try {
        const res = await fetch(url, { signal: budget.signal, redirect: 'manual' });
        if (res.status !== 200) {
          await res.body?.cancel();
          return fail(c, `answered HTTP ${res.status}`, since(started));
        }
        const read = await readCapped(res);
        if (!read) return fail(c, `serves more than the ${MAX_GLOBALCONF_BYTES} bytes a global configuration may be`, since(started));
        body = read;
      } catch (err) {
        return fail(c, `unreachable (${reasonOf(err, budget)})`, since(started));
      }
      const latency = since(started);
      try {
        const conf = await verifyGlobalConf(body, anchor, certificates);
        return pass(c, `serves version ${conf.version}, verified against the anchor`, latency);
      } catch (err) {
        return fail(c, `answers, but its configuration is refused: ${(err as Error).message}`, latency);
      }
    },
  };
}

/** The body, or undefined (read no further) once it passes MAX_GLOBALCONF_BYTES. */
async function readCapped(res: Response): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    // Leaving the loop cancels the stream.
    if (total > MAX_GLOBALCONF_BYTES) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, total);
}
