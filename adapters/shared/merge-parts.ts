import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { mergeShape } from '../../bridge/model/index.ts';

/**
 * One ref's snapshot from what several parts of one registry said about it (a Dubbo interface
 * directory and an application sharing a name, two native services mapped onto one name).
 * Parts come in a fixed order, so the result never depends on which watch answered first:
 * ports and metadata follow the engine's precedence (the first part to name one wins), and the
 * endpoints are the union by native id — the same instance seen twice is one endpoint, the
 * first part's view of it kept. A single part is returned as it is.
 */
export function mergeParts(snapshots: readonly ServiceSnapshot[]): ServiceSnapshot | undefined {
  const [first, ...rest] = snapshots;
  if (first === undefined || rest.length === 0) return first;
  const endpoints = new Map<string, Endpoint>();
  for (const snap of snapshots) {
    for (const ep of snap.endpoints) if (!endpoints.has(ep.origin.nativeId)) endpoints.set(ep.origin.nativeId, ep);
  }
  const { ports, metadata } = mergeShape(snapshots);
  return { ...first, ports, metadata, endpoints: [...endpoints.values()] };
}
