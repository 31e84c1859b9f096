import type { RegistryId, Route } from '../../model/index.ts';
import type { LogLevel } from './schema.ts';

/** One configured registry connection: its kind and the kind's validated options (defaults applied). */
export interface RegistryConfig {
  readonly kind: string;
  /** Shaped by the kind's `optionsSchema`; the adapter that owns the kind narrows it. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Engine tuning; see the `description` of each field in schema.ts for why each default. */
export interface SyncConfig {
  readonly workers: number;
  readonly quietMs: number;
  readonly maxDelayMs: number;
  readonly resyncSeconds: number;
  readonly resyncJitter: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retryPerSecond: number;
}

export interface ListenConfig {
  readonly host: string;
  /** 0 = an ephemeral port (tests). */
  readonly port: number;
}

export interface ResolverConfig {
  /** Always served: status, health and metrics live on it. */
  readonly http: ListenConfig;
  readonly grpc: ListenConfig & { readonly enabled: boolean };
  readonly auth?: { readonly tokenFile: string };
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly limits?: { readonly maxWatchStreams?: number; readonly maxBufferedMiB?: number; readonly slowConsumerSeconds?: number };
}

export interface LogConfig {
  readonly level: LogLevel;
}

/**
 * The validated, defaulted and deep-frozen configuration. Produced only by `parseConfig` /
 * `loadConfig`; every nested object is frozen, so sharing it between components is safe.
 */
export interface Config {
  readonly bridge: { readonly id: string };
  readonly registries: Readonly<Record<RegistryId, RegistryConfig>>;
  /** One model route per (config route, target): a route with N targets becomes N routes. */
  readonly routes: readonly Route[];
  readonly sync: SyncConfig;
  readonly resolver: ResolverConfig;
  /** `namespace/name` → registry id → share: migration splits at start-up (runtime changes are not written back). */
  readonly weights: Readonly<Record<string, Readonly<Record<RegistryId, number>>>>;
  readonly log: LogConfig;
}

/** One validation problem: a JSON pointer into the file and what is wrong there. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  /** 1-based line in the YAML file, when the path (or its nearest parent) is in the file. */
  readonly line?: number;
  /** The ISTHMUS_* variable that set the value, when an override did (then there is no line). */
  readonly env?: string;
}
