import { describe, expect, it } from 'vitest';
import { sharedWrites } from './record-commit.ts';

const metadata = { path: '/dubbo/metadata/orders/rev1', data: Buffer.from('{"app":"orders"}') };

describe('sharedWrites: the znode ops of a plan and the record entries committed with them', () => {
  it('a mapping node absent at the read is created and recorded as created by us', () => {
    const w = sharedWrites({ application: 'orders', metadata, mappings: [{ path: '/dubbo/mapping/com.A', seen: null }] });
    expect(w.ops.map((o) => [o.op, o.path, o.data.toString()])).toEqual([
      ['create', metadata.path, metadata.data.toString()],
      ['create', '/dubbo/mapping/com.A', 'orders'],
    ]);
    expect(w.entries).toEqual([{ app: 'orders' }, { app: 'orders', mapping: { path: '/dubbo/mapping/com.A', created: true } }]);
    expect(w.dirs.sort()).toEqual(['/dubbo/mapping', '/dubbo/metadata/orders']);
  });

  it("an existing node gets our name appended with the version read, and is recorded as someone else's", () => {
    const w = sharedWrites({ application: 'orders', metadata: undefined, mappings: [{ path: '/dubbo/mapping/com.B', seen: { apps: ['native', 'legacy'], version: 4 } }] });
    expect(w.ops).toEqual([{ op: 'setData', path: '/dubbo/mapping/com.B', data: Buffer.from('native,legacy,orders'), version: 4 }]);
    expect(w.entries).toEqual([{ app: 'orders' }, { app: 'orders', mapping: { path: '/dubbo/mapping/com.B', created: false } }]);
    // The node exists, so no directory needs creating for it.
    expect(w.dirs).toEqual([]);
  });

  it('a node already listing the application is neither written nor claimed (it may be a native provider of that name)', () => {
    const w = sharedWrites({ application: 'orders', metadata: undefined, mappings: [{ path: '/dubbo/mapping/com.C', seen: { apps: ['orders'], version: 0 } }] });
    expect(w.ops).toEqual([]);
    expect(w.entries).toEqual([{ app: 'orders' }]);
  });

  it('the application is recorded with every plan that writes shared nodes, before anything depends on it', () => {
    const w = sharedWrites({ application: 'pay', metadata, mappings: [] });
    expect(w.entries).toEqual([{ app: 'pay' }]);
    expect(w.ops).toHaveLength(1);
  });
});
