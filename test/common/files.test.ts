import { readFileSync, statSync, type Mode, type OpenMode, type PathLike } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeSecretFile } from '../../common/files.js';
import { tempDir } from '../support/tmp.js';

/**
 * The real node:fs, with fsync and rename also written to `fsCalls.log` (descriptors named by the
 * path they were opened on), so the order of the durable-write steps can be read back. Every
 * call still reaches the disk.
 */
const fsCalls = vi.hoisted(() => ({ log: [] as string[], opened: new Map<number, string>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const openSync = (path: PathLike, flags: OpenMode, mode?: Mode | null) => {
    const fd = fs.openSync(path, flags, mode);
    fsCalls.opened.set(fd, String(path));
    return fd;
  };
  const fsyncSync = (fd: number) => {
    fsCalls.log.push(`fsync ${fsCalls.opened.get(fd) ?? `fd ${fd}`}`);
    fs.fsyncSync(fd);
  };
  const renameSync = (from: PathLike, to: PathLike) => {
    fsCalls.log.push(`rename ${String(from)} → ${String(to)}`);
    fs.renameSync(from, to);
  };
  return { ...fs, openSync, fsyncSync, renameSync };
});

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('writeSecretFile', () => {
  it('writes owner-only, replacing the whole file', () => {
    const file = join(dir.path, 'keys', 'token');
    writeSecretFile(file, 'first\n');
    writeSecretFile(file, 'second\n');
    expect(readFileSync(file, 'utf8')).toBe('second\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('fsyncs the file before renaming it into place, then its directory', () => {
    const durable = join(dir.path, 'durable');
    const target = join(durable, 'secret');
    fsCalls.log.length = 0;
    writeSecretFile(target, 'x');
    expect(readFileSync(target, 'utf8')).toBe('x');
    // The temp file is the target's sibling: `<target>.<12 hex digits>.tmp`.
    const tmp = /^fsync (.+)$/.exec(fsCalls.log[0] ?? '')?.[1] ?? '';
    expect(tmp.slice(0, target.length), fsCalls.log.join('\n')).toBe(target);
    expect(tmp.slice(target.length)).toMatch(/^\.[0-9a-f]{12}\.tmp$/);
    expect(fsCalls.log).toEqual([`fsync ${tmp}`, `rename ${tmp} → ${target}`, `fsync ${durable}`]);
  });
});
