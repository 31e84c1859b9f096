// A one-method gRPC service for the proxyless-mesh tests: `Who` answers with the name of the
// server that took the call, so a client can count where istiod's routing sent each call. No
// .proto file: the method carries raw UTF-8 bytes both ways.
import type * as GrpcJs from '@grpc/grpc-js';

export const WHO_PATH = '/isthmus.test.Who/Who';

const bytes = (b: Buffer): Buffer => b;

export const whoService = {
  Who: {
    path: WHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
} as const;

/** Starts a Who server named `name` on host:0; resolves with the bound port. */
export async function startWho(grpc: typeof GrpcJs, name: string, host: string): Promise<{ server: GrpcJs.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(whoService, {
    Who: (_call: GrpcJs.ServerUnaryCall<Buffer, Buffer>, done: GrpcJs.sendUnaryData<Buffer>) => { done(null, Buffer.from(name)); },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => { if (err === null) resolve(p); else reject(err); });
  });
  return { server, port };
}

/** One call: the answering server's name. */
export function who(grpc: typeof GrpcJs, client: GrpcJs.Client, deadlineMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(WHO_PATH, bytes, (b: Buffer) => b.toString('utf8'), Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, value) => {
      if (err !== null || value === undefined) reject(err ?? new Error('empty answer'));
      else resolve(value);
    });
  });
}

/** `n` calls, `parallel` at a time; counts per answering server. */
export async function countWho(grpc: typeof GrpcJs, client: GrpcJs.Client, n: number, parallel = 20): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      const name = await who(grpc, client);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return counts;
}

/** Like countWho, but a failed call is counted by its message instead of failing the batch. */
export async function tallyWho(grpc: typeof GrpcJs, client: GrpcJs.Client, n: number, parallel = 20): Promise<{ counts: Map<string, number>; failures: Record<string, number> }> {
  const counts = new Map<string, number>();
  const failures: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      try {
        const name = await who(grpc, client);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      } catch (err) {
        const key = err instanceof Error ? err.message : String(err);
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return { counts, failures };
}
