import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { toRegistration, type ExportSettings } from './encode.ts';
import { batch, nodeDiffers, nodeOp, planWrites } from './plan.ts';

const S: ExportSettings = { bridgeId: 'b1', node: 'isthmus-b1', portName: 'http', zoneMetaKey: 'zone', drainingStatus: 'warning', extraTags: [], namespace: 'default' };
const REF = { namespace: 'default', name: 'orders' };
const ep = (i: number, ready = true): Endpoint => ({
  address: `10.0.0.${i}`,
  ports: { http: 80 },
  ready,
  serving: true,
  terminating: !ready,
  weight: 100,
  metadata: {},
  origin: { registry: 'k8s', nativeId: `n${i}` },
});
const held = (e: Endpoint) => {
  const r = toRegistration(REF, e, S);
  return { service: { ...r.service }, check: { ...r.check } };
};

describe('planWrites', () => {
  it('writes nothing when Consul already holds the desired state', () => {
    const want = [1, 2].map((i) => toRegistration(REF, ep(i), S));
    expect(planWrites('isthmus-b1', 'b1', want, [held(ep(1)), held(ep(2))])).toEqual([]);
  });

  it('writes only the check when only the health changed, and both for a new instance', () => {
    const writes = planWrites('isthmus-b1', 'b1', [toRegistration(REF, ep(1, false), S), toRegistration(REF, ep(2), S)], [held(ep(1))]);
    expect(writes.map((w) => w.ops.map((op) => Object.keys(op)[0]))).toEqual([['Check'], ['Service', 'Check']]);
    const [flip, created] = writes;
    expect(flip?.operation).toEqual({ verb: 'update', record: `check service:${held(ep(1)).service.ID} → warning` });
    expect(created?.operation).toEqual({ verb: 'create', record: `service ${held(ep(2)).service.ID}` });
  });

  it('deletes only records this bridge owns', () => {
    const mine = held(ep(3));
    const foreign = { service: { ...held(ep(4)).service, ID: 'hand-made', Meta: { 'isthmus-managed-by': 'b2' } } };
    const writes = planWrites('isthmus-b1', 'b1', [], [mine, foreign]);
    expect(writes).toEqual([{
      operation: { verb: 'delete', record: `service ${mine.service.ID}` },
      ops: [{ Service: { Verb: 'delete', Node: 'isthmus-b1', Service: { ID: mine.service.ID, Service: mine.service.Service } } }],
    }]);
  });
});

describe('batch', () => {
  it('packs instances into transactions of at most maxOps, each led by the node upsert', () => {
    const node = nodeOp('isthmus-b1', '127.0.0.1', 'b1');
    const groups = Array.from({ length: 100 }, () => [{ a: 1 }, { b: 2 }]);
    const txns = batch(node, groups, 128);
    expect(txns.map((t) => t.length)).toEqual([127, 75]);
    expect(txns.every((t) => t[0] === node)).toBe(true);
    expect(batch(node, [], 128)).toEqual([]);
    const big = Array.from({ length: 10 }, () => [{ blob: 'x'.repeat(1000) }]);
    expect(batch(node, big, 128, 3500).map((t) => t.length)).toEqual([4, 4, 4, 2]);
  });

  it('never splits one instance across transactions', () => {
    const node = nodeOp('n', '127.0.0.1', 'b1');
    const txns = batch(node, Array.from({ length: 5 }, () => [{ s: 1 }, { c: 1 }]), 4);
    expect(txns.map((t) => t.length)).toEqual([3, 3, 3, 3, 3]);
  });
});

describe('nodeDiffers', () => {
  const node = { Node: 'isthmus-b1', Address: '127.0.0.1', Meta: { 'external-source': 'isthmus', 'isthmus-managed-by': 'b1', 'consul-extra': 'x' } };
  it('sees an address or marker drift of our node, ignores keys Consul adds and nodes other bridges claim', () => {
    expect(nodeDiffers(node, '127.0.0.1', 'b1')).toBe(false);
    expect(nodeDiffers(node, '10.0.0.1', 'b1')).toBe(true);
    expect(nodeDiffers({ ...node, Meta: { 'external-source': 'isthmus' } }, '127.0.0.1', 'b1')).toBe(true);
    expect(nodeDiffers(node, '10.0.0.1', 'b2')).toBe(false);
  });
});
