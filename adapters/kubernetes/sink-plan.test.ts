import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf, endpointKey, liveness } from '../../bridge/model/index.ts';
import { K8S } from './markers.ts';
import { type KubeSinkPlan, type KubeSinkState, observedOf, planImport, type PlanContext } from './sink-plan.ts';
import type { SliceOwner } from './slices.ts';
import type { KEndpointSlice, KService } from './types.ts';

const BRIDGE = 'b1';
const REF = { namespace: 'shop', name: 'orders' };
const OWNER: SliceOwner = { bridgeId: BRIDGE, namespace: 'shop', service: 'orders', originalName: 'orders', originalNamespace: 'shop' };
const CTX: PlanContext = { bridgeId: BRIDGE, options: { mixed: 'annotated', serviceType: 'ClusterIP', maxEndpointsPerSlice: 100 }, heldBy: undefined };

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.0.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `vm-${i}` }, ...over };
}

function snap(endpoints: Endpoint[], ports = [{ name: 'http', port: 8080 }]): ServiceSnapshot {
  return { ref: REF, ports, endpoints, metadata: {}, origin: 'vm' };
}

/** A fake API server: what the next read would return after `plan` was executed. */
function store(state: KubeSinkState, plan: KubeSinkPlan): KubeSinkState {
  let rv = 0;
  const stamp = <T extends { metadata?: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, resourceVersion: `rv-${++rv}-${Math.random()}` } });
  const slices = new Map(state.slices.map((s) => [s.metadata?.name, s]));
  for (const s of [...plan.createSlices, ...plan.updateSlices]) slices.set(s.metadata?.name, stamp(s));
  for (const s of plan.deleteSlices) slices.delete(s.metadata?.name);
  const svc = plan.deleteService !== undefined ? undefined : plan.service !== undefined ? stamp(plan.service.body) : state.svc;
  const base = { ref: state.ref, owner: state.owner, svc, slices: [...slices.values()], foreign: state.foreign };
  return { ...base, observed: observedOf(base, BRIDGE, 'k8s') };
}

const EMPTY: KubeSinkState = { ref: REF, owner: OWNER, svc: undefined, slices: [], foreign: [], observed: undefined };
const verbs = (p: KubeSinkPlan) => p.operations.map((o) => `${o.verb} ${o.record.split(' ')[0] ?? ''}`);

describe('planImport (pure read → plan)', () => {
  it('creates Service and slice once; the next plan, and a plan for a restarted sink, is empty', () => {
    const want = snap([ep(1), ep(2)]);
    const first = planImport(EMPTY, want, CTX);
    expect(verbs(first)).toEqual(['create Service', 'create EndpointSlice']);
    expect(first.operations[0]?.record).toBe('Service shop/orders');
    const after = store(EMPTY, first);
    expect(planImport(after, want, CTX).operations).toEqual([]);
    expect(planImport(after, { ...want, endpoints: after.observed?.endpoints ?? [] }, CTX).operations).toEqual([]);
  });

  it('is pure: same input, same plan, and the state is not touched', () => {
    const state = store(EMPTY, planImport(EMPTY, snap([ep(1)]), CTX));
    const frozen = JSON.stringify(state);
    const a = planImport(state, snap([ep(1), ep(2)]), CTX);
    const b = planImport(state, snap([ep(1), ep(2)]), CTX);
    expect(a).toEqual(b);
    expect(JSON.stringify(state)).toBe(frozen);
  });

  it('health is state: down and draining endpoints are written with their conditions, each flip is one in-place update', () => {
    let state = store(EMPTY, planImport(EMPTY, snap([ep(1), ep(2)]), CTX));
    for (const s of ['down', 'draining', 'ready'] as const) {
      const want = snap([ep(1), ep(2, conditionsOf(s))]);
      const p = planImport(state, want, CTX);
      expect(verbs(p), s).toEqual(['update EndpointSlice']);
      const written = p.updateSlices[0]?.endpoints?.find((e) => e.addresses[0] === '10.0.0.2');
      expect(written?.conditions, s).toEqual(conditionsOf(s));
      state = store(state, p);
      const seen = state.observed?.endpoints.find((e) => e.address === '10.0.0.2');
      expect(seen && liveness(seen), s).toBe(s);
      expect(planImport(state, want, CTX).operations, s).toEqual([]);
    }
  });

  it('a shape-only change (Service ports) is one Service update; endpoints untouched', () => {
    const state = store(EMPTY, planImport(EMPTY, snap([ep(1)]), CTX));
    const want = snap([ep(1)], [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }]);
    const p = planImport(state, want, CTX);
    expect(verbs(p)).toEqual(['update Service']);
    expect(p.service?.body.spec?.ports?.map((x) => [x.name, x.port])).toEqual([['admin', 9000], ['http', 80]]);
    expect(planImport(store(state, p), want, CTX).operations).toEqual([]);
  });

  it('a hand-added selector or label drift on our Service is put back', () => {
    const state = store(EMPTY, planImport(EMPTY, snap([ep(1)]), CTX));
    const svc = state.svc as KService;
    const edited = { ...state, svc: { ...svc, spec: { ...svc.spec, selector: { app: 'x' } } } };
    const p = planImport(edited, snap([ep(1)]), CTX);
    expect(verbs(p)).toEqual(['update Service']);
    expect(p.service?.body.spec?.selector).toBeUndefined();
  });

  it('removal deletes our slices and our Service, and nothing when nothing is owned', () => {
    const state = store(EMPTY, planImport(EMPTY, snap([ep(1), ep(2, { address: 'fd00::2' })]), CTX));
    const p = planImport(state, undefined, CTX);
    expect(verbs(p).sort()).toEqual(['delete EndpointSlice', 'delete EndpointSlice', 'delete Service']);
    expect(store(state, p).observed).toBeUndefined();
    expect(planImport(EMPTY, undefined, CTX).operations).toEqual([]);
  });

  it('mixed mode: joins an annotated native Service without touching it, never deletes it', () => {
    const native: KService = { metadata: { name: 'orders', namespace: 'shop', annotations: { [K8S.acceptImports]: 'true' } }, spec: { ports: [{ name: 'http', port: 80 }] } };
    const state = { ...EMPTY, svc: native };
    const p = planImport(state, snap([ep(1)]), CTX);
    expect(verbs(p)).toEqual(['create EndpointSlice']);
    const after = store(state, p);
    expect(after.observed?.ports).toEqual([{ name: 'http', port: 80 }]);
    expect(verbs(planImport(after, undefined, CTX))).toEqual(['delete EndpointSlice']);
  });

  it('collisions are thrown from plan, before anything is written', () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return e instanceof BridgeError ? `${e.code}:${e.terminal}` : 'other';
      }
    };
    const native: KService = { metadata: { name: 'orders', namespace: 'shop' } };
    expect(code(() => planImport({ ...EMPTY, svc: native }, snap([ep(1)]), CTX))).toBe('ISTHMUS_NAME_COLLISION:true');
    const otherName: KService = { metadata: { name: 'orders', namespace: 'shop', labels: { [K8S.managedBy]: BRIDGE }, annotations: { [K8S.originalName]: 'Orders' } } };
    expect(code(() => planImport({ ...EMPTY, svc: otherName }, snap([ep(1)]), CTX))).toBe('ISTHMUS_NAME_COLLISION:true');
    const foreign: KEndpointSlice = { metadata: { name: 'orders-x-0', namespace: 'shop', annotations: { [K8S.originalName]: 'Orders' } }, addressType: 'IPv4' };
    expect(code(() => planImport({ ...EMPTY, svc: native, foreign: [foreign] }, snap([ep(1)]), { ...CTX, options: { ...CTX.options, mixed: 'always' } }))).toBe('ISTHMUS_NAME_COLLISION:true');
    expect(code(() => planImport(EMPTY, snap([ep(1)]), { ...CTX, heldBy: 'shop/Orders' }))).toBe('ISTHMUS_NAME_COLLISION:true');
    // Removing never collides: it only ever touches slices of this original name.
    expect(code(() => planImport({ ...EMPTY, svc: otherName }, undefined, { ...CTX, heldBy: 'shop/Orders' }))).toBe('none');
  });

  it('refuses endpoints a slice cannot hold, and keeps their odd ports out of the Service', () => {
    const p = planImport(EMPTY, snap([ep(1), ep(2, { ports: { Bad_Name: 81 } })], []), CTX);
    expect(p.refused.map((r) => [r.endpoint.address, r.reason])).toEqual([['10.0.0.2', 'port name "Bad_Name" is not a DNS label']]);
    expect(p.service?.body.spec?.ports?.map((x) => x.name)).toEqual(['http']);
    expect(store(EMPTY, p).observed?.endpoints.map(endpointKey)).toEqual([endpointKey(ep(1))]);
  });
});

describe('observedOf', () => {
  it('is a snapshot the plan accepts as is: planning what was read writes nothing', () => {
    const state = store(EMPTY, planImport(EMPTY, { ...snap([ep(1), ep(2, conditionsOf('draining'))]), origin: 'nacos-prod' }, CTX));
    const seen = state.observed;
    expect(seen?.origin).toBe('nacos-prod');
    expect(planImport(state, seen, CTX).operations).toEqual([]);
  });
});

describe('a service with no port at all (every instance gone, or none registered yet)', () => {
  it('creates no ClusterIP Service (the API refuses one without ports) and keeps an existing one as it is', () => {
    const none = { ...snap([]), ports: [] };
    expect(planImport(EMPTY, none, CTX).operations).toEqual([]);
    const state = store(EMPTY, planImport(EMPTY, snap([ep(1)]), CTX));
    expect(verbs(planImport(state, none, CTX))).toEqual(['delete EndpointSlice']);
    const headless = { ...CTX, options: { ...CTX.options, serviceType: 'Headless' as const } };
    expect(verbs(planImport(EMPTY, none, headless))).toEqual(['create Service']);
  });
});
