import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerStateMetrics, type StateReaders } from './state-metrics.ts';

function setup(readers: StateReaders, now: () => number = Date.now) {
  const registry = new Registry();
  const state = registerStateMetrics([registry], now);
  state.track(readers);
  return { state, render: () => registry.metrics() };
}

const source = (id: string, reachable: boolean) => ({ id, health: () => ({ reachable }) });

describe('isthmus_source_reachable', () => {
  it('follows each source\'s health at every scrape', async () => {
    const sources = [source('consul', true), source('nacos', false)];
    const { render } = setup({ leader: () => true, sources: () => sources, held: () => [] });
    const first = await render();
    expect(first).toContain('isthmus_source_reachable{registry="consul"} 1');
    expect(first).toContain('isthmus_source_reachable{registry="nacos"} 0');
    sources[1] = source('nacos', true);
    expect(await render()).toContain('isthmus_source_reachable{registry="nacos"} 1');
  });
});

describe('isthmus_leader and isthmus_leader_changes_total', () => {
  it('reads leadership at scrape time and counts every change reported', async () => {
    let leading = false;
    const { state, render } = setup({ leader: () => leading, sources: () => [], held: () => [] });
    expect(await render()).toMatch(/^isthmus_leader 0$/m);
    expect(await render()).toMatch(/^isthmus_leader_changes_total 0$/m);
    leading = true;
    state.leadershipChanged();
    const gained = await render();
    expect(gained).toMatch(/^isthmus_leader 1$/m);
    expect(gained).toMatch(/^isthmus_leader_changes_total 1$/m);
    // Lost and regained between two scrapes: the gauge shows nothing, the counter shows both.
    state.leadershipChanged();
    state.leadershipChanged();
    const flapped = await render();
    expect(flapped).toMatch(/^isthmus_leader 1$/m);
    expect(flapped).toMatch(/^isthmus_leader_changes_total 3$/m);
  });
});

describe('isthmus_held_oldest_seconds', () => {
  it('is the age of the oldest hold at scrape time, 0 with none', async () => {
    let now = 1_000_000;
    let held = [{ since: now - 30_000 }, { since: now - 95_500 }, { since: now - 1_000 }];
    const { render } = setup({ leader: () => true, sources: () => [], held: () => held }, () => now);
    expect(await render()).toMatch(/^isthmus_held_oldest_seconds 95\.5$/m);
    now += 60_000;
    expect(await render()).toMatch(/^isthmus_held_oldest_seconds 155\.5$/m);
    held = [];
    expect(await render()).toMatch(/^isthmus_held_oldest_seconds 0$/m);
  });
});

describe('isthmus_export_mtls_strict', () => {
  it('counts STRICT findings per source and ignores other notices', async () => {
    const strict = { code: 'mtls-strict', reason: 'STRICT mTLS (PeerAuthentication shop/a) refuses plaintext from VM callers on shop/a' };
    let notices = [strict, { ...strict, reason: 'b' }, { code: 'mtls-unreadable', reason: 'PeerAuthentication not readable: x' }];
    const sources = [{ id: 'k8s', health: () => ({ reachable: true, notices }) }, source('consul', true)];
    const { render } = setup({ leader: () => true, sources: () => sources, held: () => [] });
    const text = await render();
    expect(text).toContain('isthmus_export_mtls_strict{registry="k8s"} 2');
    expect(text).toContain('isthmus_export_mtls_strict{registry="consul"} 0');
    notices = [];
    expect(await render()).toContain('isthmus_export_mtls_strict{registry="k8s"} 0');
  });
});
