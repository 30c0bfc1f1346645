/**
 * Reading a message-log archive entry by entry (yauzl: Zip64, random access from the central
 * directory), so memory holds the directory and the files in use, never the whole archive.
 */
import { X509Certificate } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { certificatesFromPem } from '../../../certs/pem.js';
import { CamdxError, LocalCode } from '../../../protocol/errors.js';
import { ARCHIVE_FORMAT, ARCHIVE_MIME, type ArchiveManifest } from './layout.js';

/** The archive as a whole cannot be checked: not a zip, not ours, or missing what every record needs. */
export class ArchiveError extends CamdxError<'Archive'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(LocalCode.Archive, message, options);
  }
}

/** One file of the archive is missing or unreadable: what needs it fails, the rest is still checked. */
export class ArchiveFileError extends CamdxError<'Archive'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(LocalCode.Archive, message, options);
  }
}

/** Bytes read ahead: the central directory is read in records of ~100 bytes, one after the other. */
const READ_AHEAD = 64 << 10;

/**
 * yauzl's reader for a file, with read-ahead: yauzl's own reads each central directory record
 * on its own through the thread pool (5 s for 66,000 entries, against 0.9 s from memory).
 */
class FileReader extends yauzl.RandomAccessReader {
  private block = Buffer.alloc(0);
  private blockStart = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    try {
      this.bytesAt(position, length).copy(buffer, offset);
      setImmediate(callback, null);
    } catch (err) {
      setImmediate(callback, err as Error);
    }
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end - start <= READ_AHEAD) return Readable.from([this.bytesAt(start, end - start)], { objectMode: false });
    // Not fs.createReadStream: destroying one closes the descriptor every other read shares.
    const bytesAt = (position: number, length: number) => this.bytesAt(position, length);
    let at = start;
    return new Readable({
      read() {
        try {
          const length = Math.min(READ_AHEAD, end - at);
          this.push(bytesAt(at, length)); // a slice of a block never written again: a miss reads a new one
          at += length;
          if (at >= end) this.push(null);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    // yauzl may close once per reference it held; the descriptor number could be another file's by the second.
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    setImmediate(callback, null);
  }

  /** `length` bytes at `position`, from the block last read when they are in it. */
  private bytesAt(position: number, length: number): Buffer {
    const from = position - this.blockStart;
    if (from >= 0 && from + length <= this.block.length) return this.block.subarray(from, from + length);
    const block = Buffer.allocUnsafe(Math.min(Math.max(length, READ_AHEAD), Math.max(this.size - position, 0)));
    let got = 0;
    while (got < block.length) {
      const n = readSync(this.fd, block, got, block.length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    if (got < length) throw new Error(`unexpected end of file at ${position + got}`);
    this.block = block.subarray(0, got);
    this.blockStart = position;
    return this.block.subarray(0, length);
  }
}

async function openZip(source: string | Uint8Array): Promise<yauzl.ZipFile> {
  const options = { lazyEntries: true, autoClose: false };
  if (typeof source !== 'string') return yauzl.fromBufferPromise(Buffer.from(source.buffer, source.byteOffset, source.length), options);
  const fd = openSync(source, 'r');
  try {
    const size = fstatSync(fd).size;
    return await yauzl.fromRandomAccessReaderPromise(new FileReader(fd, size), size, options);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Largest single file read whole (documents, tokens, certificates): anything bigger is not one of ours. */
const MAX_FILE_BYTES = 16 << 20;
/** Recently read files kept: a batch's records follow each other, so they hit the same few documents. */
const RECENT_FILES = 256;
const RECENT_FILE_BYTES = 256 << 10;
/** Longest line of records.jsonl believed: one record is a few kilobytes. */
const MAX_LINE = 1 << 20;

/**
 * Where one file's data is: all that is kept of each central directory entry (yauzl's Entry
 * objects carry every header field, and a busy period's archive has a hundred thousand). An
 * entry yauzl cannot decode (encrypted, another compression method) is kept as the reason.
 */
interface Located {
  readonly offset: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly deflated: boolean;
}

/** The archive's files by name, with its manifest read and checked. */
export class ArchiveFiles {
  private readonly recent = new Map<string, Buffer>();
  private manifestRead: ArchiveManifest | undefined;

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, Located | string>,
  ) {}

  get manifest(): ArchiveManifest {
    return this.manifestRead!;
  }

  static async open(source: string | Uint8Array): Promise<ArchiveFiles> {
    let zip: yauzl.ZipFile | undefined;
    const entries = new Map<string, Located | string>();
    try {
      zip = await openZip(source);
      for await (const entry of zip.eachEntry()) {
        const readable = entry.canDecodeFileData() ? null : `${entry.fileName} is encrypted or compressed with method ${entry.compressionMethod}`;
        entries.set(
          entry.fileName,
          readable ?? { offset: entry.relativeOffsetOfLocalHeader, compressedSize: entry.compressedSize, size: entry.uncompressedSize, deflated: entry.compressionMethod === 8 },
        );
      }
    } catch (err) {
      zip?.close();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
      throw new ArchiveError(`not a readable zip archive (${(err as Error).message})`);
    }
    const archive = new ArchiveFiles(zip, entries);
    try {
      const mime = await archive.bytes('mimetype');
      if (mime === undefined || mime.toString() !== ARCHIVE_MIME) throw new ArchiveError('not a CamDX message-log archive (mimetype)');
      let manifest: ArchiveManifest;
      try {
        manifest = JSON.parse(await archive.text('META-INF/manifest.json')) as ArchiveManifest;
      } catch {
        throw new ArchiveError('META-INF/manifest.json is missing or not JSON');
      }
      if (manifest.format !== ARCHIVE_FORMAT) throw new ArchiveError(`unknown archive format ${String(manifest.format)}`);
      archive.manifestRead = manifest;
      return archive;
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  names(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** A file's bytes, or undefined when the archive has no such file. */
  async bytes(name: string): Promise<Buffer | undefined> {
    const known = this.recent.get(name);
    if (known) return known;
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (typeof entry !== 'string' && entry.size > MAX_FILE_BYTES) throw new ArchiveFileError(`${name} is larger than any file of an archive (${entry.size} bytes)`);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.open(entry)) chunks.push(chunk as Buffer);
    } catch (err) {
      throw new ArchiveFileError(`${name} cannot be read (${(err as Error).message})`);
    }
    const data = Buffer.concat(chunks);
    if (data.length <= RECENT_FILE_BYTES) {
      if (this.recent.size >= RECENT_FILES) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(name, data);
    }
    return data;
  }

  async text(name: string): Promise<string> {
    const data = await this.bytes(name);
    if (!data) throw new ArchiveFileError(`${name} is missing from the archive`);
    return data.toString('utf8');
  }

  /** A file's lines as they are inflated: records.jsonl may be larger than memory. */
  async lines(name: string): Promise<AsyncGenerator<string>> {
    const entry = this.entries.get(name);
    if (!entry) throw new ArchiveFileError(`${name} is missing from the archive`);
    try {
      return linesOf(name, await this.open(entry));
    } catch (err) {
      throw new ArchiveFileError(`${name} cannot be read (${(err as Error).message})`);
    }
  }

  async certificates(names: readonly string[]): Promise<X509Certificate[]> {
    const pems = await Promise.all(names.map((f) => this.text(f)));
    return pems.flatMap((pem) => certificatesFromPem(pem)).map((d) => new X509Certificate(d));
  }

  close(): void {
    this.zip.close();
  }

  /** yauzl's low-level read: the checks its openReadStream makes from an Entry were made when the directory was read. */
  private async open(entry: Located | string): Promise<Readable> {
    if (typeof entry === 'string') throw new Error(entry);
    const header = { relativeOffsetOfLocalHeader: entry.offset, compressedSize: entry.compressedSize } as yauzl.Entry;
    const { fileDataStart } = await this.zip.readLocalFileHeaderPromise(header, { minimal: true });
    // Not openReadStreamLowLevelPromise: in yauzl 3.4.0 it calls openReadStream with these arguments.
    return new Promise((resolve, reject) =>
      this.zip.openReadStreamLowLevel(fileDataStart, entry.compressedSize, 0, entry.compressedSize, entry.deflated, entry.size, (err, stream) => (err ? reject(err) : resolve(stream))),
    );
  }
}

/** Lines as the stream yields them; a damaged stream ends the whole check (nothing after it can be read). */
async function* linesOf(name: string, stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = parts.pop()!;
      if (rest.length > MAX_LINE) throw new ArchiveError(`${name} has a line longer than ${MAX_LINE} characters`);
      yield* parts;
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`${name} cannot be read (${(err as Error).message})`);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}
