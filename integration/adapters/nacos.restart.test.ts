// Liveness of exported ephemeral instances when the bridge process dies or restarts, measured
// against the real Nacos with `isthmus run` as a child process (the honest way to kill -9):
// - kill -9: how long until Nacos drops our instances; a restarted bridge restores them;
// - SIGSTOP (a hung host: no FIN, no keepalive): how long until Nacos drops them;
// - handover: a second bridge started before the first is stopped takes the instances over;
// - two connections publishing the same instance: what Nacos lists (the HA experiment).
// Figures are printed as JSON lines; bounds are generous (the box is shared).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { NacosNamingClient, nacosConnection } from '../../adapters/nacos/index.ts';
import { NativeApp, ctx, nacosOptions, runId, sharedNacos, type NacosServer } from './nacos-support.ts';
import { freePort } from '../drill/net.ts';
import { cliArgs } from '../process/compiled-cli.ts';

const REPO = join(import.meta.dirname, '..', '..');
// node itself running the CLI (compiled, or with tsx's loader), not a wrapper: a signal must
// reach the bridge process, and the wrapper would take a SIGKILL alone and leave the bridge running.
const PODS = ['10.60.0.1', '10.60.0.2', '10.60.0.3'];


function config(server: NacosServer, service: string, httpPort: number): Record<string, unknown> {
  return {
    bridge: { id: 'restart-bridge' },
    registries: {
      k8s: { kind: 'memory', services: [{ namespace: 'default', name: service, endpoints: PODS.map((address) => ({ address, port: 8080 })) }] },
      // Nothing to import: this test is about the export side.
      nacos: { kind: 'nacos', servers: [`${server.host}:${server.httpPort}`], services: [`${service}-import-nothing`] },
    },
    routes: [{ from: 'k8s', to: 'nacos' }],
    resolver: { http: { host: '127.0.0.1', port: httpPort }, grpc: { enabled: false } },
    log: { level: 'info' },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('nacos: bridge process death and restart', () => {
  const run = runId();
  const service = `restart-${run}`;
  const ref = { namespace: 'default', name: service };
  const children: ChildProcess[] = [];
  const resolverPorts = new Map<ChildProcess, number>();
  const closers: (() => void)[] = [];
  let dir = '';

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of closers) c();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function startBridge(server: NacosServer, name: string): Promise<ChildProcess> {
    dir = dir === '' ? await mkdtemp(join(tmpdir(), 'isthmus-nacos-restart-')) : dir;
    const path = join(dir, `${name}.yaml`);
    const port = await freePort('127.0.0.1');
    await writeFile(path, stringify(config(server, service, port)));
    const child = spawn(process.execPath, [...cliArgs(), 'run', '--config', path], { cwd: REPO, stdio: 'ignore' });
    children.push(child);
    resolverPorts.set(child, port);
    return child;
  }

  /** Until the bridge itself reports the service applied to (or already in sync in) Nacos with every pod. */
  async function waitExported(child: ChildProcess, timeoutMs: number): Promise<void> {
    const url = `http://127.0.0.1:${resolverPorts.get(child)}/v1/status/${ref.namespace}/${ref.name}`;
    const started = Date.now();
    for (;;) {
      const body = await fetch(url).then(async (r) => (r.ok ? (await r.json()) as { explain?: { targets?: { sink: string; outcome: string; desiredEndpoints: number }[] } } : undefined)).catch(() => undefined);
      const t = body?.explain?.targets?.find((x) => x.sink === 'nacos');
      if (t !== undefined && (t.outcome === 'applied' || t.outcome === 'in-sync') && t.desiredEndpoints === PODS.length) return;
      if (Date.now() - started > timeoutMs) throw new Error(`the bridge did not report ${service} exported within ${timeoutMs} ms (${JSON.stringify(t)})`);
      await sleep(100);
    }
  }

  /** Our instances as a caller's SDK would list them, polled until `want` holds. */
  async function waitOurs(app: NativeApp, want: (n: number) => boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const n = (await app.list(ref, 0)).filter((i) => i.metadata?.['isthmus.managed-by'] === 'restart-bridge').length;
      if (want(n)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`instances did not reach the wanted state within ${timeoutMs} ms (now ${n})`);
      await sleep(50);
    }
  }

  it('kill -9 drops the instances at once; a restarted bridge restores them; SIGSTOP drops them after the server notices', async () => {
    const server = await sharedNacos();
    const app = new NativeApp(server);
    closers.push(() => { app.close(); });

    const a = await startBridge(server, 'a');
    const startA = await waitOurs(app, (n) => n === PODS.length, 120_000);
    a.kill('SIGKILL');
    const killDrop = await waitOurs(app, (n) => n === 0, 120_000);

    const b = await startBridge(server, 'b');
    const restore = await waitOurs(app, (n) => n === PODS.length, 120_000);

    // A hung process keeps its TCP connection open but answers nothing.
    b.kill('SIGSTOP');
    const stopDrop = await waitOurs(app, (n) => n === 0, 180_000);
    b.kill('SIGKILL');
    console.log(JSON.stringify({ figure: 'nacos-bridge-death', firstStartToRegisteredMs: startA, kill9ToDroppedMs: killDrop, restartToRestoredMs: restore, sigstopToDroppedMs: stopDrop }));
    expect(killDrop).toBeLessThan(60_000);
  }, 600_000);

  it('graceful handover: a standby started first takes over when the old bridge stops; a restart without overlap leaves a gap', async () => {
    const server = await sharedNacos();
    const app = new NativeApp(server);
    closers.push(() => { app.close(); });
    const old = await startBridge(server, 'old');
    await waitOurs(app, (n) => n === PODS.length, 120_000);
    const standby = await startBridge(server, 'standby');
    // The standby is up and has reconciled the service against the old bridge's instances
    // (applied, or found in sync): its own status says so, rather than a fixed 15 s wait.
    await waitExported(standby, 120_000);
    let exitAt = 0;
    old.once('exit', () => { exitAt = Date.now(); });
    old.kill('SIGTERM');
    const stoppedAt = Date.now();
    let missingFrom = 0;
    let gap = 0;
    // The longest time any of our instances was missing from the list, watched until 5 s after
    // the old bridge exited (its connection and what only it registered are gone by then: Nacos
    // drops a closed connection's instances in well under 1 s), for at most 30 s; this replaces
    // a fixed 20 s window.
    while ((exitAt === 0 || Date.now() - exitAt < 5000) && Date.now() - stoppedAt < 30_000) {
      const n = (await app.list(ref, 0)).filter((i) => i.metadata?.['isthmus.managed-by'] === 'restart-bridge').length;
      if (n < PODS.length && missingFrom === 0) missingFrom = Date.now();
      if (n === PODS.length && missingFrom !== 0) {
        gap = Math.max(gap, Date.now() - missingFrom);
        missingFrom = 0;
      }
      await sleep(25);
    }
    const stillMissing = missingFrom !== 0;
    expect(stillMissing).toBe(false);

    // A graceful restart with no overlap (one replica): SIGTERM, then start the next process.
    standby.kill('SIGTERM');
    const termAt = Date.now();
    await waitOurs(app, (n) => n < PODS.length, 60_000);
    const goneAt = Date.now();
    await startBridge(server, 'next');
    await waitOurs(app, (n) => n === PODS.length, 120_000);
    console.log(JSON.stringify({ figure: 'nacos-graceful-restart', handoverGapMs: gap, sigtermToGoneMs: goneAt - termAt, noOverlapGapMs: Date.now() - goneAt }));
  }, 600_000);

  it('two connections publishing the same instance: Nacos lists it once and keeps it while either lives', async () => {
    const server = await sharedNacos();
    const o = nacosOptions(server);
    const aborts = [new AbortController(), new AbortController()];
    const clients = aborts.map((ab) => {
      const conn = nacosConnection(o, ctx('nacos', 'ha'));
      conn.start(ab.signal);
      return new NacosNamingClient(conn, 'public');
    });
    const app = new NativeApp(server);
    closers.push(() => { app.close(); for (const ab of aborts) ab.abort(); });
    const name = { group: 'DEFAULT_GROUP', service: `ha-${run}` };
    const href = { namespace: 'default', name: name.service };
    const inst = { ip: '10.61.0.1', port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: { 'isthmus.managed-by': 'ha' } };
    for (const c of clients) await c.batchRegister(name, [inst]);
    const both = (await app.list(href)).length;
    aborts[0]!.abort();
    const afterFirstClosed = (await app.list(href, 2000)).length;
    aborts[1]!.abort();
    const afterBothClosed = (await app.list(href, 2000)).length;
    console.log(JSON.stringify({ figure: 'nacos-same-instance-two-connections', listedWhileBoth: both, listedAfterOneClosed: afterFirstClosed, listedAfterBothClosed: afterBothClosed }));
    expect([both, afterFirstClosed, afterBothClosed]).toEqual([1, 1, 0]);
  }, 60_000);
});
