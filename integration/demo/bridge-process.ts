// The demo's bridge: `isthmus run` as a child process in a process group of its own. A
// terminal's Ctrl-C goes to the demo's whole group. If the bridge ran inside the demo, that
// Ctrl-C plus any second one (npm relays it too, or an impatient user) would trip its "second
// signal: exit now" rule and kill the demo halfway through its cleanup. Out here, the bridge
// stops only when the demo tells it to, and the demo decides when to exit.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnEntry } from '../process/spawn-entry.ts';
import { tcpOpen } from '../servers/net.ts';

const CLI = join(import.meta.dirname, '..', '..', 'adapters', 'cli.ts');

/** Something already listens on the resolver port (another demo, say): ours could not. */
export function portInUse(port: number): Promise<boolean> {
  return tcpOpen('127.0.0.1', port);
}

export class BridgeProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly url: string;

  constructor(configPath: string, port: number) {
    this.url = `http://127.0.0.1:${port}`;
    // The bridge logs at the config's level to our stdout and stderr, under the table.
    this.#child = spawnEntry(CLI, ['run', '--config', configPath], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => { resolve(signal === null ? code : null); });
      this.#child.once('error', () => { resolve(null); });
    });
    // Its reports of signals it received matter only to the launcher; here they are dropped.
    this.#child.on('message', () => undefined);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Resolves once the resolver answers; rejects if the bridge exits first or `signal` fires.
   * Call it only when the port was free before the start (see `portInUse`): otherwise another
   * process could be the one answering.
   */
  async listening(signal: AbortSignal, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const state = { exited: false };
    void this.#exited.then(() => { state.exited = true; });
    while (Date.now() < deadline) {
      if (state.exited) throw new Error('the bridge exited before its resolver listened');
      if (signal.aborted) throw new Error('interrupted before the bridge listened');
      try {
        if ((await fetch(`${this.url}/livez`, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    throw new Error(`the bridge's resolver did not answer within ${timeoutMs} ms`);
  }

  /** SIGTERM, as a supervisor stops it; SIGKILL if it outlives its own shutdown deadline. */
  async stop(graceMs: number): Promise<number | null> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#exited;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => { this.#child.kill('SIGKILL'); }, graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
