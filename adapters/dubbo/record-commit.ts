import { CREATE_MODE, aclsFor, failedOp, type ZkClient, type ZkOp } from './client.ts';
import type { DubboPlan, MappingRead } from './plan.ts';
import { readMapping } from './reader.ts';
import type { RecordEntry, RecordShards } from './record-shards.ts';

/** Transactions tried per plan before the step-by-step path; each after fresh reads. */
const ATTEMPTS = 3;

/** What one plan writes to the shared nodes, with the record entries that speak of them. */
export function sharedWrites(plan: { readonly application: string; readonly metadata: DubboPlan['metadata']; readonly mappings: readonly { readonly path: string; readonly seen: MappingRead }[] }): { ops: ZkOp[]; entries: RecordEntry[]; dirs: string[] } {
  const app = plan.application;
  const ops: ZkOp[] = [];
  const entries: RecordEntry[] = [{ app }];
  const dirs = new Set<string>();
  const open = aclsFor(undefined);
  if (plan.metadata !== undefined) {
    const { path, data } = plan.metadata;
    ops.push({ op: 'create', path, data, acls: open, mode: CREATE_MODE.PERSISTENT });
    dirs.add(path.slice(0, path.lastIndexOf('/')));
  }
  for (const m of plan.mappings) {
    // Already listing the application (ours or a native provider's entry): nothing to add or claim.
    if (m.seen?.apps.includes(app) === true) continue;
    if (m.seen === null) {
      ops.push({ op: 'create', path: m.path, data: Buffer.from(app), acls: open, mode: CREATE_MODE.PERSISTENT });
      dirs.add(m.path.slice(0, m.path.lastIndexOf('/')));
    } else {
      ops.push({ op: 'setData', path: m.path, data: Buffer.from([...m.seen.apps, app].join(',')), version: m.seen.version });
    }
    // `created` is exact here: the create (or the compare-and-set append) commits with the entry.
    entries.push({ app, mapping: { path: m.path, created: m.seen === null } });
  }
  return { ops, entries, dirs: [...dirs] };
}

/**
 * Writes a plan's MetadataInfo and mapping changes in the same ZooKeeper transaction as their
 * creation-record entries: all or none, so no crash can leave a znode of ours the record does
 * not name, nor an entry claiming a write that never happened; and concurrent plans share one
 * transaction (RecordShards batches them), which is one write on ZooKeeper's books instead of
 * two record writes and two znode writes per service. When ZooKeeper refuses one of the plan's
 * ops (a node created or changed since it was read) nothing of it was written: tried again from
 * fresh reads, and false after ATTEMPTS refusals (the caller then goes step by step).
 */
export async function commitAtOnce(client: ZkClient, record: RecordShards, plan: DubboPlan, mark: Buffer): Promise<boolean> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // A new interface's mapping is not read with the ref (reader.ts), and a refused one is stale.
    const mappings = await Promise.all(plan.mappings.map(async (m) => ({ path: m.path, seen: m.seen === undefined || attempt > 0 ? await readMapping(client, m.path) : m.seen })));
    // Planned also when merely not known (a restarted sink has not placed the application yet):
    // asking is a read, where a refused create would be a write and a failed transaction.
    const metadata = plan.metadata !== undefined && (await client.exists(plan.metadata.path)) === undefined ? plan.metadata : undefined;
    const writes = sharedWrites({ application: plan.application, metadata, mappings });
    // A transaction cannot create parents: missing directories get our mark first, as `create` does.
    for (const dir of writes.dirs) await client.mkdirs(dir, mark);
    try {
      await record.commit(writes.entries, writes.ops);
      return true;
    } catch (err) {
      if (failedOp(err) === undefined) throw err;
    }
  }
  return false;
}
