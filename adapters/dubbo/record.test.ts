import { describe, expect, it } from 'vitest';
import { EMPTY_DOC, batchLength, isEmptyDoc, parseCreationDoc, recordPath, withApp, withMapping } from './record.ts';
import { shardNumber, shardPath } from './record-shards.ts';

describe('dubbo creation record', () => {
  it('records an application once, and a mapping entry with whether we created the node', () => {
    const a = withApp(EMPTY_DOC, 'orders');
    expect(a).toEqual({ apps: ['orders'], mappings: {} });
    expect(withApp(a!, 'orders')).toBeUndefined(); // unchanged: no write on restart
    const m = withMapping(a!, '/dubbo/mapping/X', 'orders', true);
    expect(m?.mappings['/dubbo/mapping/X']).toEqual({ created: true, apps: ['orders'] });
    expect(withMapping(m!, '/dubbo/mapping/X', 'orders', false)).toBeUndefined();
    // Appending a second application keeps "created": the node was still ours to delete once empty.
    expect(withMapping(m!, '/dubbo/mapping/X', 'billing', false)?.mappings['/dubbo/mapping/X']).toEqual({ created: true, apps: ['billing', 'orders'] });
  });

  it('round-trips through JSON and treats a missing record as empty', () => {
    const doc = withMapping(withApp(EMPTY_DOC, 'a')!, '/r/mapping/I', 'a', false)!;
    expect(parseCreationDoc(Buffer.from(JSON.stringify(doc)))).toEqual(doc);
    expect(isEmptyDoc(parseCreationDoc(undefined))).toBe(true);
    expect(isEmptyDoc(doc)).toBe(false);
  });

  it('keeps one record per bridge id and layout, as one znode name', () => {
    const p = recordPath('/isthmus', { bridgeId: 'prod/eu', root: '/dubbo', servicesRoot: '/services' });
    expect(p).toBe('/isthmus/prod%2Feu@%2Fdubbo@%2Fservices');
    expect(p.split('/')).toHaveLength(3);
    expect(recordPath('/isthmus', { bridgeId: 'prod/eu', root: '/dubbo-a', servicesRoot: '/services' })).not.toBe(p);
  });
});

describe('record shards', () => {
  it('keeps the unsharded path as shard 0 and numbers the others after it', () => {
    expect(shardPath('/isthmus/b@r@s', 0)).toBe('/isthmus/b@r@s');
    expect(shardPath('/isthmus/b@r@s', 3)).toBe('/isthmus/b@r@s#3');
    expect(shardNumber('/isthmus/b@r@s', 'b@r@s')).toBe(0);
    expect(shardNumber('/isthmus/b@r@s', 'b@r@s#12')).toBe(12);
    // Another bridge's record, and names that only look alike, are not ours.
    for (const other of ['b@r@s2', 'b@r@s#', 'b@r@s#0', 'b@r@s#x', 'x@r@s#1']) expect(shardNumber('/isthmus/b@r@s', other)).toBeUndefined();
  });
});

describe('batchLength: how many queued changes share one transaction', () => {
  const item = (kb: number) => ({ ops: kb === 0 ? [] : [{ data: Buffer.alloc(kb * 1024) }] });
  it('takes everything while the ops fit, and at least one even when it alone is big', () => {
    expect(batchLength([item(1), item(0), item(2)])).toBe(3);
    expect(batchLength([item(300), item(1)])).toBe(1);
    expect(batchLength([item(200), item(50), item(10), item(1)])).toBe(2);
    expect(batchLength([])).toBe(0);
  });
});
