import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concernShares, profilesIn, topSelfTime } from '../../bench/profile.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir();
afterAll(() => dir.cleanup());

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0', columnNumber: 0 });

describe('CPU profile summary', () => {
  it('ranks functions by self time as a share of busy time, and says how busy the run was', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('sign', 'file:///x/gateway/message/xmldsig.ts', 41) },
        { id: 4, callFrame: frame('insert', 'file:///x/node_modules/better-sqlite3/lib/methods/transaction.js', 9) },
      ],
      samples: [2, 2, 3, 3, 3, 4, 2, 2],
      timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100],
      startTime: 0,
      endTime: 800,
    };
    writeFileSync(join(dir.path, 'a.cpuprofile'), JSON.stringify(profile));
    writeFileSync(join(dir.path, 'notes.txt'), 'not a profile');
    expect(profilesIn(dir.path)).toEqual([join(dir.path, 'a.cpuprofile')]);
    const { busyPercent, items } = topSelfTime(join(dir.path, 'a.cpuprofile'));
    expect(busyPercent).toBe(50);
    expect(items).toEqual([
      { name: 'sign message/xmldsig.ts:42', selfPercent: 75 },
      { name: 'insert better-sqlite3/lib/methods/transaction.js:10', selfPercent: 25 },
    ]);
  });

  it('sorts busy time by concern: the outermost of our entry points on the stack, else the innermost frame', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 6, 7, 8, 9, 10] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('handler', 'file:///x/dist/gateway.js'), children: [4] },
        { id: 4, callFrame: frame('verifySignatureDocument', 'file:///x/dist/chunk.js'), children: [5] },
        // Hashing inside the XML verification is the XML signature's time, not the digests'.
        { id: 5, callFrame: frame('digest', 'node:internal/crypto/hash') },
        { id: 6, callFrame: frame('writev') },
        { id: 7, callFrame: frame('run', 'file:///x/node_modules/better-sqlite3/lib/methods/statement.js') },
        { id: 8, callFrame: frame('(garbage collector)') },
        { id: 9, callFrame: frame('update', 'node:internal/crypto/hash') },
        { id: 10, callFrame: frame('somethingElse', 'file:///x/dist/gateway.js') },
      ],
      samples: [2, 5, 5, 6, 6, 6, 7, 8, 9, 10],
      timeDeltas: Array(10).fill(100),
    };
    const file = join(dir.path, 'b.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    expect(concernShares(file).map((c) => [c.concern, Math.round(c.percent)])).toEqual([
      ['HTTP and TLS', 33],
      ['XML signature', 22],
      ['message log (SQLite)', 11],
      ['garbage collection', 11],
      ['digests', 11],
      ['other', 11],
    ]);
  });
});
