// Process-tree checks for the signal tests, read from /proc (Linux): who descends from a pid,
// what each runs, and whether it is gone. A zombie counts as gone: it runs nothing any more and
// only waits for a parent (possibly an init that never reaps) to collect its status.
import { readFileSync, readdirSync } from 'node:fs';

function stat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
}

export function running(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every live process below `root`, parents before children. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const s = stat(pid);
    if (s === undefined || !running(pid)) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Polls until none of `pids` runs; returns how long that took, or undefined at the timeout. */
export async function allGone(pids: readonly number[], timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (pids.some(running)) {
    if (Date.now() - started > timeoutMs) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

/** Test clean-up: SIGKILL whatever of `pids` still runs. */
export function killLeftovers(pids: readonly number[]): number[] {
  const left = pids.filter(running);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return left;
}
