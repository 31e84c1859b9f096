// What each request presents: an Authorization header and/or a client certificate. Tokens that
// change under us (bound ServiceAccount tokens, exec plugins) are looked up per request.
import { readFile } from 'node:fs/promises';
import { BridgeError } from '../../bridge/errors/index.ts';
import { ExecCredentials } from './exec-plugin.ts';
import type { UserAuth } from './kubeconfig.ts';

export interface Presented {
  readonly authorization?: string;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

// The kubelet refreshes projected tokens well before they expire (at 80% of their life, at
// least hourly); re-reading every minute, as client-go does, always picks the new one up in time.
export const TOKEN_FILE_MAX_AGE_MS = 60_000;

export class Credentials {
  readonly #auth: UserAuth;
  readonly #cert: { cert: Buffer; key: Buffer } | undefined;
  readonly #exec: ExecCredentials | undefined;
  readonly #now: () => number;
  #fileToken: { value: string; readAt: number } | undefined;

  /** `cert` = the user's static client certificate, already read (access.ts). */
  constructor(auth: UserAuth, cert?: { cert: Buffer; key: Buffer }, now: () => number = Date.now) {
    this.#auth = auth;
    this.#cert = cert;
    this.#exec = auth.exec === undefined ? undefined : new ExecCredentials(auth.exec, now);
    this.#now = now;
  }

  async present(): Promise<Presented> {
    const exec = this.#exec === undefined ? undefined : await this.#exec.get();
    // As in client-go: an exec plugin's answer wins over the static fields, a token over basic auth.
    const bearer = exec?.token ?? this.#auth.token ?? (this.#auth.tokenFile === undefined ? undefined : await this.#readTokenFile(this.#auth.tokenFile));
    const basic = this.#auth.basic;
    const authorization = bearer !== undefined ? `Bearer ${bearer}` : basic === undefined ? undefined : `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    const pair = exec?.cert !== undefined && exec.key !== undefined ? { cert: exec.cert, key: exec.key } : this.#cert;
    return { ...(authorization === undefined ? {} : { authorization }), ...(pair ?? {}) };
  }

  /**
   * A 401: drop what may have gone stale. True when a retry can present something different
   * (an exec plugin runs again, a token file may have been rotated).
   */
  refused(): boolean {
    this.#exec?.invalidate();
    this.#fileToken = undefined;
    return this.#exec !== undefined || (this.#auth.token === undefined && this.#auth.tokenFile !== undefined);
  }

  async #readTokenFile(path: string): Promise<string> {
    const cached = this.#fileToken;
    if (cached !== undefined && this.#now() - cached.readAt < TOKEN_FILE_MAX_AGE_MS) return cached.value;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      // Keep using the last token while the file is briefly absent (the kubelet swaps a symlink).
      if (cached !== undefined) return cached.value;
      throw new BridgeError('ISTHMUS_REGISTRY_AUTH', `kubernetes: cannot read token file ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { file: path } });
    }
    this.#fileToken = { value: text.trim(), readAt: this.#now() };
    return this.#fileToken.value;
  }
}
