import { describe, expect, it } from 'vitest';
import { check, figureAt, formatReport, meets } from './check.ts';
import { TARGETS, type Target } from './targets.ts';

const T: readonly Target[] = [
  { bench: 'resolver', figure: 'http.rps', op: '>=', limit: 100, unit: 'req/s', what: 'rate' },
  { bench: 'resolver', figure: 'http.p99', op: '<=', limit: 5, unit: 'ms', what: 'p99' },
  { bench: 'engine', figure: 'seconds', op: '<', limit: 60, unit: 's', what: 'convergence' },
];

describe('bench targets check', () => {
  it('compares at the boundary as the operator says', () => {
    expect(meets(100, '>=', 100)).toBe(true);
    expect(meets(99.9, '>=', 100)).toBe(false);
    expect(meets(5, '<=', 5)).toBe(true);
    expect(meets(5.01, '<=', 5)).toBe(false);
    expect(meets(60, '<', 60)).toBe(false);
    expect(meets(59.9, '<', 60)).toBe(true);
  });

  it('reads figures by dotted path and treats missing or non-finite ones as null', () => {
    expect(figureAt({ a: { b: 3 } }, 'a.b')).toBe(3);
    expect(figureAt({ a: { b: 3 } }, 'a.c')).toBeNull();
    expect(figureAt({ a: 3 }, 'a.b')).toBeNull();
    expect(figureAt({ a: Number.NaN }, 'a')).toBeNull();
    expect(figureAt({ a: null }, 'a')).toBeNull();
    expect(figureAt({ a: '3' }, 'a')).toBeNull();
  });

  it('passes only when every target of that bench is met', () => {
    const ok = check('resolver', { http: { rps: 150, p99: 4 } }, T);
    expect(ok.pass).toBe(true);
    expect(ok.figures).toEqual([
      { figure: 'http.rps', what: 'rate', value: 150, target: '>= 100 req/s', pass: true },
      { figure: 'http.p99', what: 'p99', value: 4, target: '<= 5 ms', pass: true },
    ]);
    const slow = check('resolver', { http: { rps: 150, p99: 14.3 } }, T);
    expect(slow.pass).toBe(false);
    expect(slow.figures.map((f) => f.pass)).toEqual([true, false]);
  });

  it('fails a missing figure instead of skipping it', () => {
    const r = check('resolver', { http: { rps: 150 } }, T);
    expect(r.pass).toBe(false);
    expect(r.figures[1]).toMatchObject({ value: null, pass: false });
    expect(formatReport(r)).toContain('MISS  p99: missing (target <= 5 ms)');
  });

  it('does not pass a bench without targets', () => {
    expect(check('engine', { seconds: 1 }, T.filter((t) => t.bench === 'resolver')).pass).toBe(false);
  });

  it('holds every DESIGN §12 figure once', () => {
    // Scale rows repeat a figure per route and scale; scale.test.ts checks them per route.
    const paths = TARGETS.filter((t) => t.bench !== 'scale').map((t) => `${t.bench}:${t.figure}`);
    expect(new Set(paths).size).toBe(paths.length);
    for (const figure of ['convergenceSeconds', 'propagation.p50Ms', 'propagation.p99Ms', 'writesPerChangedEndpoint', 'peakRssMb', 'idleCpuPercent']) {
      expect(paths).toContain(`engine:${figure}`);
    }
    for (const figure of ['http.requestsPerSecond', 'http.p99Ms', 'grpc.resolvePerSecond', 'watch.fanoutP99Ms']) {
      expect(paths).toContain(`resolver:${figure}`);
    }
  });
});
