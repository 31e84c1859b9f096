// Runnable example: `npx tsx sdk/example/call-orders.ts`
//
// Starts two real gRPC servers, a bridge that knows one as a VM ("vm" registry) and one as a pod
// ("pods" registry) with a 90/10 migration split, then calls isthmus:///orders.shop with a
// plain grpc-js client, shifts the split to 50/50 at run time, and calls again.
//
// Against your own bridge instead: ISTHMUS_GRPC=127.0.0.1:9090 ISTHMUS_TOKEN=... npx tsx
// sdk/example/call-orders.ts (it then only resolves and calls; set weights with `isthmus weight`).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { runBridge } from '../../bridge/app/index.ts';
import { createLogger, parseConfig } from '../../bridge/runtime/index.ts';
import { GrpcTransport, IsthmusClient, registerIsthmusResolver } from '../index.ts';
import { startEcho, tally, whoClient } from '../testing/echo.ts';

let token = process.env['ISTHMUS_TOKEN'];
let address = process.env['ISTHMUS_GRPC'];
let httpUrl: string | undefined;
const stop = new AbortController();
let bridge: Promise<void> | undefined;
const servers = [await startEcho('vm-1'), await startEcho('pod-1')];

if (address === undefined) {
  const [vm, pod] = servers;
  // The bridge takes run-time weight changes only from callers holding its resolver token.
  token = randomBytes(24).toString('hex');
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'isthmus-example-')), 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const config = parseConfig(
    `
bridge: { id: example }
registries:
  vm:   { kind: memory, services: [{ namespace: shop, name: orders, portName: grpc, endpoints: [{ address: 127.0.0.1, port: ${vm?.port ?? 0} }] }] }
  pods: { kind: memory, services: [{ namespace: shop, name: orders, portName: grpc, endpoints: [{ address: 127.0.0.1, port: ${pod?.port ?? 0} }] }] }
resolver: { http: { port: 0 }, grpc: { port: 0 }, auth: { tokenFile: ${JSON.stringify(tokenFile)} } }
weights: { shop/orders: { vm: 90, pods: 10 } }
log: { level: warn }
`,
    ADAPTER_KINDS,
  );
  let grpcPort = 0;
  httpUrl = await new Promise<string>((resolve) => {
    bridge = runBridge(config, ADAPTER_KINDS, { logger: createLogger({ level: 'warn' }), signal: stop.signal, onListening: resolve, onGrpcListening: (p) => { grpcPort = p; } });
  });
  address = `127.0.0.1:${grpcPort}`;
}

// 1. Tell grpc-js how to resolve isthmus:/// targets: through the bridge's gRPC Watch.
const transport = new GrpcTransport({ address, ...(token === undefined ? {} : { token }) });
registerIsthmusResolver({ transport });

// 2. What the bridge knows about the service (the same answer as GET /v1/services/shop/orders).
const service = await new IsthmusClient(transport).resolve({ namespace: 'shop', name: 'orders' });
console.log('shop/orders:', service?.endpoints.map((e) => `${e.address}:${String(e.ports['grpc'])} from ${e.origin} weight ${e.weight}`));

// 3. Any grpc-js client: the target is the only Isthmus-specific thing.
const client = whoClient('isthmus:///orders.shop');
console.log('1,000 calls:', Object.fromEntries(await tally(client, 1_000)));

if (httpUrl !== undefined) {
  // 4. Shift traffic at run time (the CLI does the same: isthmus weight shop/orders vm=50 pods=50).
  const res = await fetch(`${httpUrl}/v1/weights/shop/orders`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
    body: JSON.stringify({ vm: 50, pods: 50 }),
  });
  if (!res.ok) throw new Error(`PUT /v1/weights answered ${res.status}: ${await res.text()}`);
  await new Promise((r) => setTimeout(r, 300));
  console.log('after vm=50 pods=50, 1,000 calls:', Object.fromEntries(await tally(client, 1_000)));
}

client.close();
transport.close();
stop.abort();
await bridge;
for (const s of servers) await s.stop();
