import { describe, expect, it } from 'vitest';
import { type ExportedWorkload, type KPeerAuthentication, strictFor } from './peer-auth.ts';

const ROOT = 'istio-system';
const ORDERS: ExportedWorkload = { namespace: 'shop', name: 'orders', selector: { app: 'orders' }, targetPorts: [8080, 9090] };

let clock = 0;
function pa(ns: string, name: string, mode: string | undefined, over: { labels?: Record<string, string>; ports?: Record<string, string>; created?: string } = {}): KPeerAuthentication {
  clock++;
  return {
    metadata: { namespace: ns, name, creationTimestamp: over.created ?? `2026-01-01T00:00:${String(clock).padStart(2, '0')}Z` },
    spec: {
      ...(over.labels === undefined ? {} : { selector: { matchLabels: over.labels } }),
      ...(mode === undefined ? {} : { mtls: { mode } }),
      ...(over.ports === undefined ? {} : { portLevelMtls: Object.fromEntries(Object.entries(over.ports).map(([p, m]) => [p, { mode: m }])) }),
    },
  };
}

describe('strictFor', () => {
  it('reports nothing without policies (Istio defaults to PERMISSIVE)', () => {
    expect(strictFor(ORDERS, [], ROOT)).toBeUndefined();
  });

  it('reports a workload STRICT policy by name, with the reason status shows', () => {
    const f = strictFor(ORDERS, [pa('shop', 'strict-orders', 'STRICT', { labels: { app: 'orders' } })], ROOT);
    expect(f).toEqual({ policy: 'shop/strict-orders', ports: [], uncertain: false, reason: 'STRICT mTLS (PeerAuthentication shop/strict-orders) refuses plaintext from VM callers on shop/orders' });
  });

  it('applies mesh-wide policies from the root namespace only', () => {
    expect(strictFor(ORDERS, [pa(ROOT, 'default', 'STRICT')], ROOT)?.policy).toBe('istio-system/default');
    expect(strictFor(ORDERS, [pa('other', 'default', 'STRICT')], ROOT)).toBeUndefined();
    expect(strictFor(ORDERS, [pa('mesh', 'default', 'STRICT')], 'mesh')?.policy).toBe('mesh/default');
    // A selector in the root namespace picks workloads of the root namespace, not the mesh.
    expect(strictFor(ORDERS, [pa(ROOT, 'sel', 'STRICT', { labels: { app: 'orders' } })], ROOT)).toBeUndefined();
    // ...nor, as Istio ignores them, the root namespace's own workloads.
    expect(strictFor({ ...ORDERS, namespace: ROOT }, [pa(ROOT, 'sel', 'STRICT', { labels: { app: 'orders' } })], ROOT)).toBeUndefined();
  });

  it('lets the most specific level win: workload > namespace > mesh', () => {
    expect(strictFor(ORDERS, [pa(ROOT, 'default', 'STRICT'), pa('shop', 'ns', 'PERMISSIVE')], ROOT)).toBeUndefined();
    expect(strictFor(ORDERS, [pa('shop', 'ns', 'STRICT'), pa('shop', 'orders-open', 'PERMISSIVE', { labels: { app: 'orders' } })], ROOT)).toBeUndefined();
    expect(strictFor(ORDERS, [pa(ROOT, 'default', 'PERMISSIVE'), pa('shop', 'ns', 'STRICT')], ROOT)?.policy).toBe('shop/ns');
    expect(strictFor(ORDERS, [pa('shop', 'ns', 'DISABLE'), pa('shop', 'w', 'STRICT', { labels: { app: 'orders' } })], ROOT)?.policy).toBe('shop/w');
  });

  it('lets UNSET inherit from the level above', () => {
    expect(strictFor(ORDERS, [pa(ROOT, 'default', 'STRICT'), pa('shop', 'ns', 'UNSET')], ROOT)?.policy).toBe('istio-system/default');
    expect(strictFor(ORDERS, [pa('shop', 'ns', 'STRICT'), pa('shop', 'w', undefined, { labels: { app: 'orders' } })], ROOT)?.policy).toBe('shop/ns');
    expect(strictFor(ORDERS, [pa(ROOT, 'default', 'UNSET')], ROOT)).toBeUndefined();
  });

  it('takes the oldest policy when two apply at one level', () => {
    const older = pa('shop', 'b-open', 'PERMISSIVE', { created: '2025-01-01T00:00:00Z' });
    const newer = pa('shop', 'a-strict', 'STRICT', { created: '2026-06-01T00:00:00Z' });
    expect(strictFor(ORDERS, [newer, older], ROOT)).toBeUndefined();
  });

  it('names the STRICT ports when port-level settings split the workload', () => {
    const f = strictFor(ORDERS, [pa('shop', 'w', 'PERMISSIVE', { labels: { app: 'orders' }, ports: { '9090': 'STRICT' } })], ROOT);
    expect(f?.ports).toEqual([9090]);
    expect(f?.reason).toBe('STRICT mTLS (PeerAuthentication shop/w) refuses plaintext from VM callers on shop/orders port 9090');
    const g = strictFor(ORDERS, [pa('shop', 'ns', 'STRICT'), pa('shop', 'w', 'UNSET', { labels: { app: 'orders' }, ports: { '8080': 'PERMISSIVE', '9090': 'UNSET' } })], ROOT);
    expect(g).toMatchObject({ policy: 'shop/ns', ports: [9090] });
    // A port that is not exported does not matter.
    expect(strictFor(ORDERS, [pa('shop', 'w', 'PERMISSIVE', { labels: { app: 'orders' }, ports: { '7070': 'STRICT' } })], ROOT)).toBeUndefined();
  });

  it('ignores port-level settings of a policy without selector', () => {
    expect(strictFor(ORDERS, [pa('shop', 'ns', 'PERMISSIVE', { ports: { '8080': 'STRICT' } })], ROOT)).toBeUndefined();
  });

  it('skips policies whose selector conflicts with the Service selector', () => {
    expect(strictFor(ORDERS, [pa('shop', 'w', 'STRICT', { labels: { app: 'payments' } })], ROOT)).toBeUndefined();
  });

  it('says "may" when a policy selects labels beyond the Service selector', () => {
    const f = strictFor(ORDERS, [pa('shop', 'canary', 'STRICT', { labels: { app: 'orders', track: 'canary' } })], ROOT);
    expect(f).toMatchObject({ policy: 'shop/canary', uncertain: true });
    expect(f?.reason).toContain('may refuse');
    // Namespace STRICT with a PERMISSIVE exception for some pods: still STRICT for the others.
    const g = strictFor(ORDERS, [pa('shop', 'ns', 'STRICT'), pa('shop', 'canary', 'PERMISSIVE', { labels: { app: 'orders', track: 'canary' } })], ROOT);
    expect(g).toMatchObject({ policy: 'shop/ns', uncertain: true });
  });

  it('treats an empty matchLabels as namespace-wide', () => {
    expect(strictFor(ORDERS, [pa('shop', 'ns', 'STRICT', { labels: {} })], ROOT)?.policy).toBe('shop/ns');
  });
});
