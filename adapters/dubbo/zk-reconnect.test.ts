// node-zookeeper-client over a scripted ZooKeeper wire (loopback TCP). The client must connect
// again on the same session after the two faults zk-reconnect.ts repairs: a connection that
// ended in the middle of a frame, and a connection whose handshake is never answered. Before
// the repairs it waited forever in both.
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ZkClient } from './client.ts';
import { repairReconnects } from './zk-reconnect.ts';

const SESSION = 0x0102030405060708n;

/** A ConnectResponse frame: protocol version, timeout, session id, 16-byte password. */
function connectResponse(timeoutMs: number): Buffer {
  const body = Buffer.alloc(4 + 4 + 8 + 4 + 16);
  body.writeInt32BE(0, 0);
  body.writeInt32BE(timeoutMs, 4);
  body.writeBigInt64BE(SESSION, 8);
  body.writeInt32BE(16, 16);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Reads each connection's handshake; `script(n, socket)` answers it (or not) and goes on. */
async function scriptedServer(script: (n: number, socket: Socket) => void): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const k = ++n;
    sockets.add(socket);
    socket.once('data', () => { script(k, socket); });
    socket.on('error', () => undefined);
  });
  server.on('close', () => { for (const s of sockets) s.destroy(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, connections: () => n };
}

describe('node-zookeeper-client reconnects after a server restart', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => { for (const c of cleanups.splice(0)) c(); });

  async function connectThrough(script: (n: number, socket: Socket) => void, sessionTimeoutMs: number): Promise<{ client: ZkClient; states: boolean[]; connections: () => number }> {
    const fake = await scriptedServer(script);
    cleanups.push(() => { fake.server.close(); });
    const client = new ZkClient({ connect: `127.0.0.1:${fake.port}`, sessionTimeoutMs, requestTimeoutMs: 1000, registry: 'zk' });
    cleanups.push(() => { client.close(); });
    const states: boolean[] = [];
    client.onState((up) => { states.push(up); });
    client.start();
    return { client, states, connections: fake.connections };
  }

  it('finds the library shape it repairs', () => {
    const zk = createRequire(import.meta.url)('node-zookeeper-client') as { createClient: (c: string) => object };
    expect(repairReconnects(zk.createClient('127.0.0.1:1'))).toBe(true);
  });

  it('connects again on the same session when the last connection ended inside a frame', async () => {
    const { client, states, connections } = await connectThrough((n, socket) => {
      socket.write(connectResponse(4000));
      if (n !== 1) return;
      // Half a reply: a length that promises 100 bytes, 10 of them, then the connection is gone.
      const partial = Buffer.alloc(14);
      partial.writeInt32BE(100, 0);
      setTimeout(() => { socket.write(partial); socket.destroy(); }, 50);
    }, 4000);
    await expect.poll(() => states, { timeout: 5000, interval: 20 }).toEqual([true, false, true]);
    expect(connections()).toBeGreaterThanOrEqual(2);
    expect(client.sessionId).toBe(SESSION.toString(16).padStart(16, '0'));
    expect(client.generation).toBe(1);
  });

  it('gives up on a handshake nobody answers and connects on the next try', async () => {
    // The first connection is accepted and never answered; the later ones are answered at once.
    const { states, connections } = await connectThrough((n, socket) => {
      if (n > 1) socket.write(connectResponse(1000));
    }, 1000);
    // Within the connect timeout (the session timeout over one server) plus the retry.
    await expect.poll(() => states, { timeout: 4000, interval: 20 }).toEqual([true]);
    expect(connections()).toBe(2);
  });
});
