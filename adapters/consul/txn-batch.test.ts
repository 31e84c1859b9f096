import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { TxnOp } from './client.ts';
import { TxnBatcher } from './txn-batch.ts';

const LEAD: TxnOp = { Node: { Verb: 'set', Node: { Node: 'n' } } };
const op = (id: string): TxnOp => ({ Service: { Verb: 'set', Service: { ID: id } } });
const ids = (ops: readonly TxnOp[]): string[] => ops.map((o) => (o['Service'] as { Service: { ID: string } } | undefined)?.Service.ID ?? 'lead');

/** A send that parks each request until the test releases it. */
function parkedSend(): { sent: TxnOp[][]; release: () => void; send: (ops: readonly TxnOp[]) => Promise<void> } {
  const sent: TxnOp[][] = [];
  const waiting: (() => void)[] = [];
  return {
    sent,
    release: () => { for (const w of waiting.splice(0)) w(); },
    send: (ops) => {
      sent.push([...ops]);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

describe('TxnBatcher', () => {
  it('sends at once when idle, packs what queues behind requests in flight, one lead each', async () => {
    const s = parkedSend();
    const b = new TxnBatcher(s.send, 128, 1);
    const first = b.submit([LEAD, op('a1'), op('a2')]);
    const rest = [b.submit([LEAD, op('b1')]), b.submit([LEAD, op('c1'), op('c2')])];
    expect(s.sent.map(ids)).toEqual([['lead', 'a1', 'a2']]);
    s.release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(s.sent.map(ids)).toEqual([['lead', 'a1', 'a2'], ['lead', 'b1', 'c1', 'c2']]);
    s.release();
    await Promise.all(rest);
  });

  it('never packs past maxOps', async () => {
    const s = parkedSend();
    const b = new TxnBatcher(s.send, 4, 1);
    const all = [b.submit([LEAD, op('a')]), b.submit([LEAD, op('b'), op('c')]), b.submit([LEAD, op('d'), op('e')]), b.submit([LEAD, op('f')])];
    for (let i = 0; i < 4; i++) {
      s.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(s.sent.map(ids)).toEqual([['lead', 'a'], ['lead', 'b', 'c'], ['lead', 'd', 'e', 'f']]);
  });

  it('a refused packed transaction is retried plan by plan, so only the bad plan fails', async () => {
    const sent: string[][] = [];
    const send = (ops: readonly TxnOp[]): Promise<void> => {
      sent.push(ids(ops));
      if (ids(ops).includes('bad')) return Promise.reject(new BridgeError('ISTHMUS_REGISTRY_AUTH', 'denied'));
      return Promise.resolve();
    };
    const b = new TxnBatcher(send, 128, 1);
    const blocker = b.submit([LEAD, op('x')]);
    const good = b.submit([LEAD, op('good')]);
    const bad = b.submit([LEAD, op('bad')]);
    await blocker;
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('denied');
    expect(sent).toEqual([['lead', 'x'], ['lead', 'good', 'bad'], ['lead', 'good'], ['lead', 'bad']]);
  });

  it('an unreachable Consul fails the whole pack without a retry per plan', async () => {
    let calls = 0;
    const send = (): Promise<void> => {
      calls++;
      return calls === 1 ? Promise.resolve() : Promise.reject(new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'down'));
    };
    const b = new TxnBatcher(send, 128, 1);
    const first = b.submit([LEAD, op('a')]);
    const others = [b.submit([LEAD, op('b')]), b.submit([LEAD, op('c')])];
    await first;
    for (const p of others) await expect(p).rejects.toThrow('down');
    expect(calls).toBe(2);
  });

  it('packs plans of several shard nodes with each node upsert once, ahead of every service', async () => {
    const s = parkedSend();
    const b = new TxnBatcher(s.send, 128, 1);
    const other: TxnOp = { Node: { Verb: 'set', Node: { Node: 'other' } } };
    const all = [b.submit([LEAD, op('a')]), b.submit([LEAD, op('b')]), b.submit([other, op('c')]), b.submit([LEAD, op('d')])];
    for (let i = 0; i < 2; i++) {
      s.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    expect(s.sent.map(ids)).toEqual([['lead', 'a'], ['lead', 'lead', 'b', 'c', 'd']]);
    expect(s.sent[1]?.slice(0, 2)).toEqual([LEAD, other]);
  });
});
