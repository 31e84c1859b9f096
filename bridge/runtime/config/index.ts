export type { RegistryKind, RegistryKinds } from './registry-kind.ts';
export type { Config, ConfigProblem, RegistryConfig, SyncConfig, ResolverConfig, ListenConfig, LogConfig } from './types.ts';
export type { LogLevel } from './schema.ts';
export { LOG_LEVELS } from './schema.ts';
export { loadConfig, parseConfig, formatProblem, type ParseOptions } from './parse.ts';
export { ENV_OVERRIDES, type EnvSource } from './env.ts';
export { readSecretFile } from './secret-file.ts';
export { configJsonSchema } from './json-schema.ts';
export { deepFreeze } from './freeze.ts';
