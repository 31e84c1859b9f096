import { BridgeError } from '../../bridge/errors/index.ts';
import { BAD_VERSION, CREATE_MODE, NODE_EXISTS, NO_NODE, aclsFor, failedOp, zkCode, type ZkClient, type ZkOp } from './client.ts';

type Change = (doc: CreationDoc) => CreationDoc | undefined;

/** A change waiting for the next write, with the znode ops to commit in the same transaction. */
interface Queued {
  readonly change: Change;
  readonly ops: readonly ZkOp[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * What the sink added to shared ZooKeeper nodes that cannot carry a marker of their own. A mapping
 * node's content is a bare comma list of applications, so neither "we created this node" nor
 * "we appended this application" can be read back from it; both are recorded here, in the same
 * transaction as the write (record-commit.ts), or after it succeeded on the step-by-step path
 * (a crash in between leaves an entry behind, never deletes a native one).
 */
export interface CreationDoc {
  /** Applications we exported: their MetadataInfo nodes are looked for at cleanup. */
  readonly apps: readonly string[];
  /** Mapping node path → whether we created the node, and the applications we appended. */
  readonly mappings: Readonly<Record<string, { readonly created: boolean; readonly apps: readonly string[] }>>;
}

/**
 * Znode bytes one transaction carries besides the record: ZooKeeper drops the connection on a
 * request over jute.maxbuffer (1 MB), and a record shard alone may reach 512 KB.
 */
export const BATCH_OPS_BYTES = 256 * 1024;

/** How many queued changes the next write takes: at least one, then while their ops fit. */
export function batchLength(queue: readonly { readonly ops: readonly { readonly data: Buffer }[] }[]): number {
  let bytes = 0;
  let n = 0;
  for (const q of queue) {
    bytes += q.ops.reduce((sum, op) => sum + op.data.length, 0);
    if (n > 0 && bytes > BATCH_OPS_BYTES) break;
    n++;
  }
  return n;
}

/** One record per bridge id and Dubbo layout, so two sinks of one bridge never share it. */
export function recordPath(stateRoot: string, s: { readonly bridgeId: string; readonly root: string; readonly servicesRoot: string }): string {
  return `${stateRoot}/${[s.bridgeId, s.root, s.servicesRoot].map(encodeURIComponent).join('@')}`;
}

export const EMPTY_DOC: CreationDoc = { apps: [], mappings: {} };

export function parseCreationDoc(data: Buffer | undefined): CreationDoc {
  if (data === undefined || data.length === 0) return EMPTY_DOC;
  const raw = JSON.parse(data.toString('utf8')) as Partial<CreationDoc>;
  return { apps: Array.isArray(raw.apps) ? raw.apps.filter((a) => typeof a === 'string') : [], mappings: typeof raw.mappings === 'object' ? raw.mappings : {} };
}

/** `doc` with `app` in `apps`, or undefined when it is already there. */
export function withApp(doc: CreationDoc, app: string): CreationDoc | undefined {
  return doc.apps.includes(app) ? undefined : { ...doc, apps: [...doc.apps, app].sort() };
}

/** `doc` recording that we appended `app` to `path` (and created the node when `created`). */
export function withMapping(doc: CreationDoc, path: string, app: string, created: boolean): CreationDoc | undefined {
  const entry = doc.mappings[path];
  if (entry !== undefined && entry.apps.includes(app) && (entry.created || !created)) return undefined;
  const apps = [...new Set([...(entry?.apps ?? []), app])].sort();
  return { ...doc, mappings: { ...doc.mappings, [path]: { created: created || (entry?.created ?? false), apps } } };
}

export function isEmptyDoc(doc: CreationDoc): boolean {
  return doc.apps.length === 0 && Object.keys(doc.mappings).length === 0;
}

/**
 * The record znode of one bridge id and one Dubbo root, `<stateRoot>/<bridge>@<root>@<servicesRoot>`,
 * outside the Dubbo tree so no Dubbo client lists it. Cached after the first read: steady state
 * (and a restart) writes nothing.
 */
export class CreationRecord {
  readonly path: string;
  readonly #client: ZkClient;
  readonly #dirMark: Buffer;
  readonly #digest: string | undefined;
  #cache: CreationDoc | undefined;
  /** Size of the record as last read or written (its JSON), for RecordShards to fill it. */
  #bytes = 0;
  /** The record as this process last wrote it (null: known absent), until someone else may have. */
  #written: { doc: CreationDoc; version: number } | null | undefined;
  readonly #queue: Queued[] = [];
  #draining = false;

  /** With `digest`, only our identity may change the record (everyone may read it). */
  constructor(client: ZkClient, path: string, dirMark: Buffer, digest?: string) {
    this.#client = client;
    this.path = path;
    this.#dirMark = dirMark;
    this.#digest = digest;
  }

  /** Bytes of the record as this process last read or wrote it. */
  get bytes(): number {
    return this.#bytes;
  }

  async read(): Promise<{ doc: CreationDoc; version: number } | undefined> {
    try {
      const { data, stat } = await this.#client.getData(this.path);
      this.#bytes = data?.length ?? 0;
      return { doc: parseCreationDoc(data), version: stat.version };
    } catch (err) {
      if (zkCode(err) === NO_NODE) return undefined;
      // Never overwritten when unreadable: its entries are the only proof of what we added.
      if (err instanceof SyntaxError) throw new BridgeError('ISTHMUS_REGISTRY_CONFLICT', `zookeeper record ${this.path} is not JSON; fix or delete it by hand`, { cause: err });
      throw err;
    }
  }

  /**
   * Applies `change` (undefined = nothing to do) with compare-and-set on the record's version.
   * Changes arriving while a write is in flight are applied together in the next one: at a
   * thousand new services every plan adds an entry, and one write per change, each re-reading
   * the whole (growing) record and racing the others for its version, cost quadratic bytes.
   */
  async update(change: Change, ops?: readonly ZkOp[]): Promise<void> {
    this.#cache ??= (await this.read())?.doc ?? EMPTY_DOC;
    if (ops === undefined && change(this.#cache) === undefined) return;
    const done = new Promise<void>((resolve, reject) => { this.#queue.push({ change, ops: ops ?? [], resolve, reject }); });
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
    return done;
  }

  /** Writes queued changes in batches until none is left; never rejects (each batch's callers do). */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, batchLength(this.#queue));
      try {
        const refused = await this.#write(batch);
        for (const b of batch) if (!refused.has(b)) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#draining = false;
  }

  /**
   * Writes the batch's changes and znode ops in one transaction (one write, all or none), so a
   * record entry and the znodes it speaks of are committed together. An op ZooKeeper refuses
   * rejects its own caller (who then takes the slow path) and the rest is tried again without it.
   */
  async #write(batch: readonly Queued[]): Promise<Set<Queued>> {
    const refused = new Set<Queued>();
    // What we wrote last is tried first; a version conflict means someone else wrote: re-read.
    let current = this.#written;
    for (let attempt = 0; attempt < 10 + batch.length; attempt++) {
      const live = batch.filter((b) => !refused.has(b));
      if (live.length === 0) return refused;
      if (current === undefined) current = (await this.read()) ?? null;
      let next = current?.doc ?? EMPTY_DOC;
      let changed = false;
      for (const b of live) {
        const applied = b.change(next);
        if (applied === undefined) continue;
        next = applied;
        changed = true;
      }
      const ops = live.flatMap((b) => b.ops);
      if (!changed && ops.length === 0) {
        this.#cache = next;
        return refused;
      }
      const data = Buffer.from(JSON.stringify(next));
      const own: ZkOp[] = !changed ? [] : current === null
        ? [{ op: 'create', path: this.path, data, acls: aclsFor(this.#digest), mode: CREATE_MODE.PERSISTENT }]
        : [{ op: 'setData', path: this.path, data, version: current.version }];
      try {
        if (ops.length === 0 && current === null) await this.#client.create(this.path, data, CREATE_MODE.PERSISTENT, aclsFor(this.#digest), this.#dirMark);
        else if (ops.length === 0 && current !== null) await this.#client.setData(this.path, data, current.version);
        else await this.#client.multi([...own, ...ops]);
        if (changed) {
          this.#bytes = data.length;
          // A successful setData moves the version by exactly one; a create starts it at 0.
          this.#written = { doc: next, version: current === null ? 0 : current.version + 1 };
        }
        this.#cache = next;
        return refused;
      } catch (err) {
        const at = ops.length === 0 ? 0 : failedOp(err);
        if (at !== undefined && at >= own.length) {
          // Not the record's fault: the caller whose op it was is told, the others go on.
          let i = own.length;
          const owner = live.find((b) => (i += b.ops.length) > at);
          if (owner !== undefined) {
            refused.add(owner);
            owner.reject(err);
            continue;
          }
        }
        this.#written = undefined;
        current = undefined;
        const code = zkCode(err);
        // A multi whose parent is missing (the state root at the first write) goes the plain way.
        if (code === NO_NODE && at === 0 && own[0]?.op === 'create') {
          await this.#client.mkdirs(this.path.slice(0, this.path.lastIndexOf('/')), this.#dirMark);
          continue;
        }
        if (code !== BAD_VERSION && code !== NODE_EXISTS) throw err;
      }
    }
    throw new BridgeError('ISTHMUS_REGISTRY_CONFLICT', `zookeeper record ${this.path} kept changing`);
  }

  /** Replaces the record with `doc`, deleting it when empty (cleanup). */
  async replace(doc: CreationDoc, version: number): Promise<void> {
    if (isEmptyDoc(doc)) await this.#client.remove(this.path, version);
    else await this.#client.setData(this.path, Buffer.from(JSON.stringify(doc)), version);
    this.#cache = undefined;
    this.#written = undefined;
  }
}
