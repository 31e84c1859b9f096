import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { fromInstance, sortEndpoints, toInstance, type ExportSettings } from './encode.ts';
import type { EurekaInstance } from './native.ts';
import { planEureka, type EurekaState } from './plan.ts';

const S: ExportSettings = { bridgeId: 'b1', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone', namespace: 'default', renewIntervalSeconds: 30, leaseDurationSeconds: 90 };
const REF = { namespace: 'default', name: 'greeter' };

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.2.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${i}` }, ...over };
}

function snap(eps: Endpoint[]): ServiceSnapshot {
  return { ref: REF, ports: [{ name: 'http', port: 8080 }], endpoints: eps, metadata: {}, origin: 'k8s' };
}

function state(held: EurekaInstance[]): EurekaState {
  return { ref: REF, app: 'GREETER', held, observed: held.length === 0 ? undefined : { ...snap(sortEndpoints(held.map((i) => fromInstance(i, S)))), origin: 'eureka' } };
}

/** What the server holds after our registration (timestamps added, as the sink stores it). */
function onServer(e: Endpoint): EurekaInstance {
  return { ...toInstance(REF, e, S), lastDirtyTimestamp: '1700000000000' };
}

describe('eureka plan', () => {
  it('registers what is missing and nothing when in sync', () => {
    const p = planEureka(state([]), snap([ep(1), ep(2)]), S);
    expect(p.writes.map((w) => w.type)).toEqual(['register', 'register']);
    expect(p.operations.map((o) => o.verb)).toEqual(['create', 'create']);
    expect(planEureka(state([onServer(ep(1)), onServer(ep(2))]), snap([ep(2), ep(1)]), S).writes).toEqual([]);
  });

  it('a health flip is one status request, never a re-registration', () => {
    const held = [onServer(ep(1)), onServer(ep(2))];
    const down = planEureka(state(held), snap([ep(1), ep(2, conditionsOf('down'))]), S);
    expect(down.writes.map((w) => [w.type, 'status' in w ? w.status : undefined])).toEqual([['override', 'DOWN']]);
    const draining = planEureka(state([onServer(ep(1)), onServer(ep(2, conditionsOf('down')))]), snap([ep(1), ep(2, conditionsOf('draining'))]), S);
    expect(draining.writes.map((w) => [w.type, 'status' in w ? w.status : undefined])).toEqual([['override', 'OUT_OF_SERVICE']]);
    const back = planEureka(state([onServer(ep(1)), onServer(ep(2, conditionsOf('draining')))]), snap([ep(1), ep(2)]), S);
    expect(back.writes.map((w) => w.type)).toEqual(['clear']);
    expect(back.operations).toEqual([{ verb: 'update', record: `instance GREETER/${toInstance(REF, ep(2), S).instanceId ?? ''}` }]);
  });

  it('a metadata or weight change re-registers; with a health change as well, the override follows', () => {
    const held = [onServer(ep(1))];
    expect(planEureka(state(held), snap([ep(1, { weight: 300 })]), S).writes.map((w) => w.type)).toEqual(['register']);
    expect(planEureka(state(held), snap([ep(1, { metadata: { a: 'b' }, ...conditionsOf('down') })]), S).writes.map((w) => w.type)).toEqual(['register', 'override']);
  });

  it('an instance shown DOWN without an override (registered so by someone) is re-registered to come back UP', () => {
    const stuck: EurekaInstance = { ...onServer(ep(1)), status: 'DOWN', overriddenStatus: 'UNKNOWN' };
    expect(planEureka(state([stuck]), snap([ep(1)]), S).writes.map((w) => w.type)).toEqual(['register']);
  });

  it('cancels what is no longer wanted, and everything for an absent desired state', () => {
    const held = [onServer(ep(1)), onServer(ep(2))];
    expect(planEureka(state(held), snap([ep(1)]), S).writes.map((w) => [w.type, w.instance.ipAddr])).toEqual([['cancel', '10.2.0.2']]);
    const gone = planEureka(state(held), undefined, S);
    expect(gone.writes.map((w) => w.type)).toEqual(['cancel', 'cancel']);
    expect(gone.want).toEqual([]);
  });

  it('two endpoints on one address and primary port are one lease', () => {
    const p = planEureka(state([]), snap([ep(1), ep(1, { ports: { http: 8080, admin: 9000 } })]), S);
    expect(p.writes).toHaveLength(1);
    expect(p.want).toHaveLength(1);
  });
});
