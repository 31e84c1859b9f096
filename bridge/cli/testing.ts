import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_KINDS } from '../runtime/config/testing.ts';
import type { CliDeps, CliIo } from './deps.ts';

/** Captured output plus the io to pass to runCli; for tests only. */
export function captureIo(extra: Partial<CliIo> = {}): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    now: () => Date.parse('2026-11-23T20:00:00Z'),
    ...extra,
  };
  return { io, out: () => out, err: () => err };
}

/** Deps whose registry-facing calls fail loudly unless a test overrides them. */
export function fakeDeps(overrides: Partial<Omit<CliDeps, 'kinds'>> = {}): CliDeps {
  const unexpected = (what: string) => () => Promise.reject(new Error(`unexpected call to ${what}`));
  return { kinds: TEST_KINDS, run: unexpected('run'), plan: unexpected('plan'), cleanup: unexpected('cleanup'), ...overrides };
}

/** Writes `text` to a fresh temp file and returns its path. */
export function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'isthmus-cli-')), 'isthmus.yaml');
  writeFileSync(file, text);
  return file;
}

export const GOOD_CONFIG = `
bridge: { id: prod-east }
registries:
  k8s: { kind: kubernetes }
  nacos: { kind: nacos, servers: ["10.0.0.5:8848"] }
  consul: { kind: consul, address: "http://10.0.0.6:8500" }
routes:
  - { from: nacos, to: [k8s, consul] }
  - { from: k8s, to: nacos }
`;
