// "Ready" means a real request succeeded. While waiting, a dead process ends the wait at once
// with its log tail instead of letting the timeout run out.
import { setTimeout as sleep } from 'node:timers/promises';
import { failWithLog } from './log-tail.ts';
import { type TrackedProcess, isAlive } from './processes.ts';
import { type ProgressListener, TICK_MS, formatElapsed } from './progress.ts';

export interface WaitOptions {
  readonly server: string;
  readonly what: string;
  readonly proc: TrackedProcess;
  readonly probe: () => Promise<boolean>;
  readonly timeoutMs: number;
  readonly onProgress: ProgressListener;
}

export async function waitReady(options: WaitOptions): Promise<void> {
  const started = Date.now();
  let nextTick = started + TICK_MS;
  for (;;) {
    let ok = false;
    try {
      ok = await options.probe();
    } catch {
      ok = false;
    }
    if (ok) {
      options.onProgress({ server: options.server, message: `${options.what} ready after ${formatElapsed(Date.now() - started)}` });
      return;
    }
    if (!isAlive(options.proc.pid)) {
      await failWithLog(`${options.what} (pid ${options.proc.pid}) exited before becoming ready`, options.proc.logPath);
    }
    const now = Date.now();
    if (now - started > options.timeoutMs) {
      await failWithLog(`${options.what} not ready after ${formatElapsed(now - started)}`, options.proc.logPath);
    }
    if (now >= nextTick) {
      options.onProgress({ server: options.server, message: `waiting for ${options.what}: ${formatElapsed(now - started)}` });
      nextTick = now + TICK_MS;
    }
    await sleep(250);
  }
}
