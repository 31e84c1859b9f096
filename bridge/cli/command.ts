import type { EnvSource } from '../runtime/config/index.ts';
import type { CliDeps, TextSink } from './deps.ts';
import type { ProcessSignals } from './signal-relay.ts';

/** CliIo with every default filled in. */
export interface Io {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly prompt: ((question: string) => Promise<string>) | undefined;
  readonly env: EnvSource;
  readonly now: () => number;
  readonly fetch: typeof fetch;
  readonly process: ProcessSignals | undefined;
}

export interface CommandContext {
  /** Arguments after the command name. */
  readonly args: readonly string[];
  readonly deps: CliDeps;
  readonly io: Io;
}

/** One `isthmus <name>` command: its help text and its action, which returns the exit code. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full `--help` text: what it does, flags and defaults, examples, exit codes. */
  readonly help: string;
  run(ctx: CommandContext): Promise<number>;
}
