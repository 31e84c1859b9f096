import type { TxnOp } from './client.ts';
import { M, SOURCE_VALUE, isOwned, sameCheck, sameService, type Registration } from './encode.ts';
import type { NativeCheck, NativeService } from './native.ts';

/** An instance Consul holds on our node now, with its check. */
export interface Held {
  readonly service: NativeService;
  readonly check?: NativeCheck;
}

/**
 * The catalog operations that turn `held` into `desired` for one service: only records that
 * differ are written (a passing→warning flip writes the check alone), and only records we own
 * are deleted. Each element is the ops of one instance, kept together in one transaction. Pure.
 */
export function planWrites(node: string, bridgeId: string, desired: readonly Registration[], held: readonly Held[]): TxnOp[][] {
  const byId = new Map(held.map((h) => [h.service.ID, h]));
  const groups: TxnOp[][] = [];
  for (const want of desired) {
    const have = byId.get(want.service.ID);
    byId.delete(want.service.ID);
    const ops: TxnOp[] = [];
    if (have === undefined || !sameService(want.service, have.service)) {
      ops.push({ Service: { Verb: 'set', Node: node, Service: want.service } });
    }
    if (!sameCheck(want.check, have?.check)) {
      ops.push({ Check: { Verb: 'set', Check: { Node: node, ...want.check } } });
    }
    if (ops.length > 0) groups.push(ops);
  }
  for (const h of byId.values()) {
    if (!isOwned(h.service, bridgeId)) continue;
    // Deleting a catalog service deletes its checks with it.
    groups.push([{ Service: { Verb: 'delete', Node: node, Service: { ID: h.service.ID, Service: h.service.Service } } }]);
  }
  return groups;
}

export function nodeOp(node: string, address: string, bridgeId: string): TxnOp {
  return { Node: { Verb: 'set', Node: { Node: node, Address: address, Meta: { [M.source]: SOURCE_VALUE, [M.managedBy]: bridgeId } } } };
}

/** Consul refuses /v1/txn bodies over `txn_max_req_len` (512 KiB by default); stay well under. */
export const MAX_TXN_BYTES = 384 * 1024;

/**
 * Packs instance groups into transactions of at most `maxOps` operations (Consul's hard limit is
 * 128, agent/txn_endpoint.go) and `maxBytes` of JSON, each led by the idempotent node upsert: a
 * Consul that lost its state (dev-mode restart) gets the node back with the first write.
 */
export function batch(node: TxnOp, groups: readonly TxnOp[][], maxOps: number, maxBytes = MAX_TXN_BYTES): TxnOp[][] {
  const txns: TxnOp[][] = [];
  const nodeBytes = JSON.stringify(node).length;
  let current: TxnOp[] = [node];
  let bytes = nodeBytes;
  for (const g of groups) {
    const size = g.reduce((n, op) => n + JSON.stringify(op).length + 1, 0);
    if ((current.length + g.length > maxOps || bytes + size > maxBytes) && current.length > 1) {
      txns.push(current);
      current = [node];
      bytes = nodeBytes;
    }
    current.push(...g);
    bytes += size;
  }
  if (current.length > 1) txns.push(current);
  return txns;
}
