import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { hashedName, isDns1123Subdomain, newMigration, toMigration, toMigrations, type KMigration } from './migration-convert.ts';

function obj(ns: string, name: string, spec: unknown, extra: { created?: string; generation?: number; status?: unknown } = {}): KMigration {
  return {
    apiVersion: 'isthmus.dev/v1alpha1',
    kind: 'ServiceMigration',
    metadata: { namespace: ns, name, generation: extra.generation ?? 1, creationTimestamp: extra.created ?? '2025-01-01T00:00:00Z' },
    spec,
    ...(extra.status === undefined ? {} : { status: extra.status }),
  };
}

describe('toMigration', () => {
  it('takes the ref from the object, the split, phase, generation and status as read', () => {
    const status = { service: 'shop/orders', origins: { vm: { ready: 2, total: 2 } } };
    const m = toMigration(obj('shop', 'orders', { split: { vm: 90, k8s: 10 }, phase: 'shifting' }, { generation: 4, status }));
    expect(m).toEqual({ object: { namespace: 'shop', name: 'orders' }, ref: { namespace: 'shop', name: 'orders' }, split: { vm: 90, k8s: 10 }, phase: 'shifting', generation: 4, status });
  });

  it('reads spec.service as a name in the object namespace or as namespace/name', () => {
    expect(toMigration(obj('shop', 'm1', { service: 'Orders_V2' })).ref).toEqual({ namespace: 'shop', name: 'Orders_V2' });
    expect(toMigration(obj('ops', 'm1', { service: 'public/orders.v2' })).ref).toEqual({ namespace: 'public', name: 'orders.v2' });
  });

  it('an object without split has neither split nor problem', () => {
    const m = toMigration(obj('shop', 'orders', {}));
    expect(m.split).toBeUndefined();
    expect(m.problem).toBeUndefined();
    expect('split' in m).toBe(false);
  });

  it.each([
    [{ split: { vm: -1 } }, /spec\.split\.vm: .*0-10000/],
    [{ split: { vm: 'ninety' } }, /spec\.split\.vm/],
    [{ split: {} }, /spec\.split/],
    [{ split: { vm: 0, k8s: 0 } }, /spec\.split: at least one share must be above 0/],
    [{ phase: 'halfway' }, /spec\.phase must be one of vm-only, shifting/],
    [{ weights: { vm: 1 } }, /spec\.weights/],
    ['not an object', /spec must be an object/],
    [{ service: 'a/b/c' }, /spec\.service "a\/b\/c": service name .*contains "\/"/],
    [{ service: 'shop/' }, /spec\.service "shop\/": service name is empty/],
    [{ service: 42 }, /spec\.service must be a string/],
  ])('a bad spec %j gives a readable problem, never a throw', (spec, reason) => {
    const m = toMigration(obj('shop', 'orders', spec));
    expect(m.problem).toMatch(reason);
    expect(m.split).toBeUndefined();
  });

  it('a bad spec.service keeps the object name as a placeholder ref', () => {
    expect(toMigration(obj('shop', 'orders', { service: 'a/b/c', split: { vm: 1 } })).ref).toEqual({ namespace: 'shop', name: 'orders' });
  });

  it('survives objects with nothing in them', () => {
    expect(toMigration({}).problem).toMatch(/empty/);
    expect(toMigration({ metadata: { namespace: 'a', name: 'b' } })).toMatchObject({ ref: { namespace: 'a', name: 'b' }, generation: 0 });
    expect(toMigration({ metadata: { namespace: 'a', name: 'b' }, status: ['x'] }).status).toBeUndefined();
  });
});

describe('toMigrations', () => {
  it('the oldest object governs a service; the others carry a problem and no split', () => {
    const list = toMigrations([
      obj('shop', 'orders', { split: { vm: 1 } }, { created: '2025-03-01T00:00:00Z' }),
      obj('ops', 'orders-mig', { service: 'shop/orders', split: { k8s: 1 } }, { created: '2025-02-01T00:00:00Z' }),
      obj('shop', 'payments', { split: { vm: 1 } }),
    ]);
    expect(list.map((m) => `${m.object.namespace}/${m.object.name}`)).toEqual(['ops/orders-mig', 'shop/orders', 'shop/payments']);
    expect(list[0]).toMatchObject({ split: { k8s: 1 } });
    expect(list[0]?.problem).toBeUndefined();
    expect(list[1]?.problem).toBe('another ServiceMigration (ops/orders-mig) already governs shop/orders');
    expect(list[1]?.split).toBeUndefined();
    expect(list[2]?.problem).toBeUndefined();
  });

  it('same creation second: namespace/name decides, identically in any input order', () => {
    const a = obj('shop', 'a', { service: 'orders', split: { vm: 1 } });
    const b = obj('shop', 'b', { service: 'orders', split: { vm: 2 } });
    for (const input of [[a, b], [b, a]]) {
      const list = toMigrations(input);
      expect(list[0]?.problem).toBeUndefined();
      expect(list[1]?.problem).toBe('another ServiceMigration (shop/a) already governs shop/orders');
    }
  });

  it('an object with an unreadable spec.service governs nothing', () => {
    const list = toMigrations([
      obj('shop', 'orders', { service: 'x/y/z' }, { created: '2024-01-01T00:00:00Z' }),
      obj('shop', 'later', { service: 'orders', split: { vm: 1 } }),
    ]);
    expect(list.find((m) => m.object.name === 'later')).toMatchObject({ split: { vm: 1 } });
    expect(list.find((m) => m.object.name === 'later')?.problem).toBeUndefined();
  });

  it('an object with a bad split still governs (a second object would not fix it)', () => {
    const list = toMigrations([
      obj('shop', 'orders', { split: { vm: 0 } }, { created: '2024-01-01T00:00:00Z' }),
      obj('shop', 'other', { service: 'orders', split: { vm: 1 } }),
    ]);
    expect(list[0]?.problem).toMatch(/at least one share/);
    expect(list[1]?.problem).toMatch(/shop\/orders\) already governs/);
  });
});

describe('newMigration', () => {
  it('a DNS-1123 service name becomes the object name, labelled as ours', () => {
    const n = newMigration({ namespace: 'shop', name: 'orders.v2' }, { vm: 90, k8s: 10 });
    expect(n.object).toEqual({ namespace: 'shop', name: 'orders.v2' });
    expect(n.body).toEqual({
      apiVersion: 'isthmus.dev/v1alpha1',
      kind: 'ServiceMigration',
      metadata: { namespace: 'shop', name: 'orders.v2', labels: { 'app.kubernetes.io/managed-by': 'isthmus' } },
      spec: { split: { vm: 90, k8s: 10 } },
    });
  });

  it('another name gets a sanitised, hashed object name and spec.service', () => {
    const n = newMigration({ namespace: 'shop', name: 'Orders_V2' }, { vm: 1 });
    expect(n.object.name).toMatch(/^orders-v2-[0-9a-f]{8}$/);
    expect(n.body.spec).toEqual({ service: 'Orders_V2', split: { vm: 1 } });
    expect(newMigration({ namespace: 'shop', name: 'Orders_V2' }, undefined).object.name).toBe(n.object.name);
    expect(newMigration({ namespace: 'shop', name: 'orders_v2' }, undefined).object.name).not.toBe(n.object.name);
    expect(toMigration(n.body).problem).toBeUndefined();
  });

  it('forced hashing (plain name taken) still names the service', () => {
    const n = newMigration({ namespace: 'shop', name: 'orders' }, undefined, true);
    expect(n.object.name).toMatch(/^orders-[0-9a-f]{8}$/);
    expect(n.body.spec).toEqual({ service: 'orders' });
  });

  it.each(['UPPER', 'a.b', '-x', 'x'.repeat(64), 'ns/with', ''])('refuses namespace %j with instructions', (ns) => {
    let err: unknown;
    try {
      newMigration({ namespace: ns, name: 'orders' }, undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_USAGE');
    expect((err as BridgeError).message).toContain(`spec.service: "${ns}/orders"`);
  });

  it('refuses a service name spec.service cannot hold', () => {
    expect(() => newMigration({ namespace: 'shop', name: 'X'.repeat(300) }, undefined)).toThrow(/longer than 253/);
  });
});

describe('hashedName', () => {
  it.each(['Orders_V2', '---', '日本', 'a'.repeat(400), 'Foo..Bar', 'x.Y'])('%j gives a valid DNS-1123 subdomain', (s) => {
    const n = hashedName(s);
    expect(isDns1123Subdomain(n)).toBe(true);
    expect(n.length).toBeLessThanOrEqual(253);
  });
});
