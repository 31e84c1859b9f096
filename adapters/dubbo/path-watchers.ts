import type { ZkEvent } from './client.ts';

/**
 * One watcher function per key (a path) for as long as ZooKeeper may hold it. node-zookeeper-client
 * keeps every distinct function registered on a path until that path's watch fires, skipping only
 * the very same function. A fresh closure per read therefore piled up on paths that never change:
 * one more per relist (every reconnect), per resync of the sink (every five minutes by default),
 * for as long as the bridge ran. Reads take their watcher from `for(key)`, which hands out the
 * same function until it has fired; what a fire means is decided at fire time, by `onFire`.
 *
 * A function registered as two kinds of watch on one path (data and existence) and fired as one
 * is replaced here while the other registration stays: at most one extra per kind, not a pile.
 */
export class PathWatchers {
  readonly #fns = new Map<string, (e: ZkEvent) => void>();
  readonly #onFire: (key: string, e: ZkEvent) => void;

  constructor(onFire: (key: string, e: ZkEvent) => void) {
    this.#onFire = onFire;
  }

  for(key: string): (e: ZkEvent) => void {
    let fn = this.#fns.get(key);
    if (fn === undefined) {
      const made = (e: ZkEvent): void => {
        // ZooKeeper dropped this registration as it fired: the next read registers anew.
        if (this.#fns.get(key) === made) this.#fns.delete(key);
        this.#onFire(key, e);
      };
      fn = made;
      this.#fns.set(key, fn);
    }
    return fn;
  }

  /** A new session's client holds none of the functions handed out before. */
  reset(): void {
    this.#fns.clear();
  }

  /** Functions handed out and not yet fired (tests). */
  get size(): number {
    return this.#fns.size;
  }
}
