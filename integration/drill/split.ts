// The drill's split steps: with VM providers and pods both ready, the operator declares 90/10,
// 50/50 then 10/90 (VM registry / k8s) on the service's ServiceMigration; per step the drill
// waits until the VM registry carries the new weights, then counts calls and compares the share
// each side served with the declared one.
import type { ServiceRef } from '../../bridge/model/index.ts';
import type { Kube } from './kube.ts';
import { waitFor } from './net.ts';
import type { CallRecord } from './record.ts';
import { applyMigration, readMigrationStatus, type MigrationStatusView } from './service-migration.ts';
import type { VisibleInstance } from './sides.ts';
import { type BridgeAccess, effectiveSplit, putWeights } from './weights.ts';

/** VM registry share of each step, in order; k8s gets the rest. */
export const SPLIT_STEPS: readonly number[] = [90, 50, 10];

/** How the drill got the bridge to apply a split. */
export type SplitVia = 'ServiceMigration' | 'PUT /v1/weights';

export interface ShareMeasure {
  readonly calls: number;
  readonly failures: number;
  /** Percent of successful calls served by pods (one decimal). */
  readonly podShare: number;
  readonly vmShare: number;
}

export interface SplitStepResult {
  readonly declared: Readonly<Record<string, number>>;
  /** Declared percent for pods (k8s). */
  readonly declaredPodShare: number;
  readonly via: SplitVia;
  /** Why the ServiceMigration path was not used (only with the PUT fallback). */
  readonly fallbackReason?: string;
  /** Split set → the weights a weighted caller of the VM registry reads give the declared share, ms. */
  readonly visibleMs: number;
  /** From visible until the consumer's calls followed the weights (see `following`), ms. */
  readonly followedMs: number;
  /** Pod share implied by the weights visible in the VM registry when the count started. */
  readonly registryPodShare: number;
  /** The same just before the split was set: a step that changes nothing there shows it here. */
  readonly registryPodShareBefore: number;
  /** The weight-aware VM consumer: counted over `callsPerStep` calls. */
  readonly vmToPod: ShareMeasure & { readonly weightAware: true };
  /** The EndpointSlice consumer over the same window: kube-proxy has no weights, so no split. */
  readonly podToVm: ShareMeasure & { readonly weightAware: false };
  /** Offset of the counted window from the split being set, ms. */
  readonly countedFromMs: number;
  readonly countedMs: number;
  readonly status: MigrationStatusView;
}

export interface SplitContext {
  readonly kube: Kube;
  readonly bridge: BridgeAccess;
  readonly ref: ServiceRef;
  readonly vmId: string;
  /** What a caller of the VM registry sees, with the weight its load balancer uses. */
  readonly visible: () => Promise<VisibleInstance[]>;
  readonly vmCalls: () => readonly CallRecord[];
  readonly podCalls: () => readonly CallRecord[];
  readonly callsPerStep: number;
  /**
   * Longest the consumer may take, once the weights are visible in the registry, to use them
   * (its client's registry fetch, LoadBalancer cache, notification batching): see `following`.
   */
  readonly followTimeoutMs: number;
  /** Ready instances per origin while the steps run, for the status check. */
  readonly ready: Readonly<Record<string, number>>;
  readonly log: (message: string) => void;
  readonly signal?: AbortSignal;
}

const pct = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part * 1000) / whole) / 10);

/** Pod share a weighted caller of the VM registry would give, from the weights it sees. */
export function registryPodShare(instances: readonly VisibleInstance[]): number {
  let pod = 0;
  let all = 0;
  for (const i of instances) {
    const w = i.weight ?? 0;
    all += w;
    if (i.exported) pod += w;
  }
  return pct(pod, all);
}

export function measure(records: readonly CallRecord[]): ShareMeasure {
  const ok = records.filter((r) => r.ok);
  return {
    calls: records.length,
    failures: records.length - ok.length,
    podShare: pct(ok.filter((r) => r.side === 'pod').length, ok.length),
    vmShare: pct(ok.filter((r) => r.side === 'vm').length, ok.length),
  };
}

/**
 * Declares `split` on the service's ServiceMigration. Falls back to the runtime API only when the
 * bridge does not take the object's split within `timeoutMs` (a build that does not read
 * ServiceMigration objects); the caller remembers the fallback for the following steps.
 */
export async function setSplit(c: SplitContext, split: Readonly<Record<string, number>>, useCrd: boolean, timeoutMs = 10_000): Promise<{ via: SplitVia; reason?: string }> {
  const taken = async (): Promise<true | undefined> => {
    const now = await effectiveSplit(c.bridge, c.ref);
    const same = now.split !== undefined && Object.keys(split).every((k) => now.split?.[k] === split[k]) && Object.keys(now.split).length === Object.keys(split).length;
    return same && (!useCrd || now.from === 'migration') ? true : undefined;
  };
  let reason: string | undefined;
  if (useCrd) {
    await applyMigration(c.kube, c.ref, { split });
    try {
      await waitFor('the bridge to take the ServiceMigration split', taken, timeoutMs, 100, c.signal);
      return { via: 'ServiceMigration' };
    } catch (error) {
      if (c.signal?.aborted === true) throw error;
      reason = `the bridge did not apply the ServiceMigration's split within ${timeoutMs / 1000} s (GET /v1/status shows no split from 'migration')`;
    }
  }
  const refused = await putWeights(c.bridge, c.ref, split);
  if (refused !== undefined) throw new Error(`setting split ${JSON.stringify(split)}: ${reason ?? ''} ${refused}`.trim());
  return { via: 'PUT /v1/weights', ...(reason === undefined ? {} : { reason }) };
}

/** Calls in the window that says whether the consumer follows the new weights (2 s at 100/s). */
const FOLLOW_WINDOW = 200;
/**
 * Points off the declared share that window may be. Wider than the ±5 asserted over the
 * counted 1,000 calls, since 200 calls spread more (±3.5 points is one standard deviation at
 * 50/50), and far narrower than the distance between the steps (40 points).
 */
const FOLLOW_TOLERANCE = 7.5;

/**
 * Waits until the weight-aware consumer follows the weights now visible: the pod share of its
 * latest FOLLOW_WINDOW calls, all started after `since`, within FOLLOW_TOLERANCE of `target`.
 * How long that takes is the consumer's own business (a Eureka client's fetch plus the
 * LoadBalancer's cache), and on a busy machine it took longer than the fixed 2 s this replaced:
 * 41 % to pods was counted for a declared 50 %, the first calls still on the old weights. A
 * consumer that never follows fails here after `c.followTimeoutMs`. Resolves with the wait, ms.
 */
async function following(c: SplitContext, since: number, target: number): Promise<number> {
  const started = Date.now();
  await waitFor(`the VM consumer to follow the weights (${target} % to pods over its last ${FOLLOW_WINDOW} calls)`, () => {
    const recent = c.vmCalls().filter((r) => r.t >= since).sort((a, b) => a.t - b.t);
    if (recent.length < FOLLOW_WINDOW) return Promise.resolve(undefined);
    const share = measure(recent.slice(-FOLLOW_WINDOW)).podShare;
    return Promise.resolve(Math.abs(share - target) <= FOLLOW_TOLERANCE ? true : undefined);
  }, c.followTimeoutMs, 100, c.signal);
  return Date.now() - started;
}

/** Calls of `records` that started at or after `from`, once there are `n` of them. */
async function nextCalls(records: () => readonly CallRecord[], from: number, n: number, signal?: AbortSignal): Promise<readonly CallRecord[]> {
  const { value } = await waitFor(`${n} calls`, () => {
    const after = records().filter((r) => r.t >= from).sort((a, b) => a.t - b.t);
    return Promise.resolve(after.length >= n ? after.slice(0, n) : undefined);
  }, Math.max(120_000, n * 200), 250, signal);
  return value;
}

/** Runs every split step in order and returns what each measured. */
export async function runSplitSteps(c: SplitContext, step: <T>(name: string, body: () => Promise<T>) => Promise<T>): Promise<SplitStepResult[]> {
  const results: SplitStepResult[] = [];
  let useCrd = true;
  for (const vmShare of SPLIT_STEPS) {
    const declared = { [c.vmId]: vmShare, k8s: 100 - vmShare };
    const result = await step(`split ${c.vmId}=${vmShare} k8s=${100 - vmShare}`, async () => {
      const before = registryPodShare(await c.visible());
      const started = Date.now();
      const how = await setSplit(c, declared, useCrd);
      if (how.via !== 'ServiceMigration') useCrd = false;
      c.log(`${c.vmId}: split ${JSON.stringify(declared)} set through ${how.via}${how.reason === undefined ? '' : ` (${how.reason})`}`);
      const target = 100 - vmShare;
      // Rounding of whole-number weights (Consul) keeps some steps a little off: 2 points is
      // well inside the ±5 the drill asserts on traffic and well outside any other step's share.
      const seen = await waitFor(`weights for ${vmShare}/${target} visible in the VM registry`, async () => {
        const share = registryPodShare(await c.visible());
        return Math.abs(share - target) <= 2 ? share : undefined;
      }, 30_000, 100, c.signal);
      const visibleMs = Date.now() - started;
      const followedMs = await following(c, Date.now(), target);
      const from = Date.now();
      const vmCalls = await nextCalls(c.vmCalls, from, c.callsPerStep, c.signal);
      const until = (vmCalls.at(-1)?.t ?? from) + 1;
      const podCalls = c.podCalls().filter((r) => r.t >= from && r.t < until);
      const status = await readMigrationStatus(c.kube, c.ref, `split ${vmShare}/${target}`, c.ready);
      return {
        declared,
        declaredPodShare: target,
        via: how.via,
        ...(how.reason === undefined ? {} : { fallbackReason: how.reason }),
        visibleMs,
        followedMs,
        registryPodShare: seen.value,
        registryPodShareBefore: before,
        vmToPod: { ...measure(vmCalls), weightAware: true as const },
        podToVm: { ...measure(podCalls), weightAware: false as const },
        countedFromMs: from - started,
        countedMs: until - from,
        status,
      };
    });
    c.log(`${c.vmId}: declared pods ${result.declaredPodShare} %, observed ${result.vmToPod.podShare} % over ${result.vmToPod.calls} calls (${result.vmToPod.failures} failed; weights visible after ${result.visibleMs} ms, followed ${result.followedMs} ms later)`);
    results.push(result);
  }
  return results;
}
