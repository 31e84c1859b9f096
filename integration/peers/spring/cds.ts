// Class-data sharing for the Spring peers (issue 17: JVM start-up was most of the drill's time).
// Spring Boot's fat jar is extracted once (`-Djarmode=tools extract`, the layout the JVM can map
// classes from) and one training start records the classes it loaded into a dynamic archive;
// later starts map them instead of loading and verifying them again: a provider is healthy in
// about 2.4 s instead of 4.3-4.9 s on this 2-core box. Both are cached beside the jar they were
// made from. Best effort: without the archive, or when this JVM cannot use it, the peers start
// from the plain jar as before (-Xshare:auto).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** An extracted directory still without its archive after this long was left by a run that died. */
const STALE_MS = 10 * 60_000;

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
 * nothing behind, so the peers run from the plain jar. Concurrent callers (drill files starting
 * together on a machine whose archive is not made yet) each extract into their own temp dir and
 * the first rename wins; the others leave the winner's directory alone, since peers may already
 * run from it, and start from the plain jar until its archive is there.
 */
export async function ensureClassData(jar: string, flags: readonly string[], onProgress: (message: string) => void): Promise<boolean> {
  const dir = classDataDir(jar);
  const archive = join(dir, 'app.jsa');
  if (existsSync(archive)) return true;
  // A directory without an archive is another caller's work in progress, or one that died:
  // the latter is cleared once it is clearly older than any training run.
  const since = (await stat(dir).catch(() => undefined))?.mtimeMs;
  if (since !== undefined && Date.now() - since < STALE_MS) return false;
  if (since !== undefined) await rm(dir, { recursive: true, force: true });
  const work = await mkdtemp(join(dirname(jar), 'cds-'));
  let mine = false;
  try {
    // Paths inside the archive must be the final ones: extract into the final layout's name.
    const extract = await java(['-Djarmode=tools', '-jar', jar, 'extract', '--destination', join(work, 'app')]);
    if (extract.code !== 0) throw new Error(`extract failed: ${extract.output}`);
    try {
      await rename(work, dir);
    } catch {
      return false;
    }
    mine = true;
    // Written aside and renamed, so no JVM ever maps a half-written archive.
    const partial = `${archive}.part`;
    const training = await java([
      ...flags, `-XX:ArchiveClassesAtExit=${partial}`, '-Dspring.context.exit=onRefresh',
      '-jar', join(dir, 'app', basename(jar)), '--spring.profiles.active=provider,pod', '--server.port=0',
    ]);
    if (training.code !== 0 || !existsSync(partial)) throw new Error(`training run failed: ${training.output}`);
    await rename(partial, archive);
    onProgress(`class-data archive ready (${archive})`);
    return true;
  } catch (error) {
    onProgress(`no class-data archive; peers start from the plain jar (${(error as Error).message.slice(0, 300)})`);
    if (mine) await rm(dir, { recursive: true, force: true });
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
