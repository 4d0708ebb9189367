import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPost, MASTER_KEY, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Raw keys never leave the request that carried them: after a run that uses keys every way a
 * client or admin can (headers, bodies, query strings, a path), no log line, database row,
 * Redis key or value, or metric holds one.
 */
let t: TestGateway;
const logLines: string[] = [];

beforeAll(async () => {
  t = await startTestGateway('postgres+redis', { logLines, metrics: { requireAuth: false } });
});
afterAll(async () => {
  await t?.close();
});

async function redisDump(): Promise<string> {
  const redis = new Redis(t.redis!.url);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${t.redis!.keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const name of keys) {
        parts.push(name);
        const type = await redis.type(name);
        if (type === 'string') parts.push((await redis.get(name)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(name)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(name, 0, -1)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(name, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(name)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(name, '-', '+')));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}

async function databaseDump(): Promise<string> {
  const tables = await t.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'public'`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await t.query<{ row: string }>(`select t::text as row from "${name}" t`);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

describe('raw keys stay out of logs, rows, Redis and metrics', () => {
  it('after keys were used in headers, bodies, queries and paths', async () => {
    const used: string[] = [MASTER_KEY];
    const { key } = await adminPost(t, '/key/generate', { key_alias: 'leak-check' });
    used.push(key);
    const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
    await openai(key).chat.completions.create(ask);
    for await (const _ of await openai(key).chat.completions.create({ ...ask, stream: true })) {
      // drain
    }
    await new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 }).messages.create({
      model: 'claude-sonnet',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    await new Anthropic({
      apiKey: key,
      baseURL: `${t.gateway.url}/anthropic`,
      maxRetries: 0,
    }).messages.create({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const admin = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
    await fetch(`${t.gateway.url}/key/info?key=${key}`, { headers: admin });
    // The key in the path.
    const regenerated = await fetch(`${t.gateway.url}/key/${key}/regenerate`, {
      method: 'POST',
      headers: admin,
      body: '{}',
    }).then((r) => r.json() as Promise<{ key: string }>);
    used.push(regenerated.key);
    await openai(regenerated.key).chat.completions.create(ask);
    // The old key, now refused; an unknown one; one in a path nobody serves.
    const unknown = 'sk-unknown-key-never-issued-0001';
    used.push(unknown);
    await openai(key)
      .chat.completions.create(ask)
      .catch(() => {});
    await openai(unknown)
      .chat.completions.create(ask)
      .catch(() => {});
    await fetch(`${t.gateway.url}/no/such/route/${unknown}`, { headers: admin });
    const custom = 'sk-custom-chosen-by-admin-0002';
    used.push(custom);
    await adminPost(t, '/key/generate', { key: custom });
    await adminPost(t, '/key/update', { key: custom, max_budget: 5 });
    await adminPost(t, '/key/block', { key: custom });
    await adminPost(t, '/key/delete', { keys: [custom, regenerated.key] });
    await t.gateway.spendQueue.flush(5_000);
    // Log lines leave in batches; the last ones are in once the gateway has flushed them.
    await new Promise((r) => setTimeout(r, 500));

    const metrics = await fetch(`${t.gateway.url}/metrics`).then((r) => r.text());
    const places = {
      logs: logLines.join('\n'),
      database: await databaseDump(),
      redis: await redisDump(),
      metrics,
    };
    expect(places.logs).toContain('/key/sk-...'); // the regenerate path, redacted
    for (const [where, text] of Object.entries(places)) {
      for (const raw of used) expect(text.includes(raw), `${where} holds a raw key`).toBe(false);
    }
  });
});
