// Application-level import on the real ZooKeeper: an application's interface list (the
// `isthmus.dev/dubbo-interfaces` metadata) follows its mapping nodes as they are created, grow
// and lose it, and an application a mapping change does not name keeps its snapshot untouched.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createDubbo } from '../../adapters/dubbo/index.ts';
import { DUBBO_META } from '../../adapters/dubbo/keys.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkAdmin, dubboOptions, runId, sharedZooKeeper } from './dubbo-support.ts';

const WAIT = { timeout: 15_000, interval: 50 };

describe('dubbo source, application level: interfaces from mapping nodes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('re-converts exactly the applications a mapping change adds or removes', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/mp-${run}`, servicesRoot: `/mps-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const instance = (app: string, ip: string) => JSON.stringify({ name: app, address: ip, port: 20880, payload: { metadata: {} } });
    await admin.create(`${roots.servicesRoot}/billing/10.83.0.1:20880`, instance('billing', '10.83.0.1'));
    await admin.create(`${roots.servicesRoot}/ledger/10.83.0.2:20880`, instance('ledger', '10.83.0.2'));
    const a = `com.example.mp${run}.Invoices`;
    const b = `com.example.mp${run}.Payments`;
    await admin.create(`${roots.root}/mapping/${a}`, 'billing');

    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const { client, source } = createDubbo(dubboOptions(zk, { ...roots, import: ['application'] }), { registryId: 'zk', bridgeId: 'mp', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    await source.start(abort.signal);
    const ifaces = (app: string) => [...source.keys()].map((r) => source.get(r)).find((s) => s?.ref.name === app)?.metadata[DUBBO_META.interfaces];
    await vi.waitFor(() => { expect(ifaces('billing')).toBe(a); }, WAIT);
    expect(ifaces('ledger')).toBeUndefined();
    const ledgerBefore = [...source.keys()].map((r) => source.get(r)).find((s) => s?.ref.name === 'ledger');

    // A second interface for billing, then billing loses the first one to ledger.
    await admin.create(`${roots.root}/mapping/${b}`, 'billing');
    await vi.waitFor(() => { expect(ifaces('billing')).toBe([a, b].sort().join(',')); }, WAIT);
    // Untouched by a change that does not name it: the very same snapshot object.
    expect([...source.keys()].map((r) => source.get(r)).find((s) => s?.ref.name === 'ledger')).toBe(ledgerBefore);
    await admin.client.setData(`${roots.root}/mapping/${a}`, Buffer.from('ledger'), -1);
    await vi.waitFor(() => { expect(ifaces('billing')).toBe(b); }, WAIT);
    await vi.waitFor(() => { expect(ifaces('ledger')).toBe(a); }, WAIT);

    // The mapping node goes: billing keeps b, ledger has none.
    await admin.remove(`${roots.root}/mapping/${a}`);
    await vi.waitFor(() => { expect(ifaces('ledger')).toBeUndefined(); }, WAIT);
    expect(ifaces('billing')).toBe(b);
  });
});
