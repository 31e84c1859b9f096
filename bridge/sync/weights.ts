import { BridgeError } from '../errors/index.ts';
import { parseRef, refKey, type RegistryId, type ServiceRef } from '../model/index.ts';
import { splitProblem, type Split } from './split.ts';

type Listener = (ref: ServiceRef) => void;

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
 * answers). Seeded from config; runtime changes live in memory only, so a restart returns to the
 * file's values, which is the reviewed state.
 */
export class Weights {
  readonly #splits = new Map<string, Split>();
  readonly #listeners = new Set<Listener>();
  readonly #registries: ReadonlySet<RegistryId> | undefined;

  constructor(initial: Readonly<Record<string, Split>> = {}, options: WeightsOptions = {}) {
    this.#registries = options.registries === undefined ? undefined : new Set(options.registries);
    for (const [key, split] of Object.entries(initial)) {
      const ref = parseRef(key);
      if (ref === undefined) throw new BridgeError('ISTHMUS_CONFIG_INVALID', `weights: ${JSON.stringify(key)} is not namespace/name`, { terminal: true });
      this.#splits.set(refKey(ref), { ...split });
    }
  }

  get(ref: ServiceRef): Split | undefined {
    return this.#splits.get(refKey(ref));
  }

  /** Every split by `namespace/name`, for status. */
  all(): Record<string, Split> {
    return Object.fromEntries([...this.#splits.entries()].sort(([a], [b]) => a.localeCompare(b)));
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
    if (split === undefined) {
      if (!this.#splits.delete(key)) return;
    } else {
      const problem = splitProblem(split);
      if (problem !== undefined) throw new BridgeError('ISTHMUS_USAGE', `weights for ${key}: ${problem}`);
      this.#checkRegistries(key, Object.keys(split));
      this.#splits.set(key, { ...(split as Split) });
    }
    for (const l of this.#listeners) l(ref);
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
