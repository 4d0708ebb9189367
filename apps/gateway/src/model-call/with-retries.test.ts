import { ok, parseRetryAfter } from '@gateway/providers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelCall } from '../request/request-event.ts';
import { priceCall, type RetryableAnswer, withRetries } from './model-call.ts';

interface Answer {
  status: number;
  retryAfter?: string;
}

/** Answers in turn; a 429 or 5xx asks to be tried again, as a relayed answer does. */
function upstream(answers: Answer[]) {
  const discarded: number[] = [];
  const attempt = vi.fn(async () => ok(answers.shift()!));
  const retryable: RetryableAnswer<Answer> = (answer) =>
    answer.status === 429 || answer.status >= 500
      ? {
          status: answer.status,
          retryAfterSeconds: parseRetryAfter(answer.retryAfter),
          discard: async () => {
            discarded.push(answer.status);
          },
        }
      : undefined;
  return { attempt, retryable, discarded };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('withRetries on relayed answers', () => {
  it('waits the retry-after an answer gives as an HTTP date, then takes the next answer', async () => {
    const { attempt, retryable, discarded } = upstream([
      { status: 503, retryAfter: new Date(Date.now() + 3_000).toUTCString() },
      { status: 200 },
    ]);
    let settled: Answer | undefined;
    void withRetries({ retries: 2, call: undefined, signal: undefined }, attempt, retryable).then((a) => {
      settled = a;
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(settled).toBeUndefined();
    expect(attempt).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(settled).toEqual({ status: 200 });
    expect(discarded).toEqual([503]);
  });

  it('returns the last retryable answer as it is once the retries are used up, and records each attempt', async () => {
    const { attempt, retryable } = upstream([{ status: 429 }, { status: 529 }]);
    const call = { stream: false } as ModelCall;
    const result = withRetries({ retries: 1, call, signal: undefined }, attempt, retryable);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await result).toEqual({ status: 529 });
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(call).toMatchObject({ attemptedRetries: 1, failedAttempts: [{ status: 429 }] });
  });
});

describe('priceCall', () => {
  it("prices a deployment as its base model's catalog entry, with its own overrides on top", () => {
    vi.useRealTimers();
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 0 };
    const at = new Date();
    const asCatalog = priceCall(
      { provider: 'openai', upstreamModel: 'gpt-4o-mini', priceOverrides: {} },
      usage,
      at,
    );
    const tuned = priceCall(
      {
        provider: 'openai_like',
        upstreamModel: 'my-finetune',
        priceOverrides: {},
        pricedAs: { provider: 'openai', model: 'gpt-4o-mini' },
      },
      usage,
      at,
    );
    expect(asCatalog.priced && tuned.priced && tuned.costUsd).toBe(asCatalog.priced && asCatalog.costUsd);
    const unpriced = priceCall(
      { provider: 'openai_like', upstreamModel: 'my-finetune', priceOverrides: {} },
      usage,
      at,
    );
    expect(unpriced.priced).toBe(false);
  });
});
