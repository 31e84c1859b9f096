import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import type { QuarantinedRecord } from '../../bridge/ports/index.ts';
import type { Converted } from './convert.ts';

/**
 * The source's cache. Each watched ZooKeeper directory (an interface's providers, an
 * application's instances) is a "part" that is replaced whole after every successful read;
 * a ref may be fed by several parts (an interface key and an application sharing a name), so
 * `get` merges them. Parts are only ever replaced by reads, never by failures: an outage freezes.
 */
export class PartCache {
  readonly #registry: RegistryId;
  readonly #parts = new Map<string, Map<string, ServiceSnapshot>>();
  readonly #refParts = new Map<string, Set<string>>();
  readonly #quarantine = new Map<string, QuarantinedRecord[]>();
  readonly #emit: (ref: ServiceRef) => void;

  constructor(registry: RegistryId, emit: (ref: ServiceRef) => void) {
    this.#registry = registry;
    this.#emit = emit;
  }

  partKeys(prefix: string): string[] {
    return [...this.#parts.keys()].filter((k) => k.startsWith(prefix));
  }

  replace(part: string, converted: Converted): void {
    const now = Date.now();
    this.#quarantine.set(
      part,
      converted.quarantined.map((q) => ({ registry: this.#registry, nativeId: q.nativeId, reason: q.reason, since: now, ...(q.ref === undefined ? {} : { ref: q.ref }) })),
    );
    const old = this.#parts.get(part) ?? new Map<string, ServiceSnapshot>();
    const next = new Map(converted.snapshots.map((s) => [refKey(s.ref), s]));
    if (next.size === 0) this.#parts.delete(part);
    else this.#parts.set(part, next);
    for (const [key, snap] of next) {
      const parts = this.#refParts.get(key) ?? new Set<string>();
      parts.add(part);
      this.#refParts.set(key, parts);
      const before = old.get(key);
      if (before === undefined || !sameContent(before, snap)) this.#emit(snap.ref);
    }
    for (const [key, snap] of old) {
      if (next.has(key)) continue;
      const parts = this.#refParts.get(key);
      parts?.delete(part);
      if (parts?.size === 0) this.#refParts.delete(key);
      this.#emit(snap.ref);
    }
  }

  drop(part: string): void {
    this.replace(part, { snapshots: [], quarantined: [] });
    this.#quarantine.delete(part);
  }

  keys(): ServiceRef[] {
    return [...this.#refParts.keys()].map((k) => this.get(parseKey(k))).filter((s) => s !== undefined).map((s) => s.ref);
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    const key = refKey(ref);
    const parts = [...(this.#refParts.get(key) ?? [])].sort();
    const snaps = parts.map((p) => this.#parts.get(p)?.get(key)).filter((s) => s !== undefined);
    const [first, ...rest] = snaps;
    if (first === undefined || rest.length === 0) return first;
    const endpoints = new Map<string, Endpoint>();
    const ports = new Map(first.ports.map((p) => [p.name, p]));
    let metadata = { ...first.metadata };
    for (const s of snaps) {
      for (const ep of s.endpoints) if (!endpoints.has(ep.origin.nativeId)) endpoints.set(ep.origin.nativeId, ep);
      for (const p of s.ports) if (!ports.has(p.name)) ports.set(p.name, p);
      metadata = { ...metadata, ...s.metadata };
    }
    return { ...first, ports: [...ports.values()], endpoints: [...endpoints.values()], metadata };
  }

  quarantined(): QuarantinedRecord[] {
    return [...this.#quarantine.values()].flat();
  }

  /** Every cached ref, for the "reachable again" nudge. */
  all(): ServiceRef[] {
    return this.keys();
  }
}

function parseKey(key: string): ServiceRef {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function sameContent(a: ServiceSnapshot, b: ServiceSnapshot): boolean {
  return JSON.stringify({ ...a, revision: '' }) === JSON.stringify({ ...b, revision: '' });
}
