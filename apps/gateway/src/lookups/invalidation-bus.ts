import type { Redis } from 'ioredis';

/**
 * Tells every gateway instance to drop a cached entry (`<namespace>:<id>`). With Redis it is
 * pub/sub, so a change on one instance reaches the others within milliseconds; without Redis
 * there is one process and local eviction is all there is to do.
 */
export interface InvalidationBus {
  publish(entry: string): Promise<void>;
  subscribe(handler: (entry: string) => void): void;
  /** Called when this instance listens again after a gap (messages sent meanwhile are lost). */
  onResync(handler: () => void): void;
  close(): Promise<void>;
}

export class LocalInvalidationBus implements InvalidationBus {
  async publish(): Promise<void> {}
  subscribe(): void {}
  onResync(): void {}
  async close(): Promise<void> {}
}

export class RedisInvalidationBus implements InvalidationBus {
  readonly #subscriber: Redis;
  readonly #handlers: ((entry: string) => void)[] = [];
  readonly #resyncHandlers: (() => void)[] = [];

  /** `channel` is shared by all instances of one deployment (it carries the key prefix). */
  private constructor(
    private readonly publisher: Redis,
    private readonly channel: string,
    onError: (error: unknown) => void,
  ) {
    // A subscribed connection can do nothing else, so it is a connection of its own.
    this.#subscriber = publisher.duplicate({ enableOfflineQueue: true, lazyConnect: true });
    this.#subscriber.on('error', onError);
    this.#subscriber.on('message', (from: string, entry: string) => {
      if (from === channel) for (const handler of this.#handlers) handler(entry);
    });
    // ioredis subscribes again on every reconnect; each 'ready' after the first ends a gap.
    let connectedBefore = false;
    this.#subscriber.on('ready', () => {
      if (connectedBefore) for (const handler of this.#resyncHandlers) handler();
      connectedBefore = true;
    });
  }

  static async connect(
    publisher: Redis,
    channel: string,
    onError: (error: unknown) => void,
  ): Promise<RedisInvalidationBus> {
    const bus = new RedisInvalidationBus(publisher, channel, onError);
    await bus.#subscriber.connect().catch(onError);
    await bus.#subscriber.subscribe(channel).catch(onError);
    return bus;
  }

  /** Rejects when Redis cannot take the message: the caller decides what a lost revocation means. */
  async publish(entry: string): Promise<void> {
    await this.publisher.publish(this.channel, entry);
  }

  subscribe(handler: (entry: string) => void): void {
    this.#handlers.push(handler);
  }

  onResync(handler: () => void): void {
    this.#resyncHandlers.push(handler);
  }

  async close(): Promise<void> {
    await this.#subscriber.quit().catch(() => {});
  }
}
