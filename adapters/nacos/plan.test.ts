// The planner against what a previous pass wrote, for generated endpoint sets: nothing to do when
// the server hands the same instances back in another order (instances and metadata keys), one
// write when one endpoint's health flips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf, endpointKey, endpointProblem } from '../../bridge/model/index.ts';
import { toInstance, type ExportSettings } from './encode.ts';
import type { NacosInstance } from './native.ts';
import { planNacos, type NacosState } from './plan.ts';

const S: ExportSettings = { bridgeId: 'b1', portName: 'http', cluster: 'DEFAULT', namespace: 'default' };
const REF = { namespace: 'shop', name: 'orders' };

const endpoint: fc.Arbitrary<Endpoint> = fc.record({
  address: fc.ipV4(),
  ports: fc.record({ http: fc.integer({ min: 1, max: 65535 }) }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
  weight: fc.integer({ min: 0, max: 10_000 }),
  metadata: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), { maxKeys: 6 }),
  origin: fc.record({ registry: fc.constantFrom('k8s', 'consul'), nativeId: fc.string({ maxLength: 12 }) }),
});

/** Unique by ip:port, as the server keys instances. */
const endpoints = fc.uniqueArray(endpoint, { minLength: 1, maxLength: 8, selector: (e) => `${e.address}:${e.ports['http']}` }).filter((eps) => eps.every((e) => endpointProblem(e) === undefined));

/** What a server hands back: instances in reverse order, metadata keys reversed. */
function asServerReturns(instances: readonly NacosInstance[]): NacosInstance[] {
  return [...instances].reverse().map((i) => ({ ...i, metadata: Object.fromEntries(Object.entries(i.metadata ?? {}).reverse()) }));
}

function state(held: readonly NacosInstance[], ephemeral: boolean): NacosState {
  return { ref: REF, observed: undefined, name: { group: 'DEFAULT_GROUP', service: 'orders' }, ephemeral, held, ownConnection: true };
}

const snap = (eps: Endpoint[]): ServiceSnapshot => ({ ref: REF, ports: [{ name: 'http', port: 80 }], endpoints: eps, metadata: {}, origin: 'k8s' });

describe('nacos plan (property)', () => {
  it('plans nothing against what it wrote, and one write per health flip', () => {
    fc.assert(
      fc.property(endpoints, fc.boolean(), fc.constantFrom<'ready' | 'draining' | 'down'>('ready', 'draining', 'down'), (eps, ephemeral, to) => {
        const written = asServerReturns(eps.map((e) => toInstance(REF, e, S, ephemeral)));
        expect(planNacos(state(written, ephemeral), snap(eps), S).operations).toEqual([]);
        const [first, ...rest] = eps as [Endpoint, ...Endpoint[]];
        const flipped = { ...first, ...conditionsOf(to) };
        const ops = planNacos(state(written, ephemeral), snap([...rest, flipped]), S).operations;
        const changed = endpointKey(first) === endpointKey(flipped) && (first.ready !== flipped.ready || first.serving !== flipped.serving || first.terminating !== flipped.terminating);
        expect(ops.length).toBe(changed ? 1 : 0);
        if (changed) expect(ops[0]?.verb).toBe('update');
      }),
      { numRuns: 1000 },
    );
  });
});
