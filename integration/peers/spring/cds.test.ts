// The Spring peers start from the class-data archive made with their jar (cds.ts): a real JVM
// started with launchArgs() maps Spring's classes from the archive instead of loading them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureSpringPeersJar } from './build.ts';
import { launchArgs } from './cds.ts';
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
});
