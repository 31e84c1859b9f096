// Two repairs to how node-zookeeper-client 1.1.x reconnects. Either fault can leave the client in
// CONNECTING for good after a ZooKeeper restart, and the Dubbo source unreachable with it
// (dubbo.zk-restart.test.ts with the two cores busy: 3 failures in about 15 runs; with only the
// first repair, 2 in 44, one caught by a state dump: socket open, handshake never answered).
// 1. Its ConnectionManager keeps the unparsed tail of a connection's last read (`pendingBuffer`)
//    across reconnects. A frame cut off when the server went away was put in front of the next
//    ConnectResponse; the client read a wrong length and waited for bytes that never came.
// 2. It times out only the TCP connect. Once a socket is up, it waits for the ConnectResponse
//    forever: a peer that accepted and never answered (a server still starting, something in
//    between) held it there. The Java client gives the whole handshake the connect timeout and
//    then tries again; so do we, on the same session.
// zk-reconnect.test.ts shows both on a scripted wire, and fails if the library's shape changes.

const CONNECTED = 2;

interface ConnectionManagerShape {
  pendingBuffer: unknown;
  state: number;
  connectTimeout: number;
  socket?: { destroy(): void };
  onSocketConnected: (...args: unknown[]) => unknown;
}

function hasShape(x: unknown): x is ConnectionManagerShape {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Partial<Record<keyof ConnectionManagerShape, unknown>>;
  return 'pendingBuffer' in x && typeof m.state === 'number' && typeof m.connectTimeout === 'number' && typeof m.onSocketConnected === 'function';
}

/**
 * Makes every new connection of `client` start with an empty parse buffer and give up on a
 * handshake not answered within the library's connect timeout (the socket is destroyed, and the
 * library's own retry reconnects). The library binds `onSocketConnected` when it opens each
 * socket, so replacing it on the instance covers every reconnect. False when the shape changed.
 */
export function repairReconnects(client: object): boolean {
  const manager = (client as { connectionManager?: unknown }).connectionManager;
  if (!hasShape(manager)) return false;
  const onConnected = manager.onSocketConnected;
  manager.onSocketConnected = function (this: ConnectionManagerShape, ...args: unknown[]): unknown {
    this.pendingBuffer = null;
    const socket = this.socket;
    const timer = setTimeout(() => {
      if (this.socket === socket && this.state !== CONNECTED) socket?.destroy();
    }, this.connectTimeout);
    timer.unref();
    return onConnected.apply(this, args);
  };
  return true;
}
