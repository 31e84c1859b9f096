import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

// The real `isthmus` entry point, run as a user runs it (through tsx, as `npm run isthmus` does).
const ENTRY = new URL('./cli.ts', import.meta.url).pathname;
const DEMO = new URL('../deploy/examples/demo.yaml', import.meta.url).pathname;
const NODE = [process.execPath, '--import', 'tsx', ENTRY];

function isthmus(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(NODE[0]!, [...NODE.slice(1), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each call starts a Node process through tsx: seconds each on a busy 2-core machine.
describe('isthmus CLI (real entry point)', { timeout: 90_000 }, () => {
  it('validate lists every mistake with its path and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'bridge: { id: Prod_East }\nregistries:\n  vm: { kind: memory }\n  k8s: { kind: memroy }\nroutes:\n  - { from: vm, to: zk }\n');
    const r = isthmus(['validate', '--config', file]);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    for (const path of ['/bridge/id', '/registries/k8s/kind', '/routes/0/to']) expect(out).toContain(path);
  });

  it('plan prints what a run would write, as JSON, without running', () => {
    const r = isthmus(['plan', '--config', DEMO, '--output', 'json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { changes: { sink: string; ref: { name: string }; action: string; after: number }[] };
    const creates = plan.changes.filter((c) => c.action === 'create').map((c) => `${c.sink}:${c.ref.name}:${c.after}`).sort();
    // Nothing is owned yet in a fresh process, so every target is a create, orders on both sides.
    // catalog's second VM is not ready: it is exported as not ready (health is state), not left out.
    expect(creates).toEqual(['k8s:catalog:2', 'k8s:orders:2', 'k8s:payments:1', 'vm:cart:2', 'vm:orders:1']);
    expect(plan.changes).toHaveLength(5);
  });

  it('run serves the resolver; status and resolve read it; SIGTERM stops it cleanly', async () => {
    const child = spawn(NODE[0]!, [...NODE.slice(1), 'run', '--config', DEMO], {
      env: { ...process.env, ISTHMUS_HTTP_PORT: '0', ISTHMUS_GRPC_PORT: '0', ISTHMUS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let url = '';
    for await (const line of createInterface({ input: child.stdout })) {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === 'isthmus running' && rec.url !== undefined) {
        url = rec.url;
        break;
      }
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    try {
      const resolved = isthmus(['resolve', 'shop/orders', '--url', url, '--output', 'json']);
      expect(resolved.code).toBe(0);
      const entry = JSON.parse(resolved.stdout) as { endpoints: { address: string; origin: { registry: string } }[] };
      expect(entry.endpoints.map((e) => `${e.origin.registry}:${e.address}`).sort()).toEqual(['k8s:10.244.1.5', 'vm:192.168.10.11', 'vm:192.168.10.12']);
      const status = isthmus(['status', '--url', url, '--output', 'json']);
      expect(status.code).toBe(0);
      expect((JSON.parse(status.stdout) as { bridgeId: string }).bridgeId).toBe('demo');
      expect(isthmus(['resolve', 'shop/nope', '--url', url]).code).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('validate checks secret files and refuses credentials in addresses, every one with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-cli-'));
    const blank = join(dir, 'consul-token');
    writeFileSync(blank, '\n');
    mkdirSync(join(dir, 'certs'));
    const file = join(dir, 'secrets.yaml');
    writeFileSync(file, [
      'bridge: { id: b }',
      'registries:',
      `  consul: { kind: consul, address: "http://admin:hunter2@10.0.0.6:8500", tokenFile: "${blank}" }`,
      `  nacos: { kind: nacos, servers: ["10.0.0.5:8848"], auth: { username: u, passwordFile: "${join(dir, 'none')}" } }`,
      `  zk: { kind: dubbo, connect: "zk:2181", auth: { scheme: digest, credentialsEnv: ZK_DIGEST } }`,
      'routes: [ { from: nacos, to: consul } ]',
      `resolver: { tls: { certFile: "${join(dir, 'certs')}", keyFile: "${blank}" } }`,
      '',
    ].join('\n'));
    const r = isthmus(['validate', '--config', file, '--output', 'json']);
    expect(r.code).toBe(2);
    const answer = JSON.parse(r.stdout) as { problems: { path: string; message: string }[] };
    expect(answer.problems.map((p) => p.path)).toEqual([
      '/registries/consul/address',
      '/registries/consul/tokenFile',
      '/registries/nacos/auth/passwordFile',
      '/registries/zk/auth/credentialsEnv',
      '/resolver/tls/certFile',
      '/resolver/tls/keyFile',
    ]);
    expect(answer.problems[0]?.message).toContain('tokenFile');
    expect(answer.problems[1]?.message).toBe(`secret file "${blank}" is empty (only whitespace)`);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('run exits 2 before starting anything when a secret file is missing: no stack, file and path named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-cli-'));
    const file = join(dir, 'run.yaml');
    const token = join(dir, 'resolver-token');
    writeFileSync(file, `bridge: { id: b }\nregistries: { vm: { kind: memory } }\nresolver:\n  http: { port: 0 }\n  auth: { tokenFile: "${token}" }\n`);
    const r = isthmus(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`/resolver/auth/tokenFile: cannot read secret file "${token}" (ENOENT)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain('isthmus running');
  });

  it('SIGTERM again while it shuts down exits 0 or 1, never killed by the signal (143)', async () => {
    const child = spawn(NODE[0]!, [...NODE.slice(1), 'run', '--config', DEMO], {
      env: { ...process.env, ISTHMUS_HTTP_PORT: '0', ISTHMUS_GRPC_PORT: '0', ISTHMUS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => { resolve([code, signal]); }));
    for await (const line of createInterface({ input: child.stdout })) {
      if ((JSON.parse(line) as { msg?: string }).msg === 'isthmus running') break;
    }
    // The demo's shutdown takes a few milliseconds: signals every millisecond land during the
    // sequence and in the moment between its end and the exit, where no handler used to be.
    const spam = setInterval(() => { child.kill('SIGTERM'); }, 1);
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    clearInterval(spam);
    expect(signal).toBeNull();
    expect([0, 1]).toContain(code);
  });
});
