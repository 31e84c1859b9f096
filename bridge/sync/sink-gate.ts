import { describeError } from '../errors/index.ts';
import type { RegistryId } from '../model/index.ts';
import type { EngineLogger } from './logger-port.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import type { SinkBackoff } from './sink-backoff.ts';

/** How often closed gates look at their sources' local `hasSynced` flags (no I/O). */
const CHECK_MS = 100;

/**
 * DESIGN §4 "no delete before both sides are listed": a sink opens for writes once every source
 * feeding it has synced and the sink has listed what it owns (each owned ref is queued, so
 * garbage is collected). Listing is the only I/O here: one attempt in flight per sink, and a
 * registry that fails it is asked again only when its backoff allows.
 */
export class SinkGate {
  readonly #ctx: ReconcileContext;
  readonly #backoff: ReadonlyMap<RegistryId, SinkBackoff>;
  readonly #log: EngineLogger;
  readonly #onOwned: (sink: RegistryId, keys: readonly string[]) => void;
  readonly #onOpen: (sink: RegistryId) => void;
  readonly #open = new Set<RegistryId>();
  readonly #listing = new Set<RegistryId>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    ctx: ReconcileContext,
    backoff: ReadonlyMap<RegistryId, SinkBackoff>,
    log: EngineLogger,
    hooks: { onOwned: (sink: RegistryId, keys: readonly string[]) => void; onOpen: (sink: RegistryId) => void },
  ) {
    this.#ctx = ctx;
    this.#backoff = backoff;
    this.#log = log;
    this.#onOwned = hooks.onOwned;
    this.#onOpen = hooks.onOpen;
  }

  start(): void {
    this.#timer = setInterval(() => { this.check(); }, CHECK_MS);
    this.#timer.unref();
    this.check();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  isOpen(sink: RegistryId): boolean {
    return this.#open.has(sink);
  }

  openSinks(): ReadonlySet<RegistryId> {
    return this.#open;
  }

  allOpen(): boolean {
    return this.#open.size === this.#ctx.sinks.size;
  }

  /** Opens what can open now; cheap and safe to call at any time. */
  check(): void {
    for (const sinkId of this.#ctx.sinks.keys()) {
      if (this.#open.has(sinkId) || this.#listing.has(sinkId)) continue;
      const feeding = this.#ctx.routesInto(sinkId).flatMap((r) => r.from);
      if (!feeding.every((id) => this.#ctx.sources.get(id)?.hasSynced() === true)) continue;
      if ((this.#backoff.get(sinkId)?.admit() ?? 0) > 0) continue;
      this.#listing.add(sinkId);
      void this.#list(sinkId).finally(() => this.#listing.delete(sinkId));
    }
  }

  /** Queues every ref `sink` owns; throws what the registry said. */
  async listOwned(sinkId: RegistryId): Promise<void> {
    const sink = this.#ctx.sinks.get(sinkId);
    if (sink === undefined) return;
    const refs = await sink.ownedRefs();
    this.#onOwned(sinkId, refs.map((ref) => this.#ctx.noteOwned(sinkId, ref)));
  }

  async #list(sinkId: RegistryId): Promise<void> {
    const backoff = this.#backoff.get(sinkId);
    try {
      await this.listOwned(sinkId);
      backoff?.succeeded();
    } catch (err) {
      if (backoff === undefined) this.#log.warn({ sink: sinkId, err: describeError(err) }, 'cannot list owned records yet; sink stays closed');
      else backoff.failed(err, 'cannot list owned records yet; sink stays closed');
      return;
    }
    this.#open.add(sinkId);
    this.#log.info({ sink: sinkId }, 'sources synced and owned records listed: sink open for writes');
    // Once every sink is open the gate has nothing left to do; idle CPU matters at 100k endpoints.
    if (this.allOpen()) clearInterval(this.#timer);
    this.#onOpen(sinkId);
  }
}
