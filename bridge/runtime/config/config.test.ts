import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../errors/index.ts';
import { DEFAULT_POLICY } from '../../model/index.ts';
import { configJsonSchema, loadConfig, parseConfig, readSecretFile } from './index.ts';
import type { ConfigProblem } from './index.ts';
import { TEST_KINDS } from './testing.ts';
import type { RegistryKinds } from './registry-kind.ts';
import { Type } from '@sinclair/typebox';


const GOOD = `
bridge: { id: prod-east }
registries:
  k8s: { kind: kubernetes }
  nacos: { kind: nacos, servers: ["10.0.0.5:8848"] }
  consul: { kind: consul, address: "http://10.0.0.6:8500" }
routes:
  - from: nacos
    to: [k8s, consul]
    select: { services: ["orders*"] }
    map: { namespace: shop }
  - { from: k8s, to: nacos, policy: { deleteGuard: { maxShrinkPercent: 20 } } }
  - { from: nacos, to: k8s }
`;

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, TEST_KINDS, { env });

function problemsOf(text: string, env: Record<string, string> = {}): ConfigProblem[] {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError);
    const e = err as BridgeError;
    expect(e.code).toBe('ISTHMUS_CONFIG_INVALID');
    expect(e.terminal).toBe(true);
    return e.details['problems'] as ConfigProblem[];
  }
  throw new Error('expected the config to be invalid');
}

describe('parseConfig', () => {
  it('reports exactly the three mistakes, each with its path and line', () => {
    const text = `
bridge: { id: Prod_East }
registries:
  k8s: { kind: kubernetes }
  nacos: { kind: nacos, servers: ["a:8848"] }
routes:
  - { from: nacos, to: k8s }
  - { from: k8s, to: zk2 }
sync: { workers: 4, quiteMs: 10 }
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual(['/bridge/id', '/routes/1/to', '/sync/quiteMs']);
    expect(problems[1]).toEqual({ path: '/routes/1/to', message: 'unknown registry "zk2" (configured: k8s, nacos)', line: 8 });
    expect(problems[2]?.message).toMatch(/unknown key "quiteMs" \(allowed: workers, quietMs/);
    expect(problems[0]?.line).toBe(2);
  });

  it('lists every problem in the error message', () => {
    expect(() => parse('bridge: {}\nregistries: {}\nextra: 1\n')).toThrow(
      /3 problems:\n {2}\/bridge\/id: is required \(line 1\)\n {2}\/registries: .*\n {2}\/extra: unknown key "extra"/,
    );
  });

  it('applies defaults everywhere', () => {
    const c = parse(GOOD);
    expect(c.sync).toEqual({
      workers: 8,
      quietMs: 10,
      maxDelayMs: 1000,
      resyncSeconds: 300,
      resyncJitter: 0.1,
      retryBaseMs: 200,
      retryMaxMs: 60000,
      retryPerSecond: 50,
    });
    expect(c.resolver).toEqual({ http: { host: '127.0.0.1', port: 8080 }, grpc: { enabled: true, host: '127.0.0.1', port: 9090 }, limits: { maxWatchStreams: 2000, maxBufferedMiB: 32, slowConsumerSeconds: 10 } });
    expect(c.log).toEqual({ level: 'info' });
    expect(c.registries['nacos']).toEqual({ kind: 'nacos', options: { servers: ['10.0.0.5:8848'], namespace: 'public' } });
    expect(c.routes[0]?.policy).toEqual(DEFAULT_POLICY);
    expect(c.routes[2]?.policy.deleteGuard).toEqual({ ...DEFAULT_POLICY.deleteGuard, maxShrinkPercent: 20 });
  });

  it('expands one route per target with unique ids', () => {
    const c = parse(GOOD);
    expect(c.routes.map((r) => r.id)).toEqual(['nacos->k8s', 'nacos->consul', 'k8s->nacos', 'nacos->k8s#2']);
    expect(c.routes[1]).toMatchObject({ from: ['nacos'], to: 'consul', select: { services: ['orders*'] }, map: { namespace: 'shop' } });
    expect(c.routes[3]).toMatchObject({ select: {}, map: {} });
  });

  it('names multi-source routes after all their sources', () => {
    const text = `
bridge: { id: b }
registries: { k8s: { kind: kubernetes }, nacos: { kind: nacos, servers: [x] }, consul: { kind: consul, address: y } }
routes: [{ from: [nacos, consul], to: k8s }]
`;
    expect(parse(text).routes).toEqual([
      { id: 'nacos+consul->k8s', from: ['nacos', 'consul'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY },
    ]);
  });

  it('reports duplicate YAML keys as unreadable, with the line', () => {
    expect(() => parse('bridge: { id: a }\nbridge: { id: b }\n')).toThrow(/config is not valid YAML at line 2/);
  });

  it('freezes the result deeply', () => {
    const c = parse(GOOD);
    expect(() => {
      (c.sync as { workers: number }).workers = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.routes[0]?.from as string[]).push('x');
    }).toThrow(TypeError);
    expect(Object.isFrozen(c.registries['nacos']?.options['servers'])).toBe(true);
  });

  it('applies environment overrides before validation', () => {
    const c = parse(GOOD, { ISTHMUS_BRIDGE_ID: 'dr-west', ISTHMUS_LOG_LEVEL: 'debug', ISTHMUS_HTTP_PORT: '0', ISTHMUS_GRPC_PORT: '19090' });
    expect(c.bridge.id).toBe('dr-west');
    expect(c.log.level).toBe('debug');
    expect(c.resolver.http.port).toBe(0);
    expect(c.resolver.grpc.port).toBe(19090);
    const problems = problemsOf(GOOD, { ISTHMUS_LOG_LEVEL: 'loud', ISTHMUS_HTTP_PORT: 'eighty' });
    expect(problems).toEqual([
      { path: '/resolver/http/port', message: 'must be a port number, got "eighty"', env: 'ISTHMUS_HTTP_PORT' },
      { path: '/log/level', message: 'must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent"', env: 'ISTHMUS_LOG_LEVEL' },
    ]);
  });

  it('checks registry kinds, options and route capabilities', () => {
    const text = `
bridge: { id: b }
registries:
  k8s: { kind: kubernetes, kubeconfgi: /x }
  files: { kind: static, file: /etc/x }
  zk: { kind: zookeeper }
  Bad_Id: { kind: consul, address: x }
routes:
  - { from: k8s, to: [files, k8s] }
  - { from: [files, files], to: 42 }
`;
    const problems = problemsOf(text).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      '/registries/k8s/kubeconfgi: unknown key "kubeconfgi" (allowed: kubeconfig, namespaces)',
      '/registries/zk/kind: unknown registry kind "zookeeper" (known kinds: consul, kubernetes, nacos, static)',
      '/registries/Bad_Id: registry id "Bad_Id" must be 1-63 characters of lowercase a-z, 0-9 and "-"',
      '/routes/0/to/0: registry "files" (kind static) cannot be a route target',
      '/routes/0/to/1: registry "k8s" is both a source and a target of this route',
      '/routes/1/from/1: registry "files" is listed twice',
      '/routes/1/to: must be a registry id or a non-empty list of registry ids',
    ]);
  });

  it('rejects unreadable input with ISTHMUS_CONFIG_UNREADABLE', () => {
    expect(() => parse('bridge: [\n')).toThrow(expect.objectContaining({ code: 'ISTHMUS_CONFIG_UNREADABLE' }) as Error);
    expect(() => loadConfig('/nonexistent/isthmus.yaml', TEST_KINDS)).toThrow(/cannot read config file "\/nonexistent\/isthmus.yaml" \(ENOENT\)/);
    expect(problemsOf('- a\n- b\n')).toEqual([{ path: '', message: expect.stringContaining('YAML mapping') as string }]);
  });

  it('rejects quiet/max and retry orderings that make no sense', () => {
    const text = GOOD + 'sync: { quietMs: 2000, maxDelayMs: 1000, retryBaseMs: 10, retryMaxMs: 5 }\n';
    expect(problemsOf(text).map((p) => p.path)).toEqual(['/sync/quietMs', '/sync/retryBaseMs']);
  });
});

describe('readSecretFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-secret-'));

  it('trims trailing newlines', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cr3t\n');
    expect(readSecretFile(file)).toBe('s3cr3t');
  });

  it('names the file, never the content', () => {
    const missing = join(dir, 'missing');
    expect(() => readSecretFile(missing)).toThrow(`cannot read secret file "${missing}" (ENOENT)`);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => readSecretFile(empty)).toThrow(/is empty/);
  });
});

describe('configJsonSchema', () => {
  it('describes every kind as a oneOf branch and keeps the descriptions', () => {
    const schema = configJsonSchema(TEST_KINDS);
    const registries = (schema['properties'] as Record<string, { additionalProperties: { oneOf: { properties: { kind: { const: string } } }[] } }>)[
      'registries'
    ];
    expect(registries?.additionalProperties.oneOf.map((b) => b.properties.kind.const)).toEqual(['consul', 'kubernetes', 'nacos', 'static']);
    const text = JSON.stringify(schema);
    expect(text).toContain('"$schema":"https://json-schema.org/draft/2020-12/schema"');
    expect(text).toContain('joins the events one');
    expect(text).not.toContain('errorMessage');
  });

  it('does not require a property the loader fills with its default', () => {
    const kinds: RegistryKinds = {
      ...TEST_KINDS,
      consul: {
        optionsSchema: Type.Object({ address: Type.String(), waitSeconds: Type.Number({ default: 30 }) }),
        canSource: true,
        canSink: true,
      },
    };
    const oneOf = ((configJsonSchema(kinds)['properties'] as Record<string, { additionalProperties: { oneOf: { title: string; required?: string[] }[] } }>)['registries']
      ?.additionalProperties.oneOf ?? []);
    expect(oneOf.find((b) => b.title === 'consul')?.required).toEqual(['kind', 'address']);
  });
});
