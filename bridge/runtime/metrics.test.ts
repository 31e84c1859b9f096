import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('metrics', () => {
  it('renders every engine metric under its stable name', async () => {
    const m = createMetrics({ processMetrics: false });
    m.sync.reconciled('consul', 'applied', 0.004);
    m.sync.write('consul', 'apply', 'ok');
    m.sync.write('nacos', 'remove', 'error');
    m.sync.queueDepth(7);
    m.sync.propagation('consul', 0.03);
    m.sync.held(2);
    m.sync.quarantined('zk', 3);
    m.sync.sourceSynced('k8s', true);
    m.sync.sourceSynced('nacos', false);
    m.sync.retry('nacos');
    const text = await m.render();
    expect(text).toContain('isthmus_reconcile_total{sink="consul",outcome="applied"} 1');
    expect(text).toContain('isthmus_reconcile_duration_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('isthmus_sync_writes_total{sink="nacos",op="remove",result="error"} 1');
    expect(text).toContain('isthmus_queue_depth 7');
    expect(text).toContain('isthmus_propagation_seconds_bucket{le="0.005",sink="consul"} 0');
    expect(text).toContain('isthmus_propagation_seconds_bucket{le="0.05",sink="consul"} 1');
    expect(text).toContain('isthmus_propagation_seconds_bucket{le="30",sink="consul"} 1');
    expect(text).toContain('isthmus_held_deletes 2');
    expect(text).toContain('isthmus_quarantined_records{registry="zk"} 3');
    expect(text).toContain('isthmus_source_synced{registry="k8s"} 1');
    expect(text).toContain('isthmus_source_synced{registry="nacos"} 0');
    expect(text).toContain('isthmus_sync_retries_total{sink="nacos"} 1');
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it('keeps instances apart and includes process metrics by default', async () => {
    const a = createMetrics({ defaultLabels: { bridge: 'a' } });
    const b = createMetrics({ processMetrics: false });
    a.sync.queueDepth(1);
    b.sync.queueDepth(2);
    expect(await a.render()).toContain('isthmus_queue_depth{bridge="a"} 1');
    expect(await a.render()).toContain('process_cpu_user_seconds_total');
    expect(await b.render()).toContain('isthmus_queue_depth 2');
    expect(await b.render()).not.toContain('process_cpu');
  });
});

describe('isthmus_quarantined_records', () => {
  it('counts the engine\'s quarantine list per registry at every scrape, back to 0 when it empties', async () => {
    const m = createMetrics({ processMetrics: false });
    let list: { registry: string }[] = [{ registry: 'consul' }, { registry: 'consul' }, { registry: 'zk' }];
    m.trackQuarantine(() => list);
    const first = await m.render();
    expect(first).toContain('isthmus_quarantined_records{registry="consul"} 2');
    expect(first).toContain('isthmus_quarantined_records{registry="zk"} 1');
    list = [{ registry: 'zk' }];
    const second = await m.render();
    expect(second).toContain('isthmus_quarantined_records{registry="consul"} 0');
    expect(second).toContain('isthmus_quarantined_records{registry="zk"} 1');
  });
});
