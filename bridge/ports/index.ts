export type { Source, SourceHealth, SourceNotice, QuarantinedRecord } from './source.ts';
export { type Sink, type SinkState, type SinkPlan, type SinkOperation, type SinkRefusal, type EndpointField, type PlanHints, observeOwned, applyDesired, removeOwned } from './sink.ts';
export type { Adapter, AdapterContext, AdapterKind, LeaderElection } from './adapter.ts';
export { PlannedSink } from './planned-sink.ts';
export type { Migration, MigrationObject, MigrationReport, MigrationStore } from './migrations.ts';
