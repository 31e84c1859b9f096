import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { fromRegistration, toRegistration, type ExportSettings } from './encode.ts';
import { decodeMetaKey, encodeMetaKey } from './meta-keys.ts';
import type { NativeCheck, NativeService } from './native.ts';

const S: ExportSettings = { bridgeId: 'prod-east', node: 'isthmus-prod-east', portName: 'http', zoneMetaKey: 'zone', drainingStatus: 'warning', extraTags: [], namespace: 'default' };
const REF = { namespace: 'shop', name: 'orders' };
const EP: Endpoint = {
  address: '10.1.2.3',
  ports: { http: 8080, grpc: 9090 },
  protocol: 'https',
  ready: true,
  serving: true,
  terminating: false,
  weight: 250,
  zone: 'eu-1a',
  node: 'worker-3',
  metadata: { 'app.kubernetes.io/name': 'orders', secure: 'yes', 'consul-x': '1', 'tag:canary': 'true', snake_key: 'v' },
  origin: { registry: 'k8s', nativeId: 'shop/orders-abc/10.1.2.3' },
};

/** What Consul hands back for a registration we wrote. */
function stored(ep: Endpoint, status?: string): { svc: NativeService; check: NativeCheck } {
  const r = toRegistration(REF, ep, S);
  return { svc: { ...r.service }, check: { ...r.check, Status: status ?? r.check.Status } };
}

describe('model → consul → model', () => {
  it('writes markers, tags, weights, Spring keys and a check; observe round-trips every field', () => {
    const r = toRegistration(REF, EP, S);
    expect(r.service.ID).toMatch(/^isthmus-[0-9a-f]{16}$/);
    expect(r.service).toMatchObject({ Service: 'orders', Address: '10.1.2.3', Port: 8080, Weights: { Passing: 3, Warning: 1 } });
    expect(r.service.Tags).toEqual(['isthmus', 'canary']);
    expect(r.service.Meta).toMatchObject({ 'external-source': 'isthmus', 'isthmus-managed-by': 'prod-east', 'isthmus-origin': 'k8s', 'isthmus-origin-id': EP.origin.nativeId, zone: 'eu-1a', secure: 'yes' });
    expect(Object.keys(r.service.Meta).every((k) => /^[A-Za-z0-9_-]{1,128}$/.test(k) && !k.startsWith('consul-'))).toBe(true);
    expect(r.check).toMatchObject({ CheckID: `service:${r.service.ID}`, Status: 'passing', ServiceID: r.service.ID });
    const { svc, check } = stored(EP);
    expect(fromRegistration(svc, check, S)).toEqual(EP);
  });

  it('round-trips draining and down, with the configured draining status', () => {
    const draining = { ...EP, ready: false, terminating: true };
    expect(toRegistration(REF, draining, S).check.Status).toBe('warning');
    expect(toRegistration(REF, draining, { ...S, drainingStatus: 'critical' }).check.Status).toBe('critical');
    const down = { ...EP, ready: false, serving: false, terminating: true };
    expect(toRegistration(REF, down, S).check.Status).toBe('critical');
    for (const ep of [draining, down]) expect(fromRegistration(stored(ep).svc, stored(ep).check, S)).toEqual(ep);
    const critical = { ...S, drainingStatus: 'critical' as const };
    const r = toRegistration(REF, draining, critical);
    expect(fromRegistration({ ...r.service }, { ...r.check }, critical)).toEqual(draining);
  });

  it('believes Consul over the stored Meta when a status was edited by hand, and a missing check reads as down', () => {
    const { svc } = stored(EP, 'critical');
    expect(fromRegistration(svc, stored(EP, 'critical').check, S)).toMatchObject({ ready: false, serving: false });
    expect(fromRegistration(svc, undefined, S)).toMatchObject({ ready: false, serving: false, terminating: false });
    const edited = { ...svc, Weights: { Passing: 7, Warning: 1 } };
    expect(fromRegistration(edited, stored(EP).check, S).weight).toBe(700);
  });

  it('writes Meta weight for Spring callers on the Passing scale; it wins over an endpoint\'s own `weight`', () => {
    for (const [weight, passing] of [[100, '1'], [1111, '11'], [10_000, '100'], [0, '1'], [40, '1']] as const) {
      const r = toRegistration(REF, { ...EP, weight }, S);
      expect(r.service.Meta['weight']).toBe(passing);
      expect(r.service.Meta['weight']).toBe(String(r.service.Weights.Passing));
    }
    const own = toRegistration(REF, { ...EP, metadata: { ...EP.metadata, weight: '70' } }, S);
    expect(own.service.Meta['weight']).toBe('3');
    expect(own.dropped).toEqual(['weight']);
    // A hand edit of Meta weight is drift the observed model shows.
    const { svc, check } = stored(EP);
    expect(fromRegistration({ ...svc, Meta: { ...svc.Meta, weight: '9' } }, check, S).weight).toBe(900);
    expect(fromRegistration({ ...svc, Meta: Object.fromEntries(Object.entries(svc.Meta ?? {}).filter(([k]) => k !== 'weight')) }, check, S)).toEqual(EP);
  });

  it('keeps Meta inside Consul limits and says what it dropped', () => {
    const metadata: Record<string, string> = { big: 'x'.repeat(513) };
    for (let i = 0; i < 70; i++) metadata[`k${String(i).padStart(2, '0')}`] = 'v';
    const r = toRegistration(REF, { ...EP, metadata }, S);
    expect(Object.keys(r.service.Meta).length).toBeLessThanOrEqual(64);
    expect(r.dropped).toContain('big');
    expect(r.service.Meta['isthmus-dropped']).toBe(String(r.dropped.length));
  });

  it('escapes Meta keys reversibly', () => {
    for (const k of ['app.kubernetes.io/name', 'snake_key', 'consul-reserved', 'isthmus-managed-by', 'external-source', 'ümlaut', 'a_2e']) {
      const enc = encodeMetaKey(k);
      expect(enc).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(enc.startsWith('consul-') || enc.startsWith('isthmus-') || enc === 'external-source').toBe(false);
      expect(decodeMetaKey(enc)).toBe(k);
    }
    expect(encodeMetaKey('version')).toBe('version');
  });
});
