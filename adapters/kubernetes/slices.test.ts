import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { endpointKey } from '../../bridge/model/index.ts';
import { K8S } from './markers.ts';
import { planSlices, type SliceOwner, sliceEndpoints } from './slices.ts';
import type { KEndpointSlice } from './types.ts';

const OWNER: SliceOwner = { bridgeId: 'b1', namespace: 'shop', service: 'orders', originalName: 'orders', originalNamespace: 'shop' };

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return {
    address: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    ports: { http: 8080 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry: 'nacos', nativeId: `n-${i}` },
    ...over,
  };
}

/** Pretends the server stored the plan (assigning resourceVersions), as the sink would see it next. */
function store(existing: KEndpointSlice[], plan: ReturnType<typeof planSlices>): KEndpointSlice[] {
  const byName = new Map(existing.map((s) => [s.metadata?.name, s]));
  for (const s of [...plan.create, ...plan.update]) byName.set(s.metadata?.name, { ...s, metadata: { ...s.metadata, resourceVersion: String(Math.random()) } });
  for (const s of plan.delete) byName.delete(s.metadata?.name);
  return [...byName.values()];
}

const writes = (p: ReturnType<typeof planSlices>) => p.create.length + p.update.length + p.delete.length;
const observed = (slices: KEndpointSlice[]) => slices.flatMap(sliceEndpoints).sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));

describe('planSlices', () => {
  it('splits into slices of at most N with deterministic names, then writes nothing on a repeat', () => {
    const want = Array.from({ length: 250 }, (_, i) => ep(i));
    const first = planSlices(OWNER, want, [], 100);
    expect(first.create.map((s) => s.endpoints?.length)).toEqual([100, 100, 50]);
    expect(first.create.map((s) => s.metadata?.name)).toEqual(planSlices(OWNER, want, [], 100).create.map((s) => s.metadata?.name));
    const s0 = first.create[0]!;
    expect(s0.metadata?.labels).toMatchObject({ [K8S.serviceName]: 'orders', [K8S.sliceManagedBy]: K8S.sliceController, [K8S.managedBy]: 'b1', [K8S.origin]: 'nacos' });
    const stored = store([], first);
    expect(writes(planSlices(OWNER, want, stored, 100))).toBe(0);
    const byKey = (a: Endpoint, b: Endpoint) => endpointKey(a).localeCompare(endpointKey(b));
    expect(observed(stored).map((e) => [e.address, e.origin])).toEqual([...want].sort(byKey).map((e) => [e.address, e.origin]));
  });

  it('one changed endpoint rewrites exactly one slice; removals leave others alone', () => {
    const want = Array.from({ length: 250 }, (_, i) => ep(i));
    const stored = store([], planSlices(OWNER, want, [], 100));
    const changed = want.map((e, i) => (i === 123 ? { ...e, ready: false, terminating: true } : e));
    const p = planSlices(OWNER, changed, stored, 100);
    expect([p.create.length, p.update.length, p.delete.length]).toEqual([0, 1, 0]);
    const fewer = want.filter((_, i) => i !== 7);
    expect(writes(planSlices(OWNER, fewer, stored, 100))).toBe(1);
    const added = [...want, ep(999)];
    const pa = planSlices(OWNER, added, stored, 100);
    expect([pa.create.length, pa.update.length]).toEqual([0, 1]);
  });

  it('separates IPv4 and IPv6 and origins, and round-trips conditions, zone and node', () => {
    const want = [ep(1, { zone: 'z1', node: 'vm-1' }), ep(2, { address: 'fd00::2' }), ep(3, { origin: { registry: 'consul', nativeId: 'c-3' }, ready: false, serving: true, terminating: true })];
    const p = planSlices(OWNER, want, [], 100);
    expect(p.create.map((s) => [s.addressType, s.metadata?.labels?.[K8S.origin]]).sort()).toEqual([['IPv4', 'consul'], ['IPv4', 'nacos'], ['IPv6', 'nacos']]);
    const back = observed(store([], p));
    const fields = (e: Endpoint) => [e.address, e.ports, e.ready, e.serving, e.terminating, e.zone ?? null, e.node ?? null, e.origin];
    expect(back.map(fields)).toEqual([...want].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b))).map(fields));
  });

  it('refuses endpoints a slice cannot hold and deletes slices left empty', () => {
    const p = planSlices(OWNER, [ep(1, { ports: { 'Bad_Name': 80 } }), ep(2)], [], 100);
    expect(p.refused.map((r) => r.reason)).toEqual(['port name "Bad_Name" is not a DNS label']);
    const stored = store([], p);
    expect(planSlices(OWNER, [], stored, 100).delete).toHaveLength(1);
  });
});

describe('planSlices regressions', () => {
  it('a port name that prefixes another (http, http2) keeps its slice: the next pass writes nothing', () => {
    const want = [ep(1, { ports: { http: 80, http2: 81 } }), ep(2, { ports: { http: 80, http2: 81 } })];
    const stored = store([], planSlices(OWNER, want, [], 100));
    expect(writes(planSlices(OWNER, want, stored, 100))).toBe(0);
  });

  it('refuses a port number a slice cannot hold instead of failing the whole write', () => {
    expect(planSlices(OWNER, [ep(1, { ports: { http: 0 } })], [], 100).refused.map((r) => r.reason)).toEqual(['port http=0 is outside 1-65535']);
  });
});
