import { BridgeError } from '../errors/index.ts';
import { parseRef, refKey, type ServiceRef } from '../model/index.ts';
import { splitProblem, type Split } from './split.ts';

type Listener = (ref: ServiceRef) => void;

/**
 * Migration splits per service, read by the engine (registry weights) and the catalog (resolver
 * answers). Seeded from config; runtime changes live in memory only, so a restart returns to the
 * file's values, which is the reviewed state.
 */
export class Weights {
  readonly #splits = new Map<string, Split>();
  readonly #listeners = new Set<Listener>();

  constructor(initial: Readonly<Record<string, Split>> = {}) {
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

  /** Sets (or with undefined clears) a service's split. Throws ISTHMUS_USAGE for a bad split. */
  set(ref: ServiceRef, split: Readonly<Record<string, unknown>> | undefined): void {
    const key = refKey(ref);
    if (split === undefined) {
      if (!this.#splits.delete(key)) return;
    } else {
      const problem = splitProblem(split);
      if (problem !== undefined) throw new BridgeError('ISTHMUS_USAGE', `weights for ${key}: ${problem}`);
      this.#splits.set(key, { ...(split as Split) });
    }
    for (const l of this.#listeners) l(ref);
  }

  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
