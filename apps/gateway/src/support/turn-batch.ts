/**
 * Gathers what is added during one turn of the event loop, or during `gatherMs` when given, and
 * sends it in one go (or as soon as it holds `max` items): one Redis command and one socket
 * write for everything that arrived or ended meanwhile, instead of one each. Each `add` gets its
 * own part of the reply, or the batch's error.
 */
export class TurnBatch<T, R> {
  #waiting: { item: T; resolve: (reply: R) => void; reject: (error: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly max: number,
    private readonly send: (items: T[]) => Promise<R[]>,
    private readonly gatherMs = 0,
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.max) this.flush();
      else if (this.#waiting.length === 1) {
        if (this.gatherMs > 0) this.#timer = setTimeout(() => this.flush(), this.gatherMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is waiting now, without waiting for the end of the turn. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    this.send(waiting.map((w) => w.item)).then(
      (replies) => {
        for (const [i, w] of waiting.entries()) {
          if (i < replies.length) w.resolve(replies[i] as R);
          else w.reject(new Error('fewer replies than items sent'));
        }
      },
      (error: unknown) => {
        for (const w of waiting) w.reject(error);
      },
    );
  }
}
