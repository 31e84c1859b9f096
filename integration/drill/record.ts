// What the drill reports about a stream of calls: pure functions over call records, so the
// numbers in the JSON can be checked without any server.

export type Side = 'vm' | 'pod';

export interface CallRecord {
  /** Start of the call, epoch ms. */
  readonly t: number;
  readonly ok: boolean;
  readonly side?: Side | undefined;
  readonly instance?: string | undefined;
  readonly error?: string | undefined;
  readonly ms?: number | undefined;
}

export interface FailureWindow {
  /** Offsets from the start of the run, ms. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly failures: number;
  /** Distinct error messages seen in the window (at most 5). */
  readonly errors: readonly string[];
}

export interface ShareSample {
  /** Offset of the bucket's start from the start of the run, ms. */
  readonly atMs: number;
  readonly calls: number;
  /** Percent of successful calls served by each side in this bucket (0-100, one decimal). */
  readonly vm: number;
  readonly pod: number;
}

export interface CallSummary {
  readonly calls: number;
  readonly failures: number;
  readonly callsPerSecond: number;
  readonly failureWindows: readonly FailureWindow[];
  readonly shareOverTime: readonly ShareSample[];
  readonly servedBy: Readonly<Record<string, number>>;
}

/** Failures closer than `gapMs` to each other belong to one window. */
export function failureWindows(records: readonly CallRecord[], startMs: number, gapMs = 1000): FailureWindow[] {
  const failed = records.filter((r) => !r.ok).sort((a, b) => a.t - b.t);
  const windows: { from: number; to: number; failures: number; errors: Set<string> }[] = [];
  for (const r of failed) {
    const last = windows.at(-1);
    if (last !== undefined && r.t - last.to <= gapMs) {
      last.to = r.t;
      last.failures += 1;
      if (last.errors.size < 5) last.errors.add(r.error ?? 'unknown');
    } else {
      windows.push({ from: r.t, to: r.t, failures: 1, errors: new Set([r.error ?? 'unknown']) });
    }
  }
  return windows.map((w) => ({ fromMs: w.from - startMs, toMs: w.to - startMs, failures: w.failures, errors: [...w.errors] }));
}

const pct = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part * 1000) / whole) / 10);

/** Share of successful calls per side, in buckets of `bucketMs` from `startMs`. */
export function shareOverTime(records: readonly CallRecord[], startMs: number, bucketMs: number): ShareSample[] {
  const buckets = new Map<number, { calls: number; vm: number; pod: number; ok: number }>();
  for (const r of records) {
    const index = Math.max(0, Math.floor((r.t - startMs) / bucketMs));
    const b = buckets.get(index) ?? { calls: 0, vm: 0, pod: 0, ok: 0 };
    b.calls += 1;
    if (r.ok) {
      b.ok += 1;
      if (r.side === 'vm') b.vm += 1;
      if (r.side === 'pod') b.pod += 1;
    }
    buckets.set(index, b);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, b]) => ({ atMs: index * bucketMs, calls: b.calls, vm: pct(b.vm, b.ok), pod: pct(b.pod, b.ok) }));
}

export function summarize(records: readonly CallRecord[], startMs: number, endMs: number, bucketMs = 5000): CallSummary {
  const servedBy: Record<string, number> = {};
  for (const r of records) if (r.ok && r.instance !== undefined) servedBy[r.instance] = (servedBy[r.instance] ?? 0) + 1;
  const seconds = Math.max(0.001, (endMs - startMs) / 1000);
  return {
    calls: records.length,
    failures: records.filter((r) => !r.ok).length,
    callsPerSecond: Math.round((records.length / seconds) * 10) / 10,
    failureWindows: failureWindows(records, startMs),
    shareOverTime: shareOverTime(records, startMs, bucketMs),
    servedBy,
  };
}

/** Share of successful calls served by pods among the calls started at or after `fromMs`. */
export function podShareSince(records: readonly CallRecord[], fromMs: number): { calls: number; pod: number } {
  const after = records.filter((r) => r.t >= fromMs && r.ok);
  return { calls: after.length, pod: pct(after.filter((r) => r.side === 'pod').length, after.length) };
}

/** Parses one consumer output line; malformed lines count as failed calls, never vanish. */
export function parseCallLine(json: string, now = Date.now()): CallRecord {
  try {
    const raw = JSON.parse(json) as { t?: unknown; ok?: unknown; side?: unknown; instance?: unknown; error?: unknown; ms?: unknown };
    return {
      t: typeof raw.t === 'number' ? raw.t : now,
      ok: raw.ok === true,
      side: raw.side === 'vm' || raw.side === 'pod' ? raw.side : undefined,
      instance: typeof raw.instance === 'string' ? raw.instance : undefined,
      error: typeof raw.error === 'string' ? raw.error : undefined,
      ms: typeof raw.ms === 'number' ? raw.ms : undefined,
    };
  } catch {
    return { t: now, ok: false, error: `unparseable consumer line: ${json.slice(0, 200)}` };
  }
}
