import type { TSchema } from '@sinclair/typebox';

/**
 * What the config loader needs to know about one registry kind. The composition root builds a
 * map of these from `adapters/`, so bridge/ validates adapter options without importing any
 * adapter (DESIGN §3).
 */
export interface RegistryKind {
  /**
   * TypeBox object schema of the kind's own options, without `kind` itself. Defaults declared
   * here are applied; unknown keys are rejected unless the schema allows them.
   */
  readonly optionsSchema: TSchema;
  /** Can be the `from` of a route (has a Source). */
  readonly canSource: boolean;
  /** Can be the `to` of a route (has a Sink). */
  readonly canSink: boolean;
}

export type RegistryKinds = Readonly<Record<string, RegistryKind>>;
