// The demo's topology has fixed names (its namespace, `orders`, `payments`…) on the shared
// servers, and three files put it there: demo.test.ts, console.test.ts and
// process/npm-demo-ctrl-c.test.ts, the last one comparing every registry before and after. Files
// run side by side (vitest.config.ts), so each of them holds this lock for its whole length: a
// directory made atomically under the servers' run directory, naming its holder's pid so that a
// holder that died does not block the next run.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runDir } from '../servers/index.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for the demo topology to be free, takes it, and answers the release. */
export async function holdDemoTopology(timeoutMs = 600_000): Promise<() => Promise<void>> {
  const dir = join(runDir(), 'demo-topology.lock');
  const owner = join(dir, 'pid');
  await mkdir(runDir(), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(owner, String(process.pid));
      return async () => { await rm(dir, { recursive: true, force: true }); };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(owner, 'utf8').catch(() => ''));
    // No pid yet: the holder is between mkdir and writeFile, or died there (then after a while).
    const since = (await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now();
    const dead = holder > 0 ? !alive(holder) : Date.now() - since > 10_000;
    if (dead) await rm(dir, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`the demo topology stayed taken for ${timeoutMs / 1000} s (lock ${dir}, holder pid ${holder || 'unknown'})`);
    await sleep(250);
  }
}
