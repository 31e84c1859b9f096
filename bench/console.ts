// `npm run bench -- console [--services N] [--rows-all]`: the console (/ui) at scale in headless
// Chromium. A resolver over a fake catalog of N services (5 VM + 5 pod endpoints each) serves the
// page; prints as JSON the time to the first overview paint, for a health change to reach the
// page, and for a search to narrow the table. Needs Debian's chromium (integration/console).
import { parseArgs } from 'node:util';
import { Catalog } from '../bridge/catalog/index.ts';
import { createHttpResolver, listen } from '../bridge/resolver/http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from '../bridge/resolver/testing/fixtures.ts';
import { chromiumMissing, launchBrowser } from '../integration/console/browser.ts';

export async function consoleMain(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { services: { type: 'string', default: '10000' } } });
  const missing = chromiumMissing();
  if (missing !== undefined) {
    process.stderr.write(`${missing}\n`);
    return 1;
  }
  const services = Number(values.services);
  const vm = new FakeSource('consul');
  const k8s = new FakeSource('k8s');
  for (let i = 0; i < services; i++) {
    const ref = { namespace: `ns-${i % 20}`, name: `svc-${i}` };
    vm.put(ref, Array.from({ length: 5 }, (_, j) => endpoint('consul', `10.1.${i % 250}.${j}`)));
    k8s.put(ref, Array.from({ length: 5 }, (_, j) => endpoint('k8s', `10.2.${i % 250}.${j}`)));
  }
  const catalog = new Catalog([vm, k8s]);
  catalog.start();
  const app = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), registryKinds: { consul: 'consul', k8s: 'kubernetes' } });
  const url = await listen(app, { port: 0, host: '127.0.0.1' });
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? await browser.context.newPage();
    let t = Date.now();
    await page.goto(`${url}/ui`);
    await page.waitForSelector('[data-testid=services] tr[data-service]', { timeout: 120_000 });
    const firstPaintMs = Date.now() - t;
    t = Date.now();
    vm.put({ namespace: 'ns-0', name: 'svc-0' }, [endpoint('consul', '10.9.9.9', { ready: false })]);
    await page.locator('tr[data-service="ns-0/svc-0"] .badge', { hasText: 'consul 0/1' }).waitFor({ timeout: 120_000 });
    const healthChangeMs = Date.now() - t;
    t = Date.now();
    await page.fill('input[name=search]', `svc-${services - 1}`);
    await page.waitForFunction(`document.querySelectorAll('[data-testid=services] tr[data-service]').length === 1`, undefined, { timeout: 120_000 });
    const searchMs = Date.now() - t;
    const rows = await page.locator('[data-testid=services] tr[data-service]').count();
    process.stdout.write(`${JSON.stringify({ bench: 'console', services, endpoints: services * 10, firstPaintMs, healthChangeMs, searchMs, rowsAfterSearch: rows })}\n`);
    return 0;
  } finally {
    await browser.close();
    await app.close();
  }
}
