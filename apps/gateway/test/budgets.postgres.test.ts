import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonFloat } from '../src/admission/admission.ts';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { toNanoUsd } from './support/money.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * Budgets that hold under concurrency, across two instances sharing one Postgres and one
 * Redis: 100 calls at once against a budget that fits about ten may overshoot it by at most
 * one call's cost.
 */

interface Answer {
  status: number;
  cost: bigint | null;
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are read as JSON
  body: any;
}

async function chat(
  t: TestGateway,
  key: string,
  options: { model?: string; user?: string; content?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({
      model: options.model ?? 'gpt-4o-mini',
      max_tokens: 20,
      ...(options.user ? { user: options.user } : {}),
      messages: [
        {
          role: 'user',
          content: options.content ?? 'Spend a little [mock:reply_tokens=20] [mock:latency_ms=300]',
        },
      ],
    }),
  });
  const header = response.headers.get('x-litellm-response-cost');
  return { status: response.status, cost: header ? toNanoUsd(header) : null, body: await response.json() };
}

async function admin(t: TestGateway, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${t.gateway.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Every call's row written, by both instances. */
async function flush(...gateways: TestGateway[]): Promise<void> {
  for (const g of gateways) await g.gateway.spendQueue.flush();
}

const nanosToUsd = (nanos: bigint) => Number(nanos) / 1e9;

/** A key's spend in the database once both instances wrote their rows, in nano-USD. */
async function keySpendNanos(key: string, a: TestGateway, b: TestGateway): Promise<bigint> {
  await flush(a, b);
  const [row] = await a.query<{ spend: string }>(
    'select spend::text as spend from "LiteLLM_VerificationToken" where token = $1',
    [hashKey(key)],
  );
  return toNanoUsd(row!.spend);
}
// New keys and teams are invalidated again 300 ms after creation; calls wait that out so the
// instances do not reload them mid-test.
const settleCaches = () => new Promise((r) => setTimeout(r, 500));

describe('budgets across two instances (Postgres and Redis)', () => {
  let a: TestGateway;
  let b: TestGateway;
  /** What one call of `chat()` costs, exactly (every call is the same). */
  let oneCall: bigint;

  beforeAll(async () => {
    a = await startTestGateway('postgres+redis');
    b = await startTestGateway('postgres+redis', { shareWith: a });
    const probe = await chat(a, await a.createKey());
    expect(probe.status).toBe(200);
    oneCall = probe.cost!;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('100 parallel calls against a key budget that fits ten overshoot it by at most one call', {
    repeats: 4,
  }, async () => {
    const budget = oneCall * 10n;
    const key = await a.createKey({ max_budget: nanosToUsd(budget) });
    await settleCaches();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => chat(i % 2 ? b : a, key)));
    const admitted = answers.filter((x) => x.status === 200).length;
    const refused = answers.filter((x) => x.status === 429);
    expect(admitted + refused.length).toBe(100);
    const spent = await keySpendNanos(key, a, b);
    console.log(
      `key budget $${nanosToUsd(budget)}: ${admitted} admitted, ${refused.length} refused, spent $${nanosToUsd(spent)}, overshoot $${nanosToUsd(spent - budget)} (one call: $${nanosToUsd(oneCall)})`,
    );
    expect(admitted).toBeGreaterThanOrEqual(5);
    expect(admitted).toBeLessThanOrEqual(11);
    expect(spent).toBe(oneCall * BigInt(admitted));
    expect(spent - budget).toBeLessThanOrEqual(oneCall);
    expect(refused[0]!.body.error).toMatchObject({
      type: 'budget_exceeded',
      code: '429',
      message: expect.stringMatching(
        /^Budget has been exceeded! Current cost: [\d.e-]+, Max budget: [\d.e-]+$/,
      ),
    });
  });

  it('50 parallel calls with a Chinese prompt overshoot a key budget by at most one call', async () => {
    // 1,000 characters, each a token (as providers count Chinese): characters / 3 would reserve
    // a third of what each call costs.
    const chinese = '预算的保留必须是任何文本的上限无论用哪种文字'.repeat(46).slice(0, 1_000);
    const content = `${chinese} [mock:prompt_tokens=1000] [mock:reply_tokens=20] [mock:latency_ms=300]`;
    const probe = await chat(a, await a.createKey(), { content });
    const perCall = probe.cost!;
    const budget = perCall * 10n;
    const key = await a.createKey({ max_budget: nanosToUsd(budget) });
    await settleCaches();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => chat(i % 2 ? b : a, key, { content })),
    );
    const admitted = answers.filter((x) => x.status === 200).length;
    const spent = await keySpendNanos(key, a, b);
    console.log(
      `Chinese prompt, key budget $${nanosToUsd(budget)}: ${admitted} admitted, overshoot $${nanosToUsd(spent - budget)} (one call: $${nanosToUsd(perCall)})`,
    );
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(spent).toBe(perCall * BigInt(admitted));
    expect(spent - budget).toBeLessThanOrEqual(perCall);
  });

  it('refuses a spent key with the contract body, on both instances, but never a call that costs nothing', {
    repeats: 4,
  }, async () => {
    const key = await a.createKey({ max_budget: nanosToUsd(oneCall) });
    await settleCaches();
    expect((await chat(a, key)).status).toBe(200);
    await flush(a);
    for (const g of [a, b]) {
      const refused = await chat(g, key);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({
        error: {
          message: `Budget has been exceeded! Current cost: ${pythonFloat(Number(oneCall))}, Max budget: ${pythonFloat(Number(oneCall))}`,
          type: 'budget_exceeded',
          param: null,
          code: '429',
        },
      });
      // Ollama is free: the spent budget cannot grow, so the call is not refused.
      expect((await chat(g, key, { model: 'llama-chat' })).status).toBe(200);
    }
    // An admin resetting the key's spend gives it its budget back, on every instance.
    await admin(a, '/key/update', { key, spend: 0 });
    await settleCaches();
    expect((await chat(b, key)).status).toBe(200);
  });

  it("holds a team's budget and an end user's budget across keys and instances", { repeats: 4 }, async () => {
    const teamId = `budget-team-${Date.now()}`;
    const customerId = `budget-customer-${Date.now()}`;
    await admin(a, '/team/new', { team_id: teamId, max_budget: nanosToUsd(oneCall * 3n) });
    const keys = [await a.createKey({ team_id: teamId }), await a.createKey({ team_id: teamId })];
    await admin(a, '/customer/new', { user_id: customerId, max_budget: nanosToUsd(oneCall * 2n) });
    const free = await a.createKey();
    await settleCaches();

    const teamCalls = await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat(i % 2 ? b : a, keys[i % 2]!)),
    );
    const teamAdmitted = teamCalls.filter((x) => x.status === 200).length;
    const customerCalls = await Promise.all(
      Array.from({ length: 30 }, (_, i) => chat(i % 2 ? b : a, free, { user: customerId })),
    );
    const customerAdmitted = customerCalls.filter((x) => x.status === 200).length;
    await flush(a, b);
    const spendOf = async (sql: string, id: string) =>
      toNanoUsd((await a.query<{ spend: string }>(sql, [id]))[0]!.spend);
    const teamSpent = await spendOf(
      'select spend::text as spend from "LiteLLM_TeamTable" where team_id = $1',
      teamId,
    );
    const customerSpent = await spendOf(
      'select spend::text as spend from "LiteLLM_EndUserTable" where user_id = $1',
      customerId,
    );
    console.log(
      `team budget: ${teamAdmitted}/30 admitted, overshoot $${nanosToUsd(teamSpent - oneCall * 3n)}; end-user budget: ${customerAdmitted}/30 admitted, overshoot $${nanosToUsd(customerSpent - oneCall * 2n)}`,
    );
    expect(teamSpent - oneCall * 3n).toBeLessThanOrEqual(oneCall);
    expect(customerSpent - oneCall * 2n).toBeLessThanOrEqual(oneCall);
    expect(teamCalls.find((x) => x.status === 429)!.body.error.message).toMatch(
      new RegExp(`^Budget has been exceeded! Team=${teamId} Current cost: [\\d.e-]+, Max budget: [\\d.e-]+$`),
    );
    expect(customerCalls.find((x) => x.status === 429)!.body.error.message).toMatch(
      new RegExp(`^ExceededBudget: End User=${customerId} over budget\\. Spend=[\\d.e-]+, Budget=[\\d.e-]+$`),
    );
  });

  it('starts a new budget period on time (budget_duration), on any instance, keeping lifetime spend', {
    repeats: 4,
  }, async () => {
    const key = await a.createKey({ max_budget: nanosToUsd(oneCall), budget_duration: '2s' });
    await settleCaches();
    expect((await chat(a, key)).status).toBe(200);
    await flush(a);
    expect((await chat(b, key)).status).toBe(429);
    const [before] = await a.query<{ budget_reset_at: Date }>(
      'select budget_reset_at from "LiteLLM_VerificationToken" where token = $1',
      [hashKey(key)],
    );
    const boundary = new Date(before!.budget_reset_at).getTime();
    // Soon after the boundary (resets are checked every 200 ms here, 10 s by default) whichever
    // instance got there first reset it, and both admit the key again.
    let admittedAt = 0;
    while (Date.now() < boundary + 10_000) {
      if ((await chat(Date.now() % 2 ? a : b, key)).status === 200) {
        admittedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`budget period reset: admitted again ${admittedAt - boundary} ms after the boundary`);
    expect(admittedAt).toBeGreaterThan(0);
    // The issue asks for within 60 s; here resets are checked every 200 ms, so a few seconds at
    // most even on a loaded machine.
    expect(admittedAt - boundary).toBeLessThan(5_000);
    await flush(a, b);
    const [after] = await a.query<{ spend: string; lifetime_spend: string; budget_reset_at: Date }>(
      'select spend::text, lifetime_spend::text, budget_reset_at from "LiteLLM_VerificationToken" where token = $1',
      [hashKey(key)],
    );
    expect(toNanoUsd(after!.lifetime_spend)).toBe(oneCall * 2n);
    expect(toNanoUsd(after!.spend)).toBe(oneCall);
    expect(new Date(after!.budget_reset_at).getTime()).toBeGreaterThan(boundary);
    const reconcile = await fetch(`${a.gateway.url}/spend/reconcile`, {
      headers: { authorization: `Bearer ${a.masterKey}` },
    });
    expect(await reconcile.json()).toMatchObject({ ok: true, difference: '0' });
  });

  it("holds a user's budget across their personal keys, but not for their team keys", {
    repeats: 4,
  }, async () => {
    const userId = `budget-user-${Date.now()}`;
    await admin(a, '/user/new', {
      user_id: userId,
      max_budget: nanosToUsd(oneCall * 2n),
      auto_create_key: false,
    });
    await admin(a, '/team/new', { team_id: `${userId}-team` });
    const personal = [await a.createKey({ user_id: userId }), await a.createKey({ user_id: userId })];
    const teamKey = await a.createKey({ user_id: userId, team_id: `${userId}-team` });
    await settleCaches();
    const calls = await Promise.all(
      Array.from({ length: 20 }, (_, i) => chat(i % 2 ? b : a, personal[i % 2]!)),
    );
    const admitted = calls.filter((x) => x.status === 200).length;
    await flush(a, b);
    const [user] = await a.query<{ spend: string }>(
      'select spend::text from "LiteLLM_UserTable" where user_id = $1',
      [userId],
    );
    const spent = toNanoUsd(user!.spend);
    console.log(`user budget: ${admitted}/20 admitted, overshoot $${nanosToUsd(spent - oneCall * 2n)}`);
    expect(spent - oneCall * 2n).toBeLessThanOrEqual(oneCall);
    expect(calls.find((x) => x.status === 429)!.body.error.message).toMatch(
      new RegExp(`^ExceededBudget: User=${userId} over budget\\. Spend=[\\d.e-]+, Budget=[\\d.e-]+$`),
    );
    // A team key spends the team's budget, not the owner's (as LiteLLM).
    expect((await chat(b, teamKey)).status).toBe(200);
  });

  it("holds a key's per-model budget (model_max_budget) within its window, other models unaffected", {
    repeats: 4,
  }, async () => {
    const key = await a.createKey({
      model_max_budget: { 'gpt-4o-mini': { budget_limit: nanosToUsd(oneCall * 2n), time_period: '1d' } },
    });
    await settleCaches();
    const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(i % 2 ? b : a, key)));
    const admitted = calls.filter((x) => x.status === 200).length;
    console.log(`model_max_budget: ${admitted}/20 admitted`);
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(BigInt(admitted) * oneCall - oneCall * 2n).toBeLessThanOrEqual(oneCall);
    expect(calls.find((x) => x.status === 429)!.body.error.message).toMatch(
      new RegExp(
        `^LiteLLM Virtual Key: ${hashKey(key)}, exceeded budget for model=gpt-4o-mini\\. Current cost: [\\d.e-]+, Max budget: [\\d.e-]+$`,
      ),
    );
    expect((await chat(b, key, { model: 'priced-by-config' })).status).toBe(200);
  });

  it("holds a tag's budget across keys and instances (/tag/new)", { repeats: 4 }, async () => {
    const tag = `budget-tag-${Date.now()}`;
    await admin(a, '/tag/new', {
      name: tag,
      description: 'a cost centre',
      max_budget: nanosToUsd(oneCall * 2n),
    });
    const keys = [await a.createKey(), await a.createKey()];
    await settleCaches();
    const calls = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        chat(i % 2 ? b : a, keys[i % 2]!, { headers: { 'x-litellm-tags': tag } }),
      ),
    );
    const admitted = calls.filter((x) => x.status === 200).length;
    await flush(a, b);
    const info = await fetch(`${a.gateway.url}/tag/info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ names: [tag] }),
    });
    const body = (await info.json()) as Record<
      string,
      { spend: number; litellm_budget_table: { max_budget: number } }
    >;
    const [row] = await a.query<{ spend: string }>(
      'select spend::text from "LiteLLM_TagTable" where tag_name = $1',
      [tag],
    );
    const spent = toNanoUsd(row!.spend);
    console.log(`tag budget: ${admitted}/20 admitted, overshoot $${nanosToUsd(spent - oneCall * 2n)}`);
    expect(spent - oneCall * 2n).toBeLessThanOrEqual(oneCall);
    expect(body[tag]).toMatchObject({
      spend: Number(row!.spend),
      litellm_budget_table: { max_budget: nanosToUsd(oneCall * 2n) },
    });
    expect(calls.find((x) => x.status === 429)!.body.error.message).toMatch(
      new RegExp(`^Budget has been exceeded! Tag=${tag} Current cost: [\\d.e-]+, Max budget: [\\d.e-]+$`),
    );
    // Calls without the tag are not held by its budget.
    expect((await chat(b, keys[0]!)).status).toBe(200);
  });
});

describe('soft budgets (Postgres and Redis, two instances)', () => {
  let a: TestGateway;
  let b: TestGateway;
  let hooks: Server;
  const received: Record<string, unknown>[] = [];

  beforeAll(async () => {
    hooks = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    const webhook = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    a = await startTestGateway('postgres+redis', { alertWebhookUrl: webhook });
    b = await startTestGateway('postgres+redis', { shareWith: a, alertWebhookUrl: webhook });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await new Promise((r) => hooks?.close(r));
  });

  it('reports the crossing once (webhook and metric) and flags later calls, without refusing them', {
    repeats: 4,
  }, async () => {
    const metric = async (g: TestGateway) =>
      Number(
        /litellm_soft_budget_crossed_total\{entity="key"\} (\d+)/.exec(
          await (await fetch(`${g.gateway.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const countedBefore = (await metric(a)) + (await metric(b));
    const probe = await chat(a, await a.createKey());
    const oneCall = probe.cost!;
    const key = await a.createKey({
      max_budget: nanosToUsd(oneCall * 100n),
      soft_budget: nanosToUsd(oneCall * 2n),
    });
    await settleCaches();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await chat(i % 2 ? b : a, key));
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200, 200]);
    await new Promise((r) => setTimeout(r, 300));
    const crossings = received.filter((hook) => hook.token === hashKey(key));
    console.log(`soft budget: ${crossings.length} webhook alert(s) for 5 calls crossing it at the second`);
    expect(crossings).toEqual([
      expect.objectContaining({
        event: 'soft_budget_crossed',
        event_group: 'key',
        spend: nanosToUsd(oneCall * 2n),
        soft_budget: nanosToUsd(oneCall * 2n),
      }),
    ]);
    expect((await metric(a)) + (await metric(b)) - countedBefore).toBe(1);
    // Calls admitted once the soft budget was spent say so.
    const flagged = await fetch(`${a.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(flagged.headers.get('x-litellm-soft-budget-exceeded')).toBe('api_key');
  });
});
