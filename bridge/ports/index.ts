export type { Source, SourceHealth, QuarantinedRecord } from './source.ts';
export type { Sink } from './sink.ts';
