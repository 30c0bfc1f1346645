import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CentralApiError, type CentralAdminClient } from '../central/admin-client.js';
import { writeSecretFile } from '../common/files.js';
import { centralLayout } from '../central/settings.js';

/** The console's first administrator under `npm start`, and where its password is kept. */
export const SIM_CONSOLE_ADMIN = 'admin';
export const consolePasswordFile = (stateDir: string) => join(centralLayout(stateDir).dir, 'console-admin-password');

/**
 * Gives a new network a console administrator, as X-Road's installation does: named `admin`,
 * with a random password in a 0600 file of the state directory (printed by path, never shown).
 * It goes through the admin API's bootstrap (the token may create the first user only), so a
 * network whose users someone already manages is left alone.
 */
export async function ensureConsoleAdmin(stateDir: string, admin: CentralAdminClient): Promise<void> {
  const file = consolePasswordFile(stateDir);
  if (existsSync(file)) return;
  const password = randomBytes(18).toString('base64url');
  try {
    await admin.call('POST', '/users', { name: SIM_CONSOLE_ADMIN, role: 'administrator', password });
  } catch (err) {
    // Users exist already (made by hand): theirs to manage.
    if (err instanceof CentralApiError && err.status === 403) return;
    throw err;
  }
  writeSecretFile(file, `${password}\n`);
}
