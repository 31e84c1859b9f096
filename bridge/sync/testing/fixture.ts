// Test support: builds engines over in-memory registries. Kept out of production code paths;
// eslint allows this folder to import the memory adapter.
import { MemoryRegistry, MemorySink, MemorySource } from '../../../adapters/memory/index.ts';
import type { Endpoint, Route, RoutePolicy, ServiceRef } from '../../model/index.ts';
import { DEFAULT_POLICY } from '../../model/index.ts';
import { Engine, type EngineOptions } from '../engine.ts';

export function ep(address: string, port: number, registry: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    ports: { http: port },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry, nativeId: `${address}:${port}` },
    ...extra,
  };
}

export function route(from: string, to: string, policy: Partial<RoutePolicy> = {}, extra: Partial<Route> = {}): Route {
  return { id: `${from}->${to}`, from: [from], to, select: {}, map: {}, policy: { ...DEFAULT_POLICY, ...policy }, ...extra };
}

export interface Node {
  readonly registry: MemoryRegistry;
  readonly source: MemorySource;
  readonly sink: MemorySink;
}

export interface RunOptions {
  readonly bridgeId?: string;
  /** Sources left unstarted, so they never report synced. */
  readonly unstarted?: readonly string[];
}

/** A set of named in-memory registries and the engines run over them. */
export class World {
  readonly nodes = new Map<string, Node>();
  readonly #abort = new AbortController();
  readonly #engines: Engine[] = [];
  /** The source views of the most recently started engine, for outage tests. */
  lastSources = new Map<string, MemorySource>();

  registry(id: string, bridgeId = 'test-bridge'): Node {
    let node = this.nodes.get(id);
    if (node === undefined) {
      const registry = new MemoryRegistry();
      node = { registry, source: new MemorySource(id, registry), sink: new MemorySink(id, registry, bridgeId) };
      this.nodes.set(id, node);
    }
    return node;
  }

  /** Registers a native (VM-side) endpoint in a registry. */
  put(id: string, ref: ServiceRef, endpoint: Endpoint): void {
    this.registry(id).registry.putEndpoint(ref, endpoint);
  }

  /** Starts an engine with fresh source/sink views (a "process"), over the existing registries. */
  async engine(routes: readonly Route[], options: Partial<EngineOptions> = {}, run: RunOptions = {}): Promise<Engine> {
    const bridgeId = run.bridgeId ?? 'test-bridge';
    const ids = new Set(routes.flatMap((r) => [...r.from, r.to]));
    const sources = [...ids].map((id) => new MemorySource(id, this.registry(id).registry));
    const sinks = [...ids].map((id) => new MemorySink(id, this.registry(id).registry, bridgeId));
    this.lastSources = new Map(sources.map((s) => [s.id, s]));
    for (const s of sources) if (!(run.unstarted ?? []).includes(s.id)) await s.start(this.#abort.signal);
    const engine = new Engine({ bridgeId, sources, sinks, routes, quietMs: 1, maxDelayMs: 5, ...options });
    engine.start();
    this.#engines.push(engine);
    return engine;
  }

  writes(id: string): number {
    return this.registry(id).registry.writes;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#engines.map((e) => e.stop()));
  }
}
