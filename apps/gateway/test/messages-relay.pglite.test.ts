import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * `/v1/messages` in front of an Anthropic deployment is a relay: the client's body goes up
 * with only the model name replaced and our own fields removed, whatever roles, blocks and
 * settings it holds. A request recorded from a current Claude Code (system entries inside
 * `messages`, adaptive thinking, `output_config`, `context_management`, beta headers) is the
 * corpus: the gateway's closed schema used to refuse it with `messages.1.role: Invalid option`.
 */
const corpus = JSON.parse(
  readFileSync(new URL('./fixtures/clients/claude-code-current.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const BETA = 'claude-code-20250219,mid-conversation-tool-changes-2026-07-01,effort-2025-11-24';

let t: TestGateway;
let key: string;
beforeAll(async () => {
  t = await startTestGateway('pglite');
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
});

const send = (body: Record<string, unknown>, apiKey = key) =>
  fetch(`${t.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': apiKey,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': BETA,
    },
    body: JSON.stringify(body),
  });

describe('/v1/messages relayed to an Anthropic deployment', () => {
  it.each([true, false])(
    'passes a current Claude Code request through unchanged but for the model (stream %s)',
    async (stream) => {
      const before = t.mock.requests.length;
      const response = await send({ ...corpus, stream });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      if (stream) expect(text).toContain('event: message_stop');
      else expect(JSON.parse(text)).toMatchObject({ type: 'message', model: 'claude-sonnet-4-5-20250929' });

      const sent = t.mock.requests.slice(before);
      expect(sent).toHaveLength(1);
      const { litellm_metadata: _ours, ...expected } = { ...corpus, stream } as Record<string, unknown>;
      expect(sent[0]!.body).toEqual({ ...expected, model: 'claude-sonnet-4-5-20250929' });
      expect(sent[0]!.headers['anthropic-beta']).toBe(BETA);

      const row = await t.spendRow<{
        status: string;
        completion_tokens: number;
        spend: string | null;
        request_tags: string[];
      }>(response.headers.get('x-litellm-call-id'));
      expect(row).toMatchObject({ status: 'success', request_tags: ['claude-code'] });
      expect(row.completion_tokens).toBeGreaterThan(0);
      expect(Number(row.spend)).toBeGreaterThan(0);
    },
  );

  it('still refuses what the gateway needs and cannot use, before calling upstream', async () => {
    const before = t.mock.requests.length;
    for (const [body, param] of [
      [{ ...corpus, stream: 'true' }, 'stream'],
      [{ ...corpus, max_tokens: 0 }, 'max_tokens'],
      [{ ...corpus, model: 7 }, 'model'],
    ] as const) {
      const response = await send(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining(param) },
      });
    }
    expect(t.mock.requests.length).toBe(before);
  });

  it('a translated deployment still checks the body against the Messages schema, and records no row for a refusal', async () => {
    const response = await send({
      ...corpus,
      model: 'gpt-4o-mini',
      messages: [{ role: 'robot', content: 'hi' }],
    });
    expect(response.status).toBe(400);
    const callId = response.headers.get('x-litellm-call-id');
    await new Promise((r) => setTimeout(r, 300));
    expect(await t.query('select 1 from "LiteLLM_SpendLogs" where request_id = $1', [callId])).toEqual([]);
  });

  it('a refused body holds no rate-limit slot: it is checked before admission', async () => {
    const limited = await t.createKey({ rpm_limit: 1 });
    const refused = await send(
      { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'robot', content: 'hi' }] },
      limited,
    );
    expect(refused.status).toBe(400);
    const admitted = await send(
      { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      limited,
    );
    expect(admitted.status).toBe(200);
  });
});

describe('/v1/messages translated for an OpenAI-format deployment', () => {
  it.each([true, false])(
    'accepts a current Claude Code request: system entries in place, effort as reasoning_effort, context_management reported dropped (stream %s)',
    async (stream) => {
      const before = t.mock.requests.length;
      const response = await send({ ...corpus, model: 'gpt-4o-mini', stream });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      expect(response.headers.get('x-gateway-dropped-params')).toBe('context_management');
      const sent = t.mock.requests.slice(before);
      expect(sent).toHaveLength(1);
      const body = sent[0]!.body as Record<string, unknown>;
      expect(body).toMatchObject({ model: 'gpt-4o-mini', reasoning_effort: 'high' });
      expect(body).not.toHaveProperty('context_management');
      expect(body).not.toHaveProperty('output_config');
      const roles = (body.messages as { role: string }[]).map((m) => m.role);
      // system (top-level), user, system (mid-conversation), assistant, tool, user.
      expect(roles).toEqual(['system', 'user', 'system', 'assistant', 'tool', 'user']);
      expect((body.messages as { content: unknown }[])[2]!.content).toBe(
        'The working directory changed to /work/project.',
      );

      const row = await t.spendRow<{ status: string; model_group: string; spend: string | null }>(
        response.headers.get('x-litellm-call-id'),
      );
      expect(row).toMatchObject({ status: 'success', model_group: 'gpt-4o-mini' });
      expect(Number(row.spend)).toBeGreaterThan(0);
    },
  );

  it('refuses a block it cannot carry with a 400 naming it, before calling upstream', async () => {
    const before = t.mock.requests.length;
    const response = await send({
      ...corpus,
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Search the web.' },
        {
          role: 'assistant',
          content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } }],
        },
        { role: 'user', content: 'Go on.' },
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(
          /^messages\.1\.content\.0: a server_tool_use block cannot be translated/,
        ),
      },
    });
    expect(t.mock.requests.length).toBe(before);
  });
});
