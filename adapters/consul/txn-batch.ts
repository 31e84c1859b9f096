import { BridgeError } from '../../bridge/errors/index.ts';
import type { TxnOp } from './client.ts';
import { MAX_TXN_BYTES } from './plan.ts';

interface Pending {
  readonly ops: readonly TxnOp[];
  /** The lead op as JSON: only transactions led by the same one are packed. */
  readonly lead: string;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Packs the single-transaction plans of several services into one /v1/txn while earlier ones
 * are in flight: an idle bridge sends each plan at once (no added latency), a busy one (initial
 * sync, a resync) sends a handful of services per request. Every plan's transaction is led by the
 * same idempotent node upsert, so a packed one keeps a single lead. Plans of different refs touch
 * disjoint service ids, so packing changes no outcome, only atomicity across services: when a
 * packed transaction is refused, each plan is retried alone, so one bad plan (an ACL denial on
 * its service name, say) fails only its own caller. An unreachable Consul fails them all at once.
 */
export class TxnBatcher {
  readonly #send: (ops: readonly TxnOp[]) => Promise<void>;
  readonly #maxOps: number;
  readonly #maxInFlight: number;
  readonly #pending: Pending[] = [];
  #inFlight = 0;

  constructor(send: (ops: readonly TxnOp[]) => Promise<void>, maxOps: number, maxInFlight = 2) {
    this.#send = send;
    this.#maxOps = maxOps;
    this.#maxInFlight = maxInFlight;
  }

  /** Sends `ops` (a transaction led by the node upsert), alone or packed with others. */
  submit(ops: readonly TxnOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ ops, lead: JSON.stringify(ops[0] ?? null), bytes: JSON.stringify(ops).length, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#inFlight < this.#maxInFlight && this.#pending.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
  }

  /** The oldest plan, and the next ones while they fit one transaction. */
  #take(): Pending[] {
    const first = this.#pending.shift() as Pending;
    const batch = [first];
    let ops = first.ops.length;
    let bytes = first.bytes;
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as Pending;
      if (next.lead !== first.lead || ops + next.ops.length - 1 > this.#maxOps || bytes + next.bytes > MAX_TXN_BYTES) break;
      batch.push(next);
      this.#pending.shift();
      ops += next.ops.length - 1;
      bytes += next.bytes;
    }
    return batch;
  }

  async #run(batch: readonly Pending[]): Promise<void> {
    const [first] = batch;
    if (first === undefined) return;
    if (batch.length === 1) {
      await this.#one(first);
      return;
    }
    const merged = [...first.ops, ...batch.slice(1).flatMap((p) => p.ops.slice(1))];
    try {
      await this.#send(merged);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_UNREACHABLE') {
        for (const p of batch) p.reject(err);
        return;
      }
      for (const p of batch) await this.#one(p);
    }
  }

  async #one(p: Pending): Promise<void> {
    try {
      await this.#send(p.ops);
      p.resolve();
    } catch (err) {
      p.reject(err);
    }
  }
}
