// `npm run demo -- --memory`: runs the bridge on the serverless example topology and prints, every two seconds, what
// the resolver answers for each service: its endpoints by side and whether each sync target is
// in step. Ctrl-C stops the bridge (which, as always, deregisters nothing).
import { parseArgs } from 'node:util';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { runBridge } from '../../bridge/app/index.ts';
import { createLogger, loadConfig } from '../../bridge/runtime/index.ts';
import type { CatalogEntry } from '../../bridge/catalog/index.ts';
import type { ServiceExplain } from '../../bridge/sync/index.ts';
import { liveness } from '../../bridge/model/index.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: new URL('../../deploy/examples/demo.yaml', import.meta.url).pathname },
    once: { type: 'boolean', default: false },
    // Chosen by demo.ts, which imports this module for it.
    memory: { type: 'boolean', default: true },
  },
});

const config = loadConfig(values.config, ADAPTER_KINDS);
const logger = createLogger({ level: config.log.level });
const stop = new AbortController();
let url = '';
let listening: (u: string) => void = () => undefined;
const listened = new Promise<string>((resolve) => { listening = resolve; });
const running = runBridge(config, ADAPTER_KINDS, { logger, signal: stop.signal, onListening: (u) => { listening(u); } });

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${url}${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function table(): Promise<string> {
  const list = await get<{ services: { namespace: string; name: string }[] }>('/v1/services');
  const lines = [`Isthmus demo: resolver at ${url}  (Ctrl-C to stop)`, ''];
  lines.push(pad(['SERVICE', 'REGISTRY', 'ENDPOINT', 'HEALTH', 'ZONE']), '');
  for (const s of list.services) {
    const entry = await get<CatalogEntry>(`/v1/services/${s.namespace}/${s.name}`);
    const explain = (await get<{ explain: ServiceExplain }>(`/v1/status/${s.namespace}/${s.name}`)).explain;
    for (const ep of entry.endpoints) {
      const port = Object.values(ep.ports)[0] ?? '';
      lines.push(pad([`${s.namespace}/${s.name}`, ep.origin.registry, `${ep.address}:${port}`, liveness(ep), ep.zone ?? '']));
    }
    const targets = explain.targets.map((t) => `${t.sink}: ${t.outcome} (${t.desiredEndpoints} synced)`).join(', ');
    lines.push(pad(['', '→ sync', targets || 'no route', '', '']), '');
  }
  return lines.join('\n');
}

function pad(cols: string[]): string {
  const widths = [18, 10, 40, 10, 12];
  return cols.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ').trimEnd();
}

url = await listened;
// The first table should show the synced state: wait until the engine's queue has drained.
// (The queue is filled before the resolver listens, so an empty queue means the first pass is done.)
for (let i = 0; i < 100 && (await get<{ queueDepth: number }>('/v1/status')).queueDepth > 0; i++) {
  await new Promise((r) => setTimeout(r, 50));
}
for (;;) {
  const text = await table().catch((err: unknown) => `resolver not answering: ${String(err)}`);
  process.stdout.write(values.once ? `${text}\n` : `\u001b[2J\u001b[H${text}\n`);
  if (values.once) break;
  const done = await Promise.race([running.then(() => true), new Promise<false>((r) => setTimeout(() => { r(false); }, 2000))]);
  if (done) break;
}
stop.abort();
await running;
