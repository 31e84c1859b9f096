import { BridgeError } from '../../bridge/errors/index.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface TokenSourceOptions {
  /** HTTP base including the context path, e.g. http://10.0.0.5:8848/nacos. */
  readonly baseUrl: string;
  readonly credentials: Credentials;
  readonly registry: string;
  readonly requestTimeoutMs: number;
  /** Refresh once this fraction of the token's lifetime has passed. */
  readonly refreshAt?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

interface LoginReply {
  readonly accessToken?: string;
  readonly tokenTtl?: number;
}

/**
 * Exchanges username/password for a Nacos access token over the HTTP OpenAPI (the gRPC port has
 * no login) and hands it out until half its lifetime has passed, then logs in again, so a token
 * never expires under an in-flight request. The password and token are never put into a message
 * or a log line; a refusal is an ISTHMUS_REGISTRY_AUTH error naming only the user.
 */
export class TokenSource {
  readonly #o: TokenSourceOptions;
  #token: string | undefined;
  #refreshAfter = 0;
  #pending: Promise<string> | undefined;
  /** Logins sent, for tests and measurements. */
  logins = 0;

  constructor(o: TokenSourceOptions) {
    this.#o = o;
  }

  async token(): Promise<string> {
    const now = (this.#o.now ?? Date.now)();
    if (this.#token !== undefined && now < this.#refreshAfter) return this.#token;
    this.#pending ??= this.#login().finally(() => { this.#pending = undefined; });
    return this.#pending;
  }

  /** The server said the token is no longer valid (restart with a new secret): log in again. */
  invalidate(): void {
    this.#token = undefined;
  }

  async #login(): Promise<string> {
    // 3.x serves /v3/auth/user/login; 2.x only /v1/auth/login (the Java client falls back the same way).
    const v3 = await this.#post('/v3/auth/user/login');
    // Nacos 3.1 answers a wrong password with a bare HTTP 500 ("User not found!" only in its log)
    // and an unknown user with 403; v1 answers both with 500. So a 500 is retried on v1, and a
    // login refused on both is a credentials problem, not an outage.
    const reply = typeof v3 === 'object' ? v3 : await this.#post('/v1/auth/login');
    if (typeof reply !== 'object') {
      if (reply === 'refused' || v3 === 'refused' || (v3 === 'failed' && reply === 'failed')) {
        throw new BridgeError('ISTHMUS_REGISTRY_AUTH', `${this.#o.registry}: Nacos refused the login of user ${JSON.stringify(this.#o.credentials.username)}; check username and password`, {
          details: { registry: this.#o.registry },
        });
      }
      throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `${this.#o.registry}: Nacos at ${this.#o.baseUrl} has no login endpoint (v3 and v1 answered 404)`, { details: { registry: this.#o.registry } });
    }
    if (reply.accessToken === undefined || reply.accessToken === '') {
      throw new BridgeError('ISTHMUS_REGISTRY_AUTH', `${this.#o.registry}: Nacos login answered without an access token`, { details: { registry: this.#o.registry } });
    }
    const ttlMs = (reply.tokenTtl ?? 18_000) * 1000;
    this.#token = reply.accessToken;
    this.#refreshAfter = (this.#o.now ?? Date.now)() + ttlMs * (this.#o.refreshAt ?? 0.5);
    return reply.accessToken;
  }

  /** One login attempt: the reply, or why not (`missing` 404/501, `refused` 401/403, `failed` 500). */
  async #post(path: string): Promise<LoginReply | 'missing' | 'refused' | 'failed'> {
    const { username, password } = this.#o.credentials;
    const doFetch = this.#o.fetch ?? fetch;
    this.logins++;
    let res: Response;
    try {
      res = await doFetch(`${this.#o.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
        signal: AbortSignal.timeout(this.#o.requestTimeoutMs),
      });
    } catch (err) {
      throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `${this.#o.registry}: Nacos login at ${this.#o.baseUrl} failed: ${(err as Error).message}`, { cause: err, details: { registry: this.#o.registry } });
    }
    const text = await res.text().catch(() => '');
    if (res.status === 404 || res.status === 501) return 'missing';
    if (res.status === 401 || res.status === 403) return 'refused';
    if (res.status === 500) return 'failed';
    if (!res.ok) {
      throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `${this.#o.registry}: Nacos login answered HTTP ${res.status}`, { details: { registry: this.#o.registry, status: res.status } });
    }
    try {
      const body = JSON.parse(text) as LoginReply & { data?: LoginReply };
      // Some versions wrap the reply in {code, message, data}; 3.1 and v1 send it bare.
      return body.accessToken === undefined && body.data !== undefined ? body.data : body;
    } catch {
      return {};
    }
  }
}
