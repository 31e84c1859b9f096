import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { planExport, type ExportSettings } from './encode.ts';
import { ownedInstance, ownedProvider } from './owned.ts';
import { planDubbo, type DubboState, type Held, type MappingRead } from './plan.ts';

const S: ExportSettings = { bridgeId: 'b1', root: '/dubbo', servicesRoot: '/services', defaultProtocol: 'dubbo', release: '3.3.2', persistent: false };
const SESSION = '00000000000000aa';
const ep = (i: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  address: `10.1.0.${i}`,
  ports: { dubbo: 20880 },
  ...conditionsOf('ready'),
  weight: 100,
  metadata: {},
  origin: { registry: 'k8s', nativeId: `pod-${i}` },
  ...extra,
});
const snap = (endpoints: Endpoint[], interfaces = 'com.acme.Greeter'): ServiceSnapshot => ({
  ref: { namespace: 'shop', name: 'greeter' },
  ports: [{ name: 'dubbo', port: 20880 }],
  endpoints,
  metadata: { 'isthmus.dev/dubbo-interfaces': interfaces, 'isthmus.dev/dubbo-application': 'greeter-app' },
  origin: 'k8s',
});

/** The state a read returns after `written` was executed under `owner`. */
function stateOf(written: ServiceSnapshot | undefined, owner = SESSION, session = SESSION, settings = S): DubboState {
  const plan = written === undefined ? undefined : planExport(written, settings, owner);
  const held: Held[] = [];
  for (const n of plan?.nodes ?? []) {
    const cut = n.path.lastIndexOf('/');
    const owned = n.path.startsWith('/services/') ? ownedInstance(n.path, n.data, settings.bridgeId) : ownedProvider(n.path.slice(0, cut), n.path.slice(cut + 1), settings.bridgeId);
    if (owned !== undefined) held.push({ ...owned, owner, version: 0 });
  }
  const mappings = new Map<string, MappingRead>((plan?.mappings ?? []).map((p) => [p, { apps: ['native-app', plan?.application ?? ''], version: 3 }]));
  return {
    ref: { namespace: 'shop', name: 'greeter' },
    observed: undefined,
    held,
    session,
    present: new Set(held.map((h) => h.path)),
    mappings,
    metadata: new Set(plan?.metadata === undefined ? [] : [plan.metadata.path]),
  };
}

const verbs = (state: DubboState, desired: ServiceSnapshot | undefined): string[] =>
  planDubbo(state, desired, S).operations.map((o) => `${o.verb} ${o.record.startsWith('/services/') ? 'instance' : o.record.includes('/providers/') ? 'provider' : o.record.split('/')[2] ?? ''}`);

describe('dubbo sink plan (pure)', () => {
  it('plans nothing when ZooKeeper holds exactly what desired renders, and is pure', () => {
    const desired = snap([ep(1), ep(2)]);
    const state = stateOf(desired);
    const before = structuredClone({ ...state, held: state.held.map((h) => ({ ...h, data: h.data.toString() })) });
    expect(planDubbo(state, desired, S).operations).toEqual([]);
    expect(planDubbo(state, desired, S)).toEqual(planDubbo(state, desired, S));
    expect({ ...state, held: state.held.map((h) => ({ ...h, data: h.data.toString() })) }).toEqual(before);
  });

  it('an interface-annotation change alone plans the new provider URLs, metadata, mapping and instance data', () => {
    const state = stateOf(snap([ep(1)]));
    expect(verbs(state, snap([ep(1)], 'com.acme.Greeter,com.acme.Admin')).sort()).toEqual(['create metadata', 'create provider', 'update instance', 'update mapping']);
    expect(verbs(state, snap([ep(1)], 'com.acme.Admin')).sort()).toEqual(['create metadata', 'create provider', 'delete provider', 'update instance', 'update mapping']);
  });

  it('withdraws a down or draining endpoint (ZooKeeper holds no health) and writes it again when ready', () => {
    const both = stateOf(snap([ep(1), ep(2)]));
    for (const state of ['down', 'draining'] as const) {
      const plan = planDubbo(both, snap([ep(1), ep(2, conditionsOf(state))]), S);
      expect(plan.operations.map((o) => o.verb)).toEqual(['delete', 'delete']);
      expect(plan.deletes.every((h) => h.endpoint.address === '10.1.0.2')).toBe(true);
    }
    const one = stateOf(snap([ep(1)]));
    expect(verbs(one, snap([ep(1), ep(2, conditionsOf('down'))]))).toEqual([]);
    expect(verbs(one, snap([ep(1), ep(2)])).sort()).toEqual(['create instance', 'create provider']);
  });

  it('removes every provider URL and instance of the ref when nothing is desired, and nothing else', () => {
    const state = stateOf(snap([ep(1), ep(2)]));
    expect(verbs(state, undefined)).toEqual(['delete provider', 'delete instance', 'delete provider', 'delete instance']);
    expect(planDubbo(stateOf(undefined), undefined, S).operations).toEqual([]);
  });

  it('never plans over an instance path another writer holds', () => {
    const state = stateOf(undefined);
    const taken = '/services/greeter-app/10.1.0.1:20880';
    const plan = planDubbo({ ...state, present: new Set([taken]) }, snap([ep(1)]), S);
    expect(plan.taken).toEqual([taken]);
    expect(plan.operations.map((o) => o.record)).not.toContain(taken);
    expect(plan.dirs).toContain('/services/greeter-app');
  });

  it('rewrites ephemeral nodes of another session: provider URLs created before the old ones go, the instance replaced in place', () => {
    const desired = snap([ep(1)]);
    const plan = planDubbo(stateOf(desired, '00000000000000bb', SESSION), desired, S);
    expect(plan.operations.map((o) => o.verb)).toEqual(['create', 'update', 'delete']);
    expect(plan.writes.find((w) => w.node.path.startsWith('/services/'))?.replaces?.owner).toBe('00000000000000bb');
    expect(planDubbo(stateOf(desired, '00000000000000bb', SESSION), desired, { ...S, persistent: true }).operations.length).toBeGreaterThan(0);
    const persistent = { ...S, persistent: true };
    expect(planDubbo(stateOf(desired, '0000000000000000', SESSION, persistent), desired, persistent).operations).toEqual([]);
  });

  it('adds the application to a mapping node only when it is not listed', () => {
    const desired = snap([ep(1)]);
    const state = stateOf(desired);
    const path = '/dubbo/mapping/com.acme.Greeter';
    expect(planDubbo({ ...state, mappings: new Map([[path, { apps: ['other'], version: 1 }]]) }, desired, S).mappings).toEqual([{ path, seen: { apps: ['other'], version: 1 } }]);
    expect(planDubbo({ ...state, mappings: new Map([[path, null]]) }, desired, S).operations).toEqual([{ verb: 'create', record: path }]);
    expect(planDubbo({ ...state, metadata: new Set() }, desired, S).operations.map((o) => o.verb)).toEqual(['create']);
  });
});
