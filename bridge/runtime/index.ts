export * from './config/index.ts';
export { createLogger, childLogger, flushLogger, REDACT_PATHS, REDACTED, type Logger, type LogBindings, type LoggerOptions } from './logger.ts';
export { createMetrics, PROPAGATION_BUCKETS, RECONCILE_BUCKETS, type Metrics, type MetricsOptions } from './metrics.ts';
export type { ResolverTraffic, Transport } from './resolver-metrics.ts';
export type { StateReaders } from './state-metrics.ts';
export { createHealth, readiness, type Health, type Readiness, type Liveness, type SyncAware } from './health.ts';
export {
  installShutdown,
  standardSteps,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  type ShutdownStep,
  type ShutdownOptions,
  type ShutdownHandle,
  type SignalSource,
  type StandardSteps,
} from './shutdown.ts';
