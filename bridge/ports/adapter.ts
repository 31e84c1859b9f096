import type { TSchema } from '@sinclair/typebox';
import type { RegistryId } from '../model/index.ts';
import type { EngineLogger } from '../sync/logger-port.ts';
import type { Sink } from './sink.ts';
import type { Source } from './source.ts';

export interface AdapterContext {
  /** Goes into every ownership marker this adapter writes. */
  readonly bridgeId: string;
  readonly registryId: RegistryId;
  readonly logger: EngineLogger;
}

/** One configured registry connection: its read side, its write side, or both. */
export interface Adapter {
  readonly source?: Source;
  readonly sink?: Sink;
  /** Releases connections; never deregisters anything (DESIGN §4: restart is a no-op). */
  close(): Promise<void>;
}

/**
 * A registry kind (`kubernetes`, `consul`…). The options schema joins the config schema, so a
 * registry's options are validated with everything else before anything connects.
 */
export interface AdapterKind {
  readonly kind: string;
  readonly optionsSchema: TSchema;
  readonly canSource: boolean;
  readonly canSink: boolean;
  /** `options` has passed `optionsSchema` with defaults applied. */
  create(options: unknown, ctx: AdapterContext): Adapter;
}
