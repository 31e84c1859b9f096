import { describe, expect, it } from 'vitest';
import { formatMigration } from './format-migration.ts';

describe('formatMigration', () => {
  it('shows the object, phase, split with its layer, progress per origin and conditions', () => {
    const text = formatMigration({
      object: 'shop/orders',
      phase: 'shifting',
      split: { vm: 90, k8s: 10 },
      splitFrom: 'migration',
      status: {
        origins: { k8s: { ready: 1, total: 2, weight: 1000, share: 10 }, vm: { ready: 3, total: 3, weight: 9000, share: 90 } },
        conditions: [{ type: 'Synced', status: 'True', reason: 'InSync', message: 'written to vm', lastTransitionTime: '2026-12-05T00:00:00.000Z' }],
      },
    });
    expect(text).toContain('object: ServiceMigration shop/orders\nphase: shifting\nsplit: k8s=10 vm=90  (from the ServiceMigration)\n');
    expect(text).toMatch(/ORIGIN +READY +TOTAL +WEIGHT +SHARE\nk8s +1 +2 +1000 +10%\nvm +3 +3 +9000 +90%/);
    expect(text).toContain('Synced: True (InSync) written to vm');
    expect(text).toContain('Spring\'s default round-robin ignores weights');
  });

  it('says when there is no object, and why objects cannot be read', () => {
    const text = formatMigration({ split: { vm: 1 }, splitFrom: 'runtime', unavailable: 'CRD servicemigrations.isthmus.dev is not installed' });
    expect(text).toContain('object: none (no ServiceMigration for this service)');
    expect(text).toContain('split: vm=1  (from this bridge\'s memory)');
    expect(text).toContain('note: ServiceMigration objects unavailable: CRD servicemigrations.isthmus.dev is not installed');
    expect(formatMigration(undefined)).toBe('\nMIGRATION\nnone: no split for this service\n');
  });
});
