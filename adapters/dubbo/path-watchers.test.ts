import { describe, expect, it } from 'vitest';
import type { ZkEvent } from './client.ts';
import { PathWatchers } from './path-watchers.ts';

const EVENT = { type: 4, name: 'NODE_CHILDREN_CHANGED', path: '/p' } as unknown as ZkEvent;

describe('PathWatchers', () => {
  it('hands out one function per key until it fires, and tells which key fired', () => {
    const fired: string[] = [];
    const w = new PathWatchers((key) => { fired.push(key); });
    const p = w.for('/p');
    expect(w.for('/p')).toBe(p);
    expect(w.for('/q')).not.toBe(p);
    expect(w.size).toBe(2);
    p(EVENT);
    expect(fired).toEqual(['/p']);
    expect(w.size).toBe(1);
    const next = w.for('/p');
    expect(next).not.toBe(p);
    // The replaced function may still be registered as another kind of watch: firing it still
    // reports the key, and does not drop the current one.
    p(EVENT);
    expect(fired).toEqual(['/p', '/p']);
    expect(w.for('/p')).toBe(next);
  });

  it('starts over after a reset (a new session holds none of them)', () => {
    const w = new PathWatchers(() => undefined);
    const p = w.for('/p');
    w.reset();
    expect(w.size).toBe(0);
    expect(w.for('/p')).not.toBe(p);
  });
});
