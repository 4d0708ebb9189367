/**
 * A background pass run every `intervalMs` (the first after `firstDelayMs`, default one
 * interval): a pass still running is joined rather than doubled, and `stop()` waits for it.
 * Timers never keep the process alive. The pass reports its own failures.
 */
export class PeriodicJob<T> {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<T> | undefined;
  #stopped = false;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly firstDelayMs = intervalMs,
  ) {}

  /** Whether stop() was called (a long pass checks it between steps). */
  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = () => {
      void this.runOnce();
      this.#timer = setTimeout(tick, this.intervalMs);
      this.#timer.unref();
    };
    this.#timer = setTimeout(tick, this.firstDelayMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass now (joining one under way). */
  runOnce(): Promise<T> {
    this.#running ??= this.pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}
