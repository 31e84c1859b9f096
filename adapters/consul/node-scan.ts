import { forEachBounded } from '../shared/bounded.ts';
import type { ConsulClient } from './client.ts';

/** What /v1/catalog/nodes answers, as far as it is read here. */
interface CatalogNode {
  readonly Node?: unknown;
  readonly ModifyIndex?: unknown;
  readonly Meta?: Readonly<Record<string, unknown>> | null;
}

/** One node's catalog listing (/v1/catalog/node-services/:node), as far as it is read here. */
export interface NodeListing {
  readonly Services?: readonly { readonly ID?: unknown; readonly Service?: unknown; readonly ModifyIndex?: unknown }[] | null;
}

export interface NodeScanOptions {
  readonly client: ConsulClient;
  readonly signal: AbortSignal;
  /** Listings read at once (each is one connection). */
  readonly concurrency: number;
  /** More nodes than this and the scan gives up: reading every service is then cheaper. */
  readonly maxNodes: number;
  /** The index a service's instances were last read at; undefined when not followed. */
  readonly readAt: (service: string) => number | undefined;
  /** Node → instance ID → service, as the last reads of followed services saw them. */
  readonly known: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * Node → its ModifyIndex when a scan last looked; the scan updates it. A service's read index
   * does not move with its node's, so without this a node edited once would name its services
   * at every scan.
   */
  readonly nodeSeen: Map<string, number>;
  /** Nodes a live blocking query already follows (node-watch.ts): their listings are not read again. */
  readonly watched: (node: string) => boolean;
}

/**
 * Followed services changed on one node since their last read: an instance whose ModifyIndex (or
 * whose node's) is newer than that read, or one the read saw that the listing no longer has. An
 * unknown instance not newer than the read is one the read's filter left out (a bridge's own).
 */
export function dueOnNode(
  listing: NodeListing | null,
  node: { readonly index: number; readonly seen: number | undefined },
  prior: ReadonlyMap<string, string> | undefined,
  readAt: (service: string) => number | undefined,
): Set<string> {
  const due = new Set<string>();
  const seen = new Set<string>();
  for (const s of listing?.Services ?? []) {
    if (typeof s.ID !== 'string' || typeof s.Service !== 'string') continue;
    seen.add(s.ID);
    const was = prior?.get(s.ID);
    if (was !== undefined && was !== s.Service) due.add(was);
    const at = readAt(s.Service);
    if (at === undefined) continue;
    const modified = typeof s.ModifyIndex === 'number' ? s.ModifyIndex : Number.POSITIVE_INFINITY;
    if (modified > at || node.index > (node.seen ?? at)) due.add(s.Service);
  }
  for (const [id, service] of prior ?? []) if (!seen.has(id)) due.add(service);
  return due;
}

/**
 * The cheap sweep: instead of reading every followed service to find one that moved without a
 * check saying so, reads the node list and each node's listing, and names the services whose
 * instances changed since their last read. Sync tools and VM estates hold many services per node,
 * so this is a few reads where the full sweep is one per service. Undefined when there are too
 * many nodes for that to pay.
 */
export async function scanNodes(o: NodeScanOptions): Promise<Set<string> | undefined> {
  const res = await o.client.read<CatalogNode[] | null>('/v1/catalog/nodes', { signal: o.signal });
  const nodes = new Map<string, number>();
  for (const n of res.body ?? []) {
    // A bridge's own node (it may hold thousands of exported instances) is never a source.
    if (typeof n.Node !== 'string' || n.Meta?.['external-source'] === 'isthmus') continue;
    nodes.set(n.Node, typeof n.ModifyIndex === 'number' ? n.ModifyIndex : Number.POSITIVE_INFINITY);
  }
  if (nodes.size > o.maxNodes) return undefined;
  const due = new Set<string>();
  // A node gone from the catalog took its instances with it.
  for (const [node, ids] of o.known) if (!nodes.has(node)) for (const service of ids.values()) due.add(service);
  for (const node of [...o.nodeSeen.keys()]) if (!nodes.has(node)) o.nodeSeen.delete(node);
  await forEachBounded([...nodes].filter(([node]) => !o.watched(node)), o.concurrency, async ([node, nodeIndex]) => {
    const listing = await o.client.read<NodeListing | null>(`/v1/catalog/node-services/${encodeURIComponent(node)}`, { signal: o.signal });
    for (const service of dueOnNode(listing.body, { index: nodeIndex, seen: o.nodeSeen.get(node) }, o.known.get(node), o.readAt)) due.add(service);
    o.nodeSeen.set(node, nodeIndex);
  });
  return due;
}
