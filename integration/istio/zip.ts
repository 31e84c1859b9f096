// Reads one file out of a zip archive held in memory. Go module zips are plain zip files
// (stored or deflated entries, no encryption, no zip64 at the sizes we read), and one small
// reader here spares a dependency for the single YAML file the Istio tests need.
import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Offset of the end-of-central-directory record: the last 22+ bytes, before an optional comment. */
function findEocd(zip: Buffer): number {
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) return i;
  }
  throw new Error('not a zip archive (no end-of-central-directory record)');
}

/** Every entry name in the archive, in central-directory order. */
export function zipEntries(zip: Buffer): string[] {
  return [...walk(zip)].map((e) => e.name);
}

interface Entry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localOffset: number;
}

function* walk(zip: Buffer): Generator<Entry> {
  const eocd = findEocd(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error(`zip: bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    yield { name, method, compressedSize, localOffset };
    at += 46 + nameLength + extraLength + commentLength;
  }
}

/**
 * The contents of the entry whose name ends with `suffix` (module zips prefix every name with
 * `module@version/`), or undefined when there is none.
 */
export function readZipEntry(zip: Buffer, suffix: string): Buffer | undefined {
  for (const entry of walk(zip)) {
    if (!entry.name.endsWith(suffix)) continue;
    const at = entry.localOffset;
    if (zip.readUInt32LE(at) !== LOCAL) throw new Error(`zip: bad local header for ${entry.name}`);
    // The local header's own name/extra lengths may differ from the central directory's.
    const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
    const data = zip.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return Buffer.from(data);
    if (entry.method === 8) return inflateRawSync(data);
    throw new Error(`zip: ${entry.name} uses compression method ${entry.method}`);
  }
  return undefined;
}
