// A repair for node-zookeeper-client 1.1.x. Its ConnectionManager keeps the unparsed tail of a
// connection's last read (`pendingBuffer`) across reconnects: nothing clears it when the socket
// closes. When a server goes away in the middle of a frame (a restart while it was sending), the
// cut-off bytes are put in front of the next connection's ConnectResponse. The client then reads
// a wrong length, waits for bytes that never come, sends no pings, and never connects again
// (stale-frames.test.ts shows it on a scripted wire). The likely cause of a Dubbo source that
// stayed unreachable after a real ZooKeeper restart under load: dubbo.zk-restart.test.ts failed
// that way in 3 of about 15 runs with the two cores busy before this, 1 of 31 after. A new
// connection is a new byte stream, so its parse must start empty.

interface ConnectionManagerShape {
  pendingBuffer: unknown;
  onSocketConnected: (...args: unknown[]) => unknown;
}

function hasShape(x: unknown): x is ConnectionManagerShape {
  return typeof x === 'object' && x !== null && 'pendingBuffer' in x && typeof (x as { onSocketConnected?: unknown }).onSocketConnected === 'function';
}

/**
 * Makes every new connection of `client` start with an empty parse buffer. The library binds
 * `onSocketConnected` when it opens each socket, so replacing it on the instance covers every
 * reconnect. Answers false when the library's shape changed (client.test.ts then fails).
 */
export function dropStaleFramesOnReconnect(client: object): boolean {
  const manager = (client as { connectionManager?: unknown }).connectionManager;
  if (!hasShape(manager)) return false;
  const onConnected = manager.onSocketConnected;
  manager.onSocketConnected = function (this: ConnectionManagerShape, ...args: unknown[]): unknown {
    this.pendingBuffer = null;
    return onConnected.apply(this, args);
  };
  return true;
}
