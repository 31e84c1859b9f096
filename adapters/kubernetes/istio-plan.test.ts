import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { Split } from '../../bridge/sync/split.ts';
import { istioEndpoints, type IstioState, planIstio, type IstioPlan } from './istio-plan.ts';
import { observedWithIstio, planWithIstio, type ModeContext } from './istio-mode.ts';
import { istioModeFor } from './istio-sink.ts';
import { DESTINATION_RULES, type KDestinationRule, type KServiceEntry, type KVirtualService, type KWorkloadEntry, type RouteDestination, SERVICE_ENTRIES, VIRTUAL_SERVICES, WORKLOAD_ENTRIES } from './istio-types.ts';
import type { IstioOptions } from './options.ts';
import { observedOf, type KubeSinkState } from './sink-plan.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

const BRIDGE = 'b1';
const REF = { namespace: 'shop', name: 'orders' };
const OWNER: SliceOwner = { bridgeId: BRIDGE, namespace: 'shop', service: 'orders', originalName: 'orders', originalNamespace: 'shop' };
const OPTIONS: IstioOptions = { enabled: true, services: ['*'], clusterDomain: 'cluster.local', exportTo: ['*'], podSubsetLabels: { 'isthmus.dev/side': 'k8s' }, vipCidr: '240.240.0.0/16' };
const NONE: IstioState = { entries: [], serviceEntry: undefined, destinationRule: undefined, virtualService: undefined, usedVips: [] };
const LABELLED: IstioState = { ...NONE, podSubset: { labelled: true } };
const ctx = (split?: Split) => ({ bridgeId: BRIDGE, sinkId: 'k8s', options: OPTIONS, mixed: 'annotated' as const, split });

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.0.0.${i}`, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'zk', nativeId: `vm-${i}` }, ...over };
}
function snap(endpoints: Endpoint[], ports = [{ name: 'dubbo', port: 20880 }]): ServiceSnapshot {
  return { ref: REF, ports, endpoints, metadata: {}, origin: 'zk' };
}
const SELECTOR_SVC: KService = { metadata: { name: 'orders', namespace: 'shop', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: 'orders' }, ports: [{ name: 'dubbo', port: 20880 }] } };

/** A fake API server: the state the next read would return after `plan` ran. */
function apply(state: IstioState, plan: IstioPlan): IstioState {
  const stamp = <T>(o: T): T => ({ ...o, metadata: { ...(o as { metadata?: object }).metadata, resourceVersion: String(Math.random()) } });
  const entries = new Map(state.entries.map((w) => [w.metadata?.name, w]));
  let { serviceEntry, destinationRule, virtualService } = state;
  for (const w of plan.upserts) {
    if (w.resource === WORKLOAD_ENTRIES) entries.set(w.body.metadata?.name, stamp(w.body as KWorkloadEntry));
    if (w.resource === SERVICE_ENTRIES) serviceEntry = stamp(w.body as KServiceEntry);
    if (w.resource === DESTINATION_RULES) destinationRule = stamp(w.body as KDestinationRule);
    if (w.resource === VIRTUAL_SERVICES) virtualService = stamp(w.body as KVirtualService);
  }
  for (const w of plan.deletes) {
    if (w.resource === WORKLOAD_ENTRIES) entries.delete(w.body.metadata?.name);
    if (w.resource === SERVICE_ENTRIES) serviceEntry = undefined;
    if (w.resource === DESTINATION_RULES) destinationRule = undefined;
    if (w.resource === VIRTUAL_SERVICES) virtualService = undefined;
  }
  return { ...state, entries: [...entries.values()], serviceEntry, destinationRule, virtualService };
}
const ops = (p: IstioPlan) => p.operations.map((o) => `${o.verb} ${o.record.split(' ')[0] ?? ''}`);
/** The VirtualService's HTTP route as [subset or "host", weight]; the TCP route must be the same. */
function routes(p: IstioPlan): [string, number][] | undefined {
  const vs = p.upserts.find((w) => w.kind === 'VirtualService')?.body as KVirtualService | undefined;
  const pairs = (r: RouteDestination[] | undefined) => r?.map((d): [string, number] => [d.destination.subset ?? 'host', d.weight ?? 0]);
  const http = pairs(vs?.spec?.http?.[0]?.route);
  expect(pairs(vs?.spec?.tcp?.[0]?.route)).toEqual(http);
  return http;
}

describe('planIstio (pure read → plan)', () => {
  it('VM-only: entries, ServiceEntry with a VIP, DestinationRule; a second plan is empty; not-ready instances are withdrawn', () => {
    const want = snap([ep(1), ep(2), ep(3, { ready: false, serving: false })]);
    const first = planIstio(OWNER, undefined, NONE, want, ctx());
    expect(ops(first)).toEqual(['create WorkloadEntry', 'create WorkloadEntry', 'create ServiceEntry', 'create DestinationRule']);
    const se = first.upserts.find((w) => w.kind === 'ServiceEntry')?.body as KServiceEntry;
    expect(se.spec).toMatchObject({ location: 'MESH_INTERNAL', resolution: 'STATIC', exportTo: ['*'], workloadSelector: { labels: { app: 'orders', 'isthmus.dev/side': 'vm' } } });
    expect(se.spec?.addresses?.[0]).toMatch(/^240\.240\./);
    const after = apply(NONE, first);
    expect(planIstio(OWNER, undefined, after, want, ctx()).operations).toEqual([]);
    // The ServiceEntry keeps its VIP even if the allocation would now pick another one.
    expect(planIstio(OWNER, undefined, { ...after, usedVips: [se.spec?.addresses?.[0] ?? ''] }, want, ctx()).operations).toEqual([]);
  });

  it('writes weights on Istio\'s scale (a neutral VM counts as one pod), and a second plan of odd weights is empty', () => {
    const want = snap([ep(1), ep(2, { weight: 150 }), ep(3, { weight: 40 }), ep(4, { weight: 1000 })]);
    const first = planIstio(OWNER, undefined, NONE, want, ctx());
    const weights = first.upserts.filter((w) => w.kind === 'WorkloadEntry').map((w) => [(w.body as KWorkloadEntry).spec?.address, (w.body as KWorkloadEntry).spec?.weight]);
    expect(weights).toEqual([['10.0.0.1', 1], ['10.0.0.2', 2], ['10.0.0.3', 1], ['10.0.0.4', 10]]);
    const after = apply(NONE, first);
    expect(planIstio(OWNER, undefined, after, want, ctx()).operations).toEqual([]);
    // Read back on the model's scale, as the source reads a WorkloadEntry's weight.
    expect(istioEndpoints(after).map((e) => e.weight)).toEqual([100, 200, 100, 1000]);
  });

  it('an emptied service keeps its ServiceEntry; a service gone from every source loses everything', () => {
    const after = apply(NONE, planIstio(OWNER, undefined, NONE, snap([ep(1)]), ctx()));
    expect(ops(planIstio(OWNER, undefined, after, snap([], []), ctx()))).toEqual(['delete WorkloadEntry']);
    expect(ops(planIstio(OWNER, undefined, after, undefined, ctx()))).toEqual(['delete DestinationRule', 'delete ServiceEntry', 'delete WorkloadEntry']);
  });

  it('selector Service: no ServiceEntry, a VirtualService with the split; a split change rewrites only it', () => {
    const want = snap([ep(1), ep(2)]);
    const first = planIstio(OWNER, SELECTOR_SVC, LABELLED, want, ctx({ zk: 80, k8s: 20 }));
    expect(ops(first)).toEqual(['create WorkloadEntry', 'create WorkloadEntry', 'create DestinationRule', 'create VirtualService']);
    expect(routes(first)).toEqual([['vm', 80], ['k8s', 20]]);
    expect(first.notices).toEqual([]);
    const after = apply(LABELLED, first);
    expect(planIstio(OWNER, SELECTOR_SVC, after, want, ctx({ zk: 80, k8s: 20 })).operations).toEqual([]);
    expect(planIstio(OWNER, SELECTOR_SVC, after, want, ctx({ zk: 4, k8s: 1 })).operations).toEqual([]); // same ratio
    expect(ops(planIstio(OWNER, SELECTOR_SVC, after, want, ctx({ zk: 10, k8s: 90 })))).toEqual(['update VirtualService']);
    expect(ops(planIstio(OWNER, SELECTOR_SVC, after, want, ctx()))).toEqual(['delete VirtualService']);
  });

  it('a ServiceEntry of ours goes once the app has its own selector Service', () => {
    const vmOnly = apply(NONE, planIstio(OWNER, undefined, NONE, snap([ep(1)]), ctx()));
    const svc = { ...SELECTOR_SVC, spec: { ...SELECTOR_SVC.spec, selector: { app: 'orders-app' } } };
    const plan = planIstio(OWNER, svc, vmOnly, snap([ep(1)]), ctx());
    expect(ops(plan)).toEqual(['update WorkloadEntry', 'delete ServiceEntry']); // relabelled to the Service selector
  });

  it('refuses foreign Services and routing objects it does not own (collisions, nothing written)', () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { return e instanceof BridgeError ? e.code : String(e); } return 'no error'; };
    const unannotated = { ...SELECTOR_SVC, metadata: { name: 'orders', namespace: 'shop' } };
    expect(code(() => planIstio(OWNER, unannotated, NONE, snap([ep(1)]), ctx()))).toBe('ISTHMUS_NAME_COLLISION');
    const selectorless = { metadata: { name: 'orders', namespace: 'shop', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: {} };
    expect(code(() => planIstio(OWNER, selectorless, NONE, snap([ep(1)]), ctx()))).toBe('ISTHMUS_NAME_COLLISION');
    const theirs: KDestinationRule = { metadata: { name: 'orders-isthmus', namespace: 'shop' }, spec: { host: 'x' } };
    expect(code(() => planIstio(OWNER, undefined, { ...NONE, destinationRule: theirs }, snap([ep(1)]), ctx()))).toBe('ISTHMUS_NAME_COLLISION');
    // Removal never deletes what is not ours.
    expect(planIstio(OWNER, undefined, { ...NONE, destinationRule: theirs }, undefined, ctx()).operations).toEqual([]);
  });
});

describe('the pod subset safety net (no pod carries podSubsetLabels)', () => {
  const UNLABELLED: IstioState = { ...NONE, podSubset: { labelled: false } };
  const want = snap([ep(1), ep(2)]);

  it('routes the pod share to the host without a subset and says why; a second pass writes nothing but still says it', () => {
    const first = planIstio(OWNER, SELECTOR_SVC, UNLABELLED, want, ctx({ zk: 70, k8s: 30 }));
    expect(routes(first)).toEqual([['vm', 70], ['host', 30]]);
    expect(first.notices).toEqual([{ nativeId: 'VirtualService shop/orders-isthmus subset k8s', reason: expect.stringContaining('no running pod of Service shop/orders carries the pod subset labels isthmus.dev/side=k8s') as string }]);
    expect(first.notices[0]?.reason).toContain("pods' 30 % of calls goes to the Service host without a subset");
    // The DestinationRule keeps its k8s subset: nothing routes to it, and a label added later needs no DR write.
    const dr = first.upserts.find((w) => w.kind === 'DestinationRule')?.body as KDestinationRule;
    expect(dr.spec?.subsets?.map((x) => x.name)).toEqual(['vm', 'k8s']);
    const after = apply(UNLABELLED, first);
    const again = planIstio(OWNER, SELECTOR_SVC, after, want, ctx({ zk: 70, k8s: 30 }));
    expect(again.operations).toEqual([]);
    expect(again.notices).toEqual(first.notices);
  });

  it('a label added later restores the subsets with one VirtualService write; losing it again falls back again', () => {
    const fallback = apply(UNLABELLED, planIstio(OWNER, SELECTOR_SVC, UNLABELLED, want, ctx({ zk: 70, k8s: 30 })));
    const labelled = { ...fallback, podSubset: { labelled: true } } as const;
    const restored = planIstio(OWNER, SELECTOR_SVC, labelled, want, ctx({ zk: 70, k8s: 30 }));
    expect(ops(restored)).toEqual(['update VirtualService']);
    expect(routes(restored)).toEqual([['vm', 70], ['k8s', 30]]);
    expect(restored.notices).toEqual([]);
    const split = apply(labelled, restored);
    expect(planIstio(OWNER, SELECTOR_SVC, split, want, ctx({ zk: 70, k8s: 30 })).operations).toEqual([]);
    const lost = planIstio(OWNER, SELECTOR_SVC, { ...split, podSubset: { labelled: false } }, want, ctx({ zk: 70, k8s: 30 }));
    expect(ops(lost)).toEqual(['update VirtualService']);
    expect(routes(lost)).toEqual([['vm', 70], ['host', 30]]);
  });

  it('no pod share, no notice; no ready VM, the host takes everything; an unreadable pod list falls back and names RBAC', () => {
    const allVm = planIstio(OWNER, SELECTOR_SVC, UNLABELLED, want, ctx({ zk: 100, k8s: 0 }));
    expect(routes(allVm)).toEqual([['vm', 100]]);
    expect(allVm.notices).toEqual([]);
    const noVm = planIstio(OWNER, SELECTOR_SVC, UNLABELLED, snap([ep(1, { ready: false, serving: false })]), ctx({ zk: 70, k8s: 30 }));
    expect(routes(noVm)).toEqual([['host', 100]]);
    expect(noVm.notices[0]?.reason).toContain("pods' 100 %");
    const refused = planIstio(OWNER, SELECTOR_SVC, { ...NONE, podSubset: { labelled: false, unreadable: 'kubernetes: list pods: HTTP 403: forbidden' } }, want, ctx({ zk: 70, k8s: 30 }));
    expect(routes(refused)).toEqual([['vm', 70], ['host', 30]]);
    expect(refused.notices[0]?.reason).toMatch(/cannot tell .*HTTP 403.*grant list pods, deploy\/rbac\/optional-istio\.yaml/);
    // Not read at all (a state from before the check): the same fallback, never the empty subset.
    expect(routes(planIstio(OWNER, SELECTOR_SVC, NONE, want, ctx({ zk: 70, k8s: 30 })))).toEqual([['vm', 70], ['host', 30]]);
  });

  it('the notice reaches the engine as a refusal of the service (quarantined in status)', () => {
    const state: KubeSinkState = { ref: REF, owner: OWNER, svc: SELECTOR_SVC, slices: [], foreign: [], observed: undefined, istio: UNLABELLED };
    const plan = planWithIstio(state, want, { bridgeId: BRIDGE, options: { mixed: 'annotated', serviceType: 'ClusterIP', maxEndpointsPerSlice: 100 }, heldBy: undefined, sinkId: 'k8s', istio: OPTIONS, istioMode: true, split: { zk: 70, k8s: 30 } });
    expect(plan.refusals?.map((r) => r.nativeId)).toEqual(['VirtualService shop/orders-isthmus subset k8s']);
  });
});

describe('one mode per service (planWithIstio)', () => {
  const base: KubeSinkState = { ref: REF, owner: OWNER, svc: undefined, slices: [], foreign: [], observed: undefined, istio: NONE };
  const mode = (istioMode: boolean): ModeContext => ({ bridgeId: BRIDGE, options: { mixed: 'annotated', serviceType: 'ClusterIP', maxEndpointsPerSlice: 100 }, heldBy: undefined, sinkId: 'k8s', istio: OPTIONS, istioMode, split: undefined });

  it('Istio mode writes no Service or slice; EndpointSlice mode writes no Istio object', () => {
    const meshed = planWithIstio(base, snap([ep(1)]), mode(true));
    expect(meshed.createSlices).toEqual([]);
    expect(meshed.service).toBeUndefined();
    expect(meshed.istio?.upserts.length).toBe(3);
    const plain = planWithIstio(base, snap([ep(1)]), mode(false));
    expect(plain.createSlices.length).toBe(1);
    expect(plain.istio?.upserts).toEqual([]);
  });

  it('observed counts the WorkloadEntries (what the deletion guard sees)', () => {
    const istio = apply(NONE, planIstio(OWNER, undefined, NONE, snap([ep(1), ep(2)]), ctx()));
    const state = { ...base, istio };
    const observed = observedWithIstio(observedOf(state, BRIDGE, 'k8s'), state, BRIDGE, 'k8s');
    expect(observed?.endpoints.map((e) => [e.address, e.origin.registry, e.origin.nativeId])).toEqual([['10.0.0.1', 'zk', 'vm-1'], ['10.0.0.2', 'zk', 'vm-2']]);
  });

  it('selects services by glob over the original name or ns/name, and only when enabled', () => {
    expect(istioModeFor(REF, { ...OPTIONS, services: ['shop/*'] })).toBe(true);
    expect(istioModeFor(REF, { ...OPTIONS, services: ['pay*'] })).toBe(false);
    expect(istioModeFor(REF, { ...OPTIONS, enabled: false })).toBe(false);
  });
});
