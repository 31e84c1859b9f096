// Builds the Spring peers jar once per source revision: the jar is cached under
// ~/.cache/isthmus/peers/ keyed by a hash of pom.xml and src/, and Maven shares the harness's
// local repository, so a warm machine starts the drill without touching the network.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { cacheDir as serversCacheDir } from '../../servers/paths.ts';
import { ensureClassData, removeStaleClassData } from './cds.ts';
import { JVM_FLAGS } from './jvm.ts';

export const SPRING_PEERS_DIR: string = import.meta.dirname;

/** Where built peer jars live (ISTHMUS_PEERS_CACHE overrides). */
export function peersCacheDir(): string {
  if (process.env.ISTHMUS_PEERS_CACHE !== undefined && process.env.ISTHMUS_PEERS_CACHE !== '') return process.env.ISTHMUS_PEERS_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'isthmus', 'peers');
}

/** Hash of everything that goes into the jar; editing any source file rebuilds. */
export async function sourceHash(dir = SPRING_PEERS_DIR): Promise<string> {
  const entries = await readdir(join(dir, 'src'), { withFileTypes: true, recursive: true });
  const files = [join(dir, 'pom.xml'), ...entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort()];
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(dir, file));
    hash.update('\0');
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 12);
}

function mvn(args: readonly string[], logPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logPath, { flags: 'a' });
    log.write(`\n$ mvn ${args.join(' ')}\n`);
    const child = spawn('mvn', args, { cwd: SPRING_PEERS_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      log.end(() => { resolve(code ?? 1); });
    });
  });
}

export interface BuildResult {
  readonly jar: string;
  /** False when the cached jar matched the sources. */
  readonly built: boolean;
  readonly ms: number;
}

/**
 * Returns the cached jar for the current sources, building it first if needed: offline (`-o`)
 * when the local repository already has everything, online otherwise. Concurrent callers each
 * build in their own temp dir and the rename makes the last one win harmlessly.
 */
export async function ensureSpringPeersJar(onProgress: (message: string) => void = () => {}): Promise<BuildResult> {
  const started = Date.now();
  const cache = peersCacheDir();
  const jar = join(cache, `spring-peers-${await sourceHash()}.jar`);
  if (existsSync(jar)) {
    await ensureClassData(jar, JVM_FLAGS, onProgress);
    return { jar, built: false, ms: Date.now() - started };
  }
  await mkdir(join(cache, 'logs'), { recursive: true });
  const out = await mkdtemp(join(cache, 'build-'));
  const logPath = join(cache, 'logs', 'build-spring.log');
  const common = ['-B', '-q', '--no-transfer-progress', `-Dmaven.repo.local=${join(serversCacheDir(), 'm2')}`, `-Dpeers.out=${out}`, '-Dmaven.test.skip=true', 'package'];
  try {
    onProgress(`building Spring peers (log ${logPath})`);
    let code = await mvn(['-o', ...common], logPath);
    if (code !== 0) {
      onProgress('offline build failed (local Maven repository incomplete); retrying online');
      code = await mvn(common, logPath);
    }
    if (code !== 0) throw new Error(`mvn package of integration/peers/spring failed with exit code ${code}; see ${logPath}`);
    await rename(join(out, 'spring-peers.jar'), jar);
    // Jars of older sources are dead weight (55 MB each); other peers' files are not ours.
    for (const name of await readdir(cache)) {
      if (/^spring-peers-[0-9a-f]+\.jar$/.test(name) && join(cache, name) !== jar) await rm(join(cache, name), { force: true });
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  await removeStaleClassData(jar);
  await ensureClassData(jar, JVM_FLAGS, onProgress);
  return { jar, built: true, ms: Date.now() - started };
}
