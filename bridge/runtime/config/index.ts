export type { RegistryKind, RegistryKinds } from './registry-kind.ts';
export type { Config, ConfigProblem, RegistryConfig, SyncConfig, ResolverConfig, ListenConfig, LogConfig } from './types.ts';
export type { LogLevel } from './schema.ts';
export { LOG_LEVELS } from './schema.ts';
export { loadConfig, parseConfig, formatProblem, type ParseOptions } from './parse.ts';
export { ENV_OVERRIDES, type EnvSource } from './env.ts';
export { readSecretFile, secretFileProblem, MAX_SECRET_BYTES } from './secret-file.ts';
export { SECRET_FILE, SECRET_ENV, credentialFree, carriesCredentials } from './references.ts';
export { MAX_CONFIG_BYTES, MAX_ALIAS_COUNT } from './yaml-text.ts';
export { configJsonSchema } from './json-schema.ts';
export { deepFreeze } from './freeze.ts';
export {
  MIGRATION_GROUP, MIGRATION_VERSION, MIGRATION_KIND, MIGRATION_PLURAL, MIGRATION_PHASES, MIGRATION_PRINTER_COLUMNS,
  MigrationSpecSchema, MigrationStatusSchema,
  type MigrationPhase, type MigrationSpec, type MigrationStatus, type MigrationCondition,
} from './migration-schema.ts';
