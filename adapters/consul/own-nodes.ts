import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { ConsulClient } from './client.ts';
import { M } from './encode.ts';
import type { NativeNode, NativeService, NodeServices } from './native.ts';
import { isShardName, shardFilter } from './shards.ts';
import { runWatch } from './watch.ts';

/** Upper bound on the blocking wait of the own-node watch (see watchOwnNodes). */
const NODE_WATCH_WAIT_SECONDS = 5;

/** Our synthetic nodes as Consul lists them: every shard name, whatever the shard count was. */
export async function listOwnNodes(client: ConsulClient, base: string): Promise<readonly NativeNode[]> {
  const { body } = await client.read<NativeNode[] | null>('/v1/catalog/nodes', { params: { filter: shardFilter(base, 'Node') } });
  return (body ?? []).filter((n) => isShardName(base, n.Node));
}

/**
 * Every service on our nodes (ownership is the caller's test). One small node listing, then one
 * node-services read per node, in turn: only the sink gate and the periodic resync ask, and the
 * bytes are those of the single-node listing this replaces, split.
 */
export async function ownNodeServices(client: ConsulClient, base: string): Promise<readonly NativeService[]> {
  const out: NativeService[] = [];
  for (const node of await listOwnNodes(client, base)) {
    const { body } = await client.read<NodeServices | null>(`/v1/catalog/node-services/${encodeURIComponent(node.Node)}`);
    out.push(...(body?.Services ?? []));
  }
  return out;
}

export interface OwnNodeWatch {
  readonly client: ConsulClient;
  readonly base: string;
  readonly waitSeconds: number;
  readonly maxBackoffMs: number;
  readonly signal: AbortSignal;
  /** Consul lost state: a node we saw or wrote is gone, or the index went backwards. */
  readonly onReset: () => void;
  /**
   * Nodes our writes created: a Consul that lost them before this watch saw them lost state too.
   * A node reported gone is taken out (the sink adds it again when it writes there), so a node
   * retired meanwhile by `isthmus cleanup` elsewhere causes one resync, not one per answer.
   */
  readonly written?: Set<string>;
}

/**
 * Watches our nodes so a Consul that lost its state (a dev-mode or disaster restart) is noticed at
 * once. One query for all shards: their node entries alone (/v1/catalog/nodes filtered by name),
 * a few hundred bytes each whatever they hold; their services are not needed to see either sign.
 */
export function watchOwnNodes(w: OwnNodeWatch): void {
  let seen = new Set<string>();
  let confirming = false;
  // A written node missing from an answer may only be one the answer predates (the write landed
  // after the read): a plain read of each, sent now, tells that from a Consul that lost them.
  const confirmGone = async (nodes: readonly string[]): Promise<void> => {
    confirming = true;
    try {
      const gone: string[] = [];
      for (const node of nodes) {
        const { body } = await w.client.read<unknown>(`/v1/catalog/node/${encodeURIComponent(node)}`, { signal: w.signal });
        if (body === null) gone.push(node);
      }
      for (const node of gone) w.written?.delete(node);
      if (gone.length > 0) w.onReset();
    } catch {
      // Unreachable again: the watch's next answer asks once more.
    } finally {
      confirming = false;
    }
  };
  void runWatch<readonly NativeNode[] | null>({
    client: w.client,
    path: '/v1/catalog/nodes',
    params: { filter: shardFilter(w.base, 'Node') },
    // Short waits on purpose: a query sent to a freshly restarted Consul with our old, higher
    // index blocks for the whole wait before the backwards index shows, so a long wait would
    // delay re-registration by minutes. One tiny read every few seconds is the price.
    waitSeconds: Math.min(w.waitSeconds, NODE_WATCH_WAIT_SECONDS),
    minIntervalMs: 250,
    maxBackoffMs: w.maxBackoffMs,
    signal: w.signal,
    onData: (body, _index, reset) => {
      const present = new Set((body ?? []).map((n) => n.Node));
      // Shard nodes only come and go with Consul's state or `isthmus cleanup`: a lost one is a reset.
      if (reset || [...seen].some((n) => !present.has(n))) {
        w.onReset();
      } else if (!confirming) {
        // Lost before this watch ever saw them (Consul restarted right after our first writes).
        const unseen = [...(w.written ?? [])].filter((n) => !present.has(n));
        if (unseen.length > 0) void confirmGone(unseen);
      }
      seen = present;
    },
    onError: () => undefined, // read/execute report errors where the engine can see them
  });
}

/**
 * Cleanup's last step: each of our synthetic nodes goes once no service at all is left on it. A
 * node whose Meta names another bridge is not ours; a node still holding services stays.
 */
export async function retireOwnNodes(client: ConsulClient, base: string, bridgeId: string, log?: { logger: EngineLogger; registry: string }): Promise<void> {
  for (const listed of await listOwnNodes(client, base)) {
    const { body } = await client.read<NodeServices | null>(`/v1/catalog/node-services/${encodeURIComponent(listed.Node)}`);
    const node = body?.Node;
    if (node === null || node === undefined || node.Meta?.[M.managedBy] !== bridgeId) continue;
    const left = body?.Services ?? [];
    if (left.length > 0) {
      log?.logger.warn({ registry: log.registry, node: node.Node, services: left.length }, 'synthetic node still holds services; left in place');
      continue;
    }
    await client.txn([{ Node: { Verb: 'delete', Node: { Node: node.Node } } }]);
  }
}
