// The image's file layout, assembled without Docker: the build stage's COPYs (as the Dockerfile
// lists them) compiled with `npm run build`, the runtime stage's node_modules from a real
// `npm ci --omit=dev` of the lock file, and the result started the way the ENTRYPOINT does.
// Proves the runtime stage runs with production dependencies only and stops on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copies, parseDockerfile } from './dockerfile.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (addr === null || typeof addr !== 'object') throw new Error('no free port');
  return addr.port;
}

async function removeTests(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.test.ts')) await rm(join(entry.parentPath, entry.name));
  }
}

describe('image layout (Dockerfile stages reproduced without Docker)', () => {
  let work = '';
  let app = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'isthmus-image-'));
    const stages = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    const build = join(work, 'build');
    for (const c of copies(stages.find((s) => s.name === 'build')!).filter((x) => x.from === undefined)) {
      for (const src of c.sources) await cp(join(ROOT, src), join(build, c.dest === './' ? src : c.dest), { recursive: true });
    }
    await removeTests(build); // .dockerignore keeps them out of the context
    // The build stage's `npm ci` (dev dependencies included) is the repo's own node_modules.
    await symlink(join(ROOT, 'node_modules'), join(build, 'node_modules'));
    await run('npm', ['run', 'build'], { cwd: build, timeout: 600_000 });

    app = join(work, 'app');
    await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
    await cp(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, timeout: 600_000 });
    await rm(join(app, 'package-lock.json'));
    await cp(join(build, 'dist'), join(app, 'dist'), { recursive: true });
  }, 1_200_000);
  afterAll(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('node_modules holds no compiler, test runner or linter', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const top = new Set(await readdir(join(app, 'node_modules')));
    const scoped = (await Promise.all([...top].filter((n) => n.startsWith('@')).map(async (s) => (await readdir(join(app, 'node_modules', s))).map((n) => `${s}/${n}`)))).flat();
    const installed = new Set([...top, ...scoped]);
    for (const tool of ['typescript', 'vitest', 'eslint', 'tsx', '@typescript-eslint/parser']) expect(installed.has(tool), tool).toBe(false);
    // @types/node may remain: a runtime package (protobufjs) depends on it.
    expect(Object.keys(pkg.devDependencies).filter((d) => installed.has(d) && d !== '@types/node')).toEqual([]);
  });

  it('starts from dist/ like the ENTRYPOINT, serves /livez and /readyz, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const demo = (await readFile(join(ROOT, 'deploy/examples/demo.yaml'), 'utf8')).replace(/port: 18080/, `port: ${port}`);
    await writeFile(join(app, 'config.yaml'), `${demo}\n`);
    const child = spawn(process.execPath, ['--enable-source-maps', 'dist/adapters/cli.js', 'run', '--config', 'config.yaml'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ISTHMUS_GRPC_PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
    try {
      const deadline = Date.now() + 60_000;
      let live: Response | undefined;
      while (live === undefined) {
        live = await fetch(`http://127.0.0.1:${port}/livez`).catch(() => undefined);
        if (live === undefined && Date.now() > deadline) throw new Error(`no /livez after 60 s:\n${output.join('')}`);
        if (live === undefined) await new Promise((r) => setTimeout(r, 250));
      }
      expect(live.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output.join('')).toBe(0);
  });
});
