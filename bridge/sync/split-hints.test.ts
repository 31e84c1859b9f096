import { describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../model/index.ts';
import type { PlanHints, Sink, SinkPlan, SinkState } from '../ports/index.ts';
import { reconcile } from './reconciler.ts';
import type { Split } from './split.ts';
import { ep, route, World } from './testing/fixture.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };

/** The memory sink, optionally enforcing splits itself, recording what plan was given. */
function recording(inner: Sink, enforces: boolean | undefined): { sink: Sink; seen: { desired: ServiceSnapshot | undefined; hints: PlanHints | undefined }[] } {
  const seen: { desired: ServiceSnapshot | undefined; hints: PlanHints | undefined }[] = [];
  const sink: Sink = {
    id: inner.id,
    fields: inner.fields,
    start: (s) => inner.start(s),
    read: (ref) => inner.read(ref),
    plan: (state: SinkState, desired: ServiceSnapshot | undefined, hints?: PlanHints): SinkPlan => {
      seen.push({ desired, hints });
      return inner.plan(state, desired, hints);
    },
    execute: (p) => inner.execute(p),
    ownedRefs: () => inner.ownedRefs(),
    ...(enforces === undefined ? {} : { enforcesSplit: () => enforces }),
  };
  return { sink, seen };
}

async function run(enforces: boolean | undefined, split: Split | undefined) {
  const world = new World();
  world.put('nacos', ORDERS, ep('10.0.0.1', 8080, 'nacos', { weight: 100 }));
  world.put('k8s', ORDERS, ep('10.1.0.1', 8080, 'k8s', { weight: 100 }));
  const nacos = world.registry('nacos').source;
  const k8s = world.registry('k8s').source;
  const abort = new AbortController();
  await nacos.start(abort.signal);
  await k8s.start(abort.signal);
  const r = route('nacos', 'k8s');
  const { sink, seen } = recording(world.registry('k8s').sink, enforces);
  await reconcile({
    target: { sink: 'k8s', ref: ORDERS },
    sink,
    sources: new Map([['nacos', nacos], ['k8s', k8s]]),
    routesToSink: [r],
    contributors: [{ route: r, source: 'nacos', ref: ORDERS }],
    frozen: () => new Map(),
    heldSince: undefined,
    now: Date.now(),
    write: false,
    ...(split === undefined ? {} : { split }),
  });
  abort.abort();
  await world.close();
  return seen[0];
}

describe('plan hints for sinks that enforce the split themselves', () => {
  it('hands the split to plan and leaves endpoint weights alone when the sink enforces it', async () => {
    const seen = await run(true, { nacos: 90, k8s: 10 });
    expect(seen?.hints).toEqual({ split: { nacos: 90, k8s: 10 } });
    expect(seen?.desired?.endpoints.map((e) => e.weight)).toEqual([100]);
  });

  it('rescales weights as before for every other sink, and still passes the split as a hint', async () => {
    for (const enforces of [undefined, false]) {
      const seen = await run(enforces, { nacos: 90, k8s: 10 });
      expect(seen?.hints).toEqual({ split: { nacos: 90, k8s: 10 } });
      expect(seen?.desired?.endpoints.map((e) => e.weight)).toEqual([900]); // 100 pods × 90/10
    }
  });

  it('passes no split without one', async () => {
    const seen = await run(true, undefined);
    expect(seen?.hints).toEqual({});
    expect(seen?.desired?.endpoints.map((e) => e.weight)).toEqual([100]);
  });
});
