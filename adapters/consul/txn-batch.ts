import { BridgeError } from '../../bridge/errors/index.ts';
import type { TxnOp } from './client.ts';
import { MAX_TXN_BYTES } from './plan.ts';

interface Pending {
  readonly ops: readonly TxnOp[];
  /** The lead op (the node upsert) as JSON: a packed transaction carries each distinct one once. */
  readonly lead: string;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Packs the single-transaction plans of several services into one /v1/txn while earlier ones
 * are in flight: an idle bridge sends each plan at once (no added latency), a busy one (initial
 * sync, a resync) sends a handful of services per request. Every plan's transaction is led by the
 * idempotent upsert of its service's shard node; a packed one starts with each distinct lead once
 * (plans of one shard share it), so nodes exist before any of their services. Plans of different refs touch
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
    const leads = new Set([first.lead]);
    let ops = first.ops.length;
    let bytes = first.bytes;
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as Pending;
      const added = next.ops.length - (leads.has(next.lead) ? 1 : 0);
      if (ops + added > this.#maxOps || bytes + next.bytes > MAX_TXN_BYTES) break;
      batch.push(next);
      leads.add(next.lead);
      this.#pending.shift();
      ops += added;
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
    const leads = new Map(batch.map((p) => [p.lead, p.ops[0] as TxnOp]));
    const merged = [...leads.values(), ...batch.flatMap((p) => p.ops.slice(1))];
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
