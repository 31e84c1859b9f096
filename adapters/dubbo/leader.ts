import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { describeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, LeaderElection } from '../../bridge/ports/index.ts';
import { holderName, Leadership, type HolderDoc } from '../shared/leadership.ts';
import { CREATE_MODE, NO_NODE, aclsFor, zkCode, type ZkClient } from './client.ts';

type EngineLogger = AdapterContext['logger'];

/** The ZooKeeper calls the elector makes (ZkClient has them; unit tests fake them). */
export type ZkElectionClient = Pick<ZkClient, 'generation' | 'start' | 'onSession' | 'getChildren' | 'getData' | 'exists' | 'create' | 'remove'>;

export interface ZkLeaderSettings {
  readonly stateRoot: string;
  readonly bridgeId: string;
  readonly identity: string;
  readonly retryPeriodSeconds: number;
  /** Fraction of the session timeout after which a leader that has not heard from ZooKeeper stops. */
  readonly deadlineRatio: number;
  /** The session timeout ZooKeeper granted (it may lower or raise what we asked for). */
  readonly sessionTimeoutMs: () => Promise<number>;
  /** The timeout asked for, used until the first session is up. */
  readonly requestedTimeoutMs: number;
  readonly digest?: string;
  readonly logger?: EngineLogger;
}

/** Directory of the candidate nodes of one bridge id. */
export function electionPath(stateRoot: string, bridgeId: string): string {
  return `${stateRoot}/${bridgeId}/leader`;
}

interface Candidate {
  readonly name: string;
  readonly nonce: string;
  readonly seq: number;
}

const CANDIDATE = /^c-([0-9a-f]+)-(\d{10})$/;

/**
 * Leader election through ZooKeeper, the classic recipe: every replica creates an ephemeral
 * sequential node under `<stateRoot>/<bridgeId>/leader`, the lowest sequence leads, and each
 * standby watches only its predecessor (no herd when the leader goes). The node lives as long
 * as the session the sink's ephemeral exports live on (one client), so exports and leadership
 * end together. The node name carries this elector's nonce, so a create whose answer was lost is
 * found again rather than duplicated.
 *
 * A leader keeps leading only `deadlineRatio` × the granted session timeout after the start of
 * its last successful round-trip: ZooKeeper cannot expire the session (and so delete the node a
 * standby waits on) before a full timeout after it last heard from us, so a leader cut off stops
 * writing before the standby starts. The client library notices a silently dropped network only
 * when a request times out, which is why the leader probes every retry period on its own.
 */
export class ZkLeaderElector implements LeaderElection {
  readonly #client: ZkElectionClient;
  readonly #o: ZkLeaderSettings;
  readonly #dir: string;
  readonly #state: Leadership;
  readonly #onWatch = (): void => { this.#kick(); };
  #timeoutMs: number;
  #generation = -1;
  /** Names our candidate nodes; one per elector, found again after a create whose answer was lost. */
  readonly #nonce = randomBytes(6).toString('hex');
  /** Name of our candidate node in the current session, once seen. */
  #mine: string | undefined;
  #holderNode: { name: string; holder: string } | undefined;
  #again = false;
  #released = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #step: Promise<void> | undefined;

  constructor(client: ZkElectionClient, settings: ZkLeaderSettings) {
    this.#client = client;
    this.#o = settings;
    this.#dir = electionPath(settings.stateRoot, settings.bridgeId);
    this.#timeoutMs = settings.requestedTimeoutMs;
    this.#state = new Leadership({
      bridgeId: settings.bridgeId,
      lock: `zookeeper ${this.#dir}`,
      identity: settings.identity,
      deadlineMs: () => this.#deadlineMs(),
      logger: settings.logger,
    });
  }

  /** A standby re-checks every retry period even when its watch was lost; usually the watch is at once. */
  get takeoverMs(): number {
    return Math.ceil(this.#o.retryPeriodSeconds * 1000);
  }

  isLeader(): boolean {
    return this.#state.isLeader();
  }

  onChange(listener: (leader: boolean) => void): () => void {
    return this.#state.onChange(listener);
  }

  /** Campaigns until `signal` aborts; session changes and watches wake it early. Never rejects. */
  start(signal: AbortSignal): void {
    this.#client.start();
    const offSession = this.#client.onSession(() => { this.#kick(); });
    this.#loop = (async () => {
      while (!signal.aborted && !this.#released) {
        this.#step = this.tryAcquire();
        await this.#step;
        await this.#pause(this.#again ? 20 : this.#interval(), signal);
      }
      offSession();
      // Abort without release() is a crash: the node stays until our session ends.
      this.#state.lose('elector stopped', true);
    })();
  }

  /** Resolves once the loop started by `start` has ended (after abort). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  /** Deletes our node: the next candidate's watch fires and it leads at once. */
  async release(): Promise<void> {
    this.#released = true;
    this.#wake?.();
    await this.#step;
    this.#state.close('released');
    const mine = this.#mine;
    this.#mine = undefined;
    if (mine === undefined) return;
    try {
      await this.#removeIfThere(mine);
    } catch (err) {
      this.#o.logger?.warn({ err: describeError(err), path: this.#dir }, 'leader election: could not delete our ZooKeeper node; it goes with our session');
    }
  }

  async #removeIfThere(name: string): Promise<void> {
    try {
      await this.#client.remove(`${this.#dir}/${name}`);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
    }
  }

  /** One attempt: make sure our node exists, then lead if it is the lowest, else watch the one before it. */
  async tryAcquire(): Promise<void> {
    const at = Date.now();
    const generation = this.#client.generation;
    // Set again by a watch or session event during this attempt: then the loop goes round at once.
    this.#again = false;
    try {
      if (generation !== this.#generation) {
        // A new session: our node, if any, went with the old one (ZooKeeper deletes a session's
        // ephemeral nodes before it tells the client the session expired).
        this.#generation = generation;
        this.#mine = undefined;
        this.#state.lose('zookeeper session ended');
      }
      let candidates = await this.#candidates();
      if (!candidates.some((c) => c.nonce === this.#nonce)) {
        if (this.#mine !== undefined) this.#state.lose('our election node was deleted');
        if (this.#released) return;
        await this.#client.create(`${this.#dir}/c-${this.#nonce}-`, Buffer.from(JSON.stringify(this.#holderDoc())), CREATE_MODE.EPHEMERAL_SEQUENTIAL, aclsFor(this.#o.digest));
        candidates = await this.#candidates();
      }
      const index = candidates.findIndex((c) => c.nonce === this.#nonce);
      const mine = candidates[index];
      if (mine === undefined || this.#client.generation !== generation) {
        this.#again = true;
        return;
      }
      // A create that timed out here but was applied later leaves a second node of ours; it would
      // stand before every later candidate for as long as our session lives.
      for (const extra of candidates.slice(index + 1).filter((c) => c.nonce === this.#nonce)) await this.#removeIfThere(extra.name);
      this.#mine = mine.name;
      this.#timeoutMs = await this.#o.sessionTimeoutMs();
      if (index === 0) {
        // Watching our own node ends leadership at once if it is deleted under us.
        if ((await this.#client.exists(`${this.#dir}/${mine.name}`, this.#onWatch)) === undefined) this.#again = true;
        else this.#state.confirm(at);
        return;
      }
      const first = candidates[0];
      const before = candidates[index - 1];
      if (first !== undefined) this.#state.standby(await this.#holder(first.name));
      if (before !== undefined && (await this.#client.exists(`${this.#dir}/${before.name}`, this.#onWatch)) === undefined) this.#again = true;
    } catch (err) {
      // Unreachable: a leader keeps leading only until its deadline (Leadership checks it).
      this.#o.logger?.debug({ err: describeError(err), path: this.#dir }, 'leader election: ZooKeeper attempt failed');
    }
  }

  async #candidates(): Promise<Candidate[]> {
    let names: string[];
    try {
      names = await this.#client.getChildren(this.#dir);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
    const found: Candidate[] = [];
    for (const name of names) {
      const m = CANDIDATE.exec(name);
      if (m?.[1] !== undefined && m[2] !== undefined) found.push({ name, nonce: m[1], seq: Number(m[2]) });
    }
    return found.sort((a, b) => a.seq - b.seq);
  }

  async #holder(name: string): Promise<string> {
    if (this.#holderNode?.name === name) return this.#holderNode.holder;
    let raw: string | undefined;
    try {
      raw = (await this.#client.getData(`${this.#dir}/${name}`)).data?.toString('utf8');
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
      this.#again = true;
    }
    const holder = holderName(raw, `node ${name}`);
    this.#holderNode = { name, holder };
    return holder;
  }

  #deadlineMs(): number {
    return Math.floor(this.#timeoutMs * this.#o.deadlineRatio);
  }

  /** A leader probes often enough to confirm several times per deadline; a standby mostly waits for its watch. */
  #interval(): number {
    const retry = this.#o.retryPeriodSeconds * 1000;
    return this.#mine !== undefined && this.#state.isLeader() ? Math.min(retry, this.#deadlineMs() / 3) : retry;
  }

  #kick(): void {
    this.#again = true;
    this.#wake?.();
  }

  #pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const wake = (): void => { done(); };
      this.#wake = wake;
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #holderDoc(): HolderDoc {
    return { identity: this.#o.identity, host: hostname(), pid: process.pid, since: new Date().toISOString() };
  }
}
