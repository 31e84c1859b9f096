// The bridge's runtime weights API (PUT /v1/weights/:ns/:name): the drill's way to set a split
// only when the bridge does not take it from the ServiceMigration object (see split.ts).
import type { ServiceRef } from '../../bridge/model/index.ts';

export interface BridgeAccess {
  readonly baseUrl: string;
  readonly token: string;
}

/** Sets the runtime split; resolves with why it could not, or undefined when it was taken. */
export async function putWeights(bridge: BridgeAccess, ref: ServiceRef, split: Readonly<Record<string, number>>): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(`${bridge.baseUrl}/v1/weights/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bridge.token}` },
      body: JSON.stringify(split),
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    return `weights API unreachable: ${(error as Error).message}`;
  }
  if (res.status === 404) return 'this Isthmus build has no runtime weights API (PUT /v1/weights → 404)';
  return res.ok ? undefined : `PUT /v1/weights answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
}

/** The split the bridge applies to `ref` now and which layer it comes from (GET /v1/status/:ns/:name). */
export async function effectiveSplit(bridge: BridgeAccess, ref: ServiceRef): Promise<{ split?: Record<string, number>; from?: string }> {
  try {
    const res = await fetch(`${bridge.baseUrl}/v1/status/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`, {
      headers: { authorization: `Bearer ${bridge.token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) return {};
    const body = (await res.json()) as { migration?: { split?: Record<string, number>; splitFrom?: string } };
    return { ...(body.migration?.split === undefined ? {} : { split: body.migration.split }), ...(body.migration?.splitFrom === undefined ? {} : { from: body.migration.splitFrom }) };
  } catch {
    return {};
  }
}
