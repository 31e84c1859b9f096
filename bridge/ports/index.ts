export type { Source, SourceHealth, QuarantinedRecord } from './source.ts';
export type { Sink, EndpointField } from './sink.ts';
export type { Adapter, AdapterContext, AdapterKind, LeaderElection } from './adapter.ts';
