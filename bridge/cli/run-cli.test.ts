import { describe, expect, it, vi } from 'vitest';
import type { Config } from '../runtime/config/index.ts';
import type { Logger } from '../runtime/logger.ts';
import type { CleanupReport, PlanReport } from '../sync/reports.ts';
import { COMMANDS, runCli } from './run-cli.ts';
import { GOOD_CONFIG, captureIo, configFile, fakeDeps } from './testing.ts';

const THREE_MISTAKES = `
bridge: { id: Prod_East }
registries:
  k8s: { kind: kubernetes }
  nacos: { kind: nacos, servers: ["a:8848"] }
routes:
  - { from: nacos, to: k8s }
  - { from: k8s, to: zk2 }
sync: { workers: 4, quiteMs: 10 }
`;

describe('runCli: help and usage', () => {
  it('prints the command list for --help and help, exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const { io, out } = captureIo();
      expect(await runCli(argv, fakeDeps(), io)).toBe(0);
      for (const c of COMMANDS) expect(out()).toContain(`  ${c.name}`);
    }
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help explains flags, examples and exit codes, exit 0', async (name) => {
    for (const argv of [[name, '--help'], ['help', name], [name, '-h']]) {
      const { io, out } = captureIo();
      expect(await runCli(argv, fakeDeps(), io)).toBe(0);
      expect(out()).toMatch(/^Usage: isthmus /);
      expect(out()).toContain('Examples:');
      expect(out()).toContain('Exit codes:');
    }
  });

  it('rejects an unknown command with the usage, exit 2', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['frobnicate'], fakeDeps(), io)).toBe(2);
    expect(err()).toContain('error: unknown command "frobnicate"');
    expect(err()).toContain('Usage: isthmus <command>');
  });

  it('no command at all is a usage error, exit 2', async () => {
    const { io, err } = captureIo();
    expect(await runCli([], fakeDeps(), io)).toBe(2);
    expect(err()).toContain('Usage: isthmus <command>');
  });

  it('rejects unknown flags and a missing --config, exit 2', async () => {
    const a = captureIo();
    expect(await runCli(['validate', '--confg', 'x'], fakeDeps(), a.io)).toBe(2);
    expect(a.err()).toMatch(/error: Unknown option '--confg'.*\(see isthmus validate --help\)/);
    const b = captureIo();
    expect(await runCli(['plan'], fakeDeps(), b.io)).toBe(2);
    expect(b.err()).toContain('--config is required');
  });
});

describe('validate', () => {
  it('prints every problem with its path and exits 2', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['validate', '--config', configFile(THREE_MISTAKES)], fakeDeps(), io)).toBe(2);
    const lines = out().trim().split('\n');
    expect(lines[0]).toBe('config invalid: 3 problems');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(['/bridge/id', '/routes/1/to', '/sync/quiteMs']);
    expect(out()).toContain('/routes/1/to: unknown registry "zk2" (configured: k8s, nacos) (line 8)');
  });

  it('says OK with the counts', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['validate', '-c', configFile(GOOD_CONFIG)], fakeDeps(), io)).toBe(0);
    expect(out()).toMatch(/^config OK: 3 registries, 3 routes\n {2}nacos->k8s\n/);
  });

  it('answers in JSON and applies env overrides', async () => {
    const { io, out } = captureIo({ env: { ISTHMUS_BRIDGE_ID: 'dr-west' } });
    expect(await runCli(['validate', '-c', configFile(GOOD_CONFIG), '-o', 'json'], fakeDeps(), io)).toBe(0);
    expect(JSON.parse(out())).toEqual({ valid: true, bridgeId: 'dr-west', registries: 3, routes: ['nacos->k8s', 'nacos->consul', 'k8s->nacos'] });
    const bad = captureIo();
    expect(await runCli(['validate', '-c', configFile(THREE_MISTAKES), '-o', 'json'], fakeDeps(), bad.io)).toBe(2);
    expect((JSON.parse(bad.out()) as { problems: unknown[] }).problems).toHaveLength(3);
  });

  it('reports an unreadable file, exit 2', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['validate', '-c', '/nonexistent/isthmus.yaml'], fakeDeps(), io)).toBe(2);
    expect(out()).toContain('cannot read config file "/nonexistent/isthmus.yaml" (ENOENT)');
  });
});

describe('run', () => {
  it('passes the frozen config and a logger writing JSON to stdout', async () => {
    const run = vi.fn((config: Config, opts: { logger: Logger }) => {
      opts.logger.info({ token: 'tok-secret' }, 'started');
      expect(Object.isFrozen(config)).toBe(true);
      return Promise.resolve();
    });
    const { io, out } = captureIo();
    expect(await runCli(['run', '-c', configFile(GOOD_CONFIG), '--log-level', 'debug'], fakeDeps({ run }), io)).toBe(0);
    expect(run.mock.calls[0]?.[0].log.level).toBe('debug');
    const line = JSON.parse(out().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'started', bridge: 'prod-east', token: '[redacted]' });
  });

  it('logs a failure as fatal and exits 1', async () => {
    const { io, out } = captureIo();
    const run = () => Promise.reject(new Error('lease lost'));
    expect(await runCli(['run', '-c', configFile(GOOD_CONFIG)], fakeDeps({ run }), io)).toBe(1);
    expect(out()).toContain('"level":"fatal"');
    expect(out()).toContain('lease lost');
  });

  it('prints config problems to stderr and exits 2 without running', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['run', '-c', configFile(THREE_MISTAKES)], fakeDeps(), io)).toBe(2);
    expect(err()).toContain('error: invalid config: 3 problems');
    expect(err()).toContain('/sync/quiteMs');
  });
});

const PLAN: PlanReport = {
  bridgeId: 'prod-east',
  changes: [
    { route: 'nacos->k8s', sink: 'k8s', ref: { namespace: 'shop', name: 'orders' }, action: 'create', before: 0, after: 3, operations: [{ verb: 'create', record: 'Service shop/orders' }, { verb: 'create', record: 'EndpointSlice shop/orders-vm-1' }] },
    { route: 'nacos->k8s', sink: 'k8s', ref: { namespace: 'shop', name: 'pay' }, action: 'hold', before: 10, after: 2, operations: [], reason: 'shrinks by 80% (> 50%)' },
    { route: 'k8s->nacos', sink: 'nacos', ref: { namespace: 'shop', name: 'cart' }, action: 'update', before: 2, after: 3, operations: [{ verb: 'update', record: 'instance 1a2b' }] },
  ],
  inSync: 12,
  unsyncedSources: [],
};

describe('plan', () => {
  it('prints a per-route table and a summary', async () => {
    const plan = vi.fn(() => Promise.resolve(PLAN));
    const { io, out } = captureIo();
    expect(await runCli(['plan', '-c', configFile(GOOD_CONFIG), '--timeout', '90s'], fakeDeps({ plan }), io)).toBe(0);
    expect(plan.mock.calls[0]).toEqual([expect.anything(), { timeoutMs: 90_000, logger: expect.anything() as unknown }]);
    expect(out()).toContain('route nacos->k8s\n  ACTION  SINK  SERVICE      ENDPOINTS  WRITES        REASON\n  create  k8s   shop/orders  0 → 3      2 (2 create)\n');
    expect(out()).toContain('  hold    k8s   shop/pay     10 → 2     0             shrinks by 80% (> 50%)\n');
    expect(out()).toContain('  update  nacos  shop/cart  2 → 3      update instance 1a2b\n');
    expect(out()).toContain('3 changes: 1 create, 1 update, 0 delete, 1 hold; 12 targets in sync');
  });

  it('prints JSON, and exits 1 when the plan is incomplete', async () => {
    const plan = () => Promise.resolve({ ...PLAN, unsyncedSources: ['nacos'] });
    const { io, out } = captureIo();
    expect(await runCli(['plan', '-c', configFile(GOOD_CONFIG), '-o', 'json'], fakeDeps({ plan }), io)).toBe(1);
    expect(JSON.parse(out())).toMatchObject({ bridgeId: 'prod-east', unsyncedSources: ['nacos'] });
    const text = captureIo();
    expect(await runCli(['plan', '-c', configFile(GOOD_CONFIG)], fakeDeps({ plan }), text.io)).toBe(1);
    expect(text.out()).toContain('INCOMPLETE: nacos did not finish listing within 30s');
  });

  it('rejects a bad --timeout', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['plan', '-c', configFile(GOOD_CONFIG), '--timeout', 'soon'], fakeDeps(), io)).toBe(2);
    expect(err()).toContain('--timeout "soon" is not a duration');
  });
});

const ORDERS = { namespace: 'shop', name: 'orders' };
const report = (dryRun: boolean): CleanupReport => ({ bridgeId: 'prod-east', dryRun, removed: [{ sink: 'consul', refs: [ORDERS] }] });

describe('cleanup', () => {
  it('without a terminal and without --yes: shows the preview, refuses, exit 2', async () => {
    const cleanup = vi.fn((_c: Config, o: { dryRun: boolean }) => Promise.resolve(report(o.dryRun)));
    const { io, out, err } = captureIo();
    expect(await runCli(['cleanup', '-c', configFile(GOOD_CONFIG)], fakeDeps({ cleanup }), io)).toBe(2);
    expect(cleanup.mock.calls.map((c) => c[1].dryRun)).toEqual([true]);
    expect(out()).toContain('would remove the records of 1 service');
    expect(err()).toContain('pass --yes');
  });

  it('asks for the bridge id on a terminal and deletes only when it matches', async () => {
    const cleanup = vi.fn((_c: Config, o: { dryRun: boolean }) => Promise.resolve(report(o.dryRun)));
    const prompt = vi.fn(() => Promise.resolve('prod-east\n'));
    const ok = captureIo({ prompt });
    expect(await runCli(['cleanup', '-c', configFile(GOOD_CONFIG)], fakeDeps({ cleanup }), ok.io)).toBe(0);
    expect(prompt).toHaveBeenCalledWith(expect.stringContaining('Type the bridge id (prod-east)'));
    expect(cleanup.mock.calls.map((c) => c[1].dryRun)).toEqual([true, false]);
    expect(ok.out()).toContain('removed the records of 1 service');

    cleanup.mockClear();
    const no = captureIo({ prompt: () => Promise.resolve('yes') });
    expect(await runCli(['cleanup', '-c', configFile(GOOD_CONFIG)], fakeDeps({ cleanup }), no.io)).toBe(1);
    expect(cleanup.mock.calls.map((c) => c[1].dryRun)).toEqual([true]);
    expect(no.out()).toContain('aborted');
  });

  it('--yes deletes at once; --dry-run only lists', async () => {
    const cleanup = vi.fn((_c: Config, o: { dryRun: boolean }) => Promise.resolve(report(o.dryRun)));
    const yes = captureIo();
    expect(await runCli(['cleanup', '-c', configFile(GOOD_CONFIG), '--yes', '-o', 'json'], fakeDeps({ cleanup }), yes.io)).toBe(0);
    expect(cleanup.mock.calls.map((c) => c[1].dryRun)).toEqual([false]);
    expect(JSON.parse(yes.out())).toEqual(report(false));
    cleanup.mockClear();
    const dry = captureIo();
    expect(await runCli(['cleanup', '-c', configFile(GOOD_CONFIG), '--dry-run'], fakeDeps({ cleanup }), dry.io)).toBe(0);
    expect(cleanup.mock.calls.map((c) => c[1].dryRun)).toEqual([true]);
    expect(dry.out()).toContain('consul (1)\n  shop/orders\n');
  });
});

describe('schema', () => {
  it('prints the JSON Schema with every kind', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['schema'], fakeDeps(), io)).toBe(0);
    const text = out();
    for (const kind of ['kubernetes', 'nacos', 'consul', 'static']) expect(text).toContain(`"const": "${kind}"`);
  });
});
