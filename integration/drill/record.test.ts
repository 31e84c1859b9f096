// The drill's arithmetic, without servers: a report that miscounted would make the drill's
// "zero failed calls" meaningless.
import { describe, expect, it } from 'vitest';
import { failureWindows, parseCallLine, podShareSince, shareOverTime, summarize, type CallRecord } from './record.ts';
import { dubboCall } from './dubbo-migration.ts';
import { reportOk } from './run.ts';
import { measure, registryPodShare, type SplitStepResult } from './split.ts';

const ok = (t: number, side: 'vm' | 'pod', instance = `${side}-1`): CallRecord => ({ t, ok: true, side, instance });
const bad = (t: number, error = 'Connection refused'): CallRecord => ({ t, ok: false, error });

describe('drill call records', () => {
  it('groups failures closer than a second into one window', () => {
    const windows = failureWindows([ok(0, 'vm'), bad(100), bad(600), bad(1500, 'timeout'), ok(2000, 'vm'), bad(5000)], 0);
    expect(windows).toEqual([
      { fromMs: 100, toMs: 1500, failures: 3, errors: ['Connection refused', 'timeout'] },
      { fromMs: 5000, toMs: 5000, failures: 1, errors: ['Connection refused'] },
    ]);
  });

  it('computes the share per side among successful calls in each bucket', () => {
    const samples = shareOverTime([ok(0, 'vm'), ok(10, 'vm'), ok(20, 'pod'), bad(30), ok(1000, 'pod')], 0, 1000);
    expect(samples).toEqual([
      { atMs: 0, calls: 4, vm: 66.7, pod: 33.3 },
      { atMs: 1000, calls: 1, vm: 0, pod: 100 },
    ]);
  });

  it('summarizes counts, rate and who served', () => {
    const s = summarize([ok(0, 'vm', 'vm-1'), ok(500, 'pod', 'pod-1'), bad(900)], 0, 2000);
    expect(s).toMatchObject({ calls: 3, failures: 1, callsPerSecond: 1.5, servedBy: { 'vm-1': 1, 'pod-1': 1 } });
  });

  it('measures the pod share only after the given moment', () => {
    expect(podShareSince([ok(0, 'vm'), ok(10, 'pod'), ok(20, 'pod')], 5)).toEqual({ calls: 2, pod: 100 });
  });

  it('turns an unreadable consumer line into a failed call instead of dropping it', () => {
    expect(parseCallLine('{"t":5,"ok":true,"side":"pod","instance":"pod-2","ms":3}')).toEqual({ t: 5, ok: true, side: 'pod', instance: 'pod-2', error: undefined, ms: 3 });
    expect(parseCallLine('garbage', 7)).toMatchObject({ t: 7, ok: false });
  });

  it('passes a run only when every framework that ran had calls and no failures', () => {
    const dir = (failures: number, calls = 10) => ({ ...summarize([], 0, 1), calls, failures, consumer: 'x', podShareAfterLastVmRetired: { calls: 1, pod: 100 }, stepVisibilityMs: {} });
    const share = (observed: number) => ({ calls: 1000, failures: 0, podShare: observed, vmShare: 100 - observed });
    const splitStep = (declared: number, observed: number): SplitStepResult => ({
      declared: { consul: 100 - declared, k8s: declared }, declaredPodShare: declared, via: 'ServiceMigration', visibleMs: 1, followedMs: 1, registryPodShare: declared, registryPodShareBefore: 50,
      vmToPod: { ...share(observed), weightAware: true }, podToVm: { ...share(50), weightAware: false }, countedFromMs: 0, countedMs: 1, status: { step: 's', waitedMs: 0 },
    });
    const ran = (failures: number, steps = [splitStep(10, 12.5), splitStep(90, 85)]) => ({ available: true as const, vmToPod: dir(0), podToVm: dir(failures), steps: [], split: { balancer: 'b', asserted: true, steps }, migrationStatus: [], durationMs: 1 });
    const missing = { available: false as const, reason: 'not yet' };
    expect(reportOk({ consul: ran(0) }, true)).toBe(true);
    expect(reportOk({ consul: ran(1) }, true)).toBe(false);
    expect(reportOk({ consul: ran(0), nacos: missing }, false)).toBe(true);
    expect(reportOk({ consul: ran(0), nacos: missing }, true)).toBe(false);
    expect(reportOk({ nacos: missing }, false)).toBe(false);
    expect(reportOk({ consul: { available: true, error: 'boom' } }, false)).toBe(false);
    // A weight-aware consumer more than 5 points off a declared split, or no split measured, fails.
    expect(reportOk({ consul: ran(0, [splitStep(10, 15.1)]) }, true)).toBe(false);
    expect(reportOk({ consul: ran(0, []) }, true)).toBe(false);
  });
});

describe('split measurement', () => {
  it('gives shares of successful calls and counts failures apart', () => {
    expect(measure([ok(1, 'pod'), ok(2, 'vm'), ok(3, 'vm'), ok(4, 'vm'), bad(5)])).toEqual({ calls: 5, failures: 1, podShare: 25, vmShare: 75 });
  });

  it('reads the pod share a weighted caller gets from the weights it sees', () => {
    const inst = (exported: boolean, weight: number | undefined) => ({ address: 'a', port: 1, exported, weight });
    expect(registryPodShare([inst(false, 10), inst(false, 10), inst(false, 10), inst(true, 1), inst(true, 1), inst(true, 1)])).toBe(9.1);
    expect(registryPodShare([inst(false, 1), inst(true, 9), inst(true, undefined)])).toBe(90);
  });
});

describe('dubbo consumer lines', () => {
  it('reads the serving instance from the reply and dates the call from its start', () => {
    expect(dubboCall({ event: 'call', ok: true, reply: 'hello call-7 from pod-2', ms: 4 }, 1004)).toEqual({ t: 1000, ok: true, instance: 'pod-2', side: 'pod', ms: 4 });
    expect(dubboCall({ event: 'call', ok: true, reply: 'hello call-8 from vm-3', ms: 0 }, 50)).toMatchObject({ side: 'vm', instance: 'vm-3' });
    expect(dubboCall({ event: 'call', ok: false, error: 'No provider available', ms: 2 }, 10)).toEqual({ t: 8, ok: false, error: 'No provider available', ms: 2 });
    // A reply from an unknown instance is a success served by neither side, never counted as a pod.
    expect(dubboCall({ event: 'call', ok: true, reply: 'hello', ms: 1 }, 1)).toMatchObject({ ok: true, side: undefined });
  });
});
