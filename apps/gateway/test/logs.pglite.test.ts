import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/** The request log: one JSON line per request with what operators need, never a secret. */
describe('request logs', () => {
  const lines: string[] = [];
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('pglite', { logLines: lines });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('logs request id, key hash and alias, model, status, latency and cost; never the key or the prompt', async () => {
    const key = await t.createKey({ key_alias: 'logged-key' });
    const openai = new OpenAI({ apiKey: key, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const prompt = 'the-secret-prompt-text-7f3a';
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })
      .withResponse();
    const callId = response.headers.get('x-litellm-call-id');
    await expect(
      openai.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: prompt }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const call = entries.find((e) => e.requestId === callId);
    expect(call).toMatchObject({
      path: '/v1/chat/completions',
      status: 200,
      outcome: 'success',
      keyHash: hashKey(key),
      keyAlias: 'logged-key',
      modelGroup: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: expect.any(Number),
      costUsd: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(entries.some((e) => e.path === '/v1/chat/completions' && e.status === 400)).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(key);
      expect(line).not.toContain(t.masterKey);
      expect(line).not.toContain(prompt);
    }
  });
});
