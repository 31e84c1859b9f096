import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/index.ts';
import { parseConfig } from '../runtime/index.ts';
import { SILENT_LOGGER } from '../sync/index.ts';
import { buildParts, closeParts } from './build.ts';

const KINDS = { memory: memoryAdapter };

function parts(yaml: string): ReturnType<typeof buildParts> {
  return buildParts(parseConfig(yaml, KINDS), KINDS, () => SILENT_LOGGER);
}

describe('buildParts', () => {
  it('starts no source for a registry that is only a target', async () => {
    const p = parts(`bridge: { id: b }
registries: { vm: { kind: memory }, consul: { kind: memory }, lookup: { kind: memory } }
routes: [ { from: vm, to: consul } ]
`);
    expect(p.sources.map((s) => s.id).sort()).toEqual(['lookup', 'vm']);
    expect(p.sinks.map((s) => s.id)).toEqual(['consul']);
    expect(p.allSinks.map((s) => s.id).sort()).toEqual(['consul', 'lookup', 'vm']);
    await closeParts(p);
  });

  it('reads both sides of a bidirectional pair, and a target whose records anchor a split', async () => {
    const both = parts(`bridge: { id: b }
registries: { a: { kind: memory }, b: { kind: memory } }
routes: [ { from: a, to: b }, { from: b, to: a } ]
`);
    expect(both.sources.map((s) => s.id).sort()).toEqual(['a', 'b']);
    const split = parts(`bridge: { id: b }
registries: { vm: { kind: memory }, k8s: { kind: memory } }
routes: [ { from: k8s, to: vm } ]
weights: { shop/orders: { vm: 90, k8s: 10 } }
`);
    expect(split.sources.map((s) => s.id).sort()).toEqual(['k8s', 'vm']);
    await Promise.all([closeParts(both), closeParts(split)]);
  });
});
