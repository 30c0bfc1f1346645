import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../common/sqlite.js';
import { MESSAGELOG_MIGRATIONS } from '../../../gateway/messagelog/schema.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('message log schema', () => {
  it('an existing log loses the unused request-leaf index and keeps every record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'camdx-mlog-'));
    dirs.push(dir);
    const path = join(dir, 'messagelog.db');
    const before = openDatabase(path, MESSAGELOG_MIGRATIONS.slice(0, 2));
    before
      .prepare(
        "INSERT INTO records (message_id, request_id, side, client, service, endpoint, request_in_ts, succeeded, request_leaf) VALUES ('m', 'r', 'Client', 'c', 's', 'GET /', 1, 1, 'leaf')",
      )
      .run();
    expect(before.prepare("SELECT name FROM sqlite_master WHERE name = 'records_request_leaf'").get()).toBeDefined();
    before.close();

    const after = openDatabase(path, MESSAGELOG_MIGRATIONS);
    expect(after.pragma('user_version', { simple: true })).toBe(MESSAGELOG_MIGRATIONS.length);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").all()).toEqual([{ name: 'records_time' }]);
    expect(after.prepare('SELECT message_id, request_leaf FROM records').all()).toEqual([{ message_id: 'm', request_leaf: 'leaf' }]);
    after.close();
  });
});
