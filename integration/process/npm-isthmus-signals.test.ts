// `npm run isthmus -- run` signalled the ways it is stopped in practice:
// - a supervisor sends SIGTERM to the process it started, npm;
// - a terminal's Ctrl-C sends SIGINT to the whole foreground process group;
// - a service manager sends SIGTERM to every process of the unit.
// Either way the bridge process must run its shutdown once and be gone within its 25 s
// deadline, leaving no process behind. npm runs the script through `sh -c`, which passes no
// signal on: before the script `exec`ed a launcher, the SIGTERM case left the bridge orphaned.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../drill/net.ts';
import { allGone, commandLine, descendants, killLeftovers, running } from './tree.ts';

const REPO = join(import.meta.dirname, '..', '..');
const DEADLINE_MS = 25_000;

function config(port: number): Record<string, unknown> {
  return {
    bridge: { id: 'npm-signals' },
    registries: {
      vm: { kind: 'memory', services: [{ namespace: 'shop', name: 'orders', endpoints: [{ address: '192.168.10.11', port: 8080 }] }] },
      k8s: { kind: 'memory', services: [{ namespace: 'shop', name: 'cart', endpoints: [{ address: '10.244.1.7', port: 8080 }] }] },
    },
    routes: [{ from: 'vm', to: 'k8s' }, { from: 'k8s', to: 'vm' }],
    resolver: { http: { host: '127.0.0.1', port }, grpc: { enabled: false } },
    log: { level: 'info' },
  };
}

interface Started {
  readonly npm: number;
  /** The process that runs the bridge: the deepest one running adapters/cli.ts. */
  readonly bridge: number;
  readonly tree: readonly number[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
}

describe('npm run isthmus -- run: signals reach the bridge', () => {
  const spawned: number[] = [];
  let dir = '';
  afterAll(async () => {
    killLeftovers(spawned);
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function start(): Promise<Started> {
    dir = dir === '' ? await mkdtemp(join(tmpdir(), 'isthmus-npm-signals-')) : dir;
    const port = await freePort('127.0.0.1');
    const path = join(dir, `bridge-${port}.yaml`);
    await writeFile(path, stringify(config(port)));
    // Its own process group, as a terminal gives a foreground job, so the group can be signalled.
    const child = spawn('npm', ['run', 'isthmus', '--', 'run', '--config', path], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => { resolve({ code, signal }); });
    });
    const npm = child.pid ?? 0;
    spawned.push(npm);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/livez`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the bridge did not listen; output:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const tree = descendants(npm);
    spawned.push(...tree);
    const clis = tree.filter((pid) => commandLine(pid).includes('adapters/cli.ts'));
    const bridge = clis.find((pid) => !descendants(pid).some((d) => clis.includes(d)));
    if (bridge === undefined) throw new Error(`no bridge process under npm: ${tree.map((p) => `${p} ${commandLine(p)}`).join('\n')}`);
    return { npm, bridge, tree, exited, output: () => output };
  }

  async function expectCleanStop(s: Started, how: string): Promise<number> {
    const goneMs = await allGone([s.bridge], DEADLINE_MS + 5_000);
    expect(goneMs, `${how}: bridge ${s.bridge} still runs ${DEADLINE_MS + 5_000} ms later; output:\n${s.output()}`).toBeDefined();
    const result = await Promise.race([s.exited, new Promise<undefined>((r) => { setTimeout(() => { r(undefined); }, 10_000); })]);
    const left = s.tree.filter(running);
    expect(left.map((pid) => `${pid} ${commandLine(pid)}`), `${how}: processes left behind`).toEqual([]);
    expect(result, `${how}: npm did not exit; output:\n${s.output()}`).toEqual({ code: 0, signal: null });
    const out = s.output();
    expect(out.match(/"msg":"shutting down"/g) ?? [], `${how}: one shutdown; output:\n${out}`).toHaveLength(1);
    expect(out).not.toMatch(/second signal|shutdown deadline passed/);
    expect(out).toMatch(/"msg":"shutdown step done"/);
    return goneMs ?? -1;
  }

  it('SIGTERM to npm (a supervisor) stops the bridge within its shutdown deadline', async () => {
    const s = await start();
    process.kill(s.npm, 'SIGTERM');
    const ms = await expectCleanStop(s, 'SIGTERM to npm');
    console.log(JSON.stringify({ figure: 'npm-isthmus-sigterm', signalToBridgeGoneMs: ms }));
  }, 120_000);

  it('SIGINT to the process group (Ctrl-C) stops the bridge once, cleanly', async () => {
    const s = await start();
    process.kill(-s.npm, 'SIGINT');
    const ms = await expectCleanStop(s, 'SIGINT to the group');
    console.log(JSON.stringify({ figure: 'npm-isthmus-ctrl-c', signalToBridgeGoneMs: ms }));
  }, 120_000);

  it('SIGTERM to the process group (systemd stopping a unit) stops the bridge once, cleanly', async () => {
    const s = await start();
    process.kill(-s.npm, 'SIGTERM');
    await expectCleanStop(s, 'SIGTERM to the group');
  }, 120_000);
});
