import type { ConsulClient } from './client.ts';
import { runWatch } from './watch.ts';

/** What /v1/catalog/node-services/:node answers (Consul ≥ 1.7), as far as it is read here. */
interface NodeServicesBody {
  readonly Node?: { readonly ModifyIndex?: unknown } | null;
  readonly Services?: readonly { readonly ID?: unknown; readonly Service?: unknown; readonly ModifyIndex?: unknown }[] | null;
}

export interface NodeWatchesOptions {
  readonly client: ConsulClient;
  readonly waitSeconds: number;
  readonly minIntervalMs: number;
  readonly maxBackoffMs: number;
  readonly signal: AbortSignal;
  /** Nodes watched at most (each is one held connection). */
  readonly max: number;
  /** The index a service's instances were last read at; undefined when never read. */
  readonly readAt: (service: string) => number | undefined;
  /** Services with an instance changed or gone on a watched node: read them again. */
  readonly onDue: (services: ReadonlySet<string>) => void;
}

interface NodeWatch {
  readonly abort: AbortController;
  /** Instance ID → service, as last answered; undefined until the first answer. */
  ids: Map<string, string> | undefined;
  /** The node's own ModifyIndex as last answered (its address is every instance's default). */
  nodeIndex: unknown;
  /** The last answer is current: no error since (a failing watch may be missing changes). */
  live: boolean;
}

/**
 * Blocking queries on the catalog listings of the few nodes that hold the most followed
 * instances. The index-driven source otherwise learns of an in-place change that no check
 * reports (an instance without checks registered, moved or edited) only from the catalog's
 * global index, which does not say which service moved, so it has to read every service. Sync
 * tools (consul-k8s, ESM, our own peers) put thousands of such instances on a handful of
 * synthetic nodes: watching those nodes names the changed service at once.
 *
 * A node listing carries each instance's ModifyIndex, so a change is found by comparing it with
 * the index the service was last read at, and a removal by the instance ID going missing.
 */
export class NodeWatches {
  readonly #o: NodeWatchesOptions;
  readonly #watches = new Map<string, NodeWatch>();
  #reported = 0;

  constructor(o: NodeWatchesOptions) {
    this.#o = o;
  }

  /** Watches the `max` nodes that score highest (node → score), and no others. */
  set(counts: ReadonlyMap<string, number>): void {
    if (this.#o.signal.aborted) return;
    const ranked = [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([node]) => node);
    const keep = new Set(ranked.slice(0, this.#o.max));
    for (const [node, w] of this.#watches) {
      if (keep.has(node)) continue;
      w.abort.abort();
      this.#watches.delete(node);
    }
    for (const node of keep) if (!this.#watches.has(node)) this.#start(node);
  }

  /**
   * The highest catalog index a listing answered with when it found a change: a catalog move up
   * to it may be one a node watch already named.
   */
  get reportedIndex(): number {
    return this.#reported;
  }

  /** True while `node`'s watch has answered and not failed since: it sees every change there. */
  live(node: string): boolean {
    return this.#watches.get(node)?.live === true;
  }

  #start(node: string): void {
    const abort = new AbortController();
    const stop = (): void => { abort.abort(); };
    this.#o.signal.addEventListener('abort', stop, { once: true });
    const w: NodeWatch = { abort, ids: undefined, nodeIndex: undefined, live: false };
    this.#watches.set(node, w);
    void runWatch<NodeServicesBody | null>({
      client: this.#o.client,
      path: `/v1/catalog/node-services/${encodeURIComponent(node)}`,
      waitSeconds: this.#o.waitSeconds,
      minIntervalMs: this.#o.minIntervalMs,
      maxBackoffMs: this.#o.maxBackoffMs,
      signal: abort.signal,
      onData: (body, index, reset) => { this.#onListing(w, body, index, reset); },
      // Not the source's reachability: the global index and sweeps still catch what this misses.
      onError: () => { w.live = false; },
    }).finally(() => { this.#o.signal.removeEventListener('abort', stop); });
  }

  #onListing(w: NodeWatch, body: NodeServicesBody | null, index: number, reset: boolean): void {
    const ids = new Map<string, string>();
    const due = new Set<string>();
    const prior = w.ids;
    for (const s of body?.Services ?? []) {
      if (typeof s.ID !== 'string' || typeof s.Service !== 'string') continue;
      ids.set(s.ID, s.Service);
      const was = prior?.get(s.ID);
      if (was !== undefined && was !== s.Service) due.add(was);
      const at = this.#o.readAt(s.Service);
      // Also on a first answer: a change between the service's read and this watch's start counts.
      if (reset || at === undefined || (typeof s.ModifyIndex === 'number' && s.ModifyIndex > at)) due.add(s.Service);
    }
    for (const [id, service] of prior ?? []) if (!ids.has(id)) due.add(service);
    const nodeIndex = body?.Node?.ModifyIndex;
    if (prior !== undefined && nodeIndex !== w.nodeIndex) for (const service of ids.values()) due.add(service);
    w.ids = ids;
    w.nodeIndex = nodeIndex;
    w.live = true;
    if (due.size === 0) return;
    // Consul answers a listing with the catalog's highest index, not the node's.
    this.#reported = Math.max(this.#reported, index);
    this.#o.onDue(due);
  }
}
