import { describe, expect, it } from 'vitest';
import type { ZkEvent } from './client.ts';
import { DirCache } from './dir-cache.ts';

// DirCache does not look into events; ZooKeeper's carry a type and a path.
const EVENT = { type: 3, name: 'NODE_DATA_CHANGED', path: '/d' } as unknown as ZkEvent;

describe('DirCache', () => {
  it('holds children and nodes until their watch fires', () => {
    const cache = new DirCache<string>();
    expect(cache.children('/d')).toBeUndefined();
    const dir = cache.watchChildren('/d');
    dir.store(['a', 'b']);
    expect(cache.children('/d')).toEqual(['a', 'b']);
    const a = cache.watchNode('/d', 'a');
    a.store('A', true);
    expect(cache.node('/d', 'a')).toEqual({ value: 'A' });
    a.watcher(EVENT);
    expect(cache.node('/d', 'a')).toBeUndefined();
    dir.watcher(EVENT);
    expect(cache.children('/d')).toBeUndefined();
  });

  it('stores a read that raced its own invalidation as stale', () => {
    const cache = new DirCache<string>();
    const dir = cache.watchChildren('/d');
    dir.watcher(EVENT);
    dir.store(['a']);
    expect(cache.children('/d')).toBeUndefined();
    const n = cache.watchNode('/d', 'a');
    n.watcher(EVENT);
    n.store('A', true);
    expect(cache.node('/d', 'a')).toBeUndefined();
  });

  it('drops nodes no longer listed, keeps uncacheable reads stale, and forgets all on clear', () => {
    const cache = new DirCache<string>();
    cache.watchChildren('/d').store(['a', 'b']);
    cache.watchNode('/d', 'a').store('A', true);
    cache.watchNode('/d', 'b').store(undefined, false);
    expect(cache.node('/d', 'b')).toBeUndefined();
    cache.watchChildren('/d').store(['b']);
    expect(cache.node('/d', 'a')).toBeUndefined();
    expect(cache.size).toBe(1);
    const late = cache.watchNode('/d', 'b');
    cache.clear();
    late.store('B', true);
    expect(cache.node('/d', 'b')).toBeUndefined();
    expect(cache.children('/d')).toBeUndefined();
  });

  it('hands ZooKeeper one watcher per path across reads and clears, a new one only after it fired or a new session', () => {
    const cache = new DirCache<string>();
    const dir = cache.watchChildren('/d').watcher;
    const node = cache.watchNode('/d', 'a').watcher;
    expect(cache.watchChildren('/d').watcher).toBe(dir);
    expect(cache.watchNode('/d', 'a').watcher).toBe(node);
    expect(cache.watchNode('/d', 'b').watcher).not.toBe(node);
    // A resync or a resumed session forgets the reads; ZooKeeper still holds the watchers.
    cache.clear();
    expect(cache.watchChildren('/d').watcher).toBe(dir);
    expect(cache.watchNode('/d', 'a').watcher).toBe(node);
    // One registered before the clear invalidates what was read after it: a re-read, not a stale answer.
    const read = cache.watchChildren('/d');
    read.store(['a']);
    expect(cache.children('/d')).toEqual(['a']);
    dir(EVENT);
    expect(cache.children('/d')).toBeUndefined();
    // Fired, so ZooKeeper dropped it: the next read registers a new one.
    expect(cache.watchChildren('/d').watcher).not.toBe(dir);
    const again = cache.watchNode('/d', 'a').watcher;
    expect(again).toBe(node);
    cache.newSession();
    expect(cache.watchNode('/d', 'a').watcher).not.toBe(node);
  });
});
