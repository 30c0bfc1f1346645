import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { CamdxError } from '../../protocol/errors.js';

/** A body that would take the bytes held by all spools past `limits.spoolQuotaBytes`. */
export class SpoolQuotaExceeded extends CamdxError<'SpoolQuota'> {
  constructor(readonly quota: number) {
    super('SpoolQuota', `this security server is holding ${quota} bytes of message bodies awaiting verification, its limit (limits.spoolQuotaBytes); retry when fewer are in flight`, {
      field: 'limits.spoolQuotaBytes',
    });
  }
}

const PREFIX = 'camdx-spool-';
/** camdx-spool-<pid>[.<start>]-XXXXXX: the owner's pid and, where /proc tells it, when that process started. */
const OWNER = /^camdx-spool-(\d+)(?:\.(\d+))?-/;

/** When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22), or undefined where there is no /proc. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that made a directory has ended: its pid is free, or taken by a process started at another time. */
function ownerGone(pid: number, started: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code === 'ESRCH') return true;
  }
  const now = started === undefined ? undefined : processStart(pid);
  return now !== undefined && now !== started;
}

/**
 * Directories of earlier runs of this user whose process is gone (a crash): their files hold
 * nothing readable. Gone means no process has the recorded pid, or the one that has it started at
 * another time — a container restarted keeps its /tmp and gives the new gateway the old one's pid.
 * A directory whose owner is still running (a twin with the same server id, say) is never touched.
 */
function removeLeftovers(): void {
  const uid = process.getuid?.();
  for (const name of readdirSync(tmpdir())) {
    const owner = OWNER.exec(name);
    if (!owner) continue;
    const path = join(tmpdir(), name);
    try {
      if (uid !== undefined && lstatSync(path).uid !== uid) continue;
    } catch {
      continue;
    }
    if (ownerGone(Number(owner[1]), owner[2])) rmSync(path, { recursive: true, force: true });
  }
}

/** Directories still open in this process, removed at exit if the gateway was never stopped. */
const openDirectories = new Set<string>();
let exitHook = false;
function removeAtExit(path: string): void {
  openDirectories.add(path);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const dir of openDirectories) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Holds message bodies while they wait for their signature to be checked. Small bodies stay in
 * memory; past `memoryLimit` a body goes to a file in this gateway's own directory (made by
 * mkdtemp, 0700, under the OS temp dir — outside the state directory), encrypted with a key that
 * exists only in this process for this one exchange (AES-256-GCM per record of about a megabyte,
 * the record number as associated data, so records cannot be reordered, dropped or altered).
 * All spools together hold at most `quotaBytes`; a chunk that would pass it is refused before
 * anything of it is kept. A file is deleted when its exchange ends, the directory on `close`.
 */
export class SpoolDirectory {
  readonly path: string;
  private held = 0;

  constructor(readonly quotaBytes = Number.MAX_SAFE_INTEGER) {
    removeLeftovers();
    const started = processStart(process.pid);
    this.path = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}${started === undefined ? '' : `.${started}`}-`));
    chmodSync(this.path, 0o700);
    removeAtExit(this.path);
  }

  spool(memoryLimit: number): Spool {
    return new Spool(this, memoryLimit);
  }

  /** Bytes held by all spools now. */
  get heldBytes(): number {
    return this.held;
  }

  /** @internal Claims room for `bytes` more, or throws SpoolQuotaExceeded. */
  reserve(bytes: number): void {
    if (this.held + bytes > this.quotaBytes) throw new SpoolQuotaExceeded(this.quotaBytes);
    this.held += bytes;
  }

  /** @internal */
  release(bytes: number): void {
    this.held -= bytes;
  }

  /** Files currently on disk (tests check that exchanges leave none behind). */
  files(): string[] {
    try {
      return readdirSync(this.path);
    } catch {
      return [];
    }
  }

  /** Removes the directory and whatever is still in it (the gateway is stopping). */
  close(): void {
    rmSync(this.path, { recursive: true, force: true });
    openDirectories.delete(this.path);
  }
}

const TAG_BYTES = 16;
const RECORD_BYTES = 1024 * 1024;

export class Spool extends Writable {
  private memory: Buffer[] = [];
  private memoryBytes = 0;
  private file: FileHandle | undefined;
  private filePath: string | undefined;
  // Drawn when the body first goes to disk: most bodies never do, and the CSPRNG showed in profiles.
  private key = Buffer.alloc(0);
  private noncePrefix = Buffer.alloc(0);
  private chunks = 0;
  private position = 0;
  private total = 0;
  private disposed = false;

  constructor(
    private readonly directory: SpoolDirectory,
    private readonly memoryLimit: number,
  ) {
    // The body is read back after writing has finished: the stream must not tear itself down then.
    super({ autoDestroy: false });
  }

  get bytes(): number {
    return this.total;
  }

  get onDisk(): boolean {
    return this.file !== undefined;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.directory.reserve(chunk.length);
    } catch (err) {
      return done(err as Error);
    }
    this.total += chunk.length;
    if (!this.file && this.memoryBytes + chunk.length <= this.memoryLimit) {
      this.memory.push(chunk);
      this.memoryBytes += chunk.length;
      return done();
    }
    // On disk, chunks are gathered into records of about RECORD_BYTES: one cipher, one write
    // per megabyte instead of per 16 KiB TLS record.
    this.memory.push(chunk);
    this.memoryBytes += chunk.length;
    void this.toDisk(false).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.file) return done();
    void this.toDisk(true).then(() => done(), done);
  }

  /** Opens the file on first use and appends what is held in memory as one record once there is enough (or at the end). */
  private async toDisk(final: boolean): Promise<void> {
    if (!this.file) {
      this.filePath = join(this.directory.path, `${randomUUID()}.spool`);
      this.key = randomBytes(32);
      this.noncePrefix = randomBytes(4);
      const file = await open(this.filePath, 'wx+', 0o600);
      if (this.disposed) {
        // The exchange ended while the file was being opened: nothing may be left behind.
        await file.close();
        await unlink(this.filePath).catch(() => undefined);
        throw new Error('the spool was disposed');
      }
      this.file = file;
    }
    if (this.memoryBytes === 0 || (!final && this.memoryBytes < RECORD_BYTES)) return;
    const held = this.memory.length === 1 ? this.memory[0]! : Buffer.concat(this.memory);
    this.memory = [];
    this.memoryBytes = 0;
    await this.appendEncrypted(held);
  }

  private nonce(index: number): Buffer {
    const n = Buffer.alloc(12);
    this.noncePrefix.copy(n, 0);
    n.writeUInt32BE(Math.floor(index / 2 ** 32), 4);
    n.writeUInt32BE(index >>> 0, 8);
    return n;
  }

  private async appendEncrypted(chunk: Buffer): Promise<void> {
    const index = this.chunks++;
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(index));
    cipher.setAAD(Buffer.from(String(index)));
    const body = Buffer.concat([cipher.update(chunk), cipher.final()]);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    const record = Buffer.concat([header, body, cipher.getAuthTag()]);
    await this.file!.write(record, 0, record.length, this.position);
    this.position += record.length;
  }

  /** The whole body when it stayed in memory (no stream needed to pass it on), else undefined. */
  inMemory(): Buffer | undefined {
    if (this.file) return undefined;
    return this.memory.length === 1 ? this.memory[0] : Buffer.concat(this.memory);
  }

  /** The body, decrypted and checked chunk by chunk; call after the writable side has finished. */
  reader(): Readable {
    if (!this.file) return Readable.from(this.memory);
    const file = this.file;
    const chunks = this.chunks;
    const decrypt = (index: number, record: Buffer) => {
      const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(index));
      decipher.setAAD(Buffer.from(String(index)));
      decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
      return Buffer.concat([decipher.update(record.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
    };
    return Readable.from(
      (async function* read() {
        let position = 0;
        const header = Buffer.alloc(4);
        for (let index = 0; index < chunks; index++) {
          await file.read(header, 0, 4, position);
          const length = header.readUInt32BE(0) + TAG_BYTES;
          const record = Buffer.alloc(length);
          await file.read(record, 0, length, position + 4);
          position += 4 + length;
          yield decrypt(index, record);
        }
      })(),
    );
  }

  /** Deletes the file (if any) and forgets the body. */
  async dispose(): Promise<void> {
    if (!this.disposed) this.directory.release(this.total);
    this.disposed = true;
    this.memory = [];
    const file = this.file;
    this.file = undefined;
    if (file) {
      await file.close().catch(() => undefined);
      await unlink(this.filePath!).catch(() => undefined);
    }
  }
}
