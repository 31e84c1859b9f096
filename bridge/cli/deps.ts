import type { Config, EnvSource, RegistryKinds } from '../runtime/config/index.ts';
import type { Logger } from '../runtime/logger.ts';
import type { SignalSource } from '../runtime/shutdown.ts';
import type { ProcessSignals } from './signal-relay.ts';
import type { CleanupReport, PlanReport } from '../sync/reports.ts';

/**
 * What the CLI needs from the composition root. The CLI parses flags, loads and validates the
 * config, and prints; everything that touches a registry is behind these, so the CLI stays in
 * bridge/ (which never imports adapters) and is unit-testable with fakes.
 */
export interface CliDeps {
  /** Registry kinds the config may use (from adapters/index.ts). */
  readonly kinds: RegistryKinds;
  /**
   * Runs the bridge; resolves once it has shut down. `signals` is where the shutdown sequence
   * listens (the CLI's relay; absent = the process); `signal` asks for a stop that came before
   * the bridge was listening.
   */
  run(config: Config, opts: { readonly logger: Logger; readonly signals?: SignalSource; readonly signal?: AbortSignal }): Promise<void>;
  /** Dry run: lists sources (waiting up to `timeoutMs` for them to sync), observes sinks, writes nothing. */
  plan(config: Config, opts: { readonly timeoutMs: number; readonly logger: Logger }): Promise<PlanReport>;
  /** Removes every record this bridge id owns in every sink (`dryRun`: only lists them). */
  cleanup(config: Config, opts: { readonly dryRun: boolean; readonly logger: Logger }): Promise<CleanupReport>;
}

/** Anything text can be written to: process.stdout, a pino destination, a test buffer. */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /**
   * Asks one question on the terminal and returns the answer; absent when stdin is not a
   * terminal, which is how commands know they must not wait for a person.
   */
  readonly prompt?: (question: string) => Promise<string>;
  /** Environment for ISTHMUS_* variables; process.env when absent. */
  readonly env?: EnvSource;
  /** Clock for ages in output; Date.now when absent. */
  readonly now?: () => number;
  /** HTTP client for status/resolve; global fetch when absent. */
  readonly fetch?: typeof fetch;
  /**
   * Signals and exit for `run`. Like `prompt`, only the process's own io has it: a caller that
   * passes any io without it runs the bridge with no relay in between.
   */
  readonly process?: ProcessSignals;
}
