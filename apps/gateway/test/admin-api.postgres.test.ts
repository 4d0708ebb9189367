import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON
  body: any;
}

let t: TestGateway;
let virtualKey: string;

beforeAll(async () => {
  t = await startTestGateway('postgres+redis');
  virtualKey = (await call('POST', '/key/generate', {})).body.key;
});
afterAll(async () => {
  await t?.close();
});

async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  key: string | null = t.masterKey,
): Promise<Reply> {
  const response = await fetch(`${t.gateway.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

describe('authorization on every admin route', () => {
  it('refuses callers without a key (401) and virtual keys (403), as the OpenAPI document lists them', async () => {
    const doc = (await call('GET', '/openapi.json', undefined, null)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const callerRoutes = new Set(['get /key/info', 'post /key/health']);
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace('{key}', 'sk-whatever-key-value-123');
        const verb = method.toUpperCase() as 'GET' | 'POST';
        const body = verb === 'POST' ? {} : undefined;
        const anonymous = await call(verb, concrete, body, null);
        expect(anonymous.status, `${method} ${path} without a key`).toBe(401);
        expect(anonymous.body.error).toMatchObject({
          type: 'auth_error',
          message: 'No api key passed in.',
          code: '401',
        });
        if (callerRoutes.has(`${method} ${path}`)) continue;
        const asVirtual = await call(verb, concrete, body, virtualKey);
        expect(asVirtual.status, `${method} ${path} with a virtual key`).toBe(403);
        expect(asVirtual.body.error.message).toBe('Admin-only endpoint. Not allowed to access this.');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(35);
  });
});

describe('keys', () => {
  it('updates only the fields given, and invalid types are a 422 naming the field', async () => {
    const { key } = (
      await call('POST', '/key/generate', { key_alias: unique('upd'), max_budget: 5, tags: ['a'] })
    ).body;
    const updated = await call('POST', '/key/update', { key, max_budget: 7.5, metadata: { owner: 'ops' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ key, max_budget: 7.5, metadata: { owner: 'ops' } });
    const info = (await call('GET', `/key/info?key=${key}`)).body.info;
    expect(info).toMatchObject({ max_budget: 7.5, metadata: { owner: 'ops' } });

    const withTags = await call('POST', '/key/update', { key: hashKey(key), tags: ['b'], duration: '1h' });
    expect(withTags.body.metadata).toEqual({ owner: 'ops', tags: ['b'] });
    expect(new Date(withTags.body.expires).getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);

    const bad = await call('POST', '/key/update', { key, max_budget: 'lots' });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ param: 'max_budget', code: '422' });
    expect(
      (await call('POST', '/key/update', { key: 'sk-not-a-real-key-000000', max_budget: 1 })).status,
    ).toBe(404);
    expect((await call('POST', '/key/update', { key, max_budget: -1 })).body.error).toMatchObject({
      message: 'max_budget cannot be negative. Received: -1',
    });
  });

  it('generate refuses a bad type, a key without sk- and an unknown team', async () => {
    expect((await call('POST', '/key/generate', { models: 'gpt-4o-mini' })).status).toBe(422);
    const noPrefix = await call('POST', '/key/generate', { key: 'abcd-custom-key-wxyz' });
    expect(noPrefix.status).toBe(400);
    expect(noPrefix.body.error.message).toBe(
      "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: abcd****wxyz",
    );
    expect((await call('POST', '/key/generate', { team_id: 'no-such-team' })).body.error).toMatchObject({
      param: 'team_id',
      code: '400',
    });
    const custom = await call('POST', '/key/generate', { key: `sk-${unique('custom')}-abcdefghijklmnop` });
    expect(custom.status).toBe(200);
  });

  it('lists keys a page at a time with filters', async () => {
    const userId = unique('lister');
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push((await call('POST', '/key/generate', { user_id: userId })).body.token);
    const page1 = await call('GET', `/key/list?user_id=${userId}&size=2&page=1`);
    expect(page1.body).toMatchObject({ total_count: 3, current_page: 1, total_pages: 2 });
    expect(page1.body.keys).toHaveLength(2);
    const page2 = await call('GET', `/key/list?user_id=${userId}&size=2&page=2&return_full_object=true`);
    expect(page2.body.keys).toHaveLength(1);
    expect(page2.body.keys[0]).toMatchObject({ user_id: userId });
    expect([...page1.body.keys, page2.body.keys[0].token].sort()).toEqual([...made].sort());
    expect((await call('GET', '/key/list?sort_by=nonsense')).status).toBe(400);
    expect((await call('GET', '/key/list?size=1000')).status).toBe(422);
  });

  it('deletes by key or alias; the key stops working at once', async () => {
    const a = (await call('POST', '/key/generate', {})).body.key;
    const alias = unique('gone');
    const b = (await call('POST', '/key/generate', { key_alias: alias })).body.key;
    expect((await call('GET', '/v1/models', undefined, a)).status).toBe(200);
    const deleted = await call('POST', '/key/delete', { keys: [a], key_aliases: [alias] });
    expect(deleted.body).toEqual({ deleted_keys: [a, alias] });
    expect((await call('GET', '/v1/models', undefined, a)).status).toBe(401);
    expect((await call('GET', '/v1/models', undefined, b)).status).toBe(401);
    expect((await call('POST', '/key/delete', { keys: [a] })).status).toBe(404);
    expect((await call('POST', '/key/delete', {})).status).toBe(422);
  });

  it('blocks and unblocks; a blocked key gets the contract message', async () => {
    const { key } = (await call('POST', '/key/generate', {})).body;
    expect((await call('POST', '/key/block', { key })).body).toMatchObject({
      blocked: true,
      token: hashKey(key),
    });
    const refused = await call('GET', '/v1/models', undefined, key);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe(
      "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
    );
    expect((await call('POST', '/key/unblock', { key: hashKey(key) })).body).toMatchObject({
      blocked: false,
    });
    expect((await call('GET', '/v1/models', undefined, key)).status).toBe(200);
    expect((await call('POST', '/key/block', { key: 'sk-unknown-unknown-unknown' })).status).toBe(404);
    expect((await call('POST', '/key/block', { key: 42 })).status).toBe(422);
  });

  it('regenerates with a grace period: the old key works until it ends, then is refused', async () => {
    const { key: oldKey } = (await call('POST', '/key/generate', { max_budget: 3 })).body;
    expect((await call('GET', '/v1/models', undefined, oldKey)).status).toBe(200);
    const regenerated = await call('POST', `/key/${oldKey}/regenerate`, {
      grace_period: '2s',
      max_budget: 4,
    });
    expect(regenerated.status).toBe(200);
    const newKey = regenerated.body.key;
    expect(newKey).not.toBe(oldKey);
    expect(regenerated.body).toMatchObject({
      token: hashKey(newKey),
      max_budget: 4,
      key_name: `sk-...${newKey.slice(-4)}`,
    });
    expect((await call('GET', '/v1/models', undefined, newKey)).status).toBe(200);
    expect((await call('GET', '/v1/models', undefined, oldKey)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await call('GET', '/v1/models', undefined, oldKey)).status).toBe(401);
    expect((await call('GET', '/v1/models', undefined, newKey)).status).toBe(200);
  });

  it('regenerates without grace: the old key is refused at once', async () => {
    const { key: oldKey } = (await call('POST', '/key/generate', {})).body;
    expect((await call('GET', '/v1/models', undefined, oldKey)).status).toBe(200);
    const regenerated = await call('POST', '/key/regenerate', { key: oldKey });
    expect((await call('GET', '/v1/models', undefined, oldKey)).status).toBe(401);
    expect((await call('GET', '/v1/models', undefined, regenerated.body.key)).status).toBe(200);
    expect((await call('POST', '/key/regenerate', {})).body.error.message).toBe('No key passed in.');
    expect((await call('POST', '/key/regenerate', { key: oldKey })).status).toBe(404);
    expect(
      (await call('POST', '/key/regenerate', { key: regenerated.body.key, new_key: 'nope' })).status,
    ).toBe(400);
  });

  it('an expired key is refused with expired_key; expiry can be cleared by update', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const { key } = (await call('POST', '/key/generate', { expires: past })).body;
    const refused = await call('GET', '/v1/models', undefined, key);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ type: 'expired_key' });
    expect(refused.body.error.message).toMatch(/^Authentication Error - Expired Key\. Key Expiry time /);
    expect((await call('POST', '/key/update', { key, duration: null })).body).toMatchObject({
      expires: null,
    });
    expect((await call('GET', '/v1/models', undefined, key)).status).toBe(200);
  });

  it('reports key health to the calling key', async () => {
    expect((await call('POST', '/key/health', {}, virtualKey)).body).toEqual({
      key: 'healthy',
      logging_callbacks: null,
    });
  });
});

describe('teams', () => {
  it('creates, reads, lists, updates, adds and removes members, blocks and deletes', async () => {
    const teamId = unique('team');
    const created = await call('POST', '/team/new', {
      team_id: teamId,
      team_alias: 'Platform',
      models: ['gpt-4o-mini'],
      max_budget: 100,
      members_with_roles: [{ role: 'admin', user_id: 'alice' }],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      team_id: teamId,
      models: ['gpt-4o-mini'],
      max_budget: 100,
      admins: ['alice'],
    });
    expect((await call('POST', '/team/new', { team_id: teamId })).body.error.message).toBe(
      `Team id = ${teamId} already exists. Please use a different team id.`,
    );

    await call('POST', '/key/generate', { team_id: teamId });
    const info = await call('GET', `/team/info?team_id=${teamId}`);
    expect(info.body.team_info).toMatchObject({ team_alias: 'Platform' });
    expect(info.body.keys).toHaveLength(1);
    expect(info.body.team_memberships).toEqual([
      expect.objectContaining({ user_id: 'alice', team_id: teamId }),
    ]);
    expect((await call('GET', '/team/info')).status).toBe(422);
    expect((await call('GET', '/team/info?team_id=nope')).status).toBe(404);

    const updated = await call('POST', '/team/update', { team_id: teamId, max_budget: 50, tags: ['t'] });
    expect(updated.body).toMatchObject({
      team_id: teamId,
      data: { max_budget: 50, metadata: { tags: ['t'] } },
    });
    expect((await call('POST', '/team/update', { team_id: 'nope' })).status).toBe(404);
    expect((await call('POST', '/team/update', { team_id: teamId, max_budget: 'x' })).status).toBe(422);

    const added = await call('POST', '/team/member_add', {
      team_id: teamId,
      member: { role: 'user', user_id: 'bob' },
    });
    expect(added.body.members).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect((await call('GET', '/user/info?user_id=bob')).body.user_info.teams).toContain(teamId);
    const removed = await call('POST', '/team/member_delete', { team_id: teamId, user_id: 'bob' });
    expect(removed.body.members).toEqual(['alice']);
    expect((await call('POST', '/team/member_delete', { team_id: teamId, user_id: 'bob' })).status).toBe(400);

    const listed = await call('GET', '/team/list');
    expect(listed.body.map((team: { team_id: string }) => team.team_id)).toContain(teamId);
    expect(
      (await call('GET', '/team/list?user_id=alice')).body.map((x: { team_id: string }) => x.team_id),
    ).toEqual([teamId]);

    expect((await call('POST', '/team/block', { team_id: teamId })).body).toMatchObject({ blocked: true });
    expect((await call('POST', '/team/unblock', { team_id: teamId })).body).toMatchObject({ blocked: false });
    expect((await call('POST', '/team/block', { team_id: 'nope' })).status).toBe(404);

    const deleted = await call('POST', '/team/delete', { team_ids: [teamId] });
    expect(deleted.body).toEqual({ deleted_teams: [teamId], deleted_keys: 1 });
    expect((await call('POST', '/team/delete', { team_ids: [teamId] })).status).toBe(404);
  });
});

describe('users', () => {
  it('creates with a key, reads, updates, lists and deletes with their keys', async () => {
    const userId = unique('user');
    const created = await call('POST', '/user/new', {
      user_id: userId,
      user_email: `${userId}@example.com`,
      max_budget: 20,
      key_alias: unique('ukey'),
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      user_id: userId,
      max_budget: 20,
      key: expect.stringMatching(/^sk-/),
    });
    expect((await call('GET', '/v1/models', undefined, created.body.key)).status).toBe(200);
    const dupId = await call('POST', '/user/new', { user_id: userId });
    expect(dupId.status).toBe(409);
    expect(dupId.body.error.message).toBe(`User with id ${userId} already exists`);
    expect(
      (await call('POST', '/user/new', { user_email: `${userId.toUpperCase()}@EXAMPLE.com` })).status,
    ).toBe(409);
    expect((await call('POST', '/user/new', { max_budget: 'x' })).status).toBe(422);

    const info = await call('GET', `/user/info?user_id=${userId}`);
    expect(info.body.keys).toHaveLength(1);
    expect((await call('GET', '/user/info?user_id=nobody')).status).toBe(404);

    const updated = await call('POST', '/user/update', {
      user_email: `${userId}@example.com`,
      user_alias: 'Al',
    });
    expect(updated.body).toMatchObject({ user_id: userId, user_alias: 'Al' });
    expect((await call('POST', '/user/update', { user_id: 'nobody', user_alias: 'x' })).status).toBe(404);

    const list = await call('GET', '/user/list?page=1&page_size=100');
    expect(list.body.users.map((u: { user_id: string }) => u.user_id)).toContain(userId);

    expect((await call('POST', '/user/delete', { user_ids: [userId] })).body).toEqual({
      deleted_users: [userId],
      deleted_keys: 1,
    });
    expect((await call('GET', '/v1/models', undefined, created.body.key)).status).toBe(401);
    expect((await call('POST', '/user/delete', { user_ids: [userId] })).status).toBe(404);
  });
});

describe('customers', () => {
  it('creates with a budget, reads, updates (false and 0 honoured), lists, blocks, unblocks and deletes', async () => {
    const id = unique('cust');
    const created = await call('POST', '/customer/new', {
      user_id: id,
      alias: 'Acme',
      max_budget: 5,
      budget_duration: '30d',
    });
    expect(created.body).toMatchObject({
      user_id: id,
      alias: 'Acme',
      spend: 0,
      blocked: false,
      litellm_budget_table: { max_budget: 5, budget_duration: '30d' },
    });
    const dup = await call('POST', '/customer/new', { user_id: id });
    expect(dup.status).toBe(400);
    expect(dup.body.error).toMatchObject({
      type: 'bad_request',
      param: 'user_id',
      message: `Customer already exists, passed user_id=${id}. Please pass a new user_id.`,
    });
    expect(
      (await call('POST', '/customer/new', { user_id: unique('c'), max_budget: 1, budget_id: 'b' })).status,
    ).toBe(422);
    expect(
      (await call('POST', '/customer/new', { user_id: unique('c'), default_model: 'nope' })).status,
    ).toBe(422);

    expect((await call('GET', `/customer/info?end_user_id=${id}`)).body).toMatchObject({ user_id: id });
    const missing = await call('GET', '/customer/info?end_user_id=ghost');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      message: 'End User Id=ghost does not exist in db',
      param: 'end_user_id',
    });

    await call('POST', '/customer/update', { user_id: id, blocked: true });
    const unblockedByUpdate = await call('POST', '/customer/update', {
      user_id: id,
      blocked: false,
      max_budget: 0,
    });
    expect(unblockedByUpdate.body).toMatchObject({ blocked: false, litellm_budget_table: { max_budget: 0 } });
    expect((await call('POST', '/customer/update', { user_id: 'ghost', alias: 'x' })).status).toBe(404);

    expect((await call('GET', '/customer/list')).body.map((c: { user_id: string }) => c.user_id)).toContain(
      id,
    );
    expect((await call('GET', '/end_user/list')).status).toBe(200);

    const blocked = await call('POST', '/customer/block', { user_ids: [id] });
    expect(blocked.body.blocked_users[0]).toMatchObject({ user_id: id, blocked: true });
    const unblocked = await call('POST', '/customer/unblock', { user_ids: [id] });
    expect(unblocked.body.unblocked_users[0]).toMatchObject({ user_id: id, blocked: false });

    const deleted = await call('POST', '/customer/delete', { user_ids: [id] });
    expect(deleted.body).toMatchObject({ deleted_customers: 1 });
    expect((await call('POST', '/customer/delete', { user_ids: [id, 'ghost'] })).body.error.message).toBe(
      `End User Id(s)=${id}, ghost do not exist in db`,
    );
  });

  it('a blocked end user is refused on model routes, and served again once unblocked', async () => {
    const id = unique('blocked-user');
    const client = new OpenAI({ apiKey: virtualKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        user: id,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await ask();
    await call('POST', '/customer/block', { user_ids: [id] });
    await expect(ask()).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining(`User blocked from making LLM API Calls. User=${id}`),
    });
    await call('POST', '/customer/unblock', { user_ids: [id] });
    await expect(ask()).resolves.toBeDefined();
  });
});

describe('models', () => {
  it('/model/info lists deployments with prices and without credentials', async () => {
    const info = await call('GET', '/model/info');
    const mini = info.body.data.find((d: { model_name: string }) => d.model_name === 'gpt-4o-mini');
    expect(mini.model_info).toMatchObject({
      input_cost_per_token: 1.5e-7,
      output_cost_per_token: 6e-7,
      litellm_provider: 'openai',
    });
    expect(JSON.stringify(info.body)).not.toContain('sk-upstream-secret');
    const configPriced = info.body.data.find(
      (d: { model_name: string }) => d.model_name === 'priced-by-config',
    );
    expect(configPriced.model_info).toMatchObject({
      input_cost_per_token: 2e-6,
      output_cost_per_token: 8e-6,
    });
  });
});

describe('docs', () => {
  it('serves the OpenAPI document and a reference page that loads it', async () => {
    const doc = (await call('GET', '/openapi.json', undefined, null)).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(
      doc.paths['/key/generate'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('max_budget');
    const page = await fetch(`${t.gateway.url}/docs`);
    expect(await page.text()).toContain('/openapi.json');
    const bundle = await fetch(`${t.gateway.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
