// The WorkloadEntry reader with a scripted API: version fallback, "settled" (what keeps the
// source from reporting synced), one notice for a missing CRD or refused RBAC, and the source
// waiting for the entries before it says synced.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { CustomResource, KubeClient, Resource, WatchHandle } from './client.ts';
import { KubernetesOptions } from './options.ts';
import { KubernetesSource } from './source.ts';
import { WorkloadEntryWatch } from './workload-entry-watch.ts';

const refused = (r: CustomResource, status: number) => new BridgeError('ISTHMUS_REGISTRY_REJECTED', `kubernetes: list ${r.plural}.${r.group}: ${status}`, { details: { status } });

interface Script {
  /** Versions served; anything else answers 404. */
  served: readonly string[];
  /** Status answered instead of a list while set (403, 503…). */
  fail?: number;
  /** Resolves the entry list only when released (a slow API server). */
  gate?: Promise<void>;
}

function fakeClient(script: Script, calls: string[], count = 1): KubeClient {
  const entries = Array.from({ length: count }, (_, i) => ({ metadata: { namespace: 'shop', name: `vm-${i + 1}`, resourceVersion: '1', labels: { app: 'orders' } }, spec: { address: `10.0.${5 + (i >> 7)}.${(i & 127) + 1}`, labels: { app: 'orders' } } }));
  const api = {
    list: (resource: Resource) => Promise.resolve({
      items: resource === 'services' ? [{ metadata: { namespace: 'shop', name: 'orders', resourceVersion: '1' }, spec: { selector: { app: 'orders' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }] : [],
      resourceVersion: '1',
    }),
    listObjects: async (r: CustomResource, ns: string | undefined) => {
      calls.push(`list ${r.version} ${ns ?? '*'}`);
      await script.gate;
      if (script.fail !== undefined) throw refused(r, script.fail);
      if (!script.served.includes(r.version)) throw refused(r, 404);
      return { items: entries, resourceVersion: '1' };
    },
    watch: (r: Resource | CustomResource): Promise<WatchHandle> => {
      if (typeof r !== 'string') calls.push(`watch ${r.version}`);
      return Promise.resolve({ abort: () => undefined });
    },
  };
  return api as unknown as KubeClient;
}

const watchOf = (client: KubeClient, onChange = vi.fn()) => new WorkloadEntryWatch(client, { namespaces: [], minBackoffMs: 10, maxBackoffMs: 20, onChange, onNotice: () => undefined });

describe('WorkloadEntryWatch', () => {
  it('falls back to v1beta1 when v1 is not served, watches that version, reports each entry by namespace', async () => {
    const calls: string[] = [];
    const onChange = vi.fn();
    const w = watchOf(fakeClient({ served: ['v1beta1'] }, calls), onChange);
    const abort = new AbortController();
    w.start(abort.signal);
    await vi.waitFor(() => { expect(w.settled()).toBe(true); });
    await vi.waitFor(() => { expect(calls).toContain('watch v1beta1'); });
    expect(calls.slice(0, 2)).toEqual(['list v1 *', 'list v1beta1 *']);
    expect(w.inNamespace('shop').map((e) => e.metadata?.name)).toEqual(['vm-1']);
    expect(w.inNamespace('pay')).toEqual([]);
    expect(onChange).toHaveBeenCalledWith('shop', expect.objectContaining({ spec: expect.objectContaining({ address: '10.0.5.1' }) as unknown }), undefined);
    expect(w.notices()).toEqual([]);
    abort.abort();
  });

  it('without the CRD or without RBAC: settled (nothing to wait for), one notice, and it keeps trying', async () => {
    for (const [script, reason] of [
      [{ served: [] }, 'CRD workloadentries.networking.istio.io is not installed'],
      [{ served: ['v1'], fail: 403 }, 'RBAC: cannot list workloadentries.networking.istio.io cluster-wide'],
    ] as const) {
      const calls: string[] = [];
      const w = watchOf(fakeClient(script, calls));
      const abort = new AbortController();
      w.start(abort.signal);
      await vi.waitFor(() => { expect(w.notices()).toEqual([{ code: 'workloadentries-unreadable', reason: `WorkloadEntry not readable, VMs of the mesh not exported: ${reason}` }]); });
      expect(w.settled()).toBe(true);
      await vi.waitFor(() => { expect(calls.filter((c) => c === 'list v1 *').length).toBeGreaterThan(1); });
      abort.abort();
    }
  });

  it('an outage is not settled: the source stays unsynced until the entries are listed', async () => {
    const script: { served: string[]; fail?: number } = { served: ['v1'], fail: 503 };
    const w = watchOf(fakeClient(script, []));
    const abort = new AbortController();
    w.start(abort.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.settled()).toBe(false);
    delete script.fail;
    await vi.waitFor(() => { expect(w.settled()).toBe(true); });
    expect(w.notices()).toEqual([]);
    abort.abort();
  });

  it('the source reports synced only once the entries are in, and then exports them', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    const opts = Value.Default(KubernetesOptions, { source: { istio: { workloadEntries: true } } }) as KubernetesOptions;
    const source = new KubernetesSource('k8s', fakeClient({ served: ['v1'], gate }, []), opts);
    const abort = new AbortController();
    await source.start(abort.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(source.get({ namespace: 'shop', name: 'orders' })?.endpoints).toEqual([]); // Services and slices are in
    expect(source.hasSynced()).toBe(false);
    release();
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    expect(source.get({ namespace: 'shop', name: 'orders' })?.endpoints.map((e) => [e.address, e.ports, e.origin.nativeId])).toEqual([['10.0.5.1', { http: 8080 }, 'workloadentry/shop/vm-1']]);
    abort.abort();
  });

  it('a list of many entries recomputes the Service once, not once per entry (which would be quadratic)', async () => {
    const opts = Value.Default(KubernetesOptions, { source: { istio: { workloadEntries: true } } }) as KubernetesOptions;
    const source = new KubernetesSource('k8s', fakeClient({ served: ['v1'] }, [], 500), opts);
    let changes = 0;
    source.onChange(() => { changes++; });
    const abort = new AbortController();
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.get({ namespace: 'shop', name: 'orders' })?.endpoints.length).toBe(500); });
    // The Service itself, then all entries at once.
    expect(changes).toBeLessThanOrEqual(2);
    abort.abort();
  });
});
