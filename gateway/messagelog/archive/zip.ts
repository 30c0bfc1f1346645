/**
 * A zip writer that streams to a file descriptor with Zip64 wherever a count, size or offset
 * outgrows the classic fields (APPNOTE 6.3, sections 4.3.12–4.3.16 and 4.5.3). Each entry is
 * written as soon as it is added; what stays in memory is the central directory (its records
 * encoded, ~120 bytes an entry) and one output buffer of at most `FLUSH_BYTES`.
 *
 * Written here rather than taken from a library: yazl keeps every added buffer until the end and
 * rescans all earlier entries for each new one, zip-stream buffered 1.4 GB at 150,000 entries
 * (both measured). Reading archives, which come from elsewhere, is left to yauzl.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants, crc32, deflateRawSync } from 'node:zlib';

const FLUSH_BYTES = 1 << 20;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
const UTF8_NAMES = 0x0800;
const DEFLATE = 8;
const STORE = 0;
const VERSION_ZIP64 = 45;
const VERSION_DEFLATE = 20;
/** Made by a Unix system (high byte 3), so the external attributes carry a file mode. */
const MADE_BY = (3 << 8) | VERSION_ZIP64;
const FILE_MODE = (0o100644 << 16) >>> 0;

/** DOS date and time (local fields of the local and central headers). */
function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((Math.max(d.getFullYear(), 1980) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

interface Written {
  readonly name: Buffer;
  readonly method: number;
  readonly crc: number;
  readonly compressed: number;
  readonly size: number;
  readonly offset: number;
}

/** An entry being streamed: chunks deflated as they come, its header completed at `end()`. */
export interface ZipEntryStream {
  write(chunk: string | Uint8Array): void;
  end(): void;
}

export class ZipWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The central directory so far, in chunks of `FLUSH_BYTES`: one small Buffer per entry would cost more than the records. */
  private central: Buffer[] = [];
  private centralUsed = 0;
  private centralBytes = 0;
  private entries = 0;
  private open: ZipEntryStream | null = null;
  private closed = false;
  private readonly stamp = dosTime(new Date());

  /** Writes to a sibling temp file (`mode`, exactly) that `finish()` renames over `path`: readers never see half an archive. */
  constructor(
    private readonly path: string,
    mode: number,
  ) {
    this.tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    this.fd = openSync(this.tmp, 'wx', mode);
    // The umask may have taken bits from `mode`; set exactly what was asked.
    fchmodSync(this.fd, mode);
  }

  get entryCount(): number {
    return this.entries;
  }

  /** One whole entry; deflated unless `store` or deflate does not make it smaller. */
  add(name: string, data: string | Uint8Array, options: { store?: boolean } = {}): void {
    if (this.open) throw new Error('an entry is still being streamed');
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const deflated = options.store ? null : deflateRawSync(bytes, { level: 6 });
    const body = deflated && deflated.length < bytes.length ? deflated : bytes;
    const entry = { name: Buffer.from(name), method: body === bytes ? STORE : DEFLATE, crc: crc32(bytes), compressed: body.length, size: bytes.length, offset: this.position };
    this.emit(this.localHeader(entry, false));
    this.emit(body);
    this.remember(entry);
  }

  /**
   * An entry of unknown length (records.jsonl: one line per record, never all in memory). Each
   * chunk is deflated alone and sync-flushed, so the chunks join into one deflate stream; the
   * local header reserves a Zip64 field for the sizes, filled in once they are known.
   */
  stream(name: string): ZipEntryStream {
    if (this.open) throw new Error('an entry is still being streamed');
    const offset = this.position;
    const nameBytes = Buffer.from(name);
    this.emit(this.localHeader({ name: nameBytes, method: DEFLATE, crc: 0, compressed: MAX32, size: MAX32, offset }, true));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    let buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    const deflate = (final: boolean) => {
      const out = deflateRawSync(Buffer.concat(buffered), { level: 6, finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH });
      buffered = [];
      bufferedBytes = 0;
      compressed += out.length;
      this.emit(out);
    };
    this.open = {
      write: (chunk) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        crc = crc32(bytes, crc);
        size += bytes.length;
        buffered.push(bytes);
        bufferedBytes += bytes.length;
        if (bufferedBytes >= FLUSH_BYTES) deflate(false);
      },
      end: () => {
        deflate(true);
        this.flush();
        // crc32 at offset 14, then the Zip64 field's two sizes after the name and its 4-byte header.
        const fixed = Buffer.alloc(4);
        fixed.writeUInt32LE(crc >>> 0);
        writeSync(this.fd, fixed, 0, 4, offset + 14);
        const sizes = Buffer.alloc(16);
        sizes.writeBigUInt64LE(BigInt(size), 0);
        sizes.writeBigUInt64LE(BigInt(compressed), 8);
        writeSync(this.fd, sizes, 0, 16, offset + 30 + nameBytes.length + 4);
        this.open = null;
        this.remember({ name: nameBytes, method: DEFLATE, crc: crc >>> 0, compressed, size, offset });
      },
    };
    return this.open;
  }

  /** Writes the central directory and end records, makes the file durable and puts it in place. */
  finish(): void {
    if (this.open) throw new Error('an entry is still being streamed');
    this.flush();
    const start = this.position;
    this.central.forEach((chunk, i) => this.emit(i === this.central.length - 1 ? chunk.subarray(0, this.centralUsed) : chunk));
    this.central = [];
    const size = this.centralBytes;
    const zip64 = this.entries >= MAX16 || start >= MAX32 || size >= MAX32;
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(MADE_BY, 12);
      record.writeUInt16LE(VERSION_ZIP64, 14);
      record.writeBigUInt64LE(BigInt(this.entries), 24);
      record.writeBigUInt64LE(BigInt(this.entries), 32);
      record.writeBigUInt64LE(BigInt(size), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(start + size), 8);
      locator.writeUInt32LE(1, 16);
      this.emit(record);
      this.emit(locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(this.entries, MAX16), 8);
    end.writeUInt16LE(Math.min(this.entries, MAX16), 10);
    end.writeUInt32LE(Math.min(size, MAX32), 12);
    end.writeUInt32LE(Math.min(start, MAX32), 16);
    this.emit(end);
    this.flush();
    fsyncSync(this.fd);
    this.closed = true;
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  /** Gives up: the temp file goes, the target is untouched. */
  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.tmp, { force: true });
  }

  private localHeader(e: Written, zip64Sizes: boolean): Buffer {
    const header = Buffer.alloc(30 + e.name.length + (zip64Sizes ? 20 : 0));
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64Sizes ? VERSION_ZIP64 : VERSION_DEFLATE, 4);
    header.writeUInt16LE(UTF8_NAMES, 6);
    header.writeUInt16LE(e.method, 8);
    header.writeUInt16LE(this.stamp.time, 10);
    header.writeUInt16LE(this.stamp.date, 12);
    header.writeUInt32LE(e.crc, 14);
    header.writeUInt32LE(zip64Sizes ? MAX32 : e.compressed, 18);
    header.writeUInt32LE(zip64Sizes ? MAX32 : e.size, 22);
    header.writeUInt16LE(e.name.length, 26);
    header.writeUInt16LE(zip64Sizes ? 20 : 0, 28);
    e.name.copy(header, 30);
    if (zip64Sizes) {
      header.writeUInt16LE(0x0001, 30 + e.name.length);
      header.writeUInt16LE(16, 32 + e.name.length);
    }
    return header;
  }

  /** The entry's central directory record; a Zip64 field holds whichever of its values do not fit in 32 bits. */
  private remember(e: Written): void {
    const big = [e.size, e.compressed, e.offset].map((v) => v >= MAX32);
    const extra = big.filter(Boolean).length * 8;
    const record = this.centralRecord(46 + e.name.length + (extra ? 4 + extra : 0));
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(MADE_BY, 4);
    record.writeUInt16LE(extra ? VERSION_ZIP64 : VERSION_DEFLATE, 6);
    record.writeUInt16LE(UTF8_NAMES, 8);
    record.writeUInt16LE(e.method, 10);
    record.writeUInt16LE(this.stamp.time, 12);
    record.writeUInt16LE(this.stamp.date, 14);
    record.writeUInt32LE(e.crc, 16);
    record.writeUInt32LE(big[1] ? MAX32 : e.compressed, 20);
    record.writeUInt32LE(big[0] ? MAX32 : e.size, 24);
    record.writeUInt16LE(e.name.length, 28);
    record.writeUInt16LE(extra ? 4 + extra : 0, 30);
    record.writeUInt32LE(FILE_MODE, 38);
    record.writeUInt32LE(big[2] ? MAX32 : e.offset, 42);
    e.name.copy(record, 46);
    if (extra) {
      let at = 46 + e.name.length;
      record.writeUInt16LE(0x0001, at);
      record.writeUInt16LE(extra, at + 2);
      at += 4;
      for (const [i, value] of [e.size, e.compressed, e.offset].entries()) {
        if (!big[i]) continue;
        record.writeBigUInt64LE(BigInt(value), at);
        at += 8;
      }
    }
    this.centralBytes += record.length;
    this.entries++;
  }

  /** Room for one central directory record (zeroed), at the end of the last chunk. */
  private centralRecord(length: number): Buffer {
    let chunk = this.central.at(-1);
    if (!chunk || this.centralUsed + length > chunk.length) {
      // Chunks are sliced to what they hold before a new one starts.
      if (chunk) this.central[this.central.length - 1] = chunk.subarray(0, this.centralUsed);
      chunk = Buffer.alloc(Math.max(FLUSH_BYTES, length));
      this.central.push(chunk);
      this.centralUsed = 0;
    }
    const record = chunk.subarray(this.centralUsed, this.centralUsed + length);
    this.centralUsed += length;
    return record;
  }

  private emit(bytes: Uint8Array): void {
    this.pending.push(bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    this.pendingBytes += bytes.length;
    this.position += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const out = Buffer.concat(this.pending, this.pendingBytes);
    let done = 0;
    while (done < out.length) done += writeSync(this.fd, out, done, out.length - done);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
