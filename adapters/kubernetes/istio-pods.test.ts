import { describe, expect, it } from 'vitest';
import { podSubsetNotice, podSubsetSelector } from './istio-pods.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

const OWNER: SliceOwner = { bridgeId: 'b1', namespace: 'shop', service: 'orders', originalName: 'orders', originalNamespace: 'shop' };
const POD_LABELS = { 'isthmus.dev/side': 'k8s' };
const svc = (selector: Record<string, string> | undefined, labels?: Record<string, string>): KService => ({ metadata: { name: 'orders', namespace: 'shop', ...(labels === undefined ? {} : { labels }) }, spec: selector === undefined ? {} : { selector } });

describe('podSubsetSelector: which pods the k8s subset would route to', () => {
  it('the Service selector plus podSubsetLabels', () => {
    expect(podSubsetSelector(svc({ app: 'orders', tier: 'api' }), 'b1', POD_LABELS)).toBe('app=orders,tier=api,isthmus.dev/side=k8s');
  });

  it('a key in both with different values stays twice, so no pod matches (as no endpoint would match the subset)', () => {
    expect(podSubsetSelector(svc({ app: 'orders' }), 'b1', { app: 'orders-v2' })).toBe('app=orders,app=orders-v2');
  });

  it('nothing to list where no VirtualService can be written: no Service, ours, or without a selector', () => {
    expect(podSubsetSelector(undefined, 'b1', POD_LABELS)).toBeUndefined();
    expect(podSubsetSelector(svc(undefined, { 'isthmus.dev/managed-by': 'b1' }), 'b1', POD_LABELS)).toBeUndefined();
    expect(podSubsetSelector(svc({}), 'b1', POD_LABELS)).toBeUndefined();
  });
});

describe('podSubsetNotice', () => {
  it('none while a pod carries the labels or the pods get no share', () => {
    expect(podSubsetNotice(OWNER, POD_LABELS, 30, { labelled: true })).toBeUndefined();
    expect(podSubsetNotice(OWNER, POD_LABELS, 0, { labelled: false })).toBeUndefined();
  });

  it('names the service, the missing labels, the share and what to do', () => {
    const n = podSubsetNotice(OWNER, { 'isthmus.dev/side': 'k8s', track: 'new' }, 30, { labelled: false });
    expect(n?.nativeId).toBe('VirtualService shop/orders-isthmus subset k8s');
    expect(n?.reason).toContain('Service shop/orders');
    expect(n?.reason).toContain('isthmus.dev/side=k8s, track=new (sink.istio.podSubsetLabels)');
    expect(n?.reason).toContain("pods' 30 % of calls goes to the Service host without a subset");
    expect(n?.reason).toContain("add the labels to the pods' template");
  });
});
