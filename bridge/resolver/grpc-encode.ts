import { ResolveResponse, WatchResponse, type Service } from '../../proto/gen/isthmus/v1/resolver.ts';
import type { Split } from '../sync/index.ts';
import { frame } from './grpc-wire.ts';

export interface GrpcAnswersOptions {
  /** Bound on slots (one per service × filter set asked for); the oldest goes first beyond it. */
  readonly maxKeys?: number;
  /** Bound on the encoded bytes held, so a few huge services cannot hold memory at will. */
  readonly maxBytes?: number;
}

/** One service as one caller filters it, at one revision, with its split. */
interface Slot {
  readonly revision: number;
  readonly split: Split | undefined;
  readonly service: Service;
  bytes: number;
  /** The framed Resolve answer and Watch message, made on first use. */
  resolve?: Buffer;
  watch?: Buffer;
}

function sameSplit(a: Split | undefined, b: Split | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * The gRPC answers, built, encoded and framed once per service revision and shared by every
 * caller: a hot Resolve is a map hit and one socket write, and a change that wakes 1,000 Watch
 * streams encodes their state once, not 1,000 times (a state of a few thousand endpoints costs
 * milliseconds to build and encode).
 *
 * A slot is keyed by (service, filters) and holds the revision it was built at, so a change
 * overwrites it rather than leaving dead keys; the split is compared too, because a split that
 * leaves every weight as it was does not move the revision but is echoed in the answer.
 */
export class GrpcAnswers {
  readonly #slots = new Map<string, Slot>();
  readonly #maxKeys: number;
  readonly #maxBytes: number;
  #heldBytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(options: GrpcAnswersOptions = {}) {
    this.#maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** The framed Resolve answer for `key` at `revision`, encoded on first use. */
  resolve(key: string, revision: number, split: Split | undefined, build: () => Service): Buffer {
    const slot = this.#slot(key, revision, split, build);
    if (slot.resolve === undefined) {
      slot.resolve = frame(ResolveResponse.encode({ service: slot.service }).finish());
      this.#keep(key, slot, slot.resolve);
    }
    return slot.resolve;
  }

  /** The framed Watch message carrying the state of `key` at `revision`, encoded on first use. */
  watch(key: string, revision: number, split: Split | undefined, build: () => Service): Buffer {
    const slot = this.#slot(key, revision, split, build);
    if (slot.watch === undefined) {
      slot.watch = frame(WatchResponse.encode({ index: revision, deleted: false, service: slot.service }).finish());
      this.#keep(key, slot, slot.watch);
    }
    return slot.watch;
  }

  /** A framed `deleted` Watch message; small and rare, so it is not kept. */
  deleted(index: number): Buffer {
    return frame(WatchResponse.encode({ index, deleted: true, service: undefined }).finish());
  }

  stats(): { hits: number; misses: number; keys: number; bytes: number } {
    return { hits: this.#hits, misses: this.#misses, keys: this.#slots.size, bytes: this.#heldBytes };
  }

  clear(): void {
    this.#slots.clear();
    this.#heldBytes = 0;
  }

  #keep(key: string, slot: Slot, bytes: Buffer): void {
    slot.bytes += bytes.length;
    this.#heldBytes += bytes.length;
    // Evicting only drops the cache's hold: calls still writing a buffer keep it alive.
    for (const [k, old] of this.#slots) {
      if (this.#heldBytes <= this.#maxBytes || k === key) break;
      this.#drop(k, old);
    }
  }

  #drop(key: string, slot: Slot): void {
    this.#slots.delete(key);
    this.#heldBytes -= slot.bytes;
  }

  #slot(key: string, revision: number, split: Split | undefined, build: () => Service): Slot {
    const hit = this.#slots.get(key);
    if (hit !== undefined && hit.revision === revision && sameSplit(hit.split, split)) {
      this.#hits++;
      return hit;
    }
    this.#misses++;
    const slot: Slot = { revision, split: split === undefined ? undefined : { ...split }, service: build(), bytes: 0 };
    // Re-inserting moves the key to the back, so the front is the slot refreshed longest ago.
    if (hit !== undefined) this.#drop(key, hit);
    this.#slots.set(key, slot);
    if (this.#slots.size > this.#maxKeys) {
      const oldest = this.#slots.entries().next();
      if (oldest.done !== true) this.#drop(oldest.value[0], oldest.value[1]);
    }
    return slot;
  }
}
