import { BridgeError } from '../../bridge/errors/index.ts';
import { BAD_VERSION, CREATE_MODE, NODE_EXISTS, NO_NODE, aclsFor, zkCode, type ZkClient } from './client.ts';

/**
 * What the sink added to shared ZooKeeper nodes that cannot carry a marker of their own. A mapping
 * node's content is a bare comma list of applications, so neither "we created this node" nor
 * "we appended this application" can be read back from it; both are recorded here, after the
 * write succeeded (a crash in between leaves an entry behind, never deletes a native one).
 */
export interface CreationDoc {
  /** Applications we exported: their MetadataInfo nodes are looked for at cleanup. */
  readonly apps: readonly string[];
  /** Mapping node path → whether we created the node, and the applications we appended. */
  readonly mappings: Readonly<Record<string, { readonly created: boolean; readonly apps: readonly string[] }>>;
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
  readonly #queue: { change: (doc: CreationDoc) => CreationDoc | undefined; resolve: () => void; reject: (err: unknown) => void }[] = [];
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
  async update(change: (doc: CreationDoc) => CreationDoc | undefined): Promise<void> {
    this.#cache ??= (await this.read())?.doc ?? EMPTY_DOC;
    if (change(this.#cache) === undefined) return;
    const done = new Promise<void>((resolve, reject) => { this.#queue.push({ change, resolve, reject }); });
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
    return done;
  }

  /** Writes queued changes in batches until none is left; never rejects (each batch's callers do). */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        await this.#write(batch.map((b) => b.change));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#draining = false;
  }

  async #write(changes: readonly ((doc: CreationDoc) => CreationDoc | undefined)[]): Promise<void> {
    // What we wrote last is tried first; a version conflict means someone else wrote: re-read.
    let current = this.#written;
    for (let attempt = 0; attempt < 10; attempt++) {
      if (attempt > 0 || current === undefined) current = (await this.read()) ?? null;
      let next = current?.doc ?? EMPTY_DOC;
      let changed = false;
      for (const change of changes) {
        const applied = change(next);
        if (applied === undefined) continue;
        next = applied;
        changed = true;
      }
      if (!changed) {
        this.#cache = next;
        return;
      }
      try {
        const data = Buffer.from(JSON.stringify(next));
        if (current === null) await this.#client.create(this.path, data, CREATE_MODE.PERSISTENT, aclsFor(this.#digest), this.#dirMark);
        else await this.#client.setData(this.path, data, current.version);
        this.#bytes = data.length;
        this.#cache = next;
        // A successful setData moves the version by exactly one; a create starts it at 0.
        this.#written = { doc: next, version: current === null ? 0 : current.version + 1 };
        return;
      } catch (err) {
        this.#written = undefined;
        const code = zkCode(err);
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
