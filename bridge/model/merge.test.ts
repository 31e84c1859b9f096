import { describe, expect, it } from 'vitest';
import { mergeShape } from './merge.ts';

describe('mergeShape', () => {
  it('lets the first snapshot (config order) win each port name and metadata key, and later ones fill gaps', () => {
    const merged = mergeShape([
      { ports: [{ name: 'http', port: 8080 }], metadata: { team: 'vm', tier: 'gold' } },
      { ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 9090 }], metadata: { team: 'k8s', owner: 'alice' } },
    ]);
    expect(merged).toEqual({ ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }], metadata: { team: 'vm', tier: 'gold', owner: 'alice' } });
  });

  it('does not depend on key order inside a snapshot, and treats an empty value as said', () => {
    expect(mergeShape([{ ports: [], metadata: { a: '' } }, { ports: [], metadata: { a: 'x' } }]).metadata).toEqual({ a: '' });
  });
});
