// The compiled CLI the tests start (compiled-cli.ts) is the CLI from source: the global setup
// built it for this run, tests get it from cliArgs(), and it answers as the source does.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { COMPILED_CLI_ENV, cliArgs } from './compiled-cli.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

describe('the CLI the integration tests start', () => {
  it('is the compiled one, built for this run by the global setup', () => {
    const compiled = process.env[COMPILED_CLI_ENV];
    expect(compiled, `${COMPILED_CLI_ENV} is not set: the global setup did not compile the CLI (see its log)`).toMatch(/\/\.cache\/cli\/[0-9a-f]{16}\/adapters\/cli\.js$/);
    expect(cliArgs()).toEqual([compiled]);
  });

  it('answers as the CLI from source does: a bad command, its usage and exit code 2', async () => {
    const fromSource = ['--import', 'tsx', join(ROOT, 'adapters', 'cli.ts')];
    const [compiled, source] = await Promise.all([cliArgs(), fromSource].map((args) =>
      run(process.execPath, [...args, 'no-such-command'], { cwd: ROOT }).then(
        () => ({ code: 0, stderr: '' }),
        (e: unknown) => ({ code: (e as { code: number }).code, stderr: (e as { stderr: string }).stderr }),
      )));
    expect(compiled?.code).toBe(2);
    expect(compiled?.stderr).toContain('Usage: isthmus <command>');
    expect(compiled).toEqual(source);
  });
});
