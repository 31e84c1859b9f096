// SourceHealth.holdRemovals: a reachable source that cannot tell a removal from a loss (Eureka in
// self-preservation, an answer that suddenly lists nothing) freezes its origin's removals, with
// its reason, exactly as an unreachable one does.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../model/index.ts';
import type { Source, SourceHealth } from '../ports/index.ts';
import { ReconcileContext } from './reconcile-context.ts';

function source(id: string, health: SourceHealth): Source {
  return {
    id,
    start: () => Promise.resolve(),
    hasSynced: () => true,
    health: () => health,
    keys: () => [{ namespace: 'default', name: 'greeter' }],
    get: () => undefined,
    onChange: () => () => undefined,
    quarantined: () => [],
  };
}

describe('holdRemovals', () => {
  it('freezes the origin with the source\'s reason; absent, nothing is frozen', () => {
    const held = source('eureka', { reachable: true, lastContact: 1, holdRemovals: 'eureka is in self-preservation' });
    const fine = source('nacos', { reachable: true, lastContact: 1 });
    const frozen = new ReconcileContext('b', [held, fine], [], []).frozenOrigins(DEFAULT_POLICY);
    expect([...frozen.keys()]).toEqual(['eureka']);
    expect(frozen.get('eureka')).toBe('source eureka cannot tell removals now (eureka is in self-preservation): its endpoints are frozen');
  });
});
