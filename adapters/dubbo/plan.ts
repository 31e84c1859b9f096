import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, refKey } from '../../bridge/model/index.ts';
import type { SinkOperation, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { planExport, type ExportSettings, type WantedNode } from './encode.ts';
import type { OwnedNode } from './owned.ts';

/** A node of ours as read, with what decides whether it may stay. */
export interface Held extends OwnedNode {
  /** Ephemeral owner session (hex), '0000000000000000' for persistent nodes. */
  readonly owner: string;
  /** Version read: a node changed since is not ours to delete blindly. */
  readonly version: number;
}

/** A mapping node's applications and version, or null when the node does not exist. */
export type MappingRead = { readonly apps: readonly string[]; readonly version: number } | null;

/** One read of one ref: everything `planDubbo` compares. */
export interface DubboState extends SinkState {
  /** Our provider and instance nodes of the ref, from every directory it was placed in. */
  readonly held: readonly Held[];
  /** The session the reads ran in: ephemeral nodes of any other session are rewritten. */
  readonly session: string;
  /** Every child of the directories read, whoever wrote it. */
  readonly present: ReadonlySet<string>;
  /** Mapping nodes of the interfaces the ref was placed under. */
  readonly mappings: ReadonlyMap<string, MappingRead>;
  /** Existing MetadataInfo nodes of the applications the ref was placed under. */
  readonly metadata: ReadonlySet<string>;
}

/** A provider or instance node to create; `replaces` = ours is at this very path and goes first. */
export interface NodeWrite {
  readonly node: WantedNode;
  readonly replaces: Held | undefined;
}

export interface DubboPlan extends SinkPlan {
  readonly ref: ServiceRef;
  readonly application: string;
  /** Directories the desired nodes live in: remembered before writing, so the next read covers them. */
  readonly dirs: readonly string[];
  /** MetadataInfo to create (content-addressed: it exists or it does not). */
  readonly metadata: WantedNode | undefined;
  /** Mapping nodes that must list `application`, with what the read saw (undefined: not read). */
  readonly mappings: readonly { readonly path: string; readonly seen: MappingRead | undefined }[];
  readonly writes: readonly NodeWrite[];
  readonly deletes: readonly Held[];
  /** Desired paths another writer holds (a native provider's `ip:port`): never overwritten. */
  readonly taken: readonly string[];
  /** What the desired snapshot asked for that cannot be exported (logged when executed). */
  readonly problems: readonly string[];
}

/** False for an ephemeral node of another session: it vanishes with that session, so it is rewritten. */
export function isCurrent(h: Held, session: string, s: Pick<ExportSettings, 'persistent'>): boolean {
  return s.persistent || h.owner === session;
}

/** What a read found, in model form: one endpoint per address and ports, from current nodes only. */
export function observedOf(ref: ServiceRef, held: readonly Held[], session: string, s: ExportSettings, registry: RegistryId): ServiceSnapshot | undefined {
  const endpoints = new Map<string, Endpoint>();
  for (const h of held) if (isCurrent(h, session, s) && !endpoints.has(endpointKey(h.endpoint))) endpoints.set(endpointKey(h.endpoint), h.endpoint);
  if (endpoints.size === 0) return undefined;
  const list = [...endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  const ports = Object.entries(list[0]?.ports ?? {}).map(([name, port]) => ({ name, port }));
  return { ref, ports, endpoints: list, metadata: {}, origin: registry };
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/**
 * Pure: the writes that turn `state` into `desired` (undefined = remove every provider URL and
 * instance of the ref). Compares everything the sink renders — each node's path (the provider
 * URL holds interface, version, group, weight, session) and data (the instance holds the
 * metadata revision), the MetadataInfo node and the mapping entries — so it is empty exactly
 * when ZooKeeper already holds what `desired` renders.
 */
export function planDubbo(state: DubboState, desired: ServiceSnapshot | undefined, s: ExportSettings): DubboPlan {
  const exp = desired === undefined ? undefined : planExport(desired, s, state.session);
  const heldByPath = new Map(state.held.map((h) => [h.path, h]));
  const operations: SinkOperation[] = [];
  const wanted = new Map<string, WantedNode>();
  for (const n of exp?.nodes ?? []) if (!wanted.has(n.path)) wanted.set(n.path, n);

  let metadata: WantedNode | undefined;
  if (exp?.metadata !== undefined && !state.metadata.has(exp.metadata.path)) {
    metadata = exp.metadata;
    operations.push({ verb: 'create', record: exp.metadata.path });
  }
  const mappings: DubboPlan['mappings'][number][] = [];
  for (const path of new Set(exp?.mappings ?? [])) {
    const seen = state.mappings.get(path);
    if (seen?.apps.includes(exp?.application ?? '') === true) continue;
    mappings.push({ path, seen });
    operations.push({ verb: seen === null ? 'create' : 'update', record: path });
  }
  const writes: NodeWrite[] = [];
  const taken: string[] = [];
  for (const n of wanted.values()) {
    const h = heldByPath.get(n.path);
    if (h !== undefined && isCurrent(h, state.session, s) && h.data.equals(n.data)) continue;
    if (h === undefined && state.present.has(n.path)) {
      taken.push(n.path);
      continue;
    }
    writes.push({ node: n, replaces: h });
    operations.push({ verb: h === undefined ? 'create' : 'update', record: n.path });
  }
  const deletes = state.held.filter((h) => !wanted.has(h.path));
  for (const h of deletes) operations.push({ verb: 'delete', record: h.path });
  return {
    operations,
    ref: state.ref,
    application: exp?.application ?? '',
    dirs: [...new Set([...wanted.keys()].map(parentOf))],
    metadata,
    mappings,
    writes,
    deletes,
    taken,
    problems: exp?.problems ?? [],
    refusals: (exp?.problems ?? []).map((reason) => ({ nativeId: refKey(state.ref), reason })),
  };
}
