import { setMaxListeners } from 'node:events';
import type { RegistryId } from '../model/index.ts';
import { BridgeError } from '../errors/index.ts';
import type { Adapter, AdapterKind, Sink, Source } from '../ports/index.ts';
import type { Config } from '../runtime/index.ts';
import type { EngineLogger } from '../sync/index.ts';

export type AdapterKinds = Readonly<Record<string, AdapterKind>>;

/** Every configured registry's adapter, and its sides that routes and the catalog use. */
export interface BridgeParts {
  readonly adapters: ReadonlyMap<RegistryId, Adapter>;
  /**
   * Registries read: those a route reads from, those no route mentions (they feed the catalog
   * and resolver only), and, while a migration split is configured, route targets too (the
   * split is anchored on the target's own records). A registry that is only a target starts
   * no watches: exporting into a Consul must not watch every service in it.
   */
  readonly sources: readonly Source[];
  /** Registries some route writes to. */
  readonly sinks: readonly Sink[];
  /** Every registry that can be written, routed or not (cleanup looks at them all). */
  readonly allSinks: readonly Sink[];
}

/** Creates (does not start) an adapter per configured registry. */
export function buildParts(config: Config, kinds: AdapterKinds, logger: (registry: RegistryId) => EngineLogger): BridgeParts {
  const adapters = new Map<RegistryId, Adapter>();
  for (const [id, reg] of Object.entries(config.registries)) {
    const kind = kinds[reg.kind];
    if (kind === undefined) throw new BridgeError('ISTHMUS_UNKNOWN_REGISTRY', `registry ${id} has unknown kind ${reg.kind}`, { terminal: true });
    adapters.set(id, kind.create(reg.options, { bridgeId: config.bridge.id, registryId: id, logger: logger(id) }));
  }
  const targets = new Set(config.routes.map((r) => r.to));
  const read = new Set(config.routes.flatMap((r) => r.from));
  const splits = Object.keys(config.weights).length > 0;
  const sources: Source[] = [];
  const sinks: Sink[] = [];
  const allSinks: Sink[] = [];
  for (const [id, a] of adapters) {
    if (a.source !== undefined && (read.has(id) || !targets.has(id) || splits)) sources.push(a.source);
    if (a.sink !== undefined) {
      allSinks.push(a.sink);
      if (targets.has(id)) sinks.push(a.sink);
    }
  }
  return { adapters, sources, sinks, allSinks };
}

/**
 * The abort controller every adapter of one bridge starts with. Each watch, reflector and retry
 * sleep listens on its signal while it waits, so dozens of listeners at once are normal there,
 * not a leak; Node's default warning at 11 would only be noise in the operator's log.
 */
export function partsAbort(): AbortController {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  return abort;
}

export async function closeParts(parts: BridgeParts): Promise<void> {
  await Promise.allSettled([...parts.adapters.values()].map((a) => a.close()));
}
