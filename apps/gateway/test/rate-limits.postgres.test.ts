import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Rate limits shared by two instances through Redis, on a 2-second sliding window so the
 * tests can cross its edge: rpm and tpm exact, parallel calls capped, per-model key limits.
 */

const WINDOW_MS = 2_000;

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are read as JSON
  body: any;
}

async function chat(
  t: TestGateway,
  key: string,
  content = 'Limit me [mock:reply_tokens=20]',
): Promise<Answer> {
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }] }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// New keys are invalidated again 300 ms after creation; wait that out before calling.
const settleCaches = () => sleep(500);

describe('rate limits across two instances (Postgres and Redis)', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    a = await startTestGateway('postgres+redis', { rateLimitWindowMs: WINDOW_MS });
    b = await startTestGateway('postgres+redis', { shareWith: a, rateLimitWindowMs: WINDOW_MS });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('admits exactly rpm_limit calls per window across both instances, and again past its edge', {
    repeats: 4,
  }, async () => {
    const key = await a.createKey({ rpm_limit: 5 });
    await settleCaches();
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? b : a, key)));
    const admitted = first.filter((x) => x.status === 200);
    const refused = first.filter((x) => x.status === 429);
    console.log(`rpm 5: ${admitted.length} admitted, ${refused.length} refused of 12`);
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.body.error).toMatchObject({
      type: 'None',
      param: 'None',
      code: '429',
      message: expect.stringMatching(
        new RegExp(
          `^Rate limit exceeded for api_key: ${hashKey(key)}\\. Limit type: requests\\. Current limit: 5, Remaining: 0\\. Limit resets at: \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC$`,
        ),
      ),
    });
    const retryAfter = Number(refused[0]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(refused[0]!.headers.get('rate_limit_type')).toBe('requests');
    const left = admitted.map((x) => Number(x.headers.get('x-ratelimit-remaining-requests'))).sort();
    expect(left).toEqual([0, 1, 2, 3, 4]);
    expect(admitted[0]!.headers.get('x-ratelimit-api_key-remaining-requests')).not.toBeNull();

    // Past the window's edge every earlier call has left it: exactly five again.
    await sleep(WINDOW_MS + 50);
    const second = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? a : b, key)));
    expect(second.filter((x) => x.status === 200)).toHaveLength(5);
  });

  it('refuses once the window holds tpm_limit tokens (input + output), on either instance, until they leave it', {
    repeats: 4,
  }, async () => {
    // Each call uses its prompt's tokens plus 20 output tokens: two calls pass 50.
    const key = await a.createKey({ tpm_limit: 50 });
    await settleCaches();
    const statuses: number[] = [];
    let refusal: Answer | undefined;
    for (const g of [a, b, a]) {
      const answer = await chat(g, key);
      statuses.push(answer.status);
      if (answer.status === 429) refusal ??= answer;
      // The tokens are counted when the call settles, just after its answer.
      await sleep(300);
    }
    console.log(`tpm 50: ${statuses.join(', ')}`);
    expect(statuses).toEqual([200, 200, 429]);
    expect(refusal!.body.error.message).toContain('Limit type: tokens. Current limit: 50');
    expect(refusal!.headers.get('rate_limit_type')).toBe('tokens');
    // Past the window's edge the counted tokens have left it.
    await sleep(WINDOW_MS + 50);
    expect((await chat(b, key)).status).toBe(200);
  });

  it('holds max_parallel_requests calls in flight across both instances', { repeats: 4 }, async () => {
    const key = await a.createKey({ max_parallel_requests: 2 });
    await settleCaches();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => chat(i % 2 ? b : a, key, 'Slow one [mock:latency_ms=400]')),
    );
    expect(answers.filter((x) => x.status === 200)).toHaveLength(2);
    const refused = answers.find((x) => x.status === 429)!;
    expect(refused.body.error.message).toContain('Limit type: max_parallel_requests. Current limit: 2');
    // Once they finished, the slots are free again.
    expect((await chat(b, key)).status).toBe(200);
  });

  it("enforces a key's per-model rpm and reports what is left for that model", { repeats: 4 }, async () => {
    const key = await a.createKey({ metadata: { model_rpm_limit: { 'gpt-4o-mini': 2 } } });
    await settleCaches();
    const first = await chat(a, key);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-litellm-key-remaining-requests-gpt-4o-mini')).toBe('1');
    expect((await chat(b, key)).status).toBe(200);
    const third = await chat(a, key);
    expect(third.status).toBe(429);
    expect(third.body.error.message).toMatch(
      /^Rate limit exceeded for model_per_key: gpt-4o-mini\. Limit type: requests/,
    );
  });
});
