import { describe, expect, it } from 'vitest';
import { parseH2loadLog, parseH2loadSummary } from './h2load.ts';

function summary(o: { done: number; succeeded?: number; failed?: number; data: number; finished?: string }): string {
  return [
    `finished in ${o.finished ?? '2.50s'}, 4000.00 req/s, 1.00MB/s`,
    `requests: ${o.done} total, ${o.done} started, ${o.done} done, ${o.succeeded ?? o.done} succeeded, ${o.failed ?? 0} failed, 0 errored, 0 timeout`,
    `status codes: ${o.done} 2xx, 0 3xx, 0 4xx, 0 5xx`,
    `traffic: 4.60MB (4600000) total, 98.19KB (100544) headers (space savings 96.38%), 4.29MB (${o.data}) data`,
  ].join('\n');
}

describe('h2load output', () => {
  it('reads the completed calls and the time they took', () => {
    expect(parseH2loadSummary(summary({ done: 10_000, data: 4_500_000 }), 450)).toEqual({ done: 10_000, seconds: 2.5 });
    expect(parseH2loadSummary(summary({ done: 100, data: 45_000, finished: '812.5ms' }), 450).seconds).toBeCloseTo(0.8125);
  });

  it('refuses a run in which a call failed at the HTTP level', () => {
    expect(() => parseH2loadSummary(summary({ done: 100, succeeded: 99, failed: 1, data: 44_550 }), 450)).toThrow(/1 failed/);
  });

  it('refuses a run whose answers do not add up to that many correct answers', () => {
    // A gRPC error is HTTP 200 with trailers only: h2load counts it as a success, with no DATA.
    expect(() => parseH2loadSummary(summary({ done: 100, data: 44_550 }), 450)).toThrow(/some calls failed or answered something else/);
    expect(() => parseH2loadSummary('connect: Connection refused', 450)).toThrow(/no summary/);
  });

  it('reads per-call latencies from the log file', () => {
    expect(parseH2loadLog('1796596369867705\t200\t18310\n1796596369867706\t200\t2500\n')).toEqual([18.31, 2.5]);
  });
});
