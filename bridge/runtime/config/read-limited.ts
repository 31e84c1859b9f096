import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads at most `limit` bytes of a file as UTF-8; undefined when it holds more. A plain
 * readFileSync would follow a config or secret path pointed at a multi-gigabyte file or at
 * /dev/zero until memory runs out, and the size from stat says nothing for pipes and devices.
 * Errors are the fs errors (ENOENT, EACCES, EISDIR…) for the caller to describe.
 */
export function readLimited(path: string, limit: number): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(limit + 1);
    let filled = 0;
    while (filled < buf.length) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    return filled > limit ? undefined : buf.subarray(0, filled).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'read failed';
}
