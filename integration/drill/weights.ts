// The drill's weight-shift step, through the bridge's runtime API (PUT /v1/weights/:ns/:name).
// When this build of Isthmus has no such API, the step is skipped and the report says so.
import type { ServiceRef } from '../../bridge/model/index.ts';
import { waitFor } from './net.ts';
import type { VisibleInstance } from './sides.ts';

export interface WeightsOutcome {
  readonly applied: boolean;
  readonly reason?: string;
  readonly split?: Readonly<Record<string, number>>;
  /** PUT → the exported pods' weight changed in the VM registry, ms (absent: not seen in 15 s). */
  readonly visibleInVmRegistryMs?: number;
  readonly note?: string;
}

/** VM registry 30 %, pods (registry id k8s) 70 %. */
export function split(vmId: string): Record<string, number> {
  return { [vmId]: 30, k8s: 70 };
}

export async function applyWeights(bridge: { readonly baseUrl: string; readonly token: string }, ref: ServiceRef, vmId: string, visible: () => Promise<VisibleInstance[]>, log: (m: string) => void): Promise<WeightsOutcome> {
  const bridgeUrl = bridge.baseUrl;
  const key = (i: VisibleInstance): string => `${i.address}:${i.port}`;
  const shares = split(vmId);
  const before = new Map((await visible()).filter((i) => i.exported).map((i) => [key(i), i.weight]));
  let res: Response;
  try {
    res = await fetch(`${bridgeUrl}/v1/weights/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bridge.token}` },
      body: JSON.stringify(shares),
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    return { applied: false, reason: `weights API unreachable: ${(error as Error).message}` };
  }
  if (res.status === 404) return { applied: false, reason: 'this Isthmus build has no runtime weights API (PUT /v1/weights → 404); step skipped' };
  if (!res.ok) return { applied: false, reason: `PUT /v1/weights answered ${res.status}: ${(await res.text()).slice(0, 200)}` };
  log(`${vmId}: weights set to ${JSON.stringify(shares)}`);
  const note = 'Spring Cloud LoadBalancer round-robin ignores registry weights; the split shows in registries and resolver answers, not in this consumer\'s traffic.';
  try {
    const seen = await waitFor('exported weights to change in the VM registry', async () => {
      const now = (await visible()).filter((i) => i.exported);
      return now.some((i) => before.get(key(i)) !== i.weight) ? true : undefined;
    }, 15_000, 100);
    return { applied: true, split: shares, visibleInVmRegistryMs: seen.ms, note };
  } catch {
    return { applied: true, split: shares, note: `${note} No change of the exported pods' weights was seen in the VM registry within 15 s.` };
  }
}
