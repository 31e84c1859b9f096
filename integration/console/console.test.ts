// The console (/ui) in a real headless Chromium, over a real bridge on the demo's topology in the
// real servers: the overview must agree with the catalog API, follow a health change made in
// Consul without a reload, and show a held deletion and a quarantined record with their reasons;
// with a token configured, /ui answers 401 until the user signs in. Screenshots go to a temp
// directory, or to $ISTHMUS_CONSOLE_SCREENSHOTS (the README's come from there).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { cleanupBridge } from '../../bridge/app/index.ts';
import { createLogger, loadConfig } from '../../bridge/runtime/index.ts';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION } from '../../bridge/runtime/config/migration-schema.ts';
import { freePort } from '../drill/net.ts';
import { BridgeProcess } from '../demo/bridge-process.ts';
import { demoConfig, type DemoConnections } from '../demo/config.ts';
import { ensureCrd, removeCrd } from '../demo/crd.ts';
import { holdDemoTopology } from '../demo/exclusive.ts';
import { consulId, Natives } from '../demo/natives.ts';
import { DEMO_TAG, NAMESPACE, TOPOLOGY } from '../demo/topology.ts';
import type {} from '../servers/provided-context.ts';
import { kubeEnv } from '../adapters/kubernetes-env.ts';
import { installIstioCrds } from '../istio/install.ts';
import { chromiumMissing, launchBrowser, type Browser } from './browser.ts';

const servers = inject('isthmusServers');
const serversReady = servers.kubernetes !== undefined && servers.consul !== undefined && servers.nacos !== undefined && servers.zookeeper !== undefined && servers.eureka !== undefined;
const missing = chromiumMissing();
// In CI a missing browser is a failure to see, not a skip to overlook.
if (missing !== undefined && process.env['CI'] !== undefined) throw new Error(`console test: ${missing}`);
if (missing !== undefined) console.warn(`console test skipped: ${missing}`);

const TOKEN = 'console-test-token-0123456789';
const ORDERS = TOPOLOGY.find((s) => s.home === 'consul' && s.name === 'orders')!;
const BAD_ID = 'orders-bad-address';
const THIRD_ID = 'orders-console-third';
const XSS = '<img src=x onerror="window.pwned=1">';
const SERVICES = [...new Set(TOPOLOGY.map((s) => s.name))].sort();
// A namespace-wide STRICT policy: every exported pod Service gets an mTLS notice (a real finding
// of the source's preflight), which the bridge and service pages must show.
const STRICT = 'console-strict';
const PEER_AUTHS = `/apis/security.istio.io/v1/namespaces/${NAMESPACE}/peerauthentications`;
const POD_SERVICE = TOPOLOGY.find((s) => s.home === 'kubernetes')!;

interface Listed { namespace: string; name: string; endpoints: number; ready: number }
interface Entry { endpoints: { ready: boolean; origin: { registry: string } }[] }

describe.skipIf(!serversReady || missing !== undefined)('console /ui in headless Chromium', () => {
  const conn = servers as DemoConnections;
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-console-'));
  const shots = process.env['ISTHMUS_CONSOLE_SCREENSHOTS'] ?? join(dir, 'screenshots');
  const configPath = join(dir, 'isthmus.yaml');
  const natives = new Natives(conn);
  let bridge: BridgeProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  let crdInstalled = false;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const consul = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${conn.consul.httpUrl}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    expect(res.ok, `consul ${path}: ${res.status}`).toBe(true);
  };
  const row = (name: string) => page.locator(`[data-testid=services] tr[data-service="${NAMESPACE}/${name}"]`);

  // First, so that its afterAll (hooks run in reverse) releases the topology last.
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => { release = await holdDemoTopology(); }, 660_000);
  afterAll(async () => { await release?.(); });

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const port = await freePort('127.0.0.1');
    const config = demoConfig(conn, { bridgeId: 'console-test', resolverPort: port, logLevel: 'error' });
    // Auth on (the login flow is part of the test); no gRPC port to collide with anything.
    config['resolver'] = { http: { host: '127.0.0.1', port }, grpc: { enabled: false }, auth: { tokenFile } };
    const k8s = (config['registries'] as Record<string, { source: Record<string, unknown> }>)['k8s']!;
    k8s.source = { ...k8s.source, istio: { mtlsPreflight: true } };
    await installIstioCrds(kubeEnv()!);
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    await natives.put();
    await natives.kube.must('POST', PEER_AUTHS, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: STRICT }, spec: { mtls: { mode: 'STRICT' } } }, [409]);
    // The split test writes a ServiceMigration through the resolver, as `isthmus weight` does.
    crdInstalled = await ensureCrd(natives.kube);
    bridge = new BridgeProcess(configPath, port);
    await bridge.listening(AbortSignal.timeout(90_000), 60_000);
    url = bridge.url;
    // Every service of the topology in the catalog with all its endpoints before the page opens.
    const want = new Map(SERVICES.map((n) => [n, TOPOLOGY.filter((s) => s.name === n).reduce((k, s) => k + s.endpoints.length, 0)]));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { services } = await api<{ services: Listed[] }>(`/v1/services?namespace=${NAMESPACE}`);
      if ([...want].every(([n, count]) => services.find((s) => s.name === n)?.endpoints === count)) break;
      if (Date.now() > deadline) throw new Error(`catalog never complete: ${JSON.stringify(services)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? await browser.context.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const id of [BAD_ID, THIRD_ID]) await fetch(`${conn.consul.httpUrl}/v1/agent/service/deregister/${id}`, { method: 'PUT' }).catch(() => undefined);
    await natives.kube.must('DELETE', `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}/namespaces/${NAMESPACE}/${MIGRATION_PLURAL}/orders`, undefined, [404]).catch(() => undefined);
    await natives.kube.must('DELETE', `${PEER_AUTHS}/${STRICT}`, undefined, [404]).catch(() => undefined);
    const code = await bridge?.stop(30_000);
    if (code !== undefined && code !== 0) console.warn(`console test: the bridge exited with ${String(code)}`);
    const config = loadConfig(configPath, ADAPTER_KINDS);
    await cleanupBridge(config, ADAPTER_KINDS, { logger: createLogger({ level: 'error' }), dryRun: false });
    if (crdInstalled) await removeCrd(natives.kube);
    const problems = await natives.remove();
    if (problems.length > 0) console.warn(`console test cleanup: ${problems.join('; ')}`);
    // Screenshots in the temp dir go with it; an ISTHMUS_CONSOLE_SCREENSHOTS directory stays.
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('answers 401 with a login page without the token, and signs in with it', async () => {
    const denied = await page.goto(`${url}/ui`);
    expect(denied?.status()).toBe(401);
    await expect(page.locator('input[name=token]').count()).resolves.toBe(1);
    // Wrong token: still 401, with the message.
    await page.fill('input[name=token]', 'not-the-token');
    await Promise.all([page.waitForURL(`${url}/ui/login`), page.click('button[type=submit]')]);
    await expect(page.locator('.login-failed[data-failed="true"]').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, 'console-login.png') });
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${url}/ui`), page.click('button[type=submit]')]);
    await page.waitForSelector('[data-testid=services] tr[data-service]', { timeout: 10_000 });
    await page.waitForSelector('#conn[data-state=live]', { timeout: 10_000 });
    // The cookie is HttpOnly: page scripts cannot read it.
    await expect(page.evaluate('document.cookie')).resolves.toBe('');
  });

  it('lists every service with the catalog API\'s counts per registry', async () => {
    const { services } = await api<{ services: Listed[] }>(`/v1/services?namespace=${NAMESPACE}`);
    // The page is typed without the DOM library here: its checks are strings or locators.
    await page.waitForFunction(`document.querySelectorAll('[data-testid=services] tr[data-service]').length >= ${services.length}`);
    const rows = page.locator('[data-testid=services] tr[data-service]');
    const shown: string[] = [];
    for (let i = 0; i < await rows.count(); i++) shown.push((await rows.nth(i).getAttribute('data-service')) ?? '');
    expect(shown.filter((s) => s.startsWith(`${NAMESPACE}/`)).sort()).toEqual(services.map((s) => `${s.namespace}/${s.name}`).sort());
    for (const s of services) {
      const entry = await api<Entry>(`/v1/services/${s.namespace}/${s.name}`);
      const by = new Map<string, { ready: number; total: number }>();
      for (const ep of entry.endpoints) {
        const c = by.get(ep.origin.registry) ?? { ready: 0, total: 0 };
        c.total++;
        if (ep.ready) c.ready++;
        by.set(ep.origin.registry, c);
      }
      const text = await row(s.name).innerText();
      for (const [registry, c] of by) expect(text, `${s.name} row`).toContain(`${registry} ${c.ready}/${c.total}`);
    }
    // orders runs on both sides (2 Consul VMs, 1 pod) and is exported to every VM registry.
    const orders = await row('orders').innerText();
    expect(orders).toContain('dual');
    expect(orders).toMatch(/consul 2\/2/);
    expect(orders).toMatch(/k8s 1\/1/);
    for (const sink of ['consul', 'nacos', 'dubbo', 'eureka']) await row('orders').locator('.badge', { hasText: new RegExp(`^${sink} \\d+$`) }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(shots, 'console-overview.png'), fullPage: true });
  });

  it('shows a health change made in Consul within 2 s, without a reload', async () => {
    // A marker on the window: a reload would lose it.
    await page.evaluate('window.noReload = true');
    const instance = consulId(ORDERS, ORDERS.endpoints[0]!);
    const started = Date.now();
    await consul('PUT', `/v1/agent/service/maintenance/${instance}?enable=true&reason=console-test`);
    await row('orders').locator('.badge', { hasText: 'consul 1/2' }).waitFor({ timeout: 2_000 });
    const ms = Date.now() - started;
    console.log(`console test: Consul maintenance on ${instance} shown after ${ms} ms`);
    await expect(page.evaluate('window.noReload')).resolves.toBe(true);
    // And back.
    await consul('PUT', `/v1/agent/service/maintenance/${instance}?enable=false`);
    await row('orders').locator('.badge', { hasText: 'consul 2/2' }).waitFor({ timeout: 2_000 });
  });

  it('shows a quarantined record and a held deletion with their reasons, and the split', async () => {
    const put = await fetch(`${url}/v1/weights/${NAMESPACE}/orders`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ consul: 80, k8s: 20 }) });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { stored: string }).stored).toBe('ServiceMigration');
    // An instance no model can carry: its address is not an IP address.
    await consul('PUT', '/v1/agent/service/register', { ID: BAD_ID, Name: 'orders', Address: '999.10.10.10', Port: 8080, Tags: [DEMO_TAG] });
    await row('orders').locator('.badge', { hasText: /^quarantined 1$/ }).waitFor({ timeout: 10_000 });
    // A third VM joins, then two of the three leave at once: a shrink of 67 % of the imported
    // endpoints, which the deletion guard (maxShrinkPercent 50) holds for holdSeconds instead
    // of applying, so the hold has a release time.
    // Its zone is markup: the page must show it as text and create no element from it.
    await consul('PUT', '/v1/agent/service/register', { ID: THIRD_ID, Name: 'orders', Address: '192.168.10.13', Port: 8080, Tags: [DEMO_TAG], Meta: { zone: XSS } });
    await row('orders').locator('.badge', { hasText: 'consul 3/3' }).waitFor({ timeout: 10_000 });
    for (const e of ORDERS.endpoints) await consul('PUT', `/v1/agent/service/deregister/${consulId(ORDERS, e)}`);
    await row('orders').locator('.badge', { hasText: /^held \d+$/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'console-overview-attention.png') });
    // The state filter narrows the list to the services needing attention.
    await page.selectOption('select[name=state]', 'held');
    await expect(page.locator('[data-testid=services] tr[data-service]').count()).resolves.toBe(1);
    await page.selectOption('select[name=state]', '');
    await page.fill('input[name=search]', 'paym');
    await expect(page.locator('[data-testid=services] tr[data-service]').count()).resolves.toBe(1);
    await page.fill('input[name=search]', '');
    const status = await api<{ held: { ref: { name: string }; reason: string }[]; quarantined: { nativeId: string; reason: string }[] }>('/v1/status');
    const held = status.held.find((h) => h.ref.name === 'orders');
    const bad = status.quarantined.find((q) => q.nativeId.includes(BAD_ID));
    expect(held?.reason).toMatch(/would go (at once|in a short window)/);
    expect(bad?.reason).toMatch(/not an IP address/);

    await row('orders').locator('a[data-testid=service-link]').click();
    await page.waitForSelector('[data-testid=held] tbody tr:not(.empty)', { timeout: 10_000 });
    await page.waitForSelector('[data-testid=quarantined] tbody tr:not(.empty)', { timeout: 10_000 });
    const heldText = await page.locator('[data-testid=held]').innerText();
    expect(heldText).toContain(held!.reason);
    expect(heldText).toMatch(/in \d+ s/);
    expect(await page.locator('[data-testid=quarantined]').innerText()).toContain(bad!.reason);
    expect(await page.locator('[data-testid=endpoints] tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=sinks] tbody tr:not(.empty)').count()).toBeGreaterThanOrEqual(4);
    const endpoints = page.locator('[data-testid=endpoints]');
    expect(await endpoints.innerText()).toContain(XSS);
    expect(await endpoints.locator('img').count()).toBe(0);
    await expect(page.evaluate('window.pwned')).resolves.toBeUndefined();
    // The split as declared, and as written per origin (weights and traffic shares).
    expect(await page.locator('[data-testid=split-declared]').innerText()).toContain('consul=80 k8s=20');
    const written = await page.locator('[data-testid=split-written]').innerText();
    expect(written).toMatch(/consul/);
    expect(written).toMatch(/%/);
    await page.screenshot({ path: join(shots, 'console-service.png'), fullPage: true });
  });

  it('shows the bridge: sources synced and reachable, this replica the leader', async () => {
    await page.click('a[data-nav=bridge]');
    await page.waitForSelector('[data-testid=sources] tbody tr');
    const sources = await page.locator('[data-testid=sources]').innerText();
    for (const id of ['k8s', 'consul', 'nacos', 'dubbo', 'eureka']) expect(sources).toContain(id);
    expect(sources).not.toContain('unreachable');
    expect(await page.locator('[data-testid=role]').innerText()).toContain('leader');
    expect(await page.locator('[data-testid=all-held] tbody tr:not(.empty)').count()).toBeGreaterThan(0);
    // The preflight's finding, with the policy named, as /v1/status has it.
    const reason = `STRICT mTLS (PeerAuthentication ${NAMESPACE}/${STRICT}) refuses plaintext from VM callers on ${NAMESPACE}/${POD_SERVICE.name}`;
    await page.waitForFunction(`document.querySelector('[data-testid=notices]')?.innerText.includes(${JSON.stringify(reason)})`, undefined, { timeout: 30_000 });
    expect(await page.locator('[data-testid=notices]').innerText()).toContain('mtls-strict');
    await page.screenshot({ path: join(shots, 'console-bridge.png'), fullPage: true });
    // And on the service's own page.
    await page.goto(`${url}/ui#/service/${NAMESPACE}/${POD_SERVICE.name}`);
    await page.waitForFunction(`document.querySelector('[data-testid=service-notices]')?.innerText.includes(${JSON.stringify(reason)})`, undefined, { timeout: 30_000 });
  });
});
