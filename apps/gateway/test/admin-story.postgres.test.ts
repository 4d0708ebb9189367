import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPost, startTestGateway, type TestGateway } from './support/test-gateway.ts';

const ask = (baseURL: string, apiKey: string, model: string) =>
  new OpenAI({ apiKey, baseURL: `${baseURL}/v1`, maxRetries: 0 }).chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hi' }],
  });

describe('an admin story through the official openai client', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('postgres+redis');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('team models, block, unblock, regenerate and delete each take effect on the next call', async () => {
    const team = await adminPost(t, '/team/new', { team_alias: 'story', models: ['gpt-4o-mini'] });
    const { key } = await adminPost(t, '/key/generate', {
      team_id: team.team_id,
      models: ['all-team-models'],
    });

    await expect(ask(t.gateway.url, key, 'gpt-4o-mini')).resolves.toMatchObject({
      object: 'chat.completion',
    });
    await expect(ask(t.gateway.url, key, 'mock-unpriced')).rejects.toMatchObject({
      status: 401,
      type: 'team_model_access_denied',
      message: expect.stringContaining(
        `Team not allowed to access model. Team=${team.team_id}, Model=mock-unpriced`,
      ),
    });

    await adminPost(t, '/key/block', { key });
    await expect(ask(t.gateway.url, key, 'gpt-4o-mini')).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('Key is blocked'),
    });
    await adminPost(t, '/key/unblock', { key });
    await expect(ask(t.gateway.url, key, 'gpt-4o-mini')).resolves.toBeDefined();

    await adminPost(t, '/team/block', { team_id: team.team_id });
    await expect(ask(t.gateway.url, key, 'gpt-4o-mini')).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining(`Team=${team.team_id} is blocked`),
    });
    await adminPost(t, '/team/unblock', { team_id: team.team_id });

    const { key: newKey } = await adminPost(t, '/key/regenerate', { key });
    await expect(ask(t.gateway.url, key, 'gpt-4o-mini')).rejects.toMatchObject({ status: 401 });
    await expect(ask(t.gateway.url, newKey, 'gpt-4o-mini')).resolves.toBeDefined();

    await adminPost(t, '/key/delete', { keys: [newKey] });
    await expect(ask(t.gateway.url, newKey, 'gpt-4o-mini')).rejects.toMatchObject({ status: 401 });
  });
});

describe('two instances sharing Postgres and Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startTestGateway('postgres+redis');
    b = await startTestGateway('postgres+redis', { shareWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a key deleted on one instance is refused by the other within 1 s', async () => {
    const { key } = await adminPost(a, '/key/generate', {});
    // Instance b verifies the key once: from now on it answers from its own memory.
    await expect(ask(b.gateway.url, key, 'gpt-4o-mini')).resolves.toBeDefined();
    await expect(ask(b.gateway.url, key, 'gpt-4o-mini')).resolves.toBeDefined();

    await adminPost(a, '/key/delete', { keys: [key] });
    const deletedAt = Date.now();
    let refusedAfterMs: number | undefined;
    while (Date.now() - deletedAt < 1_000) {
      const status = await fetch(`${b.gateway.url}/v1/models`, {
        headers: { authorization: `Bearer ${key}` },
      }).then((r) => r.status);
      if (status === 401) {
        refusedAfterMs = Date.now() - deletedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refusedAfterMs, 'instance b still accepted the deleted key after 1 s').toBeDefined();
  });

  it('a block on one instance applies on the other within 1 s', async () => {
    const { key } = await adminPost(a, '/key/generate', {});
    await expect(ask(b.gateway.url, key, 'gpt-4o-mini')).resolves.toBeDefined();
    await adminPost(a, '/key/block', { key });
    await new Promise((r) => setTimeout(r, 1_000));
    await expect(ask(b.gateway.url, key, 'gpt-4o-mini')).rejects.toMatchObject({ status: 401 });
  });
});
