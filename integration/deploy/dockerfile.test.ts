// The Dockerfile passes hadolint and its runtime stage carries no dev dependency. No Docker
// engine here, so the image is not built: the checks read the Dockerfile, .dockerignore and the
// lock file, which decide what the build would copy.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { copies, parseDockerfile, type Stage } from './dockerfile.ts';
import { ensureHadolint } from './hadolint.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no stage "${name}"`);
  return s;
};

/** Top-level repo directories reached from `entry` through relative static imports. */
function topDirsImportedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const dirs = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    dirs.add(file.split('/')[0]!);
    const text = read(file);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
      const target = normalize(join(dirname(file), m[1]!));
      if (target.endsWith('.ts') && existsSync(new URL(target, root))) queue.push(target);
    }
  }
  return dirs;
}

describe('Dockerfile', () => {
  let hadolint = '';
  beforeAll(async () => {
    hadolint = await ensureHadolint();
  }, 600_000);

  it('passes hadolint with no finding at any level', async () => {
    // execFile rejects on a non-zero exit with stdout attached: the findings are the message.
    const findings = await run(hadolint, ['--failure-threshold', 'info', '--no-color', 'Dockerfile'], { cwd: root }).then(
      ({ stdout }) => stdout,
      (err: unknown) => `exit ${String((err as { code?: unknown }).code)}: ${String((err as { stdout?: unknown }).stdout)}`,
    );
    expect(findings).toBe('');
  });

  it('runtime: Node 24, non-root, node as PID 1, health check, both probes ports', () => {
    expect(read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:24[-.]/m);
    expect(runtime.base).toBe('${NODE_IMAGE}');
    const last = (op: string) => runtime.instructions.filter((i) => i.op === op).at(-1)?.args;
    expect(last('USER')).toMatch(/^(?!0\b|root\b)\S+/);
    const entrypoint = JSON.parse(last('ENTRYPOINT') ?? 'null') as string[];
    expect(entrypoint[0]).toBe('node'); // exec form, no npm or shell in between to eat SIGTERM
    expect(last('HEALTHCHECK')).toContain('/livez');
    expect(last('CMD')).toContain('/etc/isthmus/config.yaml');
  });

  it('runtime copies compiled code from the build stage and production-only node_modules', () => {
    const copied = copies(runtime);
    const fromDeps = copied.filter((c) => c.from === 'deps');
    const fromBuild = copied.filter((c) => c.from === 'build');
    const fromContext = copied.filter((c) => c.from === undefined);
    expect(fromDeps.flatMap((c) => c.sources)).toEqual(['/src/node_modules']);
    expect(fromBuild.flatMap((c) => c.sources)).toEqual(['/src/dist']);
    expect(fromContext.flatMap((c) => c.sources)).toEqual(['package.json']);
    expect(copied.every((c) => c.from === undefined || c.from === 'deps' || c.from === 'build')).toBe(true);
    const depsInstall = stage('deps').instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(depsInstall).toMatch(/npm ci\b[^\n]*--omit=dev/);
    expect(stage('deps').instructions.some((i) => i.op === 'COPY' && !/^package\.json package-lock\.json/.test(i.args))).toBe(false);
  });

  it('the production install leaves out every dev dependency not needed by a runtime one (per package-lock.json)', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }> };
    const prod = Object.entries(lock.packages).filter(([path, meta]) => path.startsWith('node_modules/') && meta.dev !== true);
    const name = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const installed = new Set(prod.map(([path]) => name(path)));
    // A dev dependency may still ship when a runtime package depends on it (@types/node is a
    // dependency of protobufjs); anything else is a leak.
    const neededByRuntime = new Set(prod.flatMap(([, meta]) => Object.keys(meta.dependencies ?? {})));
    expect(installed.size).toBeGreaterThan(Object.keys(pkg.dependencies).length);
    const leaked = Object.keys(pkg.devDependencies).filter((dev) => installed.has(dev) && !neededByRuntime.has(dev));
    expect(leaked).toEqual([]);
    for (const tool of ['typescript', 'vitest', 'eslint', 'tsx']) expect(installed.has(tool), `${tool} would ship`).toBe(false);
    for (const dep of Object.keys(pkg.dependencies)) expect(installed.has(dep)).toBe(true);
  });

  it('the build stage gets every directory the CLI imports from, and no tests', () => {
    const needed = [...topDirsImportedBy('adapters/cli.ts')].sort();
    expect(needed).toEqual(expect.arrayContaining(['adapters', 'bridge']));
    const sources = copies(stage('build')).filter((c) => c.from === undefined).flatMap((c) => c.sources);
    for (const dir of needed) expect(sources, `build stage must COPY ${dir}`).toContain(dir);
    for (const src of sources) expect(existsSync(new URL(src, root)), `COPY ${src}: not in the repo`).toBe(true);
    const ignore = read('.dockerignore').split('\n');
    expect(ignore).toContain('*');
    for (const dir of needed) expect(ignore, `.dockerignore must let ${dir}/ through`).toContain(`!${dir}/`);
    expect(ignore).toContain('**/*.test.ts');
  });
});
