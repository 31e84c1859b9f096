import { BridgeError } from '../errors/index.ts';
import { parseRef, refKey, type RegistryId, type ServiceRef } from '../model/index.ts';
import { splitProblem, type Split } from './split.ts';

type Listener = (ref: ServiceRef) => void;

/** Where a service's effective split comes from, strongest first. */
export type SplitOrigin = 'migration' | 'runtime' | 'config';

export interface WeightsOptions {
  /**
   * The configured registry ids. A runtime split naming any other is refused: a typo (`k8=90`
   * for `k8s`) would otherwise give that origin's endpoints weight 0. Absent: not checked
   * (config weights are checked by config validation already).
   */
  readonly registries?: Iterable<RegistryId>;
}

/**
 * Migration splits per service, read by the engine (registry weights) and the catalog (resolver
 * answers), in three layers, the first present wins:
 *
 * 1. `migration`: ServiceMigration objects (every replica watches them; `declare` replaces the
 *    whole layer at each change), so every replica and every restart agree;
 * 2. `runtime`: `set` without Kubernetes (VM daemon): memory only, a restart forgets it;
 * 3. `config`: the file's `weights`, the reviewed state.
 */
export class Weights {
  readonly #config = new Map<string, Split>();
  readonly #splits = new Map<string, Split>();
  #declared = new Map<string, Split>();
  readonly #listeners = new Set<Listener>();
  readonly #registries: ReadonlySet<RegistryId> | undefined;

  constructor(initial: Readonly<Record<string, Split>> = {}, options: WeightsOptions = {}) {
    this.#registries = options.registries === undefined ? undefined : new Set(options.registries);
    for (const [key, split] of Object.entries(initial)) {
      const ref = parseRef(key);
      if (ref === undefined) throw new BridgeError('ISTHMUS_CONFIG_INVALID', `weights: ${JSON.stringify(key)} is not namespace/name`, { terminal: true });
      this.#config.set(refKey(ref), { ...split });
    }
  }

  get(ref: ServiceRef): Split | undefined {
    return this.#byKey(refKey(ref));
  }

  /** Which layer the effective split of `ref` comes from; undefined when it has none. */
  origin(ref: ServiceRef): SplitOrigin | undefined {
    const key = refKey(ref);
    if (this.#declared.has(key)) return 'migration';
    if (this.#splits.has(key)) return 'runtime';
    return this.#config.has(key) ? 'config' : undefined;
  }

  /** Every effective split by `namespace/name`, for status. */
  all(): Record<string, Split> {
    const keys = new Set([...this.#declared.keys(), ...this.#splits.keys(), ...this.#config.keys()]);
    const out: [string, Split][] = [];
    for (const key of keys) {
      const split = this.#byKey(key);
      if (split !== undefined) out.push([key, split]);
    }
    return Object.fromEntries(out.sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Replaces the `migration` layer with the splits ServiceMigration objects declare (by
   * `namespace/name`), and tells listeners about every service whose effective split changed.
   * Callers check splits first (`problem`): one naming an unknown registry must not get here.
   */
  declare(splits: ReadonlyMap<string, Split>): void {
    const before = this.#declared;
    this.#declared = new Map([...splits].map(([key, split]) => [key, { ...split }]));
    const changed: string[] = [];
    for (const key of new Set([...before.keys(), ...splits.keys()])) {
      const was = before.get(key) ?? this.#splits.get(key) ?? this.#config.get(key);
      if (!sameSplit(was, this.#byKey(key))) changed.push(key);
    }
    for (const key of changed) {
      const ref = parseRef(key);
      if (ref !== undefined) for (const l of this.#listeners) l(ref);
    }
  }

  /**
   * Throws what `set` would for this split: ISTHMUS_USAGE when malformed, ISTHMUS_UNKNOWN_REGISTRY
   * when it names a registry that is not configured. For callers that store splits elsewhere.
   */
  check(ref: ServiceRef, split: Readonly<Record<string, unknown>>): asserts split is Split {
    const key = refKey(ref);
    const problem = splitProblem(split);
    if (problem !== undefined) throw new BridgeError('ISTHMUS_USAGE', `weights for ${key}: ${problem}`);
    this.#checkRegistries(key, Object.keys(split));
  }

  /** Why `split` cannot be used for `ref` (malformed, unknown registry), or undefined. */
  problem(ref: ServiceRef, split: Readonly<Record<string, unknown>>): string | undefined {
    try {
      this.check(ref, split);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  #byKey(key: string): Split | undefined {
    return this.#declared.get(key) ?? this.#splits.get(key) ?? this.#config.get(key);
  }

  /** The configured registry ids, sorted, when known. */
  registries(): readonly RegistryId[] | undefined {
    return this.#registries === undefined ? undefined : [...this.#registries].sort();
  }

  /**
   * Sets (or with undefined clears) a service's split. Throws ISTHMUS_USAGE for a malformed split
   * and ISTHMUS_UNKNOWN_REGISTRY for one naming a registry that is not configured.
   */
  set(ref: ServiceRef, split: Readonly<Record<string, unknown>> | undefined): void {
    const key = refKey(ref);
    // Only the runtime layer: with no runtime split left, the config file's applies again.
    const before = this.#byKey(key);
    if (split === undefined) {
      if (!this.#splits.delete(key)) return;
    } else {
      this.check(ref, split);
      this.#splits.set(key, { ...split });
    }
    if (!sameSplit(before, this.#byKey(key))) for (const l of this.#listeners) l(ref);
  }

  #checkRegistries(key: string, ids: readonly string[]): void {
    const known = this.#registries;
    if (known === undefined) return;
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length === 0) return;
    const names = unknown.map((id) => JSON.stringify(id)).join(', ');
    const configured = [...known].sort().join(', ') || 'none';
    throw new BridgeError(
      'ISTHMUS_UNKNOWN_REGISTRY',
      `weights for ${key}: ${unknown.length === 1 ? 'registry' : 'registries'} ${names} ${unknown.length === 1 ? 'is' : 'are'} not configured; configured registries: ${configured}`,
      { details: { unknown, configured: [...known].sort() } },
    );
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function sameSplit(a: Split | undefined, b: Split | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
