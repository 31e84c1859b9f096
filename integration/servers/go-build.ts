// Builds one Go binary from a repo-resident go.mod into the cache. The binary's file name carries
// the pinned version and a hash of go.mod/go.sum (and, for a program of ours, its sources), so a
// bump rebuilds and a rerun is a no-op.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir, descriptorsDir } from './paths.ts';
import type { ProgressListener } from './progress.ts';
import { runCommand } from './run-command.ts';
import { requireCommand } from './apt.ts';

export interface GoBinarySpec {
  readonly server: string;
  readonly tool: string;
  /** Directory under go/ holding go.mod and go.sum. */
  readonly module: string;
  readonly pkg: string;
  readonly version: string;
  readonly ldflags?: readonly string[];
  /** Build tags; like ldflags, not part of the cache key, so `version` must name them. */
  readonly tags?: readonly string[];
  /** Go files of ours in the module directory that the binary is built from (part of the cache key). */
  readonly sources?: readonly string[];
}

export function goEnv(): NodeJS.ProcessEnv {
  const cache = cacheDir();
  return {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOMODCACHE: join(cache, 'go', 'mod'),
    GOCACHE: join(cache, 'go', 'build'),
    GOPATH: join(cache, 'go', 'path'),
    // The checksum database is not reachable from CI; the committed go.sum still pins every hash.
    GOSUMDB: 'off',
    GOFLAGS: '-mod=readonly -buildvcs=false',
    GOTELEMETRY: 'off',
    CGO_ENABLED: '0',
  };
}

async function descriptorHash(moduleDir: string, sources: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', ...sources]) hash.update(await readFile(join(moduleDir, file)));
  return hash.digest('hex').slice(0, 10);
}

export async function goBinaryPath(spec: GoBinarySpec): Promise<string> {
  const moduleDir = join(descriptorsDir, 'go', spec.module);
  return join(cacheDir(), 'bin', `${spec.tool}-${spec.version}-${await descriptorHash(moduleDir, spec.sources ?? [])}`);
}

export async function buildGoBinary(spec: GoBinarySpec, onProgress: ProgressListener): Promise<string> {
  const target = await goBinaryPath(spec);
  if (existsSync(target)) return target;
  await requireCommand('go', 'install Go >= 1.26 from https://go.dev/dl (Debian bookworm\'s golang is too old for these modules)');
  const moduleDir = join(descriptorsDir, 'go', spec.module);
  await mkdir(join(cacheDir(), 'bin'), { recursive: true });
  // Per process: two builders at once (a test run starting servers beside `npm run servers`) must
  // not rename each other's output away; whichever finishes first wins, the other is discarded.
  const partial = `${target}.${process.pid}.partial`;
  await rm(partial, { force: true });
  // -s -w and -trimpath keep the link step (the slow, memory-hungry part) and the binary small.
  const ldflags = ['-s', '-w', ...(spec.ldflags ?? [])].join(' ');
  const tags = spec.tags === undefined || spec.tags.length === 0 ? [] : [`-tags=${spec.tags.join(',')}`];
  await runCommand('go', ['build', '-v', '-trimpath', ...tags, `-ldflags=${ldflags}`, '-o', partial, spec.pkg], {
    server: spec.server,
    label: `go build ${spec.tool} ${spec.version}`,
    cwd: moduleDir,
    env: goEnv(),
    logPath: join(cacheDir(), 'logs', `build-${spec.tool}.log`),
    onProgress,
  });
  if (existsSync(target)) await rm(partial, { force: true });
  else await rename(partial, target);
  return target;
}
