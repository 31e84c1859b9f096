// Starts a TypeScript entry point as `node --import tsx <entry>` with the signal-report preload
// (echo-signals.ts) and an IPC channel to this process. The child reports the signals it gets
// and, should this process die without stopping it, stops itself as if sent SIGTERM.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { ECHO_ENV } from './signal-protocol.ts';

const ECHO_PRELOAD = new URL('./echo-signals.ts', import.meta.url).href;

export interface EntryOptions {
  /** stdin, stdout, stderr; the IPC channel is added as the fourth. */
  readonly stdio: readonly ['inherit' | 'ignore' | 'pipe', 'inherit' | 'ignore' | 'pipe', 'inherit' | 'ignore' | 'pipe'];
  /** Its own process group: a terminal's Ctrl-C to ours does not reach it. */
  readonly detached?: boolean;
}

export function spawnEntry(entry: string, args: readonly string[], options: EntryOptions): ChildProcess {
  const stdio: StdioOptions = [...options.stdio, 'ipc'];
  return spawn(process.execPath, ['--import', 'tsx', '--import', ECHO_PRELOAD, entry, ...args], {
    stdio,
    detached: options.detached ?? false,
    env: { ...process.env, [ECHO_ENV]: '1' },
  });
}
