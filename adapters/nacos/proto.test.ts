import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, type Payload } from './proto.ts';

describe('nacos payload encoding', () => {
  it('round-trips type, headers, client ip and a large UTF-8 body', () => {
    const p: Payload = { type: 'BatchInstanceRequest', headers: { accessToken: 'x', app: 'isthmus' }, clientIp: '10.0.0.1', body: JSON.stringify({ s: 'é'.repeat(300) }) };
    expect(decodePayload(encodePayload(p))).toEqual(p);
  });

  it('matches the bytes protoc would write for a small message', () => {
    const bytes = encodePayload({ type: 'A', headers: {}, clientIp: '', body: '{}' });
    // 12 03 (metadata, 3 bytes) 1a 01 41 ("A") | 1a 04 (body Any, 4 bytes) 12 02 7b 7d ("{}")
    expect(bytes.toString('hex')).toBe('12031a01411a0412027b7d');
  });

  it('skips unknown fields and varints', () => {
    const extra = Buffer.from([0x08, 0x96, 0x01]); // field 1, varint 150
    const p = decodePayload(Buffer.concat([extra, encodePayload({ type: 'B', headers: {}, clientIp: '', body: '1' })]));
    expect(p.type).toBe('B');
    expect(p.body).toBe('1');
  });
});
