// Class-data sharing for the Spring peers (issue 17: JVM start-up was most of the drill's time).
// Spring Boot's fat jar is extracted once (`-Djarmode=tools extract`, the layout the JVM can map
// classes from) and one training start records the classes it loaded into a dynamic archive;
// later starts map them instead of loading and verifying them again: a provider is healthy in
// about 2.4 s instead of 4.3-4.9 s on this 2-core box. Both are cached beside the jar they were
// made from. Best effort: without the archive, or when this JVM cannot use it, the peers start
// from the plain jar as before (-Xshare:auto).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Where the extracted application and its archive live for `jar`. */
export function classDataDir(jar: string): string {
  return jar.replace(/\.jar$/, '-cds');
}

/** The JVM arguments that start `jar`: the archived, extracted copy when there is one. */
export function launchArgs(jar: string): string[] {
  const dir = classDataDir(jar);
  const archive = join(dir, 'app.jsa');
  const extracted = join(dir, 'app', basename(jar));
  if (!existsSync(archive) || !existsSync(extracted)) return ['-jar', jar];
  return [`-XX:SharedArchiveFile=${archive}`, '-Xshare:auto', '-Xlog:cds=off', '-Xlog:cds+dynamic=off', '-jar', extracted];
}

function java(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code: code ?? 1, output: output.slice(-2000) }); });
  });
}

/**
 * Extracts `jar` and records its archive unless both exist. A failure is reported and leaves
 * nothing behind, so the peers run from the plain jar. Concurrent callers each work in their
 * own temp dir; the rename makes one of them win.
 */
export async function ensureClassData(jar: string, flags: readonly string[], onProgress: (message: string) => void): Promise<boolean> {
  const dir = classDataDir(jar);
  if (existsSync(join(dir, 'app.jsa'))) return true;
  const cache = dirname(jar);
  const work = await mkdtemp(join(cache, 'cds-'));
  try {
    // Paths inside the archive must be the final ones: extract into the final layout's name.
    const app = join(work, 'app');
    const extract = await java(['-Djarmode=tools', '-jar', jar, 'extract', '--destination', app]);
    if (extract.code !== 0) throw new Error(`extract failed: ${extract.output}`);
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    const training = await java([
      ...flags, `-XX:ArchiveClassesAtExit=${join(dir, 'app.jsa')}`, '-Dspring.context.exit=onRefresh',
      '-jar', join(dir, 'app', basename(jar)), '--spring.profiles.active=provider,pod', '--server.port=0',
    ]);
    if (training.code !== 0 || !existsSync(join(dir, 'app.jsa'))) throw new Error(`training run failed: ${training.output}`);
    onProgress(`class-data archive ready (${join(dir, 'app.jsa')})`);
    return true;
  } catch (error) {
    onProgress(`no class-data archive; peers start from the plain jar (${(error as Error).message.slice(0, 300)})`);
    await rm(dir, { recursive: true, force: true });
    return false;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Archives of older jars are dead weight (~110 MB each). */
export async function removeStaleClassData(jar: string): Promise<void> {
  const cache = dirname(jar);
  const keep = basename(classDataDir(jar));
  for (const name of await readdir(cache)) {
    if (/^spring-peers-[0-9a-f]+-cds$/.test(name) && name !== keep) await rm(join(cache, name), { recursive: true, force: true });
  }
}
