import type { Transformer } from 'node:stream/web';

/**
 * Chains two stream transformers into one, so that a pipeline of translation steps runs as one
 * step: every web stream hop is promise machinery for every chunk, and on Node 20 building a
 * stream is costly too. Only for synchronous transformers (every transformer in this package
 * is): a step that returns a promise throws.
 */
export function fuse<A, B, C>(first: Transformer<A, B>, second: Transformer<B, C>): Transformer<A, C> {
  let inner: TransformStreamDefaultController<B>;
  const sync = (result: unknown) => {
    if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
      throw new Error('fuse() takes synchronous transformers only');
    }
  };
  return {
    start(controller) {
      // `first` writes into `second`, which writes into the fused stream.
      inner = {
        get desiredSize() {
          return controller.desiredSize;
        },
        enqueue(chunk: B) {
          if (second.transform) sync(second.transform(chunk, controller));
          else controller.enqueue(chunk as unknown as C);
        },
        error: (reason?: unknown) => controller.error(reason),
        terminate: () => controller.terminate(),
      };
      sync(second.start?.(controller));
      sync(first.start?.(inner));
    },
    transform(chunk) {
      if (first.transform) sync(first.transform(chunk, inner));
      else inner.enqueue(chunk as unknown as B);
    },
    flush(controller) {
      sync(first.flush?.(inner));
      sync(second.flush?.(controller));
    },
  };
}

/**
 * A transformer's controller that keeps what the transformer enqueues until `take()`, for
 * running a (synchronous) transformer outside a web stream, a batch at a time. `error()` throws
 * the reason to the caller.
 */
export function collector<T>(): {
  controller: TransformStreamDefaultController<T>;
  pending(): number;
  take(): T[];
} {
  let items: T[] = [];
  return {
    controller: {
      desiredSize: 1,
      enqueue(item: T) {
        items.push(item);
      },
      error(reason?: unknown) {
        throw reason;
      },
      terminate() {
        throw new Error('a translation step may not terminate its stream');
      },
    },
    pending: () => items.length,
    take() {
      const taken = items;
      items = [];
      return taken;
    },
  };
}
