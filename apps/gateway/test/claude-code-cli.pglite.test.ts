import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hashKey } from '../src/lookups/virtual-key.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

/**
 * The Claude Code CLI (npm `@anthropic-ai/claude-code`, its native binary, offline) as a client:
 * `claude -p` through `/v1/messages` to an Anthropic deployment (relayed) and to OpenAI-format,
 * DeepSeek and Ollama deployments (translated), and through `/anthropic`. Each run asserts the reply it
 * printed and the spend row the gateway wrote for its key. The model names are ones Claude Code
 * knows, so it sends what it sends to Anthropic: adaptive thinking, `output_config.effort`,
 * `context_management`, deferred tools and its beta headers.
 */

const execFileAsync = promisify(execFile);
const MOCK_REPLY = 'This is a deterministic reply from the mock provider';

/** The platform binary the npm package installs as an optional dependency (its postinstall only links it). */
function claudeBinary(): string {
  const require = createRequire(import.meta.url);
  const wrapper = createRequire(require.resolve('@anthropic-ai/claude-code/package.json'));
  const platform = `${process.platform}-${process.arch}`;
  return join(wrapper.resolve(`@anthropic-ai/claude-code-${platform}/package.json`), '..', 'claude');
}

let t: TestGateway;
let home: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gw-claude-home-'));
  t = await startTestGateway('pglite', {
    extraDeployments: (mock) => {
      const base = {
        apiKey: 'sk-upstream-secret',
        priceOverrides: {},
      };
      return [
        {
          ...base,
          modelName: 'claude-opus-4-6',
          deploymentId: 'cc-anthropic',
          provider: 'anthropic',
          upstreamModel: 'claude-opus-4-6',
          apiBase: mock.anthropicBaseUrl,
        },
        {
          ...base,
          modelName: 'claude-opus-4-7',
          deploymentId: 'cc-openai',
          provider: 'openai',
          upstreamModel: 'gpt-4o-mini',
          apiBase: mock.openaiBaseUrl,
        },
        {
          ...base,
          modelName: 'claude-haiku-4-5',
          deploymentId: 'cc-deepseek',
          provider: 'deepseek',
          upstreamModel: 'deepseek-chat',
          apiBase: mock.deepseekBaseUrl,
        },
        {
          ...base,
          modelName: 'claude-sonnet-4-6',
          deploymentId: 'cc-ollama',
          provider: 'ollama_chat',
          upstreamModel: 'llama3.1',
          apiBase: mock.ollamaBaseUrl,
        },
      ];
    },
  });
});
afterAll(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Runs `claude -p <prompt> --model <model> [args]` against `baseUrl` with `key`; its stdout. */
async function claude(
  baseUrl: string,
  key: string,
  model: string,
  prompt = 'Say hello.',
  args: string[] = [],
): Promise<string> {
  const run = execFileAsync(claudeBinary(), ['-p', prompt, '--model', model, ...args], {
    cwd: home,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: key,
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  });
  // The prompt is the argument; an open stdin would be waited on for 3 s.
  run.child.stdin?.end();
  return (await run).stdout;
}

interface Row {
  status: string;
  call_type: string;
  model_group: string;
  custom_llm_provider: string;
  prompt_tokens: number;
  completion_tokens: number;
  spend: string | null;
}

/** The spend rows of a key, once `count` are written. */
async function rowsOf(key: string, count: number): Promise<Row[]> {
  return vi.waitFor(
    async () => {
      const rows = await t.query<Row>(
        `select status, call_type, model_group, custom_llm_provider, prompt_tokens, completion_tokens, spend
           from "LiteLLM_SpendLogs" where api_key = $1 order by "startTime"`,
        [hashKey(key)],
      );
      if (rows.length < count) throw new Error(`${rows.length} of ${count} spend rows yet`);
      expect(rows).toHaveLength(count);
      return rows;
    },
    { timeout: 5_000, interval: 50 },
  );
}

const onlyRowOf = async (key: string) => (await rowsOf(key, 1))[0]!;

describe('Claude Code CLI through the gateway', () => {
  it.each([
    ['an Anthropic deployment (relayed)', 'claude-opus-4-6', 'anthropic'],
    ['an OpenAI-format deployment (translated)', 'claude-opus-4-7', 'openai'],
    ['a DeepSeek deployment (translated)', 'claude-haiku-4-5', 'deepseek'],
    ['an Ollama deployment (translated)', 'claude-sonnet-4-6', 'ollama_chat'],
  ])(
    'claude -p via /v1/messages to %s prints the reply and leaves one priced row',
    async (_what, model, provider) => {
      const key = await t.createKey();
      const before = t.mock.requests.length;
      const printed = await claude(t.gateway.url, key, model);
      expect(printed).toContain(MOCK_REPLY);

      // What Claude Code sent arrived as current Claude Code sends it.
      const upstream = t.mock.requests.slice(before);
      expect(upstream).toHaveLength(1);
      if (provider === 'anthropic') {
        expect(upstream[0]!.body).toMatchObject({
          model: 'claude-opus-4-6',
          thinking: { type: 'adaptive' },
          output_config: { effort: expect.any(String) },
        });
        expect(upstream[0]!.headers['anthropic-beta']).toContain('claude-code-20250219');
      }

      const row = await onlyRowOf(key);
      expect(row).toMatchObject({
        status: 'success',
        call_type: 'anthropic_messages',
        model_group: model,
        custom_llm_provider: provider,
      });
      expect(row.prompt_tokens).toBeGreaterThan(1000); // Claude Code's system prompt and tools
      expect(row.completion_tokens).toBeGreaterThan(0);
      if (provider !== 'ollama_chat') expect(Number(row.spend)).toBeGreaterThan(0);
    },
  );

  it('claude -p via /anthropic prints the reply and leaves one priced row', async () => {
    const key = await t.createKey();
    const printed = await claude(`${t.gateway.url}/anthropic`, key, 'claude-sonnet-4-5-20250929');
    expect(printed).toContain(MOCK_REPLY);
    const row = await onlyRowOf(key);
    expect(row).toMatchObject({ status: 'success', custom_llm_provider: 'anthropic' });
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('a key over its budget sees the refusal in Claude Code, and no call goes upstream', async () => {
    const key = await t.createKey({ max_budget: 0 });
    const before = t.mock.requests.length;
    const failed = await claude(t.gateway.url, key, 'claude-opus-4-6').then(
      (stdout) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toMatch(/budget/i);
    expect(t.mock.requests.length).toBe(before);
    // Why Claude Code gives up at once instead of retrying the 429 for minutes.
    const refused = await fetch(`${t.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-opus-4-6',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-should-retry')).toBe('false');
  });

  it.each([
    ['an Anthropic deployment', 'claude-opus-4-6'],
    ['an OpenAI-format deployment', 'claude-opus-4-7'],
  ])(
    'a tool round trip (Read) through %s: the tool result goes back and both calls are billed',
    async (_what, model) => {
      const key = await t.createKey();
      const before = t.mock.requests.length;
      const printed = await claude(t.gateway.url, key, model, 'Read the notes. [mock:tool_call=Read]', [
        '--allowedTools',
        'Read',
        '--max-turns',
        '3',
      ]);
      expect(printed).toContain(MOCK_REPLY);
      const upstream = t.mock.requests.slice(before);
      expect(upstream).toHaveLength(2);
      const second = JSON.stringify(upstream[1]!.body);
      expect(second).toContain(model === 'claude-opus-4-6' ? '"tool_result"' : '"role":"tool"');
      const rows = await rowsOf(key, 2);
      for (const row of rows) expect(row).toMatchObject({ status: 'success', model_group: model });
    },
  );
});
