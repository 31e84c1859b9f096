import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../errors/index.ts';
import { MAX_CONFIG_BYTES, formatProblem, loadConfig, parseConfig } from './index.ts';
import type { ConfigProblem } from './index.ts';
import { TEST_KINDS } from './testing.ts';

const BASE = 'bridge: { id: b }\nregistries:\n  k8s: { kind: kubernetes }\n';
const dir = mkdtempSync(join(tmpdir(), 'isthmus-limits-'));

function failure(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError);
    return err as BridgeError;
  }
  throw new Error('expected a failure');
}

/** Nine levels of nine aliases each: 9^9 (387 million) nodes once expanded. */
function aliasBomb(): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${BASE}${lines.join('\n')}\n`;
}

describe('config size and alias limits', () => {
  it('refuses an alias bomb as unreadable, naming the file', () => {
    const path = join(dir, 'bomb.yaml');
    writeFileSync(path, aliasBomb());
    const err = failure(() => loadConfig(path, TEST_KINDS, { env: {} }));
    expect(err.code).toBe('ISTHMUS_CONFIG_UNREADABLE');
    expect(err.message).toContain(`${path} expands YAML aliases more than 100 times`);
    expect(err.details).toMatchObject({ file: path, reason: 'aliases' });
  });

  it('still accepts a few shared anchors', () => {
    const text = `${BASE}  vm: { kind: nacos, servers: &servers ["a:8848"] }\n  vm2: { kind: nacos, servers: *servers }\n`;
    expect(parseConfig(text, TEST_KINDS, { env: {} }).registries['vm2']?.options['servers']).toEqual(['a:8848']);
  });

  it('refuses a file over the size limit before parsing it', () => {
    const path = join(dir, 'big.yaml');
    writeFileSync(path, `${BASE}${'#'.repeat(MAX_CONFIG_BYTES)}\n`);
    const started = Date.now();
    const err = failure(() => loadConfig(path, TEST_KINDS, { env: {} }));
    expect(err.code).toBe('ISTHMUS_CONFIG_UNREADABLE');
    expect(err.message).toBe(`${path} is larger than 1024 KiB; a bridge config is a few KB, so this is not one`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(failure(() => parseConfig(`${BASE}${'#'.repeat(MAX_CONFIG_BYTES)}`, TEST_KINDS, { env: {} })).code).toBe('ISTHMUS_CONFIG_UNREADABLE');
  });
});

describe('environment override problems', () => {
  const text = `${BASE}resolver:\n  http: { port: 8080 }\nlog:\n  level: info\n`;

  it('name the variable instead of the file line the value would have had', () => {
    const err = failure(() => parseConfig(text, TEST_KINDS, { env: { ISTHMUS_LOG_LEVEL: 'loud', ISTHMUS_HTTP_PORT: '70000', ISTHMUS_BRIDGE_ID: 'Bad_Id' } }));
    const problems = err.details['problems'] as ConfigProblem[];
    expect(problems.map(formatProblem)).toEqual([
      '/bridge/id: must be 1-40 characters of lowercase a-z, 0-9 and "-" (it goes into ownership markers and Consul node names) (from $ISTHMUS_BRIDGE_ID)',
      '/resolver/http/port: must be a port number 0-65535 (0 = ephemeral) (from $ISTHMUS_HTTP_PORT)',
      '/log/level: must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent" (from $ISTHMUS_LOG_LEVEL)',
    ]);
    expect(problems.every((p) => p.line === undefined)).toBe(true);
  });

  it('leave the file\'s own mistakes at their lines', () => {
    const err = failure(() => parseConfig(text.replace('level: info', 'level: loud'), TEST_KINDS, { env: { ISTHMUS_HTTP_PORT: '8081' } }));
    expect((err.details['problems'] as ConfigProblem[]).map(formatProblem)).toEqual(['/log/level: must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent" (line 7)']);
  });
});
