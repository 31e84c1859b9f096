import { NO_NODE, zkCode, type ZkClient, type ZkOp } from './client.ts';
import { CreationRecord, withApp, withMapping, type CreationDoc } from './record.ts';

/**
 * ZooKeeper refuses a znode over jute.maxbuffer (1 MB unless the server raises it), and one
 * mapping entry takes ~100 bytes of JSON: a single record stopped accepting writes near 10,000
 * exported interfaces, and with it every plan that adds one. A shard is closed past this size.
 */
export const SHARD_BYTES = 512 * 1024;

/** Shard 0 keeps the unsharded record's path, so a record written before sharding is still read and retired. */
export function shardPath(base: string, shard: number): string {
  // '#' is never in a record path's own name (recordPath percent-encodes it), so no collision.
  return shard === 0 ? base : `${base}#${shard}`;
}

/** The shard number of a child name of the state root, or undefined when it is not one of `base`'s. */
export function shardNumber(base: string, child: string): number | undefined {
  const name = base.slice(base.lastIndexOf('/') + 1);
  if (child === name) return 0;
  if (!child.startsWith(`${name}#`)) return undefined;
  const n = Number(child.slice(name.length + 1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

interface Loaded {
  readonly shards: CreationRecord[];
  /** Every shard's entries together, as far as this process knows: looked up, never copied. */
  readonly known: Known;
  /** The newest shard's size plus what is queued for it. */
  openBytes: number;
}

/** Applications, and per mapping path whether we created it and the applications we appended. */
interface Known {
  readonly apps: Set<string>;
  readonly mappings: Map<string, { created: boolean; readonly apps: Set<string> }>;
}

function has(k: Known, e: RecordEntry): boolean {
  if (e.mapping === undefined) return k.apps.has(e.app);
  const m = k.mappings.get(e.mapping.path);
  return m !== undefined && m.apps.has(e.app) && (m.created || !e.mapping.created);
}

function addDoc(k: Known, doc: CreationDoc): void {
  for (const app of doc.apps) k.apps.add(app);
  for (const [path, e] of Object.entries(doc.mappings)) addMapping(k, path, e.created, e.apps);
}

function addMapping(k: Known, path: string, created: boolean, apps: readonly string[]): void {
  const m = k.mappings.get(path) ?? { created: false, apps: new Set<string>() };
  m.created ||= created;
  for (const app of apps) m.apps.add(app);
  k.mappings.set(path, m);
}

/** One thing to record: an application we export, or that we appended it to a mapping node. */
export interface RecordEntry {
  readonly app: string;
  readonly mapping?: { readonly path: string; readonly created: boolean };
}

/** An upper bound of the JSON an entry adds to a record, so a batch of them never overfills a shard. */
function entryBytes(e: RecordEntry): number {
  return Buffer.byteLength(e.app) + (e.mapping === undefined ? 4 : Buffer.byteLength(e.mapping.path) + 40);
}

/**
 * The creation record over several znodes, filled in order: every new entry goes to the newest
 * shard until it passes SHARD_BYTES, then a new one opens. One open shard keeps concurrent
 * changes landing in one compare-and-set write, as with a single record; an entry already in any
 * shard is not written again.
 */
export class RecordShards {
  readonly path: string;
  readonly #client: ZkClient;
  readonly #dirMark: Buffer;
  readonly #digest: string | undefined;
  #loaded: Promise<Loaded> | undefined;

  constructor(client: ZkClient, path: string, dirMark: Buffer, digest?: string) {
    this.#client = client;
    this.path = path;
    this.#dirMark = dirMark;
    this.#digest = digest;
  }

  /** Records `entry` unless some shard already has it; concurrent entries share a write. */
  async update(entry: RecordEntry): Promise<void> {
    await this.commit([entry], []);
  }

  /**
   * Records `entries` (those no shard has yet) and applies `ops` in the same transaction, so the
   * record never names a znode write that did not happen, nor misses one that did. Rejects when
   * ZooKeeper refuses an op: then nothing of this call was written.
   */
  async commit(entries: readonly RecordEntry[], ops: readonly ZkOp[]): Promise<void> {
    const state = await this.#state();
    const fresh = entries.filter((e) => !has(state.known, e));
    if (fresh.length === 0 && ops.length === 0) return;
    const change = (d: CreationDoc): CreationDoc | undefined => {
      let doc: CreationDoc | undefined;
      for (const e of fresh) doc = (e.mapping === undefined ? withApp(doc ?? d, e.app) : withMapping(doc ?? d, e.mapping.path, e.app, e.mapping.created)) ?? doc;
      return doc;
    };
    // Counted when queued, not when written: a thousand entries queue before the first write.
    const bytes = fresh.reduce((n, e) => n + entryBytes(e), 0);
    state.openBytes += bytes;
    let open = state.shards[state.shards.length - 1];
    if (open === undefined || state.openBytes > SHARD_BYTES) {
      open = this.#shard(state.shards.length);
      state.shards.push(open);
      state.openBytes = bytes;
    }
    await open.update(change, ops.length === 0 ? undefined : ops);
    // Only once written: a failed write must be tried again by the plan's retry.
    for (const e of fresh) {
      if (e.mapping === undefined) state.known.apps.add(e.app);
      else addMapping(state.known, e.mapping.path, e.mapping.created, [e.app]);
    }
  }

  /** Every shard as ZooKeeper has it now (cleanup reads them all); forgets the cached union. */
  async shards(): Promise<CreationRecord[]> {
    this.#loaded = undefined;
    return (await this.#load()).shards;
  }

  /** Loaded once and shared; a failed load is tried again by the next caller, not kept. */
  #state(): Promise<Loaded> {
    if (this.#loaded === undefined) {
      const loading = this.#load();
      this.#loaded = loading;
      loading.catch(() => { if (this.#loaded === loading) this.#loaded = undefined; });
    }
    return this.#loaded;
  }

  async #load(): Promise<Loaded> {
    const root = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    let children: string[];
    try {
      children = await this.#client.getChildren(root);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
      children = [];
    }
    const numbers = children.map((c) => shardNumber(this.path, c)).filter((n): n is number => n !== undefined);
    // Numbered past the highest, even across a gap a cleanup left: new entries go to the newest.
    const count = numbers.length === 0 ? 0 : Math.max(...numbers) + 1;
    const shards = Array.from({ length: count }, (_, i) => this.#shard(i));
    const known: Known = { apps: new Set(), mappings: new Map() };
    for (const shard of shards) {
      const read = await shard.read();
      if (read !== undefined) addDoc(known, read.doc);
    }
    return { shards, known, openBytes: shards[shards.length - 1]?.bytes ?? 0 };
  }

  #shard(n: number): CreationRecord {
    return new CreationRecord(this.#client, shardPath(this.path, n), this.#dirMark, this.#digest);
  }
}
