import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyFor, type UrlProxy } from './support/tcp-proxy.ts';
import { MASTER_KEY, startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Hostile and malformed input on every route: each answer is a 4xx in the caller's dialect
 * (OpenAI/LiteLLM JSON, or Anthropic's on /v1/messages and /anthropic), nothing reaches the
 * upstream, and the process keeps serving with no unhandled error logged.
 */
let t: TestGateway;
let key: string;
const logLines: string[] = [];

beforeAll(async () => {
  t = await startTestGateway('postgres+redis', { logLines });
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
});

/**
 * A stand-in for `depth` levels of `{"a": …}` around a string: `json()` writes the levels as text
 * (JSON.stringify itself would overflow the stack on them).
 */
const nested = (depth: number) => `@@nested:${depth}@@`;
const deepTool = {
  type: 'function',
  function: { name: 'deep', parameters: { type: 'object', properties: nested(5_000) } },
};
const chat = (extra: Record<string, unknown>) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const messages = (extra: Record<string, unknown>) => ({
  model: 'claude-sonnet',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const native = (extra: Record<string, unknown>) => ({
  ...messages({}),
  model: 'claude-sonnet-4-5-20250929',
  ...extra,
});

type Dialect = 'openai' | 'anthropic';
interface Case {
  name: string;
  path: string;
  body: string;
  dialect: Dialect;
  as?: 'master' | 'key';
  method?: 'POST' | 'GET';
}
const json = (value: unknown) =>
  JSON.stringify(value).replace(/"@@nested:(\d+)@@"/g, (_, depth: string) => {
    const n = Number(depth);
    return `${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}`;
  });

const modelCases: Case[] = [];
for (const [path, dialect, make] of [
  ['/v1/chat/completions', 'openai', chat],
  ['/v1/completions', 'openai', (e: Record<string, unknown>) => ({ model: 'instruct', prompt: 'hi', ...e })],
  [
    '/v1/embeddings',
    'openai',
    (e: Record<string, unknown>) => ({ model: 'text-embedding-3-small', input: 'hi', ...e }),
  ],
  ['/v1/messages', 'anthropic', messages],
  ['/anthropic/v1/messages', 'anthropic', native],
] as const) {
  modelCases.push(
    { name: 'not JSON', path, dialect, body: '{"model": ' },
    { name: 'a JSON array', path, dialect, body: '[1, 2]' },
    { name: 'a NUL in a parameter name', path, dialect, body: json(make({ 'bad\u0000name': 1 })) },
    {
      name: 'a control character in a nested name',
      path,
      dialect,
      body: json(make({ extra: { 'a\nb': 1 } })),
    },
    { name: 'JSON nested 5,000 levels', path, dialect, body: json(make({ metadata: nested(5_000) })) },
    { name: 'model of the wrong type', path, dialect, body: json(make({ model: 42 })) },
  );
  if (path !== '/v1/embeddings')
    modelCases.push({ name: 'stream as a string', path, dialect, body: json(make({ stream: 'true' })) });
}
for (const [path, dialect, make] of [
  ['/v1/chat/completions', 'openai', chat],
  ['/v1/messages', 'anthropic', messages],
  ['/anthropic/v1/messages', 'anthropic', native],
] as const) {
  modelCases.push(
    { name: 'a tool schema nested 5,000 levels', path, dialect, body: json(make({ tools: [deepTool] })) },
    { name: 'max_tokens of 1e18', path, dialect, body: json(make({ max_tokens: 1e18 })) },
    { name: 'max_tokens of 1.5', path, dialect, body: json(make({ max_tokens: 1.5 })) },
    { name: 'an unknown model', path, dialect, body: json(make({ model: 'no-such-model\u0000' })) },
  );
}

const adminCases: Case[] = (
  [
    { name: 'key_alias with NUL', path: '/key/generate', body: json({ key_alias: 'a\u0000b' }) },
    { name: 'user_id with NUL', path: '/key/generate', body: json({ user_id: 'u\u0000' }) },
    { name: 'metadata with a NUL value', path: '/key/generate', body: json({ metadata: { a: 'x\u0000' } }) },
    { name: 'metadata with a NUL name', path: '/key/generate', body: json({ metadata: { 'a\u0000': 1 } }) },
    {
      name: 'metadata nested 100,000 levels',
      path: '/key/generate',
      body: json({ metadata: nested(100_000) }),
    },
    {
      name: 'a duration past the year 9999',
      path: '/key/generate',
      body: json({ duration: '99999999999999d' }),
    },
    {
      name: 'a budget_duration past 9999',
      path: '/key/generate',
      body: json({ budget_duration: '99999999999999d' }),
    },
    { name: 'a negative max_budget', path: '/key/generate', body: json({ max_budget: -1 }) },
    { name: 'an astronomical max_budget', path: '/key/generate', body: json({ max_budget: 1e300 }) },
    {
      name: 'model_max_budget with a negative budget',
      path: '/key/generate',
      body: json({ model_max_budget: { 'gpt-4o-mini': { budget_limit: -1, time_period: '1d' } } }),
    },
    {
      name: 'model_max_budget with an unknown period',
      path: '/key/generate',
      body: json({ model_max_budget: { 'gpt-4o-mini': { budget_limit: 1, time_period: 'fortnight' } } }),
    },
    {
      name: 'a permission flag that is not a boolean',
      path: '/key/generate',
      body: json({ permissions: { allow_client_side_credentials: 'yes' } }),
    },
    { name: 'models not a list', path: '/key/generate', body: json({ models: 'gpt-4o-mini' }) },
    {
      name: 'a regenerate with a bad grace period',
      path: '/key/regenerate',
      body: json({ key: 'sk-any-key-at-all-0000', grace_period: 'soon' }),
    },
    {
      name: 'a key with NUL to update',
      path: '/key/update',
      body: json({ key: 'sk-x\u0000', max_budget: 1 }),
    },
    { name: 'keys that are not strings', path: '/key/delete', body: json({ keys: [123] }) },
    {
      name: 'key info of garbage with NUL',
      path: '/key/info?key=garbage%00',
      body: '',
      method: 'GET' as const,
    },
    { name: 'a team alias with NUL', path: '/team/new', body: json({ team_alias: 't\u0000' }) },
    { name: 'team metadata nested deep', path: '/team/new', body: json({ metadata: nested(1_000) }) },
    { name: 'a user id with NUL', path: '/user/new', body: json({ user_id: 'u\u0000' }) },
    { name: 'a customer id with NUL', path: '/customer/new', body: json({ user_id: 'c\u0000' }) },
    { name: 'a tag name with NUL', path: '/tag/new', body: json({ name: 'tag\u0000' }) },
    {
      name: 'a spend log date that is no date',
      path: '/spend/logs?start_date=garbage',
      body: '',
      method: 'GET',
    },
    { name: 'a body that is not JSON', path: '/team/new', body: '{"team_alias": ' },
  ] as Omit<Case, 'dialect'>[]
).map((c) => ({ ...c, dialect: 'openai' as const, as: 'master' as const }));

describe('bad input gets a 4xx in the caller dialect', () => {
  it.each([...modelCases, ...adminCases].map((c) => [`${c.path}: ${c.name}`, c] as const))(
    '%s',
    async (_name, c) => {
      const before = t.mock.requests.length;
      const response = await fetch(`${t.gateway.url}${c.path}`, {
        method: c.method ?? 'POST',
        headers: {
          authorization: `Bearer ${c.as === 'master' ? MASTER_KEY : key}`,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        ...(c.method === 'GET' ? {} : { body: c.body }),
      });
      const text = await response.text();
      expect(response.status, text).toBeGreaterThanOrEqual(400);
      expect(response.status, text).toBeLessThan(500);
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = JSON.parse(text) as Record<string, unknown>;
      if (c.dialect === 'anthropic') {
        expect(body).toMatchObject({
          type: 'error',
          error: { type: expect.any(String), message: expect.any(String) },
        });
      } else {
        expect(body).toMatchObject({ error: { message: expect.any(String), code: String(response.status) } });
      }
      expect(t.mock.requests.length, 'the upstream was called').toBe(before);
    },
  );

  it('twenty concurrent creations of one user or customer make it once; the others are refused', async () => {
    const create = (path: string, body: unknown) =>
      fetch(`${t.gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    const users = await Promise.all(
      Array.from({ length: 20 }, () => create('/user/new', { user_id: 'same-user', auto_create_key: true })),
    );
    expect(users.filter((s) => s === 200)).toHaveLength(1);
    expect(users.filter((s) => s === 409)).toHaveLength(19);
    const customers = await Promise.all(
      Array.from({ length: 20 }, () => create('/customer/new', { user_id: 'same-customer' })),
    );
    expect(customers.filter((s) => s === 200)).toHaveLength(1);
    expect(customers.filter((s) => s === 400)).toHaveLength(19);
    const [made] = await t.query<{ users: number; keys: number }>(
      `select (select count(*)::int from "LiteLLM_UserTable" where user_id = 'same-user') as users,
              (select count(*)::int from "LiteLLM_VerificationToken" where user_id = 'same-user') as keys`,
    );
    expect(made).toEqual({ users: 1, keys: 1 });
  });

  it('kept serving, and logged no unhandled error', async () => {
    const health = await fetch(`${t.gateway.url}/health/liveliness`);
    expect(health.status).toBe(200);
    const ok = await fetch(`${t.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat({})),
    });
    expect(ok.status).toBe(200);
    expect(logLines.filter((line) => line.includes('unhandled error'))).toEqual([]);
  });
});

describe('admin routes while Postgres is away', () => {
  let proxy: UrlProxy;
  let cut: TestGateway;
  beforeAll(async () => {
    proxy = await startProxyFor(t.databaseUrl!);
    cut = await startTestGateway('postgres', {
      shareWith: t,
      migrateOnStart: false,
      gatewayDatabaseUrl: proxy.through,
    });
  });
  afterAll(async () => {
    proxy?.restore();
    await cut?.close();
    await proxy?.close();
  });

  it('answer 503 no_db_connection, not 500', async () => {
    proxy.cut();
    try {
      for (const [method, path, body] of [
        ['POST', '/key/generate', {}],
        ['GET', '/key/info?key=sk-nothing-here-0000', undefined],
        ['POST', '/team/new', {}],
        ['GET', '/spend/logs', undefined],
      ] as const) {
        const response = await fetch(`${cut.gateway.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(await response.json()).toMatchObject({ error: { type: 'no_db_connection', code: '503' } });
      }
    } finally {
      proxy.restore();
    }
  });
});
