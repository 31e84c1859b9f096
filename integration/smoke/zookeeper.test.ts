import zookeeper from 'node-zookeeper-client';
import type { Client, Event, Exception, Stat } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from './unique.ts';

function asError(error: Error | Exception): Error {
  return error instanceof Error ? error : new Error(error.toString());
}

const conn = inject('isthmusServers').zookeeper;

describe.skipIf(conn === undefined)('zookeeper (real server)', () => {
  let client: Client;

  beforeAll(async () => {
    client = zookeeper.createClient(conn!.connectString, { sessionTimeout: 10_000, retries: 0 });
    const connected = new Promise<void>((resolve) => client.once('connected', resolve));
    client.connect();
    await connected;
  });

  afterAll(() => {
    client.close();
  });

  it('creates an ephemeral znode and fires the parent child watch', async () => {
    const root = `/${uniqueName('isthmus-smoke')}`;
    await new Promise<void>((resolve, reject) => {
      client.mkdirp(root, (error) => {
        if (error) reject(asError(error));
        else resolve();
      });
    });

    const watchFired = new Promise<Event>((resolve, reject) => {
      client.getChildren(
        root,
        (event) => {
          resolve(event);
        },
        (error, children) => {
          if (error) reject(asError(error));
          else expect(children).toEqual([]);
        },
      );
    });

    const created = await new Promise<string>((resolve, reject) => {
      client.create(`${root}/instance-1`, Buffer.from('{"port":8080}'), zookeeper.CreateMode.EPHEMERAL, (error, path) => {
        if (error) reject(asError(error));
        else resolve(path);
      });
    });
    expect(created).toBe(`${root}/instance-1`);

    const event = await watchFired;
    expect(event.getType()).toBe(zookeeper.Event.NODE_CHILDREN_CHANGED);
    expect(event.getPath()).toBe(root);

    const stat = await new Promise<Stat>((resolve, reject) => {
      client.exists(`${root}/instance-1`, (error, s) => {
        if (error) reject(asError(error));
        else resolve(s);
      });
    });
    // A non-zero owner is what makes it ephemeral: the node dies with this session.
    expect(stat.ephemeralOwner.toString('hex')).not.toBe('0000000000000000');
  });
});
