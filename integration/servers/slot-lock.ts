// Files run side by side (vitest.config.ts); some must not all run at once: those that share
// fixed names on the shared servers (one slot), or the migration drills, each starting eight
// JVMs on two cores (two slots). A slot is a directory made atomically under the servers' run
// directory, naming its holder's pid, so a holder that died does not block the next run.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runDir } from './paths.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Tries to take `dir`; clears it when its holder is gone. True when taken. */
async function take(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    await writeFile(join(dir, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => ''));
  // No pid yet: the holder is between mkdir and writeFile, or died there (then after a while).
  const since = (await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now();
  const dead = holder > 0 ? !alive(holder) : Date.now() - since > 10_000;
  if (dead) await rm(dir, { recursive: true, force: true });
  return false;
}

/** Waits for one of `slots` slots named `name` to be free, takes it, and answers the release. */
export async function holdSlot(name: string, slots: number, timeoutMs = 900_000): Promise<() => Promise<void>> {
  await mkdir(runDir(), { recursive: true });
  const dirs = Array.from({ length: slots }, (_, i) => join(runDir(), `${name}-${i}.lock`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const dir of dirs) {
      if (await take(dir)) return async () => { await rm(dir, { recursive: true, force: true }); };
    }
    if (Date.now() > deadline) throw new Error(`all ${slots} "${name}" slot(s) stayed taken for ${timeoutMs / 1000} s (${dirs.join(', ')})`);
    await sleep(250);
  }
}
