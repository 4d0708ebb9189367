import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * The corpus: request bodies recorded from current clients (Claude Code, `@anthropic-ai/sdk`,
 * `openai`; `scripts/record-client-corpus.ts`), replayed through the gateway on every change.
 * Same dialect as the deployment, a body is relayed: what reaches the upstream equals what the
 * client sent but for the documented edits (model name; LiteLLM's own fields; usage asked for on
 * an OpenAI stream). Across dialects, it is translated and accepted.
 */
interface Entry {
  name: string;
  client: string;
  dialect: 'anthropic' | 'openai';
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}
const dir = new URL('./fixtures/client-corpus/', import.meta.url);
const corpus: Entry[] = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    name: file.replace(/\.json$/, ''),
    ...JSON.parse(readFileSync(new URL(file, dir), 'utf8')),
  }));
const anthropicEntries = corpus.filter((entry) => entry.dialect === 'anthropic');
const openaiEntries = corpus.filter((entry) => entry.dialect === 'openai');

let t: TestGateway;
let key: string;
beforeAll(async () => {
  t = await startTestGateway('pglite');
  key = await t.createKey();
});
afterAll(async () => {
  await t?.close();
});

/** Sends an entry's body (its model replaced by one of ours) with the headers its client sent. */
async function replay(
  entry: Entry,
  model: string,
): Promise<{ status: string; text: string; sent: unknown[] }> {
  const before = t.mock.requests.length;
  const path = entry.dialect === 'anthropic' ? '/v1/messages' : '/v1/chat/completions';
  const response = await fetch(`${t.gateway.url}${path}`, {
    method: 'POST',
    headers: {
      ...entry.headers,
      'content-type': 'application/json',
      ...(entry.dialect === 'anthropic' ? { 'x-api-key': key } : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ ...entry.body, model }),
  });
  const text = await response.text();
  return { status: String(response.status), text, sent: t.mock.requests.slice(before) };
}

it('holds the recorded clients', () => {
  const clients = new Set(corpus.map((entry) => entry.client.split(' ')[0]));
  expect([...clients].sort()).toEqual(['@anthropic-ai/sdk', 'claude-code', 'openai']);
});

describe.each(anthropicEntries)('$name ($client)', (entry) => {
  it('is relayed to an Anthropic deployment unchanged but for the model', async () => {
    const { status, text, sent } = await replay(entry, 'claude-sonnet');
    expect(status, text).toBe('200');
    expect(sent).toHaveLength(1);
    const upstream = sent[0] as { path: string; body: unknown; headers: Record<string, string> };
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.body).toEqual({ ...entry.body, model: 'claude-sonnet-4-5-20250929' });
    if (entry.headers['anthropic-beta'])
      expect(upstream.headers['anthropic-beta']).toBe(entry.headers['anthropic-beta']);
  });

  it('is translated for an OpenAI-format deployment and accepted', async () => {
    const { status, text, sent } = await replay(entry, 'gpt-4o-mini');
    expect(status, text).toBe('200');
    expect((sent[0] as { path: string }).path).toBe('/v1/chat/completions');
  });
});

describe.each(openaiEntries)('$name ($client)', (entry) => {
  it('is relayed to an OpenAI-format deployment unchanged but for the documented edits', async () => {
    const { status, text, sent } = await replay(entry, 'gpt-4o-mini');
    expect(status, text).toBe('200');
    const upstream = sent[0] as { path: string; body: unknown };
    expect(upstream.path).toBe('/v1/chat/completions');
    // The model; LiteLLM's fields (`metadata` is LiteLLM's on its proxy); usage asked for on a stream.
    const { metadata: _metadata, ...expected } = entry.body;
    if (expected.stream === true)
      expected.stream_options = { ...(expected.stream_options as object), include_usage: true };
    expect(upstream.body).toEqual({ ...expected, model: 'gpt-4o-mini' });
  });

  it('is translated for an Anthropic deployment and accepted', async () => {
    const { status, text, sent } = await replay(entry, 'claude-sonnet');
    expect(status, text).toBe('200');
    expect((sent[0] as { path: string }).path).toBe('/v1/messages');
  });
});
