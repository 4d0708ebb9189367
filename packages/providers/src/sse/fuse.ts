import type { Transformer } from 'node:stream/web';

/**
 * Chains two stream transformers into one, so that a pipeline of translation steps costs one
 * web `TransformStream` instead of one per step: every stream hop is promise machinery for
 * every chunk, and on Node 20 building a stream is costly too. Only for synchronous
 * transformers (every transformer in this package is): a step that returns a promise throws.
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

const encoder = new TextEncoder();

/** Text -> UTF-8 bytes, as `TextEncoderStream` does, for use in a fused pipeline. */
export function encodeText(): Transformer<string, Uint8Array> {
  return {
    transform(text, controller) {
      if (text.length > 0) controller.enqueue(encoder.encode(text));
    },
  };
}
