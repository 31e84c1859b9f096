import type { Endpoint } from '../model/index.ts';
import type { EndpointField } from '../ports/index.ts';
import { endpointKey } from '../model/index.ts';

export interface EndpointDiff {
  readonly added: readonly Endpoint[];
  readonly updated: readonly Endpoint[];
  /** Endpoints present in the sink that the desired state no longer has. */
  readonly removed: readonly Endpoint[];
  readonly unchanged: number;
}

/**
 * Compares desired and observed endpoints on identity plus the fields the sink can store. Pure.
 * Comparing only storable fields is what lets a second reconcile, or a restart, write nothing.
 */
export function diffEndpoints(
  desired: readonly Endpoint[],
  actual: readonly Endpoint[],
  fields: readonly EndpointField[],
): EndpointDiff {
  const actualById = new Map(actual.map((e) => [endpointKey(e), e]));
  const added: Endpoint[] = [];
  const updated: Endpoint[] = [];
  let unchanged = 0;
  for (const d of desired) {
    const id = endpointKey(d);
    const a = actualById.get(id);
    actualById.delete(id);
    if (a === undefined) added.push(d);
    else if (fingerprint(d, fields) !== fingerprint(a, fields)) updated.push(d);
    else unchanged++;
  }
  return { added, updated, removed: [...actualById.values()], unchanged };
}

export function isNoop(d: EndpointDiff): boolean {
  return d.added.length === 0 && d.updated.length === 0 && d.removed.length === 0;
}

function fingerprint(ep: Endpoint, fields: readonly EndpointField[]): string {
  return JSON.stringify(fields.map((f) => canonical(ep[f])));
}

function canonical(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value ?? null;
  return Object.entries(value as Record<string, unknown>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, canonical(v)]);
}
