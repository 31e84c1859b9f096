// What every counting proxy of the scale bench records, whatever the protocol (HTTP for Consul and
// Kubernetes, gRPC frames for Nacos, jute frames for ZooKeeper), so the runner and the table treat
// every route alike.
import { round } from './stats.ts';

export interface WireCounts {
  requests: number;
  /** Requests that change the registry (HTTP PUT/POST/PATCH/DELETE, Nacos instance requests, znode writes). */
  writes: number;
  /** Long-poll requests (Consul `index`, Kubernetes `watch`). */
  blocking: number;
  /** Answers outside 2xx (HTTP only), plus 429 on its own. */
  non2xx: number;
  tooMany: number;
  /** Messages the server sent unasked (Nacos pushes, ZooKeeper watch events). */
  pushes: number;
  bytesIn: number;
  byPath: Record<string, number>;
  /** Summed time to the upstream's answer headers, per path class (HTTP, non-blocking only). */
  msByPath: Record<string, number>;
}

export function zeroCounts(): WireCounts {
  return { requests: 0, writes: 0, blocking: 0, non2xx: 0, tooMany: 0, pushes: 0, bytesIn: 0, byPath: {}, msByPath: {} };
}

/** Phase and total counts, plus when each write passed (to time a change to its first write). */
export abstract class WireCounter {
  #phase = zeroCounts();
  readonly total = zeroCounts();
  /** performance.now() of recent writes; trimmed so a long run does not grow it without bound. */
  #writeTimes: number[] = [];

  /** The counts since the previous call; starts the next phase. */
  phase(): WireCounts {
    const out = this.#phase;
    this.#phase = zeroCounts();
    return out;
  }

  /** The first write seen at or after `t` (same clock: the proxies run in the bench process). */
  firstWriteAfter(t: number): number | undefined {
    return this.#writeTimes.find((w) => w >= t);
  }

  /** When the last write passed, or -Infinity. */
  get lastWriteAt(): number {
    return this.#writeTimes[this.#writeTimes.length - 1] ?? Number.NEGATIVE_INFINITY;
  }

  protected count(f: (c: WireCounts) => void): void {
    f(this.#phase);
    f(this.total);
  }

  /** Counts one request of class `cls`. */
  protected request(cls: string, write: boolean, blocking = false): void {
    this.count((c) => {
      c.requests++;
      if (write) c.writes++;
      if (blocking) c.blocking++;
      c.byPath[cls] = (c.byPath[cls] ?? 0) + 1;
    });
    if (write) {
      this.#writeTimes.push(performance.now());
      if (this.#writeTimes.length > 20_000) this.#writeTimes = this.#writeTimes.slice(-10_000);
    }
  }

  abstract start(): Promise<string>;
  abstract stop(): Promise<void>;
}

/** A phase's counts for the JSON: totals and the six busiest request classes. */
export function summary(c: WireCounts): Record<string, unknown> {
  const top = Object.entries(c.byPath).sort((a, b) => b[1] - a[1]).slice(0, 6);
  const avgMs = Object.fromEntries(top.filter(([k]) => c.msByPath[k] !== undefined).map(([k, n]) => [k, round((c.msByPath[k] ?? 0) / n, 1)]));
  return {
    requests: c.requests,
    writes: c.writes,
    blocking: c.blocking,
    non2xx: c.non2xx,
    status429: c.tooMany,
    pushes: c.pushes,
    mbIn: round(c.bytesIn / 2 ** 20, 2),
    top: Object.fromEntries(top),
    ...(Object.keys(avgMs).length === 0 ? {} : { avgMsNonBlocking: avgMs }),
  };
}
