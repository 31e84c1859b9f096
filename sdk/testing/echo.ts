// Test-only: a tiny real gRPC service ("who are you?") for resolver tests and the example. Raw
// bytes, no proto, so nothing is generated for it.
import { credentials, makeGenericClientConstructor, Server, ServerCredentials, type Client, type ServiceError } from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

export const WHO_SERVICE = {
  who: {
    path: '/isthmus.test.Echo/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as const;

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A real @grpc/grpc-js server on 127.0.0.1 that answers every Who call with its name. */
export async function startEcho(name: string): Promise<EchoServer> {
  const server = new Server();
  server.addService(WHO_SERVICE, {
    who: (_call: unknown, cb: (err: null, value: Buffer) => void) => { cb(null, Buffer.from(name)); },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => { if (err === null) resolve(p); else reject(err); });
  });
  return {
    name,
    port,
    stop: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}

interface WhoClient extends Client {
  who(req: Buffer, options: { deadline: number }, cb: (err: ServiceError | null, value?: Buffer) => void): void;
}

const WhoCtor = makeGenericClientConstructor(WHO_SERVICE, 'Echo') as unknown as new (
  target: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options: Record<string, unknown>,
) => WhoClient;

/** A client on any target (e.g. `isthmus:///orders.shop`); `who()` resolves with the answering server's name. */
export function whoClient(target: string, options: Record<string, unknown> = {}): { who(): Promise<string>; close(): void } {
  const client = new WhoCtor(target, credentials.createInsecure(), options);
  return {
    who: () =>
      new Promise((resolve, reject) => {
        client.who(Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (err, value) => {
          if (err !== null) reject(err);
          else resolve(value?.toString() ?? '');
        });
      }),
    close: () => { client.close(); },
  };
}

/** Calls `n` times, `parallel` at a time, and counts answers per server name. */
export async function tally(client: { who(): Promise<string> }, n: number, parallel = 50): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let left = n;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      const who = await client.who();
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return counts;
}

/** Polls `check` until it holds or `ms` pass; resolves with the time it took. */
export async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
