import { createHash } from 'node:crypto';

/**
 * Which synthetic node holds a Consul service's exported instances. Consul's catalog writes
 * slow down with the checks already on the target node (60 ops: 4 ms on an empty node, ~70 ms
 * with 8,000 instances and checks on it), so one node for everything makes a large initial sync
 * quadratic. Exports are spread over `count` shard nodes by a hash of the service name: every
 * instance of a service sits on one node, so a service's read stays one filtered GET and its plan
 * one transaction led by one node upsert.
 *
 * Names: shard 0 is the configured node itself (records a single-node version wrote stay put for
 * those services); shard k > 0 is `<node>_<k>`. `_` is outside the bridge id alphabet
 * (`[a-z0-9-]`), so no default node name `isthmus-<id>` of another bridge is ever one of ours (with
 * `-<k>`, bridge `prod`'s shard 1 would be bridge `prod-1`'s node), and an ACL can grant exactly
 * `node "<node>"` plus `node_prefix "<node>_"`. Pure.
 */
export const SHARD_SEPARATOR = '_';

/** The shard of a Consul service name: stable across processes, versions and replicas. */
export function shardOf(service: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('sha256').update(service).digest().readUInt32BE(0) % count;
}

export function shardNode(base: string, shard: number): string {
  return shard === 0 ? base : `${base}${SHARD_SEPARATOR}${shard}`;
}

/** The node that should hold `service`'s instances. */
export function targetNode(base: string, service: string, count: number): string {
  return shardNode(base, shardOf(service, count));
}

/**
 * Whether `node` is one of our shard names for any shard count (records left by an earlier count
 * or by a single-node version must still be read, moved and cleaned up).
 */
export function isShardName(base: string, node: string): boolean {
  if (node === base) return true;
  const prefix = `${base}${SHARD_SEPARATOR}`;
  return node.startsWith(prefix) && /^[1-9][0-9]*$/.test(node.slice(prefix.length));
}

/**
 * A Consul filter expression (go-bexpr) selecting our shard nodes by name, for any shard count:
 * `selector` is `Node` on /v1/catalog/nodes and `Node.Node` on /v1/health/service/:name. By name,
 * not by node Meta: two bridges configured with one nodeName overwrite each other's node Meta, and
 * the read must still see the other's records there to refuse overwriting them (ISTHMUS_NOT_OWNED).
 */
export function shardFilter(base: string, selector: 'Node' | 'Node.Node'): string {
  const pattern = `^${escapeRegExp(base)}${SHARD_SEPARATOR}[1-9][0-9]*$`;
  return `${selector} == ${JSON.stringify(base)} or ${selector} matches ${JSON.stringify(pattern)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
