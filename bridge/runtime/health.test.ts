import { describe, expect, it } from 'vitest';
import { createHealth } from './health.ts';

describe('health', () => {
  it('is ready once every source synced, and not while shutting down', () => {
    let nacosSynced = false;
    const health = createHealth([
      { id: 'k8s', hasSynced: () => true },
      { id: 'nacos', hasSynced: () => nacosSynced },
    ]);
    expect(health.readiness()).toEqual({ ok: false, reasons: ['source "nacos" has not completed its initial list'] });
    nacosSynced = true;
    expect(health.readiness()).toEqual({ ok: true, reasons: [] });
    health.markShuttingDown();
    expect(health.isShuttingDown()).toBe(true);
    expect(health.readiness()).toEqual({ ok: false, reasons: ['shutting down'] });
    expect(health.liveness()).toEqual({ ok: true });
  });
});
