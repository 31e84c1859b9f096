import { refKey, sameRef, type ServiceRef } from '../model/index.ts';
import type { Migration, MigrationStore } from '../ports/index.ts';
import type { EngineLogger, Weights } from '../sync/index.ts';
import type { Split } from '../sync/split.ts';

/**
 * Keeps the `migration` layer of Weights equal to the ServiceMigration objects (DESIGN §5):
 * every replica runs one, so a split applied with kubectl, Argo CD or `isthmus weight` reaches
 * them all, and a restart reads it back. An object whose split cannot be used (bad spec, an
 * unknown registry id, a second object for one service) is left out with its reason, which
 * the leader writes into its status; the others keep flowing.
 */
export class MigrationFollower {
  readonly #store: MigrationStore;
  readonly #weights: Weights;
  readonly #log: EngineLogger;
  #problems = new Map<string, string>();

  constructor(store: MigrationStore, weights: Weights, log: EngineLogger) {
    this.#store = store;
    this.#weights = weights;
    this.#log = log;
  }

  /** Follows the store from now on; returns the unsubscribe. */
  start(): () => void {
    const off = this.#store.onChange(() => { this.#apply(); });
    this.#apply();
    return off;
  }

  /** Why this object's split is not in force, or undefined. */
  problemOf(m: Migration): string | undefined {
    return this.#problems.get(objectKey(m));
  }

  /** The object governing `ref` (a usable one first), if any. */
  governing(ref: ServiceRef): Migration | undefined {
    const all = this.#store.list().filter((m) => sameRef(m.ref, ref));
    return all.find((m) => m.problem === undefined) ?? all[0];
  }

  #apply(): void {
    const declared = new Map<string, Split>();
    const problems = new Map<string, string>();
    for (const m of this.#store.list()) {
      const problem = m.problem ?? (m.split === undefined ? undefined : this.#weights.problem(m.ref, m.split));
      if (problem !== undefined) problems.set(objectKey(m), problem);
      else if (m.split !== undefined) declared.set(refKey(m.ref), m.split);
    }
    for (const [key, problem] of problems) {
      if (this.#problems.get(key) !== problem) this.#log.warn({ migration: key, problem }, 'ServiceMigration ignored: its split cannot be used');
    }
    this.#problems = problems;
    this.#weights.declare(declared);
  }
}

export function objectKey(m: Pick<Migration, 'object'>): string {
  return `${m.object.namespace}/${m.object.name}`;
}
