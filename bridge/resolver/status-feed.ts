/**
 * The status summary as every console stream shares it. The engine has no "status changed"
 * notification (holds, errors and source health change inside reconcile passes and source
 * callbacks), so one timer renders the summary while anyone listens and tells the listeners only
 * when the rendering differs from the last one. The rendered JSON is its own fingerprint: it is
 * built anyway to be sent, and a string comparison is cheaper than hashing it.
 */
export interface StatusFeedOptions {
  /** The status as sent in `event: status`. */
  readonly render: () => string;
  /** How often it is rendered and compared while a stream is open. */
  readonly intervalMs: number;
}

export class StatusFeed {
  readonly #render: () => string;
  readonly #intervalMs: number;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #body: string | undefined;
  #version = 0;

  constructor(options: StatusFeedOptions) {
    this.#render = options.render;
    this.#intervalMs = options.intervalMs;
  }

  /** Bumped each time the rendering changes; streams compare it to what they last sent. */
  get version(): number {
    this.#refreshIfIdle();
    return this.#version;
  }

  /** The latest rendering (fresh when no timer keeps it current). */
  body(): string {
    this.#refreshIfIdle();
    return this.#body ?? '';
  }

  /** Calls `listener` after each change until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#refresh();
      this.#timer = setInterval(() => { this.#tick(); }, this.#intervalMs);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  #refreshIfIdle(): void {
    if (this.#timer === undefined) this.#refresh();
  }

  /** Renders now; true when the result differs from the previous one. */
  #refresh(): boolean {
    const body = this.#render();
    if (body === this.#body) return false;
    this.#body = body;
    this.#version++;
    return true;
  }

  #tick(): void {
    if (!this.#refresh()) return;
    for (const l of [...this.#listeners]) l();
  }
}
