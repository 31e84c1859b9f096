import type { ConsulClient } from './client.ts';
import type { HealthEntry, NativeCheck } from './native.ts';
import { scanNodes } from './node-scan.ts';
import { NodeWatches } from './node-watch.ts';
import { backoffMs, runWatch } from './watch.ts';

/*
 * Consul filter expressions (go-bexpr) that keep what any Isthmus bridge wrote out of the source's
 * reads, server-side. They mirror convert.ts `isIsthmusRecord`: a service only bridges wrote is
 * then absent from the list, so the source never watches nor reads it.
 */
/** Over /v1/catalog/services (ServiceNode fields). */
export const NOT_ISTHMUS_CATALOG = 'ServiceMeta["external-source"] != "isthmus" and "isthmus-managed-by" not in ServiceMeta and NodeMeta["external-source"] != "isthmus"';
/** Over /v1/health/service/:name (CheckServiceNode fields). */
export const NOT_ISTHMUS_HEALTH = 'Service.Meta["external-source"] != "isthmus" and "isthmus-managed-by" not in Service.Meta and Node.Meta["external-source"] != "isthmus"';
/**
 * Over /v1/health/state/any. Checks carry no service Meta, only tags; every instance a bridge
 * writes carries the `isthmus` tag, and node checks (ServiceTags empty) always pass.
 */
export const NOT_ISTHMUS_CHECKS = 'ServiceTags not contains "isthmus"';

export interface IndexedReaderOptions {
  readonly client: ConsulClient;
  readonly waitSeconds: number;
  readonly minIntervalMs: number;
  readonly maxBackoffMs: number;
  /** Service reads in flight at most (each is one connection). */
  readonly concurrency: number;
  /** A full re-read caused by what may be our own write happens at most this often (see `sweep`). */
  readonly sweepMs: number;
  /** The shortest gap between two sweeps caused by others' writes (see `sweep`). */
  readonly minSweepGapMs: number;
  /** Nodes whose catalog listing is watched, those with the most followed services (node-watch.ts). */
  readonly nodeWatches: number;
  readonly signal: AbortSignal;
  readonly onService: (name: string, entries: readonly HealthEntry[], index: number) => void;
  readonly onServiceError: (name: string, err: unknown, failures: number) => void;
  readonly onChecks: () => void;
  readonly onChecksError: (err: unknown, failures: number) => void;
}

/**
 * The index-driven mode of the Consul source, for more services than per-service watches may
 * hold connections for: one blocking query on /v1/health/state/any (its index moves on any check
 * change) plus the caller's one on /v1/catalog/services, and plain reads of only the services
 * whose content may have changed, `concurrency` at a time, named by checks, by the caller's list
 * or by the listings of the busiest nodes (node-watch.ts). Whatever the number of services, it
 * holds at most 1 + `nodeWatches` + `concurrency` connections.
 */
export class IndexedReader {
  readonly #o: IndexedReaderOptions;
  #names = new Set<string>();
  /** Due for a read, in insertion order. */
  readonly #queue = new Set<string>();
  /** In flight → asked again meanwhile (read again once done: the change may be newer). */
  readonly #inFlight = new Map<string, boolean>();
  readonly #failures = new Map<string, number>();
  /** `node\0checkId` → `service\0status`; undefined until the first read. */
  #checks: Map<string, string> | undefined;
  /** Node → services with an instance there (node checks count for all of them). */
  readonly #byNode = new Map<string, Set<string>>();
  readonly #nodesOf = new Map<string, readonly string[]>();
  /** Node → instance ID → service, and service → its (node, ID) pairs, from the last reads. */
  readonly #idsByNode = new Map<string, Map<string, string>>();
  readonly #idsOf = new Map<string, readonly (readonly [string, string])[]>();
  /** Node → ModifyIndex at the last node scan (node-scan.ts). */
  readonly #nodeSeen = new Map<string, number>();
  /** Service → the index its last successful read answered with. */
  readonly #readAt = new Map<string, number>();
  /** Node → how many changes reads found there: where things move is where a watch pays. */
  readonly #heat = new Map<string, number>();
  readonly #nodeWatches: NodeWatches;
  /** The first reads of every service count as a sweep. */
  #lastSweep = Date.now();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepDue = Number.POSITIVE_INFINITY;
  /** The highest unexplained catalog index the due sweep is for, and whether it must run anyway. */
  #pendingIndex = 0;
  #mustSweep = false;
  /** Start of the sweep in progress, and how long the last one took to drain. */
  #sweepStarted: number | undefined;
  #sweepTookMs = 0;

  constructor(o: IndexedReaderOptions) {
    this.#o = o;
    this.#nodeWatches = new NodeWatches({
      client: o.client,
      waitSeconds: o.waitSeconds,
      minIntervalMs: o.minIntervalMs,
      maxBackoffMs: o.maxBackoffMs,
      signal: o.signal,
      max: o.nodeWatches,
      readAt: (service) => this.#readAt.get(service),
      onDue: (services) => { this.touch(services); },
    });
    o.signal.addEventListener('abort', () => { clearTimeout(this.#sweepTimer); }, { once: true });
  }

  start(): void {
    void runWatch<NativeCheck[] | null>({
      client: this.#o.client,
      path: '/v1/health/state/any',
      params: { filter: NOT_ISTHMUS_CHECKS },
      waitSeconds: this.#o.waitSeconds,
      minIntervalMs: this.#o.minIntervalMs,
      maxBackoffMs: this.#o.maxBackoffMs,
      signal: this.#o.signal,
      onData: (checks, _index, reset) => {
        this.#o.onChecks();
        this.#onChecks(checks ?? [], reset);
      },
      onError: (err, failures) => { this.#o.onChecksError(err, failures); },
    });
  }

  /** The services to follow now; those no longer listed are forgotten. */
  setNames(names: ReadonlySet<string>): void {
    this.#names = new Set(names);
    for (const name of [...this.#queue]) if (!names.has(name)) this.#queue.delete(name);
    for (const name of [...this.#nodesOf.keys()]) if (!names.has(name)) this.#unindex(name);
    for (const name of [...this.#failures.keys()]) if (!names.has(name)) this.#failures.delete(name);
    for (const name of [...this.#readAt.keys()]) if (!names.has(name)) this.#readAt.delete(name);
  }

  /** Reads these services again (soon, `concurrency` at a time). */
  touch(names: Iterable<string>): void {
    for (const name of names) {
      if (!this.#names.has(name)) continue;
      if (this.#inFlight.has(name)) this.#inFlight.set(name, true);
      else this.#queue.add(name);
    }
    this.#pump();
  }

  /**
   * The catalog index moved and neither the list nor a check says which service changed: an
   * instance without checks registered, deregistered or edited in place. Only a read of every
   * service can tell (Consul's filters cannot see modify indexes). When the move may be our own
   * write (`mayBeOurs`: our sink shares the client), the sweep waits for `sweepMs`, or a bulk
   * export would trigger one per write; otherwise it comes after `minSweepGapMs`, stretched to
   * three times the last sweep's length so sweeping never takes more than a quarter of the time.
   * A move up to `index` that a node watch has named by the time the sweep is due needs no
   * sweep then; one follows after `sweepMs` all the same, in case a second move hid behind it.
   */
  sweep(mayBeOurs: boolean, index = Number.POSITIVE_INFINITY): void {
    if (this.#o.signal.aborted) return;
    if (mayBeOurs) this.#mustSweep = true;
    else this.#pendingIndex = Math.max(this.#pendingIndex, index);
    const gap = mayBeOurs ? this.#o.sweepMs : Math.min(this.#o.sweepMs, Math.max(this.#o.minSweepGapMs, 3 * this.#sweepTookMs));
    this.#scheduleSweep(this.#lastSweep + gap);
  }

  #scheduleSweep(at: number): void {
    const due = Math.max(at, Date.now());
    if (due >= this.#sweepDue) return;
    clearTimeout(this.#sweepTimer);
    this.#sweepDue = due;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      this.#sweepDue = Number.POSITIVE_INFINITY;
      const named = !this.#mustSweep && this.#pendingIndex > 0 && this.#nodeWatches.reportedIndex >= this.#pendingIndex;
      this.#pendingIndex = 0;
      if (named) {
        // The backstop: a plain timer, so it sweeps when it fires.
        this.#scheduleSweep(this.#lastSweep + this.#o.sweepMs);
        return;
      }
      this.#mustSweep = false;
      this.#lastSweep = Date.now();
      this.#sweepStarted ??= this.#lastSweep;
      void this.#sweepNow();
    }, due - Date.now());
  }

  /**
   * Reads what may have changed: every service, or, where services outnumber nodes (sync tools
   * and VM estates keep many per node), only those the node listings name (node-scan.ts).
   */
  async #sweepNow(): Promise<void> {
    const maxNodes = Math.floor(this.#names.size / 2);
    if (this.#idsByNode.size <= maxNodes) {
      try {
        const due = await scanNodes({
          client: this.#o.client,
          signal: this.#o.signal,
          concurrency: this.#o.concurrency,
          maxNodes,
          readAt: (service) => (this.#names.has(service) ? this.#readAt.get(service) : undefined),
          known: this.#idsByNode,
          nodeSeen: this.#nodeSeen,
          watched: (node) => this.#nodeWatches.live(node),
        });
        if (due !== undefined) {
          this.touch(due);
          return;
        }
      } catch {
        if (this.#o.signal.aborted) return;
        // A listing failed: the full sweep below still finds the change.
      }
    }
    this.touch(this.#names);
  }

  #onChecks(checks: readonly NativeCheck[], reset: boolean): void {
    const next = new Map<string, string>();
    for (const c of checks) next.set(`${c.Node ?? ''}\0${c.CheckID}`, `${c.ServiceName ?? ''}\0${c.Status}`);
    const prior = this.#checks;
    this.#checks = next;
    // The first read is the baseline (every service is read anyway); after a reset, read all.
    if (prior === undefined) return;
    if (reset) {
      this.touch(this.#names);
      return;
    }
    const due = new Set<string>();
    const note = (key: string, value: string | undefined): void => {
      if (value === undefined) return;
      const service = value.slice(0, value.indexOf('\0'));
      if (service !== '') due.add(service);
      else for (const name of this.#byNode.get(key.slice(0, key.indexOf('\0'))) ?? []) due.add(name);
    };
    for (const [key, value] of next) {
      const old = prior.get(key);
      if (old === value) continue;
      note(key, value);
      note(key, old);
    }
    for (const [key, value] of prior) if (!next.has(key)) note(key, value);
    this.touch(due);
  }

  #pump(): void {
    while (this.#inFlight.size < this.#o.concurrency && !this.#o.signal.aborted) {
      const name = this.#queue.values().next().value;
      if (name === undefined) break;
      this.#queue.delete(name);
      this.#inFlight.set(name, false);
      void this.#read(name);
    }
    if (this.#queue.size > 0 || this.#inFlight.size > 0) return;
    if (this.#sweepStarted !== undefined) {
      this.#sweepTookMs = Date.now() - this.#sweepStarted;
      this.#sweepStarted = undefined;
    }
    // Once per drained batch, not per read: the nodes where reads found changes, then those
    // holding the most of what we follow.
    this.#nodeWatches.set(new Map([...this.#byNode].map(([node, names]) => [node, (this.#heat.get(node) ?? 0) * 1e6 + names.size])));
    for (const node of this.#heat.keys()) if (!this.#byNode.has(node)) this.#heat.delete(node);
  }

  async #read(name: string): Promise<void> {
    let retryIn = 0;
    try {
      const res = await this.#o.client.read<HealthEntry[] | null>(`/v1/health/service/${encodeURIComponent(name)}`, {
        params: { filter: NOT_ISTHMUS_HEALTH },
        signal: this.#o.signal,
      });
      this.#failures.delete(name);
      if (!this.#names.has(name)) return;
      this.#warm(name, res.body ?? []);
      this.#readAt.set(name, res.index);
      this.#index(name, res.body ?? []);
      this.#o.onService(name, res.body ?? [], res.index);
    } catch (err) {
      if (this.#o.signal.aborted) return;
      const failures = (this.#failures.get(name) ?? 0) + 1;
      this.#failures.set(name, failures);
      this.#o.onServiceError(name, err, failures);
      retryIn = backoffMs(failures, this.#o.maxBackoffMs);
    } finally {
      const again = this.#inFlight.get(name) === true;
      this.#inFlight.delete(name);
      if (retryIn > 0) setTimeout(() => { this.touch([name]); }, retryIn).unref();
      else if (again) this.#queue.add(name);
      this.#pump();
    }
  }

  /** Counts, per node, instances of `name` changed or gone since its last read. */
  #warm(name: string, entries: readonly HealthEntry[]): void {
    const since = this.#readAt.get(name);
    if (since === undefined) return;
    const nodes = new Set<string>();
    for (const e of entries as readonly Partial<HealthEntry>[]) {
      const node = e.Node?.Node;
      if (typeof node !== 'string') continue;
      nodes.add(node);
      if ((e.Service?.ModifyIndex ?? 0) > since) this.#heat.set(node, (this.#heat.get(node) ?? 0) + 1);
    }
    for (const node of this.#nodesOf.get(name) ?? []) if (!nodes.has(node)) this.#heat.set(node, (this.#heat.get(node) ?? 0) + 1);
  }

  #index(name: string, entries: readonly HealthEntry[]): void {
    this.#unindex(name);
    const nodes = [...new Set(entries.map((e) => (e as Partial<HealthEntry>).Node?.Node).filter((n): n is string => typeof n === 'string'))];
    this.#nodesOf.set(name, nodes);
    for (const node of nodes) {
      const set = this.#byNode.get(node) ?? new Set<string>();
      set.add(name);
      this.#byNode.set(node, set);
    }
    const ids: (readonly [string, string])[] = [];
    for (const e of entries as readonly Partial<HealthEntry>[]) {
      const node = e.Node?.Node;
      const id = e.Service?.ID;
      if (typeof node !== 'string' || typeof id !== 'string') continue;
      ids.push([node, id]);
      const onNode = this.#idsByNode.get(node) ?? new Map<string, string>();
      onNode.set(id, name);
      this.#idsByNode.set(node, onNode);
    }
    this.#idsOf.set(name, ids);
  }

  #unindex(name: string): void {
    for (const node of this.#nodesOf.get(name) ?? []) {
      const set = this.#byNode.get(node);
      set?.delete(name);
      if (set?.size === 0) this.#byNode.delete(node);
    }
    this.#nodesOf.delete(name);
    for (const [node, id] of this.#idsOf.get(name) ?? []) {
      const onNode = this.#idsByNode.get(node);
      if (onNode?.get(id) === name) onNode.delete(id);
      if (onNode?.size === 0) this.#idsByNode.delete(node);
    }
    this.#idsOf.delete(name);
  }
}
