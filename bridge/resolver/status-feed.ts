/**
 * The status summary as every console stream shares it. The engine has no "status changed"
 * notification (holds, errors and source health change inside reconcile passes and source
 * callbacks), so one timer looks at a cheap fingerprint while anyone listens, renders the status
 * only when the fingerprint moved, and tells the listeners only when the rendering differs from
 * the last one. With 10k services the rendering is megabytes (every target's last outcome); the
 * fingerprint is a few hundred bytes, so an idle bridge with a console open renders nothing.
 */
export interface StatusFeedOptions {
  /** The status as sent in `event: status`. */
  readonly render: () => string;
  /** Changes whenever the rendering may have; default: the rendering itself. */
  readonly fingerprint?: () => string;
  /** How often it is rendered and compared while a stream is open. */
  readonly intervalMs: number;
}

export class StatusFeed {
  readonly #render: () => string;
  readonly #fingerprint: (() => string) | undefined;
  readonly #intervalMs: number;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #body: string | undefined;
  #print: string | undefined;
  #version = 0;

  constructor(options: StatusFeedOptions) {
    this.#render = options.render;
    this.#fingerprint = options.fingerprint;
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

  /** Renders if the fingerprint moved; true when the result differs from the previous one. */
  #refresh(): boolean {
    if (this.#fingerprint !== undefined) {
      const print = this.#fingerprint();
      if (print === this.#print && this.#body !== undefined) return false;
      this.#print = print;
    }
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
