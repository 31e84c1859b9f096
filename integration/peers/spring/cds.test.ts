// The Spring peers start from the class-data archive made with their jar (cds.ts): a real JVM
// started with launchArgs() maps Spring's classes from the archive instead of loading them.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSpringPeersJar } from './build.ts';
import { classDataDir, ensureClassData, launchArgs } from './cds.ts';
import { JVM_FLAGS } from './jvm.ts';

describe('Spring peers class-data archive', () => {
  it('is made with the jar and used by a peer JVM', async () => {
    const { jar } = await ensureSpringPeersJar();
    const args = launchArgs(jar);
    expect(args).toContain('-Xshare:auto');
    const run = spawnSync('java', [
      ...JVM_FLAGS, '-Xlog:class+load=info', '-Dspring.context.exit=onRefresh', ...args,
      '--spring.profiles.active=provider,pod', '--server.port=0',
    ], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const loads = run.stdout.split('\n').filter((l) => l.includes('org.springframework.') && l.includes('source:'));
    const shared = loads.filter((l) => l.includes('shared objects file'));
    // Nearly every Spring class comes from the archive; without it none would.
    expect(loads.length).toBeGreaterThan(1000);
    expect(shared.length / loads.length).toBeGreaterThan(0.9);
  }, 180_000);

  it('is made once when several callers ask at the same time, and never half-written', async () => {
    const { jar } = await ensureSpringPeersJar();
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cds-'));
    try {
      const copy = join(dir, basename(jar));
      await copyFile(jar, copy);
      const made = await Promise.all([1, 2, 3].map(() => ensureClassData(copy, JVM_FLAGS, () => undefined)));
      // One caller made it; the others left its directory alone and used the plain jar meanwhile.
      expect(made.filter(Boolean)).toHaveLength(1);
      expect((await readdir(classDataDir(copy))).sort()).toEqual(['app', 'app.jsa']);
      expect(await ensureClassData(copy, JVM_FLAGS, () => undefined)).toBe(true);
      expect(launchArgs(copy)).toContain(`-XX:SharedArchiveFile=${join(classDataDir(copy), 'app.jsa')}`);
      // No temp dirs left behind by the callers that lost.
      expect((await readdir(dir)).sort()).toEqual([basename(classDataDir(copy)), basename(copy)].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
