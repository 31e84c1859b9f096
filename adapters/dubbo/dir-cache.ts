import type { ZkEvent } from './client.ts';
import { PathWatchers } from './path-watchers.ts';

/**
 * What the sink last read of its ZooKeeper directories, kept only while ZooKeeper's own watches
 * say it still holds: a directory's children until its child watch fires, a child's read until
 * its data watch fires (changed or deleted). Without it, every pass over a service re-read every
 * node of it (a 100-instance service rolled pod by pod cost ~200 requests per pod); with it, a
 * pass reads only what changed since.
 *
 * ZooKeeper delivers a watch event before the response to the write that caused it, on the same
 * connection, so our own writes have invalidated what they touched by the time they resolve.
 * Watches die with a session: the owner calls `clear` on every session event, and `newSession`
 * when the session is a new one. A read racing its own invalidation is stored as stale
 * (generation check), never as fresh. Each path has one watcher function (path-watchers.ts),
 * which invalidates whatever entry the path has when it fires: one registered before a `clear`
 * costs at most a needless re-read, never a stale answer.
 */

interface NodeEntry<T> {
  gen: number;
  value: T | undefined;
  readGen: number;
}

interface DirEntry<T> {
  gen: number;
  children: readonly string[] | undefined;
  readGen: number;
  /** By child name: what was made of its last read. */
  readonly nodes: Map<string, NodeEntry<T>>;
}

export class DirCache<T> {
  readonly #dirs = new Map<string, DirEntry<T>>();
  /** Bumped by `clear`: answers to reads of an earlier epoch are not stored. */
  #epoch = 0;
  readonly #dirWatchers = new PathWatchers((dir) => {
    const d = this.#dirs.get(dir);
    if (d !== undefined) d.gen++;
  });
  readonly #nodeWatchers = new PathWatchers((path) => {
    const at = path.lastIndexOf('/');
    const n = this.#dirs.get(path.slice(0, at))?.nodes.get(path.slice(at + 1));
    if (n !== undefined) n.gen++;
  });

  clear(): void {
    this.#epoch++;
    this.#dirs.clear();
  }

  /** A new session: nothing cached holds, and ZooKeeper holds none of our watchers. */
  newSession(): void {
    this.clear();
    this.#dirWatchers.reset();
    this.#nodeWatchers.reset();
  }

  /** Cached children of `dir`, or undefined when they must be read again. */
  children(dir: string): readonly string[] | undefined {
    const d = this.#dirs.get(dir);
    return d !== undefined && d.readGen === d.gen ? d.children : undefined;
  }

  /** A watcher for a children read of `dir`, and how to store its answer (`undefined`: do not cache). */
  watchChildren(dir: string): { watcher: (e: ZkEvent) => void; store: (children: readonly string[] | undefined) => void } {
    const epoch = this.#epoch;
    const d = this.#dir(dir);
    const gen = d.gen;
    return {
      watcher: this.#dirWatchers.for(dir),
      store: (children) => {
        if (this.#epoch !== epoch) return;
        d.children = children;
        d.readGen = children === undefined ? -1 : gen;
        if (children === undefined) return;
        const listed = new Set(children);
        for (const name of d.nodes.keys()) if (!listed.has(name)) d.nodes.delete(name);
      },
    };
  }

  /** The cached read of `dir/child`: `{ value }` when fresh (value may be undefined: not ours), else undefined. */
  node(dir: string, child: string): { value: T | undefined } | undefined {
    const n = this.#dirs.get(dir)?.nodes.get(child);
    return n !== undefined && n.readGen === n.gen ? { value: n.value } : undefined;
  }

  /** A watcher for a data read of `dir/child`, and how to store what it made of the answer. */
  watchNode(dir: string, child: string): { watcher: (e: ZkEvent) => void; store: (value: T | undefined, cacheable: boolean) => void } {
    const epoch = this.#epoch;
    const d = this.#dir(dir);
    const n = d.nodes.get(child) ?? { gen: 0, value: undefined, readGen: -1 };
    d.nodes.set(child, n);
    const gen = n.gen;
    return {
      watcher: this.#nodeWatchers.for(`${dir}/${child}`),
      store: (value, cacheable) => {
        if (this.#epoch !== epoch) return;
        n.value = value;
        n.readGen = cacheable ? gen : -1;
      },
    };
  }

  /** How many nodes are held (tests, memory figures). */
  get size(): number {
    let n = 0;
    for (const d of this.#dirs.values()) n += d.nodes.size;
    return n;
  }

  #dir(dir: string): DirEntry<T> {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      d = { gen: 0, children: undefined, readGen: -1, nodes: new Map() };
      this.#dirs.set(dir, d);
    }
    return d;
  }
}
