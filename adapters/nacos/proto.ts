/**
 * The one protobuf message Nacos 2.x/3.x speaks on its SDK gRPC port, encoded by hand: every
 * request and response is a `Payload { Metadata metadata = 2; google.protobuf.Any body = 3; }`
 * with `Metadata { string type = 3; map<string,string> headers = 7; string clientIp = 8; }` and
 * the request itself as JSON in `body.value` (nacos api/src/main/proto/nacos_grpc_service.proto).
 * Three small messages do not justify a proto loader; this file is pure and unit-tested.
 */

export interface Payload {
  /** Simple Java class name of the request or response, e.g. `InstanceRequest`. */
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly clientIp: string;
  /** The JSON text of the request or response. */
  readonly body: string;
}

const LEN = 2;

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function field(no: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((no << 3) | LEN), varint(bytes.length), bytes]);
}

function str(no: number, text: string): Buffer {
  return text === '' ? Buffer.alloc(0) : field(no, Buffer.from(text, 'utf8'));
}

export function encodePayload(p: Payload): Buffer {
  const headers = Object.entries(p.headers).map(([k, v]) => field(7, Buffer.concat([str(1, k), str(2, v)])));
  const metadata = Buffer.concat([str(3, p.type), ...headers, str(8, p.clientIp)]);
  // Any.type_url stays empty, as the Java client leaves it: the server reads Metadata.type.
  const any = field(2, Buffer.from(p.body, 'utf8'));
  return Buffer.concat([field(2, metadata), field(3, any)]);
}

interface Field {
  readonly no: number;
  readonly bytes?: Buffer;
}

/** Splits a message into its fields; non-length-delimited values are skipped (none are used). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[pos++] ?? 0;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = readVarint();
    const no = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        readVarint();
        out.push({ no });
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const n = readVarint();
        if (pos + n > buf.length) throw new Error('truncated protobuf field');
        out.push({ no, bytes: buf.subarray(pos, pos + n) });
        pos += n;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${tag & 7}`);
    }
  }
  return out;
}

export function decodePayload(buf: Buffer): Payload {
  let type = '';
  let clientIp = '';
  let body = '';
  const headers: Record<string, string> = {};
  for (const f of fields(buf)) {
    if (f.bytes === undefined) continue;
    if (f.no === 2) {
      for (const m of fields(f.bytes)) {
        if (m.bytes === undefined) continue;
        if (m.no === 3) type = m.bytes.toString('utf8');
        else if (m.no === 8) clientIp = m.bytes.toString('utf8');
        else if (m.no === 7) {
          let k = '';
          let v = '';
          for (const e of fields(m.bytes)) {
            if (e.no === 1) k = e.bytes?.toString('utf8') ?? '';
            else if (e.no === 2) v = e.bytes?.toString('utf8') ?? '';
          }
          headers[k] = v;
        }
      }
    } else if (f.no === 3) {
      for (const a of fields(f.bytes)) if (a.no === 2 && a.bytes !== undefined) body = a.bytes.toString('utf8');
    }
  }
  return { type, headers, clientIp, body };
}
