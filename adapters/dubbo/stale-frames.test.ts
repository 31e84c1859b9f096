// node-zookeeper-client over a scripted ZooKeeper wire (loopback TCP): the first connection ends
// in the middle of a frame, the next one answers a normal handshake. The client must connect
// again on the same session; before stale-frames.ts it waited forever for the rest of a frame
// from a socket that no longer existed.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ZkClient } from './client.ts';
import { dropStaleFramesOnReconnect } from './stale-frames.ts';

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

/** Answers each connection's handshake; `onConnection(n, socket)` scripts what follows. */
async function scriptedServer(onConnection: (n: number, socket: Socket) => void): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((socket) => {
    const k = ++n;
    socket.once('data', () => {
      socket.write(connectResponse(4000));
      onConnection(k, socket);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, connections: () => n };
}

describe('node-zookeeper-client reconnects after a frame cut off mid-way', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => { for (const c of cleanups.splice(0)) c(); });

  it('finds the library shape it repairs', async () => {
    const { createRequire } = await import('node:module');
    const zk = createRequire(import.meta.url)('node-zookeeper-client') as { createClient: (c: string) => object };
    expect(dropStaleFramesOnReconnect(zk.createClient('127.0.0.1:1'))).toBe(true);
  });

  it('connects again on the same session when the last connection ended inside a frame', async () => {
    const fake = await scriptedServer((n, socket) => {
      if (n !== 1) return;
      // Half a reply: a length that promises 100 bytes, 10 of them, then the connection is gone.
      const partial = Buffer.alloc(14);
      partial.writeInt32BE(100, 0);
      setTimeout(() => { socket.write(partial); socket.destroy(); }, 50);
    });
    cleanups.push(() => { fake.server.close(); });
    const client = new ZkClient({ connect: `127.0.0.1:${fake.port}`, sessionTimeoutMs: 4000, requestTimeoutMs: 1000, registry: 'zk' });
    cleanups.push(() => { client.close(); });
    const states: boolean[] = [];
    client.onState((up) => { states.push(up); });
    client.start();
    await expect.poll(() => states, { timeout: 5000, interval: 20 }).toEqual([true, false, true]);
    expect(fake.connections()).toBeGreaterThanOrEqual(2);
    expect(client.sessionId).toBe(SESSION.toString(16).padStart(16, '0'));
    expect(client.generation).toBe(1);
  });
});
