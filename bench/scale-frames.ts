// Just enough of two binary protocols to count requests on the wire: Nacos's gRPC SDK protocol
// (HTTP/2 frames → gRPC messages → the Payload's metadata.type) and ZooKeeper's jute framing
// (length-prefixed packets, a request header of xid and op type). Pure: fed bytes in the order
// they crossed one TCP connection in one direction, they answer what passed.

export interface WireEvent {
  /** request: the client asked; push: the server sent unasked; reply: an answer either way. */
  readonly kind: 'request' | 'push' | 'reply';
  readonly cls: string;
  readonly write: boolean;
}

export type FrameParser = (chunk: Buffer) => WireEvent[];

/** Splits a byte stream into frames once `need` says how long the frame at the front is. */
class Frames {
  #buf: Buffer = Buffer.alloc(0);
  readonly need: (buf: Buffer) => number | undefined;

  constructor(need: (buf: Buffer) => number | undefined) {
    this.need = need;
  }

  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const n = this.need(this.#buf);
      if (n === undefined || this.#buf.length < n) return out;
      out.push(this.#buf.subarray(0, n));
      this.#buf = this.#buf.subarray(n);
    }
  }
}

// ---- Nacos over gRPC ----

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** The requests that register, replace or withdraw instances. */
export const NACOS_WRITES: ReadonlySet<string> = new Set(['InstanceRequest', 'BatchInstanceRequest', 'PersistentInstanceRequest']);

/** Length-delimited fields of a protobuf message (other wire types skipped). */
function protoFields(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated varint');
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    switch (tag & 7) {
      case 0: varint(); break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        const n = varint();
        if (!out.has(tag >>> 3)) out.set(tag >>> 3, buf.subarray(pos, pos + n));
        pos += n;
        break;
      }
      default: throw new Error(`protobuf wire type ${tag & 7}`);
    }
  }
  return out;
}

/** `Payload{metadata(2){type(3)}}` of the Nacos SDK protocol; '?' when absent. */
export function nacosType(message: Buffer): string {
  const metadata = protoFields(message).get(2);
  return metadata === undefined ? '?' : (protoFields(metadata).get(3)?.toString('utf8') ?? '?');
}

/** One direction of one HTTP/2 connection carrying Nacos gRPC messages. */
export function grpcParser(side: 'client' | 'server'): FrameParser {
  // The client's connection preface is not a frame: its bytes are dropped before framing starts.
  let preface = side === 'client' ? PREFACE.length : 0;
  const frames = new Frames((b) => (b.length < 9 ? undefined : 9 + b.readUIntBE(0, 3)));
  const streams = new Map<number, Buffer>();
  return (input) => {
    const events: WireEvent[] = [];
    const skip = Math.min(preface, input.length);
    preface -= skip;
    const chunk = input.subarray(skip);
    for (const frame of frames.push(chunk)) {
      const type = frame[3];
      const flags = frame[4] ?? 0;
      const stream = frame.readUInt32BE(5) & 0x7fffffff;
      if (type === 0x3) streams.delete(stream); // RST_STREAM
      if (type !== 0x0) continue; // only DATA carries messages
      let body = frame.subarray(9);
      if ((flags & 0x8) !== 0) body = body.subarray(1, body.length - (body[0] ?? 0)); // PADDED
      let pending: Buffer = Buffer.concat([streams.get(stream) ?? Buffer.alloc(0), body]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const len = pending.readUInt32BE(1);
        const cls = pending[0] === 0 ? nacosType(pending.subarray(5, 5 + len)) : 'compressed';
        pending = pending.subarray(5 + len);
        const asks = cls.endsWith('Request');
        events.push({ kind: asks ? (side === 'client' ? 'request' : 'push') : 'reply', cls, write: side === 'client' && NACOS_WRITES.has(cls) });
      }
      if (pending.length === 0 || (flags & 0x1) !== 0) streams.delete(stream);
      else streams.set(stream, pending);
    }
    return events;
  };
}

// ---- ZooKeeper ----

/** Op codes of ZooKeeper's jute protocol (ZooDefs.OpCode). */
const ZK_OPS: Readonly<Record<number, string>> = {
  1: 'create', 2: 'delete', 3: 'exists', 4: 'getData', 5: 'setData', 6: 'getACL', 7: 'setACL', 8: 'getChildren',
  9: 'sync', 11: 'ping', 12: 'getChildren2', 13: 'check', 14: 'multi', 15: 'create2', 16: 'reconfig',
  17: 'checkWatches', 18: 'removeWatches', 19: 'createContainer', 20: 'deleteContainer', 21: 'createTTL',
  22: 'multiRead', 100: 'auth', 101: 'setWatches', 102: 'sasl', 103: 'getEphemerals', 104: 'getAllChildrenNumber',
  105: 'setWatches2', 106: 'addWatch', 107: 'whoAmI', [-10]: 'createSession', [-11]: 'closeSession',
};
/** A multi counts once: it is one atomic request, as a Consul transaction is. */
export const ZK_WRITES: ReadonlySet<string> = new Set(['create', 'delete', 'setData', 'setACL', 'multi', 'create2', 'createContainer', 'deleteContainer', 'createTTL']);

/** One direction of one ZooKeeper client connection. */
export function zkParser(side: 'client' | 'server'): FrameParser {
  // Each direction starts with the unheadered ConnectRequest / ConnectResponse.
  let first = true;
  const frames = new Frames((b) => (b.length < 4 ? undefined : 4 + b.readInt32BE(0)));
  return (chunk) => {
    const events: WireEvent[] = [];
    for (const frame of frames.push(chunk)) {
      if (first) {
        first = false;
        events.push({ kind: side === 'client' ? 'request' : 'reply', cls: 'connect', write: false });
        continue;
      }
      if (frame.length < 12) continue;
      const xid = frame.readInt32BE(4);
      if (side === 'server') {
        events.push(xid === -1 ? { kind: 'push', cls: 'watchEvent', write: false } : { kind: 'reply', cls: 'reply', write: false });
        continue;
      }
      const op = frame.readInt32BE(8);
      const cls = ZK_OPS[op] ?? `op${op}`;
      events.push({ kind: 'request', cls, write: ZK_WRITES.has(cls) });
    }
    return events;
  };
}
