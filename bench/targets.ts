/**
 * DESIGN §12's targets, the one definition `--check` compares against. A row names a figure by
 * its path in the benchmark's JSON. Scale rows (services, streams, changes…) are targets too:
 * a run at a smaller scale than the design's must not pass the check by being easier.
 */
import type { RouteName } from './scale-route.ts';

export type BenchName = 'engine' | 'resolver' | 'scale';
export type Comparison = '>=' | '<=' | '<';

export interface Target {
  readonly bench: BenchName;
  /** Dotted path of the figure in the benchmark's JSON result. */
  readonly figure: string;
  readonly op: Comparison;
  readonly limit: number;
  readonly unit: string;
  readonly what: string;
  /** Scale bench only: the routes the row applies to (absent = every route). */
  readonly routes?: readonly RouteName[];
  /** Scale bench only: the row applies to runs with `services` in [minServices, maxServices). */
  readonly minServices?: number;
  readonly maxServices?: number;
}

/** Targets on what a reader of the registry sees at once (Nacos serves reads 0.3–0.6 s behind its writes by design, so its row is the write on the wire). */
const PROMPT_VIEW: readonly RouteName[] = ['k8s-consul', 'k8s-zookeeper', 'consul-k8s'];
/** Registries that keep our records across a bridge restart (Nacos ephemeral instances die with the gRPC connection, ZooKeeper ephemeral znodes with the session). */
const DURABLE: readonly RouteName[] = ['k8s-consul', 'consul-k8s'];
/** 10,000 services: DESIGN §12's scale, where its own limits apply. */
const LARGE = 10_000;

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
  // Scale bench (issue 17 "Done when", DESIGN §12), per route. A write is one request that changes
  // the target: a Consul transaction, a Nacos instance request, a znode create/delete/setData, a
  // Kubernetes POST/PUT/PATCH/DELETE. The write floors: Consul and Nacos take a service per
  // request; a Kubernetes import is a Service and an EndpointSlice; ZooKeeper takes a provider URL
  // and an instance znode per endpoint plus about six znodes per service (interface and providers
  // directories, application directory, MetadataInfo, mapping) — 2.6 per endpoint at 10 per service.
  { bench: 'scale', figure: 'services', op: '>=', limit: 1_000, unit: 'services', what: 'scale: services in the source' },
  { bench: 'scale', figure: 'endpoints', op: '>=', limit: 10_100, unit: 'endpoints', what: 'scale: endpoints in the source' },
  { bench: 'scale', figure: 'rollout.pods', op: '>=', limit: 100, unit: 'pods', what: 'scale: pods rolled one by one' },
  { bench: 'scale', figure: 'idle.seconds', op: '>=', limit: 60, unit: 's', what: 'scale: idle measurement' },
  { bench: 'scale', figure: 'initialSync.missing', op: '<=', limit: 0, unit: 'services', what: 'services missing from the target after the initial sync' },
  { bench: 'scale', figure: 'initialSync.seconds', op: '<=', limit: 15, unit: 's', what: 'initial sync of 1,000 services', maxServices: LARGE },
  { bench: 'scale', figure: 'initialSync.seconds', op: '<', limit: 60, unit: 's', what: 'initial sync of 10,000 services', minServices: LARGE },
  { bench: 'scale', figure: 'initialSync.writesPerService', op: '<=', limit: 1.05, unit: 'writes', what: 'target writes per service, initial sync', routes: ['k8s-consul', 'k8s-nacos'] },
  { bench: 'scale', figure: 'initialSync.writesPerService', op: '<=', limit: 2.05, unit: 'writes', what: 'target writes per service, initial sync (Service + EndpointSlice)', routes: ['consul-k8s'] },
  { bench: 'scale', figure: 'initialSync.writesPerEndpoint', op: '<=', limit: 2.7, unit: 'writes', what: 'znode writes per endpoint, initial sync', routes: ['k8s-zookeeper'] },
  { bench: 'scale', figure: 'rollout.writesPerPod', op: '<=', limit: 2, unit: 'writes', what: 'target writes per rolled pod', routes: ['k8s-consul', 'k8s-nacos', 'consul-k8s'] },
  // A rolled pod is a new provider URL and instance created and the old two deleted.
  { bench: 'scale', figure: 'rollout.writesPerPod', op: '<=', limit: 4, unit: 'writes', what: 'znode writes per rolled pod', routes: ['k8s-zookeeper'] },
  { bench: 'scale', figure: 'rollout.propagation.p50Ms', op: '<=', limit: 50, unit: 'ms', what: 'propagation p50, source change → visible in the target', routes: PROMPT_VIEW },
  { bench: 'scale', figure: 'rollout.propagation.p99Ms', op: '<=', limit: 250, unit: 'ms', what: 'propagation p99, source change → visible in the target', routes: PROMPT_VIEW },
  { bench: 'scale', figure: 'rollout.toWire.p50Ms', op: '<=', limit: 50, unit: 'ms', what: 'propagation p50, source change → write on the wire', routes: ['k8s-nacos'] },
  { bench: 'scale', figure: 'rollout.toWire.p99Ms', op: '<=', limit: 250, unit: 'ms', what: 'propagation p99, source change → write on the wire', routes: ['k8s-nacos'] },
  { bench: 'scale', figure: 'restart.writes', op: '<=', limit: 0, unit: 'writes', what: 'target writes after a restart with nothing changed', routes: DURABLE },
  { bench: 'scale', figure: 'restart.writesPerService', op: '<=', limit: 1.05, unit: 'writes', what: 'Nacos writes per service after a restart (the new connection re-registers each once)', routes: ['k8s-nacos'] },
  { bench: 'scale', figure: 'restart.writesPerEndpoint', op: '<=', limit: 2.1, unit: 'writes', what: 'znode writes per endpoint after a restart (the new session re-creates provider and instance)', routes: ['k8s-zookeeper'] },
  { bench: 'scale', figure: 'idle.requestsPerMinute', op: '<=', limit: 60, unit: 'req/min', what: 'target requests per idle minute' },
  { bench: 'scale', figure: 'idle.cpuPercent', op: '<=', limit: 2, unit: '% of a core', what: 'bridge CPU while idle' },
  { bench: 'scale', figure: 'status429', op: '<=', limit: 0, unit: 'answers', what: 'HTTP 429 answers to the bridge', routes: ['k8s-consul', 'consul-k8s'] },
  { bench: 'scale', figure: 'bridge.peakRssMiB', op: '<=', limit: 200, unit: 'MiB', what: 'bridge peak RSS (consul-k8s: 231 MiB)', maxServices: LARGE },
  { bench: 'scale', figure: 'bridge.peakRssMiB', op: '<=', limit: 286, unit: 'MiB', what: 'bridge peak RSS at 100k endpoints (300 MB)', minServices: LARGE },
];
