import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { GOOD_CONFIG, captureIo, configFile, fakeDeps } from './testing.ts';

const BOMB = `${GOOD_CONFIG}${['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n')}\n`;

describe('validate: unreadable configs', () => {
  it('an alias bomb is exit 2 naming the file, and JSON when asked', async () => {
    const file = configFile(BOMB);
    const json = captureIo();
    expect(await runCli(['validate', '-c', file, '-o', 'json'], fakeDeps(), json.io)).toBe(2);
    const answer = JSON.parse(json.out()) as { valid: boolean; code: string; problems: { message: string }[] };
    expect(answer).toMatchObject({ valid: false, code: 'ISTHMUS_CONFIG_UNREADABLE' });
    expect(answer.problems[0]?.message).toContain(`${file} expands YAML aliases more than 100 times`);
    const text = captureIo();
    expect(await runCli(['validate', '-c', file], fakeDeps(), text.io)).toBe(2);
    expect(text.out()).toContain(`config unreadable: ${file} expands YAML aliases`);
  });

  it('an oversized file is exit 2, JSON included', async () => {
    const file = configFile(`${GOOD_CONFIG}#${'x'.repeat(1024 * 1024)}\n`);
    const json = captureIo();
    expect(await runCli(['validate', '-c', file, '-o', 'json'], fakeDeps(), json.io)).toBe(2);
    expect((JSON.parse(json.out()) as { problems: { message: string }[] }).problems[0]?.message).toContain(`${file} is larger than 1024 KiB`);
  });

  it('run refuses the same files with exit 2 and no stack trace', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['run', '-c', configFile(BOMB)], fakeDeps(), io)).toBe(2);
    expect(err()).toMatch(/^error: .* expands YAML aliases/);
    expect(err()).not.toMatch(/\n\s+at /);
  });
});
