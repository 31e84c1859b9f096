import { describe, expect, it } from 'vitest';
import { DirCache } from './dir-cache.ts';


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
    a.watcher();
    expect(cache.node('/d', 'a')).toBeUndefined();
    dir.watcher();
    expect(cache.children('/d')).toBeUndefined();
  });

  it('stores a read that raced its own invalidation as stale', () => {
    const cache = new DirCache<string>();
    const dir = cache.watchChildren('/d');
    dir.watcher();
    dir.store(['a']);
    expect(cache.children('/d')).toBeUndefined();
    const n = cache.watchNode('/d', 'a');
    n.watcher();
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
});
