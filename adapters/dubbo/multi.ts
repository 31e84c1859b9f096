import type * as Zk from 'node-zookeeper-client';
import { BridgeError } from '../../bridge/errors/index.ts';

/** One operation of a transaction (`ZkClient.multi`). */
export type ZkOp =
  | { readonly op: 'create'; readonly path: string; readonly data: Buffer; readonly acls: Zk.ACL[]; readonly mode: number }
  | { readonly op: 'setData'; readonly path: string; readonly data: Buffer; readonly version: number };

/** ZooKeeper marks the ops of a failed transaction that were not at fault with this code. */
const NOT_AT_FAULT = -2;

/**
 * Sends `ops` as one transaction. On failure the error carries the index of the op ZooKeeper
 * refused (`failedOp`), so a caller that batched several parties' ops knows whose it was.
 */
export function commitMulti(client: Zk.Client, ops: readonly ZkOp[], done: (err: unknown, value: undefined) => void): void {
  const t = client.transaction();
  // node-zookeeper-client 1.1.3's Transaction.setData does `version = version || -1`: version 0
  // (a node never changed: most mapping nodes, a new record) would become "any version" and the
  // compare-and-set silently unconditional. The queued op gets the version we mean.
  const queued = (t as unknown as { ops?: { version?: number }[] }).ops;
  if (!Array.isArray(queued)) throw new BridgeError('ISTHMUS_INTERNAL', 'node-zookeeper-client transaction without ops: cannot set versions');
  for (const op of ops) {
    if (op.op === 'create') t.create(op.path, op.data, op.acls, op.mode);
    else {
      t.setData(op.path, op.data, op.version);
      const last = queued[queued.length - 1];
      if (last !== undefined) last.version = op.version;
    }
  }
  t.commit((err, results: unknown) => {
    if (err !== null) {
      const list = Array.isArray(results) ? (results as { err?: unknown }[]) : [];
      const index = list.findIndex((r) => typeof r.err === 'number' && r.err !== 0 && r.err !== NOT_AT_FAULT);
      if (index >= 0) Object.assign(err, { failedOp: index });
    }
    done(err, undefined);
  });
}

/** Index of the op that made a transaction fail, when `err` comes from `ZkClient.multi`. */
export function failedOp(err: unknown): number | undefined {
  const cause: unknown = err instanceof BridgeError ? err.cause : err;
  const i = (cause as { failedOp?: unknown } | null)?.failedOp;
  return typeof i === 'number' ? i : undefined;
}
