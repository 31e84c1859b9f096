// The `isthmus` CLI as the integration tests start it. Started from source through tsx, every
// bridge process pays tsx's loader for each of the modules it imports: `--help` costs about 1.9
// CPU-s that way and 0.7-1.0 s compiled, and the suite starts about fifty bridges on two cores
// (issue 17). So the global setup compiles the sources once per source state (`tsc --noCheck`:
// emit only, the typecheck is CI's own step) and tests start the compiled CLI, which is also what
// the container image runs. Outside a vitest run (a drill from the command line, a test file run
// without the global setup) the CLI runs from source as before.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..', '..');
/** Set by the global setup: the compiled cli.js this run's tests start. */
export const COMPILED_CLI_ENV = 'ISTHMUS_TEST_CLI';
// Inside the repository, so the compiled files resolve their packages from its node_modules.
const CACHE = join(ROOT, '.cache', 'cli');
const SOURCES = ['bridge', 'adapters', 'proto', 'sdk'];
const CONSOLE = join('bridge', 'resolver', 'console');

/** Node arguments that run the CLI: the compiled one when the global setup built it, else tsx. */
export function cliArgs(): string[] {
  const compiled = process.env[COMPILED_CLI_ENV];
  if (compiled !== undefined && compiled !== '' && existsSync(compiled)) return [compiled];
  return ['--import', 'tsx', join(ROOT, 'adapters', 'cli.ts')];
}

/** A hash of everything the build reads, so an edit anywhere gives a new build. */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) hash.update(name).update(await readFile(join(ROOT, name)));
  for (const dir of SOURCES) {
    const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
    for (const file of files) hash.update(relative(ROOT, file)).update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles the CLI unless this source state was compiled before, and returns the path of its
 * cli.js. Builds into a scratch directory renamed into place, so a run that dies half-way never
 * leaves a partial build behind; older builds are removed.
 */
export async function compileCli(log: (line: string) => void): Promise<string> {
  const key = await sourceHash();
  const dir = join(CACHE, key);
  const cli = join(dir, 'adapters', 'cli.js');
  if (existsSync(cli)) return cli;
  const started = Date.now();
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--noCheck', '--declaration', 'false', '--sourceMap', 'false', '--outDir', partial], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  // The console's static files are served from beside the compiled routes, as `npm run build` copies them.
  await cp(join(ROOT, CONSOLE), join(partial, CONSOLE), { recursive: true, filter: (f) => !f.includes('screenshots') });
  for (const old of existsSync(CACHE) ? await readdir(CACHE) : []) {
    if (old !== key && !old.includes('.partial-')) await rm(join(CACHE, old), { recursive: true, force: true });
  }
  await rename(partial, dir).catch(async (error: unknown) => {
    // Another run compiled the same sources first: theirs is as good as ours.
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(cli)) throw error;
  });
  log(`compiled the CLI for the tests in ${((Date.now() - started) / 1000).toFixed(1)} s (${relative(ROOT, dir)})`);
  return cli;
}
