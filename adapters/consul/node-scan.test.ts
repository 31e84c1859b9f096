import { describe, expect, it } from 'vitest';
import { dueOnNode } from './node-scan.ts';

const readAt = (at: Record<string, number>) => (service: string): number | undefined => at[service];

describe('dueOnNode', () => {
  const prior = new Map([['a-1', 'a'], ['a-2', 'a'], ['b-1', 'b']]);
  const listing = (services: { ID: string; Service: string; ModifyIndex: number }[]) => ({ Services: services });

  it('names a service whose instance is newer than its read, or gone', () => {
    const body = listing([{ ID: 'a-1', Service: 'a', ModifyIndex: 5 }, { ID: 'b-1', Service: 'b', ModifyIndex: 12 }]);
    // a-2 is gone (a still has a-1, unchanged), b-1 changed after b was read at 10.
    expect(dueOnNode(body, { index: 1, seen: 1 }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set(['a', 'b']));
  });

  it('leaves out instances the read filtered (not newer than the read) and unfollowed services', () => {
    const body = listing([
      { ID: 'a-1', Service: 'a', ModifyIndex: 5 }, { ID: 'a-2', Service: 'a', ModifyIndex: 5 }, { ID: 'b-1', Service: 'b', ModifyIndex: 5 },
      { ID: 'a-ours', Service: 'a', ModifyIndex: 8 }, { ID: 'x-1', Service: 'x', ModifyIndex: 99 },
    ]);
    expect(dueOnNode(body, { index: 1, seen: 1 }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set());
  });

  it('names every service on a node edited since the last scan, once', () => {
    const body = listing([{ ID: 'a-1', Service: 'a', ModifyIndex: 5 }, { ID: 'a-2', Service: 'a', ModifyIndex: 5 }, { ID: 'b-1', Service: 'b', ModifyIndex: 5 }]);
    expect(dueOnNode(body, { index: 20, seen: 15 }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set(['a', 'b']));
    // The services' read indexes do not move with the node's: the scan's own record does.
    expect(dueOnNode(body, { index: 20, seen: 20 }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set());
    // Never scanned: compared with the read.
    expect(dueOnNode(body, { index: 8, seen: undefined }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set());
  });

  it('names the service an instance ID left when the ID shows up under another', () => {
    const body = listing([{ ID: 'a-1', Service: 'b', ModifyIndex: 5 }, { ID: 'a-2', Service: 'a', ModifyIndex: 5 }, { ID: 'b-1', Service: 'b', ModifyIndex: 5 }]);
    expect(dueOnNode(body, { index: 1, seen: 1 }, prior, readAt({ a: 10, b: 10 }))).toEqual(new Set(['a']));
  });
});
