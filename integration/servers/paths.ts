// Where the harness keeps things. Nothing here may point inside the repo: builds, caches and
// server state are large and machine-specific.
import { homedir } from 'node:os';
import { join } from 'node:path';

function xdgCacheHome(): string {
  const fromEnv = process.env.XDG_CACHE_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache');
}

/** Build cache: Go module + build caches, Maven repo, built binaries. Survives `down`. */
export function cacheDir(): string {
  return process.env.ISTHMUS_SERVERS_CACHE ?? join(xdgCacheHome(), 'isthmus', 'servers');
}

/** Run dir: pid files, logs, data dirs, kubeconfig, connection JSON. Wiped per server on start. */
export function runDir(): string {
  return process.env.ISTHMUS_SERVERS_RUN_DIR ?? join(xdgCacheHome(), 'isthmus', 'run');
}

export function serverRunDir(name: string): string {
  return join(runDir(), name);
}

/** Root of the repo-resident build descriptors (go.mod / pom.xml). */
export const descriptorsDir: string = import.meta.dirname;
