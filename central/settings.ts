import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../common/files.js';
import { checkPart } from '../protocol/identifiers.js';

export const DEFAULT_CENTRAL_PORT = 4000;
export const DEFAULT_CONSOLE_PORT = 4010;

/** Central server settings, fixed at `camdx central init` and editable in settings.json. */
export interface CentralSettings {
  readonly instance: string;
  /** Where gateways download the configuration and send management requests. */
  readonly publicUrl: string;
  /** Where administrators reach the console and `/api` (the CLI and provisioning call it). */
  readonly consoleUrl: string;
  readonly console: {
    /**
     * `Host` names the console answers besides loopback addresses and `localhost` (e.g. `central`
     * in docker-compose). Any other name gets 421: a page on another site that resolves its own
     * name to this address (DNS rebinding) cannot use a signed-in browser against the console.
     */
    readonly hostNames: readonly string[];
  };
  readonly memberClasses: readonly string[];
  /** How long a signed configuration stays valid (X-Road default 600 s). */
  readonly confExpirySeconds: number;
  readonly ocspFreshnessSeconds: number;
  readonly timestampingIntervalSeconds: number;
  /** Simulation mode: management requests are approved as soon as they verify. */
  readonly autoApprove: boolean;
  /** The PKI whose RA issues enrolment tokens when members and servers are registered. */
  readonly pki?: { readonly url: string; readonly adminTokenFile: string };
}

const SettingsSchema = z.strictObject({
  instance: z.string(),
  publicUrl: z.url({ protocol: /^https?$/ }),
  // Settings written before the console existed have neither: the defaults apply.
  consoleUrl: z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${DEFAULT_CONSOLE_PORT}`),
  console: z
    .strictObject({ hostNames: z.array(z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host name or IP address: letters, digits, dots, hyphens (and colons of IPv6)')).max(50) })
    .default({ hostNames: [] }),
  memberClasses: z.array(z.string()).min(1),
  confExpirySeconds: z.number().int().min(10),
  ocspFreshnessSeconds: z.number().int().positive(),
  timestampingIntervalSeconds: z.number().int().positive(),
  autoApprove: z.boolean(),
  pki: z.strictObject({ url: z.url({ protocol: /^https?$/ }), adminTokenFile: z.string() }).optional(),
});

export const DEFAULT_CENTRAL_SETTINGS: CentralSettings = {
  instance: 'CAMDX',
  publicUrl: `http://127.0.0.1:${DEFAULT_CENTRAL_PORT}`,
  consoleUrl: `http://127.0.0.1:${DEFAULT_CONSOLE_PORT}`,
  console: { hostNames: [] },
  memberClasses: ['GOV', 'COM', 'NGO'],
  confExpirySeconds: 600,
  ocspFreshnessSeconds: 3600,
  timestampingIntervalSeconds: 60,
  autoApprove: false,
};

export function checkCentralSettings(raw: unknown, source: string): CentralSettings {
  const result = SettingsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  checkPart(result.data.instance, 'instance');
  result.data.memberClasses.forEach((c) => checkPart(c, 'memberClasses'));
  return result.data;
}

/** Files of the central server under the state directory. */
export function centralLayout(stateDir: string) {
  const dir = join(stateDir, 'central');
  return {
    dir,
    database: join(dir, 'central.db'),
    settings: join(dir, 'settings.json'),
    adminToken: join(dir, 'admin-token'),
    signingKey: join(dir, 'signing', 'key.pem'),
    signingCert: join(dir, 'signing', 'cert.pem'),
    anchor: join(dir, 'anchor.json'),
  };
}
export type CentralLayout = ReturnType<typeof centralLayout>;

export function readCentralSettings(path: string): CentralSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return checkCentralSettings(raw, path);
}

export function writeCentralSettings(path: string, settings: CentralSettings): void {
  writeFileAtomic(path, `${JSON.stringify(checkCentralSettings(settings, 'settings'), null, 2)}\n`);
}
