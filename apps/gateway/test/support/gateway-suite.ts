import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toNanoUsd } from './money.ts';
import { type Backend, startTestGateway, type TestGateway } from './test-gateway.ts';

// Catalog prices the assertions rely on (gpt-4o-mini, @pydantic/genai-prices 0.1.8), in
// nano-USD per token: input $0.15/M, cached input $0.075/M, output $0.60/M.
const GPT_4O_MINI = { input: 150n, cached: 75n, output: 600n };
// Config overrides of `priced-by-config`: $2/M input, $8/M output.
const CONFIG_PRICED = { input: 2000n, output: 8000n };

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

interface SpendRow {
  request_id: string;
  spend: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cache_read_input_tokens: number | null;
  model_group: string;
  custom_llm_provider: string;
  status: string;
  end_user: string | null;
  request_tags: string[];
  pricing: { source: string; unpricedReason?: string } | null;
}

/**
 * The first vertical slice end to end, with the official `openai` client as the caller:
 * key generation, calls streamed and not, and the spend rows they leave.
 */
export function defineGatewaySuite(backend: Backend): void {
  describe(`gateway on ${backend}`, () => {
    let t: TestGateway;

    beforeAll(async () => {
      t = await startTestGateway(backend);
    });
    afterAll(async () => {
      await t?.close();
    });

    const admin = (path: string, init: RequestInit = {}) =>
      fetch(`${t.gateway.url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${t.masterKey}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });

    async function generateKey(body: Record<string, unknown> = {}): Promise<{ key: string; token: string }> {
      const response = await admin('/key/generate', { method: 'POST', body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      return (await response.json()) as { key: string; token: string };
    }

    const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${t.gateway.url}/v1`, maxRetries: 0 });

    async function spendRows(tokenHash: string, expected: number): Promise<SpendRow[]> {
      return vi.waitFor(
        async () => {
          const rows = await t.query<SpendRow>(
            'select * from "LiteLLM_SpendLogs" where api_key = $1 order by "startTime"',
            [tokenHash],
          );
          if (rows.length < expected) throw new Error(`${rows.length} of ${expected} spend rows so far`);
          return rows;
        },
        { timeout: 5_000, interval: 50 },
      );
    }

    async function keySpend(tokenHash: string): Promise<string> {
      const [row] = await t.query<{ spend: string }>(
        'select spend::text as spend from "LiteLLM_VerificationToken" where token = $1',
        [tokenHash],
      );
      return row!.spend;
    }

    it('issues an sk- key and stores only its SHA-256 hash', async () => {
      const { key, token } = await generateKey({
        key_alias: `alias-${backend}`,
        max_budget: 10,
        tags: ['ci'],
      });
      expect(key).toMatch(/^sk-[A-Za-z0-9_-]{22}$/);
      expect(token).toBe(createHash('sha256').update(key).digest('hex'));
      const leaks = await t.query<{ n: number }>(
        `select count(*)::int as n from "LiteLLM_VerificationToken" t where row_to_json(t)::text like $1`,
        [`%${key}%`],
      );
      expect(leaks[0]!.n).toBe(0);
      const info = await admin(`/key/info?key=${key}`);
      expect(await info.json()).toMatchObject({
        key,
        info: {
          key_alias: `alias-${backend}`,
          max_budget: 10,
          spend: 0,
          tags: ['ci'],
          key_name: `sk-...${key.slice(-4)}`,
        },
      });
    });

    it('a non-streamed call yields one spend row costing tokens x price, and the key spend shows it', async () => {
      const { key, token } = await generateKey();
      const completion = await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        user: 'end-user-7',
        messages: [
          { role: 'system', content: 'You are terse and precise in every answer you give.' },
          { role: 'user', content: 'Summarise the report. [mock:cached_tokens=16]' },
        ],
      });
      expect(completion.choices[0]?.message.content).toContain('deterministic reply');
      const usage = completion.usage!;
      expect(usage.prompt_tokens_details?.cached_tokens).toBe(16);

      await spendRows(token, 1);
      // Everything queued is written now: a duplicate would show up.
      await t.gateway.spendQueue.flush();
      const [row, ...more] = await spendRows(token, 1);
      expect(more).toHaveLength(0);
      const expectedNanos =
        BigInt(usage.prompt_tokens - 16) * GPT_4O_MINI.input +
        16n * GPT_4O_MINI.cached +
        BigInt(usage.completion_tokens) * GPT_4O_MINI.output;
      expect(toNanoUsd(row!.spend!)).toBe(expectedNanos);
      expect(row).toMatchObject({
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.total_tokens,
        cache_read_input_tokens: 16,
        model_group: 'gpt-4o-mini',
        custom_llm_provider: 'openai',
        status: 'success',
        end_user: 'end-user-7',
      });
      await vi.waitFor(async () => expect(toNanoUsd(await keySpend(token))).toBe(expectedNanos));

      // The upstream saw the gateway's own provider key, never the virtual key.
      const upstream = t.mock.requests.at(-1)!;
      expect(upstream.headers.authorization).toBe('Bearer sk-upstream-secret');
      expect(upstream.body).toMatchObject({ model: 'gpt-4o-mini', user: 'end-user-7' });
    });

    it('reports the cost in x-litellm-response-cost', async () => {
      const { key } = await generateKey();
      const { data, response } = await client(key)
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
        .withResponse();
      expect(toNanoUsd(response.headers.get('x-litellm-response-cost')!)).toBe(
        BigInt(data.usage!.prompt_tokens) * GPT_4O_MINI.input +
          BigInt(data.usage!.completion_tokens) * GPT_4O_MINI.output,
      );
      expect(response.headers.get('x-litellm-call-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('a streamed call records its usage even when the client did not ask for usage', async () => {
      const { key, token } = await generateKey();
      const stream = await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Stream me five tokens [mock:reply_tokens=5]' }],
      });
      let text = '';
      let sawUsage = false;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) sawUsage = true;
      }
      expect(text).toBe('This is a deterministic reply');
      expect(sawUsage).toBe(false);
      expect(t.mock.requests.at(-1)!.body).toMatchObject({
        stream: true,
        stream_options: { include_usage: true },
      });

      const [row] = await spendRows(token, 1);
      expect(row).toMatchObject({ completion_tokens: 5, status: 'success' });
      const expectedNanos = BigInt(row!.prompt_tokens!) * GPT_4O_MINI.input + 5n * GPT_4O_MINI.output;
      expect(toNanoUsd(row!.spend!)).toBe(expectedNanos);
      await vi.waitFor(async () => expect(toNanoUsd(await keySpend(token))).toBe(expectedNanos));
    });

    it('a streamed call with include_usage ends with the usage the spend row records', async () => {
      const { key, token } = await generateKey();
      const stream = await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Hello [mock:cached_tokens=4]' }],
      });
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      expect(usage?.prompt_tokens_details?.cached_tokens).toBe(4);
      const [row] = await spendRows(token, 1);
      expect(row).toMatchObject({
        prompt_tokens: usage!.prompt_tokens,
        completion_tokens: usage!.completion_tokens,
        cache_read_input_tokens: 4,
      });
      // No cost in the usage chunk unless include_cost_in_streaming_usage asks for it (LiteLLM's default).
      expect(usage).not.toHaveProperty('cost');
      expect(row!.spend).not.toBeNull();
    });

    it('an unknown key gets 401 with LiteLLM error body', async () => {
      const unknown = 'sk-unknownunknownunknown1';
      const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${unknown}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(401);
      const hash = createHash('sha256').update(unknown).digest('hex');
      expect(await response.json()).toEqual({
        error: {
          message: `Authentication Error, Invalid proxy server token passed. Received API Key = sk-...own1, Key Hash (Token) =${hash}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
          type: 'auth_error',
          param: 'None',
          code: '401',
        },
      });
      await expect(
        client(unknown).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ).rejects.toMatchObject({ status: 401, type: 'auth_error' });
    });

    it('a key without a bearer prefix or without sk- is refused with the contract messages', async () => {
      const call = (headers: Record<string, string>) =>
        fetch(`${t.gateway.url}/v1/models`, { headers }).then(async (r) => [
          r.status,
          ((await r.json()) as ErrorBody).error.message,
        ]);
      expect(await call({ authorization: 'Token abc' })).toEqual([
        401,
        'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.',
      ]);
      expect(await call({ authorization: 'Bearer abcdefghijkl' })).toEqual([
        401,
        "LiteLLM Virtual Key expected. Received=abcd****ijkl, expected to start with 'sk-'.",
      ]);
      expect(await call({})).toEqual([401, 'No api key passed in.']);
    });

    /**
     * A stream that ended before its usage arrived is priced from token counts the gateway
     * estimated (o200k tokenizer), flagged as estimates; never left unpriced, never $0.
     */
    async function expectEstimatedFailureRow(token: string, streamed: string | { atMost: number }) {
      const [row] = await spendRows(token, 1);
      const estimate = row as SpendRow & {
        pricing: { estimatedUsage?: string[] };
        metadata: { usage_estimated?: string[] };
      };
      expect(estimate).toMatchObject({
        status: 'failure',
        pricing: { source: 'catalog', estimatedUsage: ['input', 'output'] },
        metadata: { usage_estimated: ['input', 'output'] },
      });
      // Every word the mock streams is one o200k token ("This", " is", " a", ...).
      if (typeof streamed === 'string')
        expect(estimate.completion_tokens).toBe(streamed.split(' ').filter(Boolean).length);
      else expect(estimate.completion_tokens).toBeGreaterThan(0);
      if (typeof streamed !== 'string') expect(estimate.completion_tokens).toBeLessThan(streamed.atMost);
      expect(estimate.prompt_tokens).toBeGreaterThan(5);
      expect(toNanoUsd(estimate.spend!)).toBe(
        BigInt(estimate.prompt_tokens!) * GPT_4O_MINI.input +
          BigInt(estimate.completion_tokens!) * GPT_4O_MINI.output,
      );
    }

    it('an upstream cut mid-stream ends with an error event and a row priced from estimated usage', async () => {
      const { key, token } = await generateKey();
      const stream = await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'cut me [mock:cut_after=3]' }],
      });
      let text = '';
      await expect(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toThrow();
      expect(text).toBe('This is a');
      await expectEstimatedFailureRow(token, text);
    });

    it("an upstream's mid-stream error event reaches the client as an error", async () => {
      const { key, token } = await generateKey();
      const stream = await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'fail midway [mock:stream_error_after=2]' }],
      });
      let text = '';
      await expect(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toMatchObject({ message: expect.stringContaining('mid-stream') });
      await expectEstimatedFailureRow(token, text);
    });

    it('a client that disconnects mid-stream aborts the upstream and still leaves its row', async () => {
      const { key, token } = await generateKey();
      const controller = new AbortController();
      const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        signal: controller.signal,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'long one [mock:reply_tokens=200] [mock:chunk_delay_ms=20]' }],
        }),
      });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      controller.abort();
      // What the gateway forwarded before the abort reached it: some of the 200 tokens.
      await expectEstimatedFailureRow(token, { atMost: 200 });
      const [row] = await spendRows(token, 1);
      const [meta] = await t.query<{ client_closed: boolean }>(
        `select (metadata->>'client_closed')::boolean as client_closed from "LiteLLM_SpendLogs" where request_id = $1`,
        [row!.request_id],
      );
      expect(meta!.client_closed).toBe(true);
    });

    it('accepts the key from x-litellm-api-key and x-api-key too', async () => {
      const { key } = await generateKey();
      for (const header of ['x-litellm-api-key', 'x-api-key']) {
        const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { [header]: key, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(response.status, header).toBe(200);
      }
    });

    it('/health calls every deployment and reports each one', async () => {
      const response = await admin('/health');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        healthy_count: t.gateway.deployments.length,
        unhealthy_count: 0,
      });
    });

    it('a model without a known price is recorded as unpriced, never as $0', async () => {
      const { key, token } = await generateKey();
      await client(key).chat.completions.create({
        model: 'mock-unpriced',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const [row] = await spendRows(token, 1);
      expect(row!.spend).toBeNull();
      expect(row!.pricing).toMatchObject({ source: 'none', unpricedReason: 'unknown_model' });
      expect(row!.prompt_tokens).toBeGreaterThan(0);
      expect(await keySpend(token)).toBe('0');
    });

    it('prices a model from its config overrides', async () => {
      const { key, token } = await generateKey();
      const completion = await client(key).chat.completions.create({
        model: 'priced-by-config',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const [row] = await spendRows(token, 1);
      expect(toNanoUsd(row!.spend!)).toBe(
        BigInt(completion.usage!.prompt_tokens) * CONFIG_PRICED.input +
          BigInt(completion.usage!.completion_tokens) * CONFIG_PRICED.output,
      );
      expect(row!.pricing).toMatchObject({ source: 'config' });
    });

    it('keeps an upstream error status and records the failure at no cost', async () => {
      const { key, token } = await generateKey();
      await expect(
        client(key).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'fail please [mock:error=429]' }],
        }),
      ).rejects.toMatchObject({ status: 429, code: '429' });
      const [row] = await spendRows(token, 1);
      expect(row).toMatchObject({ status: 'failure', spend: '0', prompt_tokens: null });
    });

    it("passes the upstream's retry-after and headers through, prefixed llm_provider-", async () => {
      const { key } = await generateKey();
      const call = (content: string) =>
        fetch(`${t.gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
        });
      const limited = await call('[mock:error=429]');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      const ok = await call('hello');
      expect(ok.headers.get('llm_provider-x-request-id')).toBe('req_mock');
    });

    it('refuses client-chosen upstreams and drops LiteLLM router settings instead of forwarding them', async () => {
      const { key } = await generateKey();
      const call = (extra: Record<string, unknown>) =>
        fetch(`${t.gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'hi' }],
            ...extra,
          }),
        });
      const refused = await call({ api_base: 'http://169.254.169.254/latest' });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as ErrorBody).error.param).toBe('api_base');
      expect((await call({ fallbacks: ['gpt-4o'], num_retries: 3, seed: 7 })).status).toBe(200);
      const sent = t.mock.requests.at(-1)!.body as Record<string, unknown>;
      expect(sent).not.toHaveProperty('fallbacks');
      expect(sent).not.toHaveProperty('num_retries');
      expect(sent).toMatchObject({ seed: 7 });
    });

    it('refuses a model the key may not use, naming the rule', async () => {
      const { key } = await generateKey({ models: ['gpt-4o-mini'] });
      await expect(
        client(key).chat.completions.create({
          model: 'mock-unpriced',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ).rejects.toMatchObject({ status: 401, type: 'key_model_access_denied', param: 'model' });
      const models = await client(key).models.list();
      expect(models.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
    });

    it('an unknown model name is a 400 in the OpenAI shape', async () => {
      const { key } = await generateKey();
      await expect(
        client(key).chat.completions.create({
          model: 'no-such-model',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ).rejects.toMatchObject({ status: 400, param: 'model' });
    });

    it('a malformed body is a 400 naming the field', async () => {
      const { key } = await generateKey();
      const response = await fetch(`${t.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { type: 'invalid_request_error', param: 'messages', code: '400' },
      });
    });

    it('a virtual key reads its own /key/info, gets 403 for another key and for admin routes', async () => {
      const mine = await generateKey();
      const other = await generateKey();
      const asMine = (path: string, init: RequestInit = {}) =>
        fetch(`${t.gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${mine.key}` } });
      expect((await asMine('/key/info')).status).toBe(200);
      expect((await asMine(`/key/info?key=${other.token}`)).status).toBe(403);
      expect((await asMine('/key/generate', { method: 'POST', body: '{}' })).status).toBe(403);
    });

    it('rejects a duplicate key alias', async () => {
      await generateKey({ key_alias: `dup-${backend}` });
      const response = await admin('/key/generate', {
        method: 'POST',
        body: JSON.stringify({ key_alias: `dup-${backend}` }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error).toMatchObject({ param: 'key_alias' });
    });

    it('/spend/logs and /spend/tags report what calls cost', async () => {
      const { key, token } = await generateKey({ tags: [`tag-${backend}`] });
      const { data, response } = await client(key)
        .chat.completions.create({
          model: 'gpt-4o-mini',
          user: `spend-logs-user-${backend}`,
          messages: [{ role: 'user', content: 'hi' }],
        })
        .withResponse();
      const callId = response.headers.get('x-litellm-call-id');
      await spendRows(token, 1);
      // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary JSON
      const json = async (path: string): Promise<any> => (await admin(path)).json();
      const byKey = await json(`/spend/logs?api_key=${key}`);
      expect(byKey).toHaveLength(1);
      expect(byKey[0]).toMatchObject({
        request_id: callId,
        api_key: token,
        model_group: 'gpt-4o-mini',
        prompt_tokens: data.usage!.prompt_tokens,
        request_tags: [`tag-${backend}`],
      });
      const cost = byKey[0].spend;
      expect(cost).toBeGreaterThan(0);
      expect(await json(`/spend/logs?request_id=${callId}`)).toEqual(byKey);
      // The response id the client saw finds the row too.
      expect(data.id).not.toBe(callId);
      expect(await json(`/spend/logs?request_id=${data.id}`)).toEqual(byKey);
      expect(await json(`/spend/logs?end_user=${encodeURIComponent(`spend-logs-user-${backend}`)}`)).toEqual(
        byKey,
      );
      expect(await json('/spend/logs?end_user=nobody-at-all')).toEqual([]);
      const today = new Date().toISOString().slice(0, 10);
      // A request id names rows: rows, with dates too, not a day summary.
      expect(await json(`/spend/logs?request_id=${callId}&start_date=${today}&end_date=${today}`)).toEqual(
        byKey,
      );
      expect(await json(`/spend/logs?api_key=${token}&start_date=${today}&end_date=${today}`)).toEqual([
        { startTime: today, spend: cost, [token]: cost, users: {}, models: { 'gpt-4o-mini': cost } },
      ]);
      expect(await json('/spend/tags')).toContainEqual({
        individual_request_tag: `tag-${backend}`,
        log_count: 1,
        total_spend: cost,
      });
      expect(await json(`/spend/tags?start_date=${today}&end_date=${today}`)).toContainEqual({
        individual_request_tag: `tag-${backend}`,
        log_count: 1,
        total_spend: cost,
      });
      const tagsOf = async (path: string) =>
        ((await json(path)) as { individual_request_tag: string }[]).map((t) => t.individual_request_tag);
      expect(await tagsOf('/spend/tags?start_date=2020-01-01&end_date=2020-01-31')).not.toContain(
        `tag-${backend}`,
      );
      expect((await admin('/spend/logs?start_date=2026-01-01')).status).toBe(400);
    });

    it('/spend/logs and /spend/logs/ui answer a page at a time, newest first, never overlapping', async () => {
      const { key, token } = await generateKey({ key_alias: `paged-${backend}` });
      for (let i = 0; i < 5; i++) {
        await client(key).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `page ${i}` }],
        });
      }
      await spendRows(token, 5);
      // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary JSON
      const json = async (path: string): Promise<any> => (await admin(path)).json();
      const first = await admin(`/spend/logs?api_key=${token}&page_size=2`);
      expect(first.headers.get('link')).toBe(`</spend/logs?api_key=${token}&page_size=2&page=2>; rel="next"`);
      const pages = [
        await first.json(),
        await json(`/spend/logs?api_key=${token}&page_size=2&page=2`),
        await json(`/spend/logs?api_key=${token}&page_size=2&page=3`),
      ];
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      const ids = pages.flat().map((row: { request_id: string }) => row.request_id);
      expect(new Set(ids).size).toBe(5);
      const times = pages.flat().map((row: { startTime: string }) => row.startTime);
      expect([...times].sort().reverse()).toEqual(times);
      const last = await admin(`/spend/logs?api_key=${token}&page_size=2&page=3`);
      expect(last.headers.get('link')).toBeNull();
      expect((await admin('/spend/logs?page_size=1001')).status).toBe(422);

      const ui = await json(
        `/spend/logs/ui?key_alias=${encodeURIComponent(`paged-${backend}`)}&page_size=2&page=2`,
      );
      expect(ui).toMatchObject({ total: 5, page: 2, page_size: 2, total_pages: 3 });
      expect(ui.data.map((row: { request_id: string }) => row.request_id)).toEqual(ids.slice(2, 4));
      const today = new Date().toISOString().slice(0, 10);
      expect(
        await json(`/spend/logs/ui?api_key=${key}&status_filter=success&start_date=${today}%2000:00:00`),
      ).toMatchObject({ total: 5 });
      expect(
        await json(`/spend/logs/ui?api_key=${key}&start_date=2020-01-01&end_date=2020-01-02`),
      ).toMatchObject({
        total: 0,
        data: [],
      });
    });

    it('is live and ready while the database answers', async () => {
      expect(await (await fetch(`${t.gateway.url}/health/liveliness`)).json()).toBe("I'm alive!");
      const ready = await fetch(`${t.gateway.url}/health/readiness`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'healthy',
        db: 'connected',
        cache: backend === 'pglite' ? null : 'redis',
      });
    });
  });
}
