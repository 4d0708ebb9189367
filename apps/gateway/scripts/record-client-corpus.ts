/**
 * Records the request bodies current clients send, as the test corpus
 * (`test/fixtures/client-corpus/*.json`): the Claude Code CLI and the official `@anthropic-ai/sdk`
 * and `openai` SDKs, pointed straight at the mock provider, which keeps what reached it. Run it
 * again after upgrading a client (`pnpm --filter @gateway/gateway exec tsx scripts/record-client-corpus.ts`)
 * and review the diff: the replay tests then hold the gateway to what the new version sends.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { VERSION as anthropicVersion } from '@anthropic-ai/sdk/version';
import { type RecordedRequest, startMockProvider } from '@gateway/mock-provider';
import OpenAI from 'openai';
import { VERSION as openaiVersion } from 'openai/version';

const require = createRequire(import.meta.url);
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

const outDir = new URL('../test/fixtures/client-corpus/', import.meta.url);
const home = mkdtempSync(join(tmpdir(), 'corpus-home-'));
const mock = await startMockProvider({ apiKey: 'sk-corpus' });

/** Request headers worth keeping: what says which dialect, version and features the client asked for. */
const keptHeader = (name: string) =>
  name.startsWith('anthropic-') || name === 'user-agent' || name === 'x-stainless-package-version';

/**
 * Writes one corpus entry per request the mock received since `before`. Machine-specific values
 * (the device id Claude Code derives, the temporary home) are replaced by stable ones.
 */
function save(name: string, client: string, dialect: 'anthropic' | 'openai', before: number): void {
  const sent = mock.requests.slice(before);
  if (sent.length === 0) throw new Error(`${name}: nothing reached the mock`);
  sent.forEach((request: RecordedRequest, i) => {
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([header]) => keptHeader(header)),
    ) as Record<string, string>;
    const text = JSON.stringify({ client, dialect, path: request.path, headers, body: request.body }, null, 1)
      .replaceAll(home, '/home/user')
      .replace(/\\"device_id\\":\\"[0-9a-f]+\\"/g, '\\"device_id\\":\\"0000\\"')
      .replace(
        /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
        '00000000-0000-4000-8000-000000000000',
      );
    const file = sent.length > 1 ? `${name}.${i + 1}.json` : `${name}.json`;
    writeFileSync(new URL(file, outDir), `${text}\n`);
    console.log(`recorded ${file} (${text.length} bytes)`);
  });
}

mkdirSync(outDir, { recursive: true });

// --- Claude Code -------------------------------------------------------------------------------
const claudeVersion = versionOf('@anthropic-ai/claude-code');
const wrapper = createRequire(require.resolve('@anthropic-ai/claude-code/package.json'));
const claudeBin = join(
  wrapper.resolve(`@anthropic-ai/claude-code-${process.platform}-${process.arch}/package.json`),
  '..',
  'claude',
);
async function claude(prompt: string, model: string, args: string[] = []): Promise<void> {
  const run = promisify(execFile)(claudeBin, ['-p', prompt, '--model', model, ...args], {
    cwd: home,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: mock.anthropicBaseUrl,
      ANTHROPIC_API_KEY: 'sk-corpus',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  });
  run.child.stdin?.end();
  await run;
}
for (const [name, model, prompt, args] of [
  ['claude-code.opus-4-7', 'claude-opus-4-7', 'Say hello.', []],
  ['claude-code.haiku-4-5', 'claude-haiku-4-5', 'Say hello.', []],
  [
    'claude-code.tool-round-trip',
    'claude-opus-4-6',
    'Read the notes. [mock:tool_call=Read]',
    ['--allowedTools', 'Read', '--max-turns', '3'],
  ],
] as const) {
  const before = mock.requests.length;
  await claude(prompt, model, [...args]);
  save(name, `claude-code ${claudeVersion}`, 'anthropic', before);
}

// --- @anthropic-ai/sdk ---------------------------------------------------------------------------
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PDF_ONE_PAGE = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
).toString('base64');

const anthropic = new Anthropic({ apiKey: 'sk-corpus', baseURL: mock.anthropicBaseUrl, maxRetries: 0 });
const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const anthropicCases: [string, () => Promise<unknown>][] = [
  [
    'anthropic-sdk.tools-cache',
    () =>
      anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 512,
        system: [
          { type: 'text', text: 'You answer weather questions.', cache_control: { type: 'ephemeral' } },
        ],
        tools: [{ ...weather, cache_control: { type: 'ephemeral', ttl: '1h' } }],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Let me look.' },
              { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: '18 °C' }] },
            ],
          },
        ],
      }),
  ],
  [
    'anthropic-sdk.image-pdf-stream',
    async () => {
      const stream = anthropic.messages.stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 256,
        metadata: { user_id: 'user-42' },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_1X1 } },
              {
                type: 'document',
                source: { type: 'base64', media_type: 'application/pdf', data: PDF_ONE_PAGE },
                cache_control: { type: 'ephemeral' },
              },
              { type: 'text', text: 'What do these show?' },
            ],
          },
        ],
      });
      return stream.finalMessage();
    },
  ],
  [
    'anthropic-sdk.thinking',
    () =>
      anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        stop_sequences: ['END'],
        messages: [
          { role: 'user', content: 'Is 91 prime?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: '91 = 7 × 13.', signature: 'c2lnbmF0dXJl' },
              { type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' },
              { type: 'text', text: 'No: 7 × 13.' },
            ],
          },
          { role: 'user', content: 'And 97?' },
        ],
      }),
  ],
];
for (const [name, run] of anthropicCases) {
  const before = mock.requests.length;
  await run();
  save(name, `@anthropic-ai/sdk ${anthropicVersion}`, 'anthropic', before);
}

// --- openai --------------------------------------------------------------------------------------
const openai = new OpenAI({ apiKey: 'sk-corpus', baseURL: mock.openaiBaseUrl, maxRetries: 0 });
const fn = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const openaiCases: [string, () => Promise<unknown>][] = [
  [
    'openai-sdk.tools-round-trip',
    () =>
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        tools: [fn],
        tool_choice: 'auto',
        parallel_tool_calls: false,
        messages: [
          { role: 'developer', content: 'Answer weather questions.' },
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '18 °C' },
        ],
      }),
  ],
  [
    'openai-sdk.image-file-schema',
    () =>
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        max_completion_tokens: 300,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            strict: true,
            schema: {
              type: 'object',
              properties: { summary: { type: 'string' } },
              required: ['summary'],
              additionalProperties: false,
            },
          },
        },
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Summarise these.' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1X1}`, detail: 'low' } },
              {
                type: 'file',
                file: { filename: 'one.pdf', file_data: `data:application/pdf;base64,${PDF_ONE_PAGE}` },
              },
            ],
          },
        ],
      }),
  ],
  [
    'openai-sdk.stream-reasoning',
    async () => {
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        reasoning_effort: 'low',
        user: 'user-42',
        metadata: { purpose: 'corpus' },
        store: false,
        seed: 7,
        messages: [{ role: 'user', content: 'Count to three.' }],
      });
      for await (const _chunk of stream);
    },
  ],
];
for (const [name, run] of openaiCases) {
  const before = mock.requests.length;
  await run();
  save(name, `openai ${openaiVersion}`, 'openai', before);
}

await mock.close();
rmSync(home, { recursive: true, force: true });
