/**
 * DESIGN §12's targets, the one definition `--check` compares against. A row names a figure by
 * its path in the benchmark's JSON. Scale rows (services, streams, changes…) are targets too:
 * a run at a smaller scale than the design's must not pass the check by being easier.
 */
export type BenchName = 'engine' | 'resolver';
export type Comparison = '>=' | '<=' | '<';

export interface Target {
  readonly bench: BenchName;
  /** Dotted path of the figure in the benchmark's JSON result. */
  readonly figure: string;
  readonly op: Comparison;
  readonly limit: number;
  readonly unit: string;
  readonly what: string;
}

export const TARGETS: readonly Target[] = [
  { bench: 'engine', figure: 'services', op: '>=', limit: 10_000, unit: 'services', what: 'scale: services in the source registry' },
  { bench: 'engine', figure: 'endpoints', op: '>=', limit: 100_000, unit: 'endpoints', what: 'scale: endpoints in the source registry' },
  { bench: 'engine', figure: 'convergenceSeconds', op: '<', limit: 60, unit: 's', what: 'initial convergence' },
  { bench: 'engine', figure: 'propagation.p50Ms', op: '<=', limit: 50, unit: 'ms', what: 'single-change propagation p50' },
  { bench: 'engine', figure: 'propagation.p99Ms', op: '<=', limit: 250, unit: 'ms', what: 'single-change propagation p99' },
  { bench: 'engine', figure: 'writesPerChangedEndpoint', op: '<=', limit: 1.2, unit: 'writes', what: 'registry writes per endpoint change (rolling restart)' },
  { bench: 'engine', figure: 'peakRssMb', op: '<=', limit: 300, unit: 'MB', what: 'peak RSS' },
  { bench: 'engine', figure: 'idleCpuPercent', op: '<=', limit: 2, unit: '% of a core', what: 'idle CPU after convergence' },
  { bench: 'resolver', figure: 'http.requestsPerSecond', op: '>=', limit: 20_000, unit: 'req/s', what: 'HTTP cached lookups' },
  { bench: 'resolver', figure: 'http.p99Ms', op: '<=', limit: 5, unit: 'ms', what: 'HTTP cached lookup p99' },
  { bench: 'resolver', figure: 'grpc.resolvePerSecond', op: '>=', limit: 20_000, unit: 'calls/s', what: 'gRPC Resolve' },
  { bench: 'resolver', figure: 'watch.streams', op: '>=', limit: 1_000, unit: 'streams', what: 'scale: Watch streams' },
  { bench: 'resolver', figure: 'watch.changes', op: '>=', limit: 20, unit: 'changes', what: 'scale: changes timed for Watch fan-out' },
  { bench: 'resolver', figure: 'watch.fanoutP99Ms', op: '<=', limit: 100, unit: 'ms', what: 'Watch fan-out to every stream, p99 over the changes' },
];
