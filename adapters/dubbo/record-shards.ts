import type { ZkClient } from './client.ts';
import { CreationRecord, type CreationDoc } from './record.ts';

/**
 * ZooKeeper refuses a znode over jute.maxbuffer (1 MB unless the server raises it), and one
 * mapping entry takes ~100 bytes of JSON: a single record stops accepting writes near 10,000
 * exported interfaces, and with it every plan that adds one. Sixteen shards hold ~16 MB.
 */
export const RECORD_SHARDS = 16;

/** Shard 0 keeps the unsharded record's path, so a record written before sharding is still read and retired. */
export function shardPath(base: string, shard: number): string {
  // '#' is never in a record path's own name (recordPath percent-encodes it), so no collision.
  return shard === 0 ? base : `${base}#${shard}`;
}

/** FNV-1a: stable across processes and versions, which the shard of a key must be. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** The creation record split over `count` znodes by entry key (application name or mapping path). */
export class RecordShards {
  readonly path: string;
  readonly shards: readonly CreationRecord[];

  constructor(client: ZkClient, path: string, dirMark: Buffer, digest?: string, count = RECORD_SHARDS) {
    this.path = path;
    this.shards = Array.from({ length: count }, (_, i) => new CreationRecord(client, shardPath(path, i), dirMark, digest));
  }

  /** Applies `change` to the shard that holds `key`; concurrent changes of one shard share a write. */
  update(key: string, change: (doc: CreationDoc) => CreationDoc | undefined): Promise<void> {
    const shard = this.shards[shardOf(key, this.shards.length)];
    if (shard === undefined) throw new Error(`no record shard for ${key}`);
    return shard.update(change);
  }
}
