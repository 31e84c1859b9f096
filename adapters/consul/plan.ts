import type { SinkOperation } from '../../bridge/ports/index.ts';
import type { TxnOp } from './client.ts';
import { M, SOURCE_VALUE, isOwned, sameCheck, sameService, type Registration } from './encode.ts';
import type { NativeCheck, NativeNode, NativeService } from './native.ts';

/** An instance Consul holds on one of our nodes now, with its check. */
export interface Held {
  readonly service: NativeService;
  readonly check?: NativeCheck;
  /** The node holding it; absent = the target node. */
  readonly node?: string;
}

/** The catalog ops of one instance, kept together in one transaction, and how `isthmus plan` shows them. */
export interface InstanceWrite {
  readonly operation: SinkOperation;
  readonly ops: readonly TxnOp[];
}

/**
 * The catalog operations that turn `held` into `desired` for one service on its `node` (the
 * service's shard): only records that differ are written (a passing→warning flip writes the check
 * alone, an update in place rather than a delete and a create), and only records we own are
 * deleted. Records on another of our nodes (written by a single-node version or under another
 * shard count) are deleted there and written here. Creates and updates come before deletes, so a
 * packed or split transaction never leaves callers with fewer instances midway. Pure.
 */
export function planWrites(node: string, bridgeId: string, desired: readonly Registration[], held: readonly Held[]): InstanceWrite[] {
  const elsewhere = held.filter((h) => h.node !== undefined && h.node !== node);
  const byId = new Map(held.filter((h) => !elsewhere.includes(h)).map((h) => [h.service.ID, h]));
  const writes: InstanceWrite[] = [];
  for (const want of desired) {
    const have = byId.get(want.service.ID);
    byId.delete(want.service.ID);
    const ops: TxnOp[] = [];
    const serviceDiffers = have === undefined || !sameService(want.service, have.service);
    if (serviceDiffers) ops.push({ Service: { Verb: 'set', Node: node, Service: want.service } });
    if (!sameCheck(want.check, have?.check)) ops.push({ Check: { Verb: 'set', Check: { Node: node, ...want.check } } });
    if (ops.length === 0) continue;
    const operation: SinkOperation =
      have === undefined
        ? { verb: 'create', record: `service ${want.service.ID}` }
        : { verb: 'update', record: serviceDiffers ? `service ${want.service.ID}` : `check ${want.check.CheckID} → ${want.check.Status}` };
    writes.push({ operation, ops });
  }
  for (const h of byId.values()) {
    if (!isOwned(h.service, bridgeId)) continue;
    // Deleting a catalog service deletes its checks with it.
    writes.push({
      operation: { verb: 'delete', record: `service ${h.service.ID}` },
      ops: [{ Service: { Verb: 'delete', Node: node, Service: { ID: h.service.ID, Service: h.service.Service } } }],
    });
  }
  for (const h of elsewhere) {
    if (!isOwned(h.service, bridgeId)) continue;
    writes.push({
      operation: { verb: 'delete', record: `service ${h.service.ID} on node ${h.node ?? node}` },
      ops: [{ Service: { Verb: 'delete', Node: h.node ?? node, Service: { ID: h.service.ID, Service: h.service.Service } } }],
    });
  }
  return writes;
}

/** The synthetic node as we register it (the lead op of every transaction). */
export function nodeOp(node: string, address: string, bridgeId: string): TxnOp {
  return { Node: { Verb: 'set', Node: { Node: node, Address: address, Meta: nodeMeta(bridgeId) } } };
}

function nodeMeta(bridgeId: string): Record<string, string> {
  return { [M.source]: SOURCE_VALUE, [M.managedBy]: bridgeId };
}

/**
 * Whether the synthetic node as Consul holds it differs from what `nodeOp` writes (say the
 * configured nodeAddress changed). Only our own keys are compared: Consul may add its own. A node
 * another bridge's marker claims is not ours to correct (two bridges would flip it forever).
 */
export function nodeDiffers(held: NativeNode, address: string, bridgeId: string): boolean {
  const by = held.Meta?.[M.managedBy];
  if (by !== undefined && by !== bridgeId) return false;
  if (held.Address !== address) return true;
  return Object.entries(nodeMeta(bridgeId)).some(([k, v]) => held.Meta?.[k] !== v);
}

/** Consul refuses /v1/txn bodies over `txn_max_req_len` (512 KiB by default); stay well under. */
export const MAX_TXN_BYTES = 384 * 1024;

/**
 * Packs instance groups into transactions of at most `maxOps` operations (Consul's hard limit is
 * 128, agent/txn_endpoint.go) and `maxBytes` of JSON, each led by the idempotent node upsert: a
 * Consul that lost its state (dev-mode restart) gets the node back with the first write.
 */
export function batch(node: TxnOp, groups: readonly (readonly TxnOp[])[], maxOps: number, maxBytes = MAX_TXN_BYTES): TxnOp[][] {
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

/**
 * Which source ref holds a Consul service name, when several refs of this bridge map to it
 * (`team-a/dup` and `team-b/dup` are both Consul service `dup`: Consul OSS has no namespaces).
 * The first to write keeps it: the one this process let write, else the only one with records
 * there. Records of several at once (written before collisions were detected) leave no history
 * to go by, so the smallest ref wins, the same answer in every replica and after every restart.
 */
export function nameHolder(claimed: string | undefined, present: readonly string[]): string | undefined {
  if (claimed !== undefined) return claimed;
  return [...present].sort()[0];
}
