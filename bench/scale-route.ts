// What the scale runner (scale.ts) needs from one route: the source-side workload, the bridge
// config, how to see the target catch up, and counters on the wire. Each route file
// (scale-consul.ts, scale-nacos.ts, scale-zookeeper.ts, scale-import.ts) implements it.
import type { WireCounter } from './scale-wire.ts';

export const ROUTES = ['k8s-consul', 'k8s-nacos', 'k8s-zookeeper', 'consul-k8s'] as const;
export type RouteName = (typeof ROUTES)[number];

export interface RouteSettings {
  readonly services: number;
  readonly endpointsPerService: number;
  readonly rollPods: number;
  /** Short id of this run: names of namespaces, nodes, chroots and services carry it. */
  readonly run: string;
  /** Kubernetes namespace of the run (created by the route, deleted at cleanup). */
  readonly namespace: string;
  /** Consul `nodeShards`; absent = the adapter's default. */
  readonly nodeShards?: number;
  readonly progress: (line: string) => void;
}

export interface RollStep {
  /** performance.now() just before the source change was sent. */
  readonly changedAt: number;
  /** From then until a reader of the target saw the new endpoint and not the old one. */
  readonly visibleMs: number;
}

export interface ScaleRoute {
  readonly name: RouteName;
  /** Counts what the bridge sends to the target registry: writes and propagation to the wire. */
  readonly target: WireCounter;
  /** Counters in front of the other registries the bridge talks to, by registry. */
  readonly others: Readonly<Record<string, WireCounter>>;
  /** Where the target is counted and how (for the JSON, so a reader knows what "requests" are). */
  readonly counting: string;
  /** Starts the counters and creates the namespace, nodes or chroot the run lives in. */
  prepare(): Promise<void>;
  /** Creates `services` × `endpointsPerService` plus the roll service in the source. */
  populate(): Promise<void>;
  /** The bridge config, its resolver on `resolverPort`. */
  config(resolverPort: number): Record<string, unknown>;
  /** How many of the run's services the target holds (cheap: polled during the initial sync). */
  servicesInTarget(): Promise<number>;
  /** Once after the initial sync: what the target holds in detail (instances, nodes…). */
  details(): Promise<Record<string, unknown>>;
  /** Replaces pod `i` of the roll service with a fresh one and waits until the target shows it. */
  rollStep(i: number): Promise<RollStep>;
  /** Deletes everything the run created (also after a failure). */
  cleanup(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, deadlineMs: number, check: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Polls `seen` until true; the time from `changedAt` on. Polling at `everyMs` quantizes the figure by that much. */
export async function visibleAfter(changedAt: number, what: string, seen: () => Promise<boolean>, everyMs: number, timeoutMs = 30_000): Promise<RollStep> {
  for (;;) {
    if (await seen()) return { changedAt, visibleMs: performance.now() - changedAt };
    if (performance.now() - changedAt > timeoutMs) throw new Error(`${what} not visible within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

/** Runs `f` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await f(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
