// Ctrl-C on `npm run demo` in a terminal: the terminal sends SIGINT to the whole foreground
// process group (npm, the launcher, the demo and any child), and npm relays it once more. The
// demo must still take back everything it and its bridge wrote, and only then exit: afterwards
// the registries hold exactly what they held before the demo started. The servers are the
// global setup's, already running, so the demo stops none.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '../servers/provided-context.ts';
import type { DemoConnections } from '../demo/config.ts';
import { holdDemoTopology } from '../demo/exclusive.ts';
import { Kube } from '../drill/kube.ts';
import { DemoFootprint } from './demo-footprint.ts';
import { allGone, commandLine, descendants, killLeftovers, running } from './tree.ts';

const REPO = join(import.meta.dirname, '..', '..');
const servers = inject('isthmusServers');
const ready = servers.kubernetes !== undefined && servers.consul !== undefined && servers.nacos !== undefined && servers.zookeeper !== undefined && servers.eureka !== undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The last full frame the live demo drew (frames start with a clear-screen sequence). */
function lastFrame(out: string): string {
  return out.split('\u001b[2J\u001b[H').at(-1) ?? '';
}

describe('npm run demo: Ctrl-C', () => {
  const spawned: number[] = [];
  const closers: (() => void)[] = [];
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => { if (ready) release = await holdDemoTopology(); }, 660_000);
  afterAll(async () => {
    killLeftovers(spawned);
    for (const c of closers) c();
    await release?.();
  });

  it.skipIf(!ready)('SIGINT to the process group leaves every registry as it was before the demo', async () => {
    const conn = servers as DemoConnections;
    const footprint = new DemoFootprint(conn, new Kube(conn.kubernetes));
    closers.push(() => { footprint.close(); });
    // What the file that held the topology before us took back may still be leaving (Nacos drops
    // an ephemeral instance a moment after its connection closes): compare with a settled view.
    let before = await footprint.take();
    for (const settleBy = Date.now() + 30_000; Date.now() < settleBy;) {
      await sleep(2000);
      const again = await footprint.take();
      if (JSON.stringify(again) === JSON.stringify(before)) break;
      before = again;
    }

    const child = spawn('npm', ['run', 'demo', '--', '--port', '0'], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const npm = child.pid ?? 0;
    spawned.push(npm);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code); }); });

    const deadline = Date.now() + 150_000;
    while (!lastFrame(out).includes('in sync') && Date.now() < deadline && child.exitCode === null) await sleep(500);
    const tree = descendants(npm);
    spawned.push(...tree);
    expect(lastFrame(out), `the demo never got in sync; stderr:\n${err}`).toContain('in sync');
    const during = await footprint.take();
    expect(during.filter((l) => !before.includes(l)).length, 'the demo wrote something').toBeGreaterThan(0);

    const signalledAt = Date.now();
    process.kill(-npm, 'SIGINT');
    const code = await Promise.race([exited, sleep(120_000).then(() => 'timeout' as const)]);
    const exitMs = Date.now() - signalledAt;
    expect(code, `stderr:\n${err}`).toBe(0);
    expect(err).toContain('[demo] done');
    expect(err).not.toMatch(/failed/);
    expect(await allGone(tree, 10_000), `left running: ${tree.filter(running).map((p) => `${p} ${commandLine(p)}`).join('; ')}`).toBeDefined();

    // Nacos drops an ephemeral instance a moment after its connection closes.
    let after = await footprint.take();
    const cleanAt = Date.now();
    while (JSON.stringify(after) !== JSON.stringify(before) && Date.now() - cleanAt < 30_000) {
      await sleep(500);
      after = await footprint.take();
    }
    console.log(JSON.stringify({ figure: 'npm-demo-ctrl-c', signalToExitMs: exitMs, exitToRegistriesAsBeforeMs: Date.now() - cleanAt }));
    expect({ left: after.filter((l) => !before.includes(l)), missing: before.filter((l) => !after.includes(l)) }).toEqual({ left: [], missing: [] });
  }, 330_000);
});
