import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Zk from 'node-zookeeper-client';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { commitMulti, type ZkOp } from './multi.ts';
import { repairReconnects } from './zk-reconnect.ts';

export { failedOp, type ZkOp } from './multi.ts';

// CommonJS without named ESM exports.
const zk = createRequire(import.meta.url)('node-zookeeper-client') as typeof Zk;

export type ZkEvent = Zk.Event;
export type ZkStat = Zk.Stat;

export interface ZkClientOptions {
  readonly connect: string;
  readonly sessionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** `user:password` for digest auth, added to every session. */
  readonly digest?: string;
  readonly registry: string;
  readonly logger?: EngineLogger;
}

export const NO_NODE = zk.Exception.NO_NODE;
export const NODE_EXISTS = zk.Exception.NODE_EXISTS;
export const BAD_VERSION = zk.Exception.BAD_VERSION;
export const NOT_EMPTY = zk.Exception.NOT_EMPTY;
export const CREATE_MODE = zk.CreateMode;

/** ZooKeeper's error code, when `err` is a ZooKeeper exception. */
export function zkCode(err: unknown): number | undefined {
  const cause = err instanceof BridgeError ? err.cause : err;
  return cause instanceof zk.Exception ? cause.getCode() : undefined;
}

/**
 * The only code that speaks to ZooKeeper. Wraps node-zookeeper-client's callbacks in promises
 * with a timeout, counts writes (tests prove "zero writes"), and owns the session: an expired
 * session cannot be revived by that library, so a fresh client is created and every listener is
 * told (`onSession`), which is when sources relist and sinks re-create ephemeral nodes.
 */
export class ZkClient {
  readonly #o: ZkClientOptions;
  #client: Zk.Client | undefined;
  #connected = false;
  #closed = false;
  #generation = 0;
  #writes = 0;
  readonly #sessionListeners = new Set<(generation: number) => void>();
  readonly #stateListeners = new Set<(connected: boolean) => void>();
  #waiters: (() => void)[] = [];

  constructor(options: ZkClientOptions) {
    this.#o = options;
  }

  get writes(): number {
    return this.#writes;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Incremented for every new session; ephemeral nodes belong to one generation. */
  get generation(): number {
    return this.#generation;
  }

  /** Hex session id of the live session ('' before the first). */
  get sessionId(): string {
    return this.#client === undefined || this.#generation === 0 ? '' : this.#client.getSessionId().toString('hex');
  }

  onSession(listener: (generation: number) => void): () => void {
    this.#sessionListeners.add(listener);
    return () => this.#sessionListeners.delete(listener);
  }

  onState(listener: (connected: boolean) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Connects (idempotent); resolves at once, the session arrives through onSession. */
  start(): void {
    if (this.#client !== undefined || this.#closed) return;
    this.#newClient();
  }

  close(): void {
    this.#closed = true;
    this.#client?.close();
    this.#client = undefined;
    this.#setConnected(false);
  }

  #newClient(): void {
    const client = zk.createClient(this.#o.connect, { sessionTimeout: this.#o.sessionTimeoutMs, spinDelay: 500, retries: 0 });
    this.#client = client;
    if (!repairReconnects(client)) {
      this.#o.logger?.warn({ registry: this.#o.registry }, 'node-zookeeper-client changed shape: a reconnect after a server restart may hang (zk-reconnect.ts)');
    }
    let sessionSeen = false;
    if (this.#o.digest !== undefined) client.addAuthInfo('digest', Buffer.from(this.#o.digest));
    client.on('connected', () => {
      if (this.#client !== client) return;
      this.#setConnected(true);
      if (!sessionSeen) {
        sessionSeen = true;
        this.#generation++;
        this.#o.logger?.info({ registry: this.#o.registry, session: client.getSessionId().toString('hex'), generation: this.#generation }, 'zookeeper session established');
        for (const l of this.#sessionListeners) l(this.#generation);
      } else {
        // Same session back after a connection drop: watches were re-sent by the client, but a
        // relist is cheap and covers anything the server could not re-arm.
        for (const l of this.#sessionListeners) l(this.#generation);
      }
    });
    client.on('disconnected', () => {
      if (this.#client === client) this.#setConnected(false);
    });
    client.on('expired', () => {
      if (this.#client !== client) return;
      this.#o.logger?.warn({ registry: this.#o.registry }, 'zookeeper session expired: starting a new session');
      this.#setConnected(false);
      client.close();
      this.#client = undefined;
      if (!this.#closed) this.#newClient();
    });
    client.on('authenticationFailed', () => {
      this.#o.logger?.error({ registry: this.#o.registry }, 'zookeeper rejected our digest credentials');
    });
    client.connect();
  }

  #setConnected(value: boolean): void {
    if (this.#connected === value) return;
    this.#connected = value;
    if (value) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
    for (const l of this.#stateListeners) l(value);
  }

  /** Resolves once connected, or rejects after the request timeout. */
  async ready(): Promise<Zk.Client> {
    const deadline = Date.now() + this.#o.requestTimeoutMs;
    while (!this.#connected || this.#client === undefined) {
      if (this.#closed) throw new BridgeError('ISTHMUS_SHUTTING_DOWN', 'zookeeper client closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `zookeeper ${this.#o.connect} not connected`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.#client;
  }

  async #call<T>(what: string, path: string, op: (c: Zk.Client, done: (err: unknown, value: T) => void) => void): Promise<T> {
    const client = await this.ready();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `zookeeper ${what} ${path} timed out`)); }, this.#o.requestTimeoutMs);
      op(client, (err, value) => {
        clearTimeout(timer);
        if (err === null || err === undefined) resolve(value);
        else reject(toBridgeError(err, what, path));
      });
    });
  }

  getChildren(path: string, watcher?: (e: ZkEvent) => void): Promise<string[]> {
    return this.#call<string[]>('getChildren', path, (c, done) => {
      if (watcher === undefined) c.getChildren(path, (err, children) => { done(err, children); });
      else c.getChildren(path, watcher, (err, children) => { done(err, children); });
    });
  }

  getData(path: string, watcher?: (e: ZkEvent) => void): Promise<{ data: Buffer | undefined; stat: ZkStat }> {
    return this.#call('getData', path, (c, done) => {
      const cb = (err: unknown, data: Buffer | undefined, stat: ZkStat): void => { done(err, { data: data ?? undefined, stat }); };
      if (watcher === undefined) c.getData(path, cb);
      else c.getData(path, watcher, cb);
    });
  }

  exists(path: string, watcher?: (e: ZkEvent) => void): Promise<ZkStat | undefined> {
    return this.#call<ZkStat | undefined>('exists', path, (c, done) => {
      const cb = (err: unknown, stat: ZkStat | null | undefined): void => { done(err, stat ?? undefined); };
      if (watcher === undefined) c.exists(path, cb);
      else c.exists(path, watcher, cb);
    });
  }

  getACL(path: string): Promise<Zk.ACL[]> {
    return this.#call<Zk.ACL[]>('getACL', path, (c, done) => { c.getACL(path, (err, acls) => { done(err, acls); }); });
  }

  /**
   * Creates `path` with `acls`; missing parents are created persistent and open, because native
   * Dubbo providers (without our credentials) register beside our nodes.
   */
  async create(path: string, data: Buffer, mode: number, acls: Zk.ACL[], parentData?: Buffer, parentMissing = false): Promise<void> {
    const once = async (): Promise<void> => {
      this.#writes++;
      await this.#call<string>('create', path, (c, done) => { c.create(path, data, acls, mode, (err, p) => { done(err, p); }); });
    };
    // The parent usually exists: try first, and create the parents only when ZooKeeper says so,
    // rather than asking before every create; a caller that just read the parent as missing
    // says so, and the doomed first attempt (a write on ZooKeeper's books) is skipped.
    if (!parentMissing) {
      try {
        await once();
        return;
      } catch (err) {
        if (zkCode(err) !== NO_NODE) throw err;
      }
    }
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '' && parentData !== undefined) await this.mkdirs(parent, parentData);
    else if (parent !== '') await this.mkdirp(parent, aclsFor(undefined));
    await once();
  }

  async mkdirp(path: string, acls: Zk.ACL[]): Promise<void> {
    if ((await this.exists(path)) !== undefined) return;
    this.#writes++;
    await this.#call<string>('mkdirp', path, (c, done) => { c.mkdirp(path, acls, zk.CreateMode.PERSISTENT, (err, p) => { done(err, p); }); });
  }

  /**
   * Like mkdirp, but every directory created here gets `data` (the sink's ownership mark), so a
   * cleanup can later tell the directories it created from those that were there before.
   */
  async mkdirs(path: string, data: Buffer): Promise<void> {
    if ((await this.exists(path)) !== undefined) return;
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (i < parts.length && (await this.exists(dir)) !== undefined) continue;
      this.#writes++;
      try {
        await this.#call<string>('create', dir, (c, done) => { c.create(dir, data, aclsFor(undefined), zk.CreateMode.PERSISTENT, (err, p) => { done(err, p); }); });
      } catch (err) {
        if (zkCode(err) !== NODE_EXISTS) throw err;
      }
    }
  }

  async setData(path: string, data: Buffer, version: number): Promise<void> {
    this.#writes++;
    await this.#call<ZkStat>('setData', path, (c, done) => { c.setData(path, data, version, (err, stat) => { done(err, stat); }); });
  }

  /** One transaction (multi.ts): all or none, one request, so one write on ZooKeeper's books. */
  async multi(ops: readonly ZkOp[]): Promise<void> {
    this.#writes++;
    await this.#call<undefined>('multi', ops[0]?.path ?? '', (c, done) => { commitMulti(c, ops, done); });
  }

  async remove(path: string, version = -1): Promise<void> {
    this.#writes++;
    await this.#call<undefined>('remove', path, (c, done) => { c.remove(path, version, (err) => { done(err, undefined); }); });
  }
}

/** ACLs for nodes we create: everyone may read (Dubbo consumers), only our digest identity may change them. */
export function aclsFor(digest: string | undefined): Zk.ACL[] {
  if (digest === undefined) return [new zk.ACL(zk.Permission.ALL, new zk.Id('world', 'anyone'))];
  const [user = '', password = ''] = digest.split(/:(.*)/s);
  const hashed = `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
  return [new zk.ACL(zk.Permission.ALL, new zk.Id('digest', hashed)), new zk.ACL(zk.Permission.READ, new zk.Id('world', 'anyone'))];
}

function toBridgeError(err: unknown, what: string, path: string): BridgeError {
  if (err instanceof zk.Exception) {
    const code = err.getCode();
    const message = `zookeeper ${what} ${path}: ${err.getName()}`;
    if (code === zk.Exception.NO_AUTH || code === zk.Exception.AUTH_FAILED) return new BridgeError('ISTHMUS_REGISTRY_AUTH', message, { cause: err });
    if (code === zk.Exception.BAD_VERSION || code === zk.Exception.NODE_EXISTS || code === zk.Exception.NO_NODE || code === zk.Exception.NOT_EMPTY) {
      return new BridgeError('ISTHMUS_REGISTRY_CONFLICT', message, { cause: err });
    }
    if (code === zk.Exception.BAD_ARGUMENTS || code === zk.Exception.INVALID_ACL || code === zk.Exception.NO_CHILDREN_FOR_EPHEMERALS) {
      return new BridgeError('ISTHMUS_REGISTRY_REJECTED', message, { cause: err });
    }
    return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', message, { cause: err });
  }
  return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `zookeeper ${what} ${path}: ${String(err)}`, { cause: err });
}
