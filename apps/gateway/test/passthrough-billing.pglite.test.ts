import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * The `/anthropic/*` pass-through can never be used without being billed: it refuses what it
 * could not meter before calling upstream, reads the answer the way the answer says (a stream
 * is metered as a stream whatever the request asked), and holds budgeted callers to models it
 * can price.
 */
let t: TestGateway;
let alwaysStreams: Server;

/** An upstream in front of the mock that streams every messages call, as one that coerces `stream`. */
async function startAlwaysStreamingUpstream(target: () => string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    const upstream = await fetch(`${target()}${req.url}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': String(req.headers['x-api-key']),
        'anthropic-version': String(req.headers['anthropic-version']),
      },
      body: JSON.stringify({ ...body, stream: true }),
    });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  let mockBase = '';
  alwaysStreams = await startAlwaysStreamingUpstream(() => mockBase);
  const port = (alwaysStreams.address() as AddressInfo).port;
  t = await startTestGateway('pglite', {
    anthropicPassthroughBase: `http://127.0.0.1:${port}`,
    extraDeployments: (mock) => [
      {
        modelName: 'claude-in-house',
        deploymentId: 'in-house',
        provider: 'anthropic',
        upstreamModel: 'claude-in-house-1',
        apiBase: mock.anthropicBaseUrl,
        apiKey: 'sk-upstream-secret',
        priceOverrides: { input_cost_per_token: 1e-5, output_cost_per_token: 1e-4 },
      },
    ],
  });
  mockBase = t.mock.anthropicBaseUrl;
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => alwaysStreams?.close(resolve));
});

const post = (apiKey: string, body: unknown, path = '/anthropic/v1/messages') =>
  fetch(`${t.gateway.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });

const message = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5-20250929',
  max_tokens: 8,
  messages: [{ role: 'user', content: 'hello [mock:reply_tokens=5]' }],
  ...extra,
});

interface Row {
  spend: string | null;
  completion_tokens: number;
  status: string;
}

describe('the /anthropic pass-through', () => {
  it.each([1, 'true', 'yes', null])(
    'refuses stream=%j with a 400 before calling upstream',
    async (stream) => {
      const key = await t.createKey();
      const before = t.mock.requests.length;
      const response = await post(key, message({ stream }));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining('stream') },
      });
      expect(t.mock.requests.length).toBe(before);
    },
  );

  it.each([1e18, 1.5, 0, -3, '64'])(
    'refuses max_tokens=%j with a 400 naming it, before calling upstream',
    async (maxTokens) => {
      const key = await t.createKey({ max_budget: 10 });
      const before = t.mock.requests.length;
      const response = await post(key, message({ max_tokens: maxTokens }));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
      });
      expect(t.mock.requests.length).toBe(before);
    },
  );

  it('meters an answer that streams although the request did not ask for it, and holds the budget', async () => {
    // One call costs ~$0.0001 (Sonnet 4.5: ~10 input tokens at $3/M, 5 output at $15/M).
    const key = await t.createKey({ max_budget: 0.0002 });
    const statuses: number[] = [];
    const callIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await post(key, message({ stream: false }));
      statuses.push(response.status);
      if (response.status === 200) {
        expect(response.headers.get('content-type')).toContain('text/event-stream');
        expect(await response.text()).toContain('message_stop');
        callIds.push(response.headers.get('x-litellm-call-id')!);
      } else await response.text();
      // Let the row land, so the next call is checked against what was spent.
      if (response.status === 200) await t.spendRow(callIds.at(-1)!);
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeLessThan(6);
    expect(statuses.at(-1)).toBe(429);
    for (const id of callIds) {
      const row = await t.spendRow<Row>(id);
      expect(row.status).toBe('success');
      expect(row.completion_tokens).toBe(5);
      expect(Number(row.spend)).toBeGreaterThan(0);
    }
  });

  it('refuses a model nobody can price to a budgeted key, relays it unpriced to one without a budget', async () => {
    const unknown = message({ model: 'claude-nobody-knows-9' });
    const budgeted = await post(await t.createKey({ max_budget: 10 }), unknown);
    expect(budgeted.status).toBe(400);
    expect(await budgeted.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('no known price') },
    });
    const free = await post(await t.createKey(), unknown);
    expect(free.status).toBe(200);
    await free.text();
    const row = await t.spendRow<Row>(free.headers.get('x-litellm-call-id'));
    expect(row.spend).toBeNull();
  });

  it("prices a model the catalog lacks from the operator's model_list entry", async () => {
    const response = await post(
      await t.createKey({ max_budget: 10 }),
      message({ model: 'claude-in-house-1', stream: true }),
    );
    expect(response.status).toBe(200);
    await response.text();
    const row = await t.spendRow<Row & { prompt_tokens: number }>(response.headers.get('x-litellm-call-id'));
    // $10/M input and $100/M output, from the entry.
    expect(Number(row.spend)).toBeCloseTo(row.prompt_tokens * 1e-5 + 5 * 1e-4, 12);
  });

  it('refuses a model id in the path with characters no model id has', async () => {
    const key = await t.createKey();
    for (const path of ['/anthropic/v1/models/..%2F..%2Fv1%2Ffiles', '/anthropic/v1/models/a%00b']) {
      const response = await fetch(`${t.gateway.url}${path}`, { headers: { 'x-api-key': key } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });
    }
  });
});

describe('cost headers on non-streamed Anthropic answers', () => {
  it('a non-streamed /v1/messages to an Anthropic deployment carries the cost and key spend', async () => {
    const key = await t.createKey();
    const anthropic = new Anthropic({ apiKey: key, baseURL: t.gateway.url, maxRetries: 0 });
    const { response } = await anthropic.messages
      .create({ model: 'claude-sonnet', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeGreaterThan(0);
    expect(response.headers.get('x-litellm-key-spend')).toBe('0');
  });
});
