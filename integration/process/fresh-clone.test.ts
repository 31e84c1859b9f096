// On a fresh clone (no node_modules) every npm script that runs our TypeScript installs the
// dependencies first; `npm run isthmus` and `npm run servers` used to fail with `tsx: not
// found`. The clone here is a directory of links to this checkout without node_modules, and
// `npm install` is a stand-in on PATH that links node_modules in (no registry traffic).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

/** The real npm, looked up before the stand-in goes on PATH (spawn searches the child's PATH). */
function realNpm(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new Error('npm is not on PATH');
}
const NPM = realNpm();

function run(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(NPM, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    child.once('exit', (code) => { resolve({ code, output }); });
  });
}

describe('npm scripts on a fresh clone', () => {
  let dir = '';
  let clone = '';
  let log = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isthmus-fresh-'));
    clone = join(dir, 'clone');
    await mkdir(clone);
    for (const entry of await readdir(REPO)) {
      if (entry === 'node_modules' || entry === '.git') continue;
      await symlink(join(REPO, entry), join(clone, entry));
    }
    const bin = join(dir, 'bin');
    await mkdir(bin);
    log = join(dir, 'npm-calls.log');
    // Runs in the clone (ensure-deps.sh changes there first).
    await writeFile(join(bin, 'npm'), `#!/bin/sh\necho "$*" >> '${log}'\nln -sfn '${join(REPO, 'node_modules')}' node_modules\n`);
    await chmod(join(bin, 'npm'), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  for (const script of ['isthmus', 'servers']) {
    it(`npm run ${script} installs the dependencies first`, async () => {
      await rm(join(clone, 'node_modules'), { force: true });
      await writeFile(log, '');
      // --help needs no servers.
      const { code, output } = await run(clone, ['run', script, '--', '--help'], env);
      expect(output).not.toMatch(/not found/);
      expect(code, output).toBe(0);
      expect(output).toMatch(/usage/i);
      expect((await readFile(log, 'utf8')).trim()).toMatch(/^install\b/);
    }, 60_000);
  }
});
