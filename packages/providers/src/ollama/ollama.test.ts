import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../canonical.ts';
import { fromOllamaError } from './errors.ts';
import { fromOllamaChatResponse, fromOllamaGenerateResponse } from './from-ollama-response.ts';
import { fromOllamaStream } from './from-ollama-stream.ts';
import { ndjsonItems, parseNdjson } from './parse-ndjson.ts';
import { toOllamaChatRequest } from './to-ollama-chat-request.ts';
import { toOllamaGenerateRequest } from './to-ollama-generate-request.ts';
import { ollamaChatResponseSchema, ollamaGenerateResponseSchema } from './wire.ts';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

/** Bytes in chunks of `chunkSize`, so that lines are split across reads as on a real socket. */
function bytesOf(text: string, chunkSize = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) controller.close();
      else {
        controller.enqueue(bytes.slice(offset, offset + chunkSize));
        offset += chunkSize;
      }
    },
  });
}

async function streamEvents(transcript: string, endpoint: 'chat' | 'generate'): Promise<StreamEvent[]> {
  const provider = endpoint === 'chat' ? 'ollama_chat' : 'ollama';
  const events: StreamEvent[] = [];
  for await (const event of parseNdjson(bytesOf(transcript)).pipeThrough(
    fromOllamaStream(provider, endpoint),
  ))
    events.push(event);
  return events;
}

const base = (overrides: Partial<ChatRequest>): ChatRequest => ({
  model: 'llama3.1',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  stream: false,
  openaiExtras: {},
  ...overrides,
});

describe('canonical request -> Ollama /api/chat', () => {
  it('builds the reference request field for field (wire formats §7.1)', () => {
    const plan = toOllamaChatRequest(
      base({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image', url: 'data:image/png;base64,iVBORw0...' },
            ],
          },
          {
            role: 'assistant',
            content: [],
            toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city": "Paris"}' }],
          },
          { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '18C sunny' }] },
        ],
        maxOutputTokens: 256,
        temperature: 0.2,
        topP: 0.9,
        seed: 7,
        stop: ['END'],
        responseFormat: {
          type: 'json_schema',
          name: 'answer',
          schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
        },
        tools: [
          {
            name: 'get_weather',
            description: 'Get weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        ],
        toolChoice: 'auto',
        reasoningEffort: 'high',
        openaiExtras: { keep_alive: '5m', repeat_penalty: 1.1 },
      }),
    );
    expect(plan.warnings).toEqual([]);
    expect(plan.body).toEqual({
      model: 'llama3.1',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'What is in this picture?', images: ['iVBORw0...'] },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
        },
        // The reference (LiteLLM) sends no tool_name; current Ollama takes one.
        { role: 'tool', content: '18C sunny', tool_name: 'get_weather' },
      ],
      options: {
        num_predict: 256,
        temperature: 0.2,
        top_p: 0.9,
        seed: 7,
        stop: ['END'],
        repeat_penalty: 1.1,
      },
      stream: false,
      format: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      keep_alive: '5m',
      think: true,
    });
  });

  it('always sends stream, and json_object becomes format "json"', () => {
    expect(toOllamaChatRequest(base({ stream: true })).body.stream).toBe(true);
    expect(toOllamaChatRequest(base({ stream: false })).body.stream).toBe(false);
    expect(toOllamaChatRequest(base({ responseFormat: { type: 'json_object' } })).body.format).toBe('json');
  });

  it('sends both penalties and top_k under their own names in options', () => {
    const { body } = toOllamaChatRequest(base({ frequencyPenalty: 0, presencePenalty: 0.5, topK: 40 }));
    expect(body.options).toEqual({ frequency_penalty: 0, presence_penalty: 0.5, top_k: 40 });
  });

  it('maps reasoning effort and thinking to think', () => {
    const think = (overrides: Partial<ChatRequest>) => toOllamaChatRequest(base(overrides)).body.think;
    expect(think({ reasoningEffort: 'low' })).toBe(true);
    expect(think({ reasoningEffort: 'none' })).toBe(false);
    expect(think({ reasoningEffort: 'minimal' })).toBe(false);
    expect(think({ model: 'gpt-oss:20b', reasoningEffort: 'high' })).toBe('high');
    expect(think({ thinking: { type: 'disabled' } })).toBe(false);
    expect(think({})).toBeUndefined();
    const plan = toOllamaChatRequest(base({ thinking: { type: 'enabled', budgetTokens: 2048 } }));
    expect(plan.body.think).toBe(true);
    expect(plan.warnings).toEqual(['thinking.budget_tokens']);
  });

  it('reports every parameter it cannot honour and sends none of them', () => {
    const plan = toOllamaChatRequest(
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image', url: 'https://example.com/cat.png' },
              { type: 'audio', data: 'AAA', format: 'wav' },
            ],
          },
        ],
        n: 2,
        user: 'user-123',
        tools: [{ name: 'f', strict: true }],
        toolChoice: 'required',
        parallelToolCalls: false,
        openaiExtras: { logprobs: true, num_gpu: 99, keep_alive: { bad: true } },
      }),
    );
    expect(plan.warnings.sort()).toEqual(
      [
        'image_url (remote URL)',
        'input_audio parts (not supported by Ollama)',
        'n',
        'user',
        'tools.strict',
        'tool_choice',
        'parallel_tool_calls',
        'logprobs',
        'num_gpu',
        'keep_alive',
      ].sort(),
    );
    expect(plan.body).toEqual({
      model: 'llama3.1',
      messages: [{ role: 'user', content: 'look' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      stream: false,
    });
  });

  it('honours tool_choice none by not offering the tools', () => {
    const plan = toOllamaChatRequest(base({ tools: [{ name: 'f' }], toolChoice: 'none' }));
    expect(plan.body).not.toHaveProperty('tools');
    expect(plan.warnings).toEqual([]);
  });

  it('sends an assistant turn reasoning back as thinking', () => {
    const { body } = toOllamaChatRequest(
      base({
        messages: [
          { role: 'user', content: [{ type: 'text', text: '2+2?' }] },
          { role: 'assistant', content: [{ type: 'text', text: '4' }], toolCalls: [], reasoning: 'add' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: '2+2?' },
      { role: 'assistant', content: '4', thinking: 'add' },
    ]);
  });
});

describe('canonical request -> Ollama /api/generate', () => {
  it('builds the reference request field for field (wire formats §7.2)', () => {
    const plan = toOllamaGenerateRequest(
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Why is the sky blue?' },
              { type: 'image', url: 'data:image/png;base64,iVBORw0...' },
            ],
          },
        ],
        maxOutputTokens: 128,
        temperature: 0.2,
        stop: ['\n\n'],
        responseFormat: { type: 'json_object' },
        reasoningEffort: 'none',
      }),
    );
    expect(plan.warnings).toEqual([]);
    expect(plan.body).toEqual({
      model: 'llama3.1',
      prompt: 'Why is the sky blue?',
      options: { num_predict: 128, temperature: 0.2, stop: ['\n\n'] },
      stream: false,
      format: 'json',
      images: ['iVBORw0...'],
      think: false,
    });
  });

  it('puts suffix, system and keep_alive at the top level, never in options (fill-in-the-middle)', () => {
    const plan = toOllamaGenerateRequest(
      base({
        model: 'codellama:code',
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'You write Python.' }] },
          { role: 'user', content: [{ type: 'text', text: 'def gcd(a, b):\n' }] },
        ],
        stream: true,
        maxOutputTokens: 64,
        openaiExtras: { suffix: '\n  return a\n', keep_alive: 0, num_ctx: 4096 },
      }),
    );
    expect(plan.warnings).toEqual([]);
    expect(plan.body).toEqual({
      model: 'codellama:code',
      prompt: 'def gcd(a, b):\n',
      suffix: '\n  return a\n',
      system: 'You write Python.',
      options: { num_ctx: 4096, num_predict: 64 },
      stream: true,
      keep_alive: 0,
    });
  });

  it('renders a conversation as ollama_pt does, with tool calls and images', () => {
    const plan = toOllamaGenerateRequest(
      base({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image', url: 'data:image/jpeg;base64,/9j/4AAQ' },
            ],
          },
          {
            role: 'assistant',
            content: [{ type: 'text', text: 'Checking. ' }],
            toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          },
          { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '18C sunny' }] },
          { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }] },
        ],
        tools: [{ name: 'get_weather' }],
      }),
    );
    expect(plan.warnings).toEqual(['tools']);
    expect(plan.body.system).toBe('Be terse.');
    expect(plan.body.images).toEqual(['/9j/4AAQ']);
    expect(plan.body.prompt).toBe(
      '### User:\nWeather here?\n\n' +
        '### Assistant:\nChecking. Tool Calls: [\n  {\n    "id": "call_1",\n    "type": "function",\n' +
        '    "function": {\n      "name": "get_weather",\n      "arguments": {\n        "city": "Paris"\n' +
        '      }\n    }\n  }\n]\n\n' +
        '### User:\n18C sunny\n\n' +
        '### System:\nAnswer in French.\n\n',
    );
  });

  it('reports suffix as dropped on /api/chat, which has no fill-in-the-middle', () => {
    expect(toOllamaChatRequest(base({ openaiExtras: { suffix: 'x' } })).warnings).toEqual(['suffix']);
  });
});

describe('Ollama response -> canonical', () => {
  it('reads a chat reply with a tool call: tool_calls finish, usage from the eval counts', () => {
    const result = fromOllamaChatResponse(
      ollamaChatResponseSchema.parse(JSON.parse(fixture('chat-response.json'))),
      'ollama_chat',
    );
    expect(result).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      model: 'ollama_chat/llama3.1',
      created: Math.floor(Date.parse('2024-07-22T20:33:28.123Z') / 1000),
      choices: [
        {
          index: 0,
          text: null,
          toolCalls: [
            { id: expect.stringMatching(/^call_/), name: 'get_weather', arguments: '{"city":"Paris"}' },
          ],
          finishReason: 'tool_calls',
        },
      ],
      // No cache fields: Ollama reports none, and unknown is not zero.
      usage: { inputTokens: 122, outputTokens: 33 },
    });
  });

  it('reads a generate reply', () => {
    const result = fromOllamaGenerateResponse(
      ollamaGenerateResponseSchema.parse(JSON.parse(fixture('generate-response.json'))),
      'ollama',
    );
    expect(result.model).toBe('ollama/codellama:code');
    expect(result.choices[0]).toEqual({
      index: 0,
      text: '\n  if a == 0:\n    return b\n',
      toolCalls: [],
      finishReason: 'stop',
    });
    expect(result.usage).toEqual({ inputTokens: 17, outputTokens: 63 });
  });

  it('maps done_reason length, keeps thinking, splits inline <think> and leaves missing counts undefined', () => {
    const chat = fromOllamaChatResponse(
      ollamaChatResponseSchema.parse({
        model: 'qwen3',
        message: { role: 'assistant', content: 'Hi', thinking: 'greet' },
        done: true,
        done_reason: 'length',
        eval_count: 5,
      }),
      'ollama_chat',
    );
    expect(chat.choices[0]).toMatchObject({ text: 'Hi', reasoning: 'greet', finishReason: 'length' });
    expect(chat.usage).toEqual({ outputTokens: 5 });
    const generate = fromOllamaGenerateResponse(
      ollamaGenerateResponseSchema.parse({
        model: 'deepseek-r1',
        response: '<think>\nhmm\n</think>\n\nAnswer',
        done: true,
      }),
      'ollama',
    );
    expect(generate.choices[0]).toMatchObject({
      text: '\n\nAnswer',
      reasoning: '\nhmm\n',
      finishReason: 'stop',
    });
  });

  it('keeps a 4xx message, trimmed, and hides 5xx and credential errors', () => {
    expect(fromOllamaError('ollama_chat', 404, fixture('error-404.json'))).toEqual({
      kind: 'upstream_error',
      provider: 'ollama_chat',
      status: 404,
      message: 'ollama_chat error: model "llama9" not found, try pulling it first',
      retryable: false,
    });
    expect(
      fromOllamaError('ollama', 500, '{"error":"llama runner process has terminated: /usr/lib/x"}'),
    ).toMatchObject({ status: 500, message: 'ollama returned HTTP 500', retryable: true });
    expect(fromOllamaError('ollama', 401, '{"error":"unauthorized key sk-1"}').message).toBe(
      "ollama refused the gateway's provider credentials (HTTP 401)",
    );
    expect(fromOllamaError('ollama', 429, 'busy', { 'retry-after': '3' })).toMatchObject({
      retryable: true,
      retryAfterSeconds: 3,
    });
  });
});

describe('Ollama NDJSON stream -> canonical events', () => {
  it('streams text deltas, then finish and usage from the done line (wire formats §7.1)', async () => {
    expect(await streamEvents(fixture('chat-stream.ndjson'), 'chat')).toEqual([
      {
        type: 'start',
        id: expect.stringMatching(/^chatcmpl-/),
        model: 'ollama_chat/llama3.1',
        created: Math.floor(Date.parse('2024-08-04T08:52:19.385Z') / 1000),
      },
      { type: 'text-delta', choice: 0, text: 'The' },
      { type: 'text-delta', choice: 0, text: ' sky' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { inputTokens: 26, outputTokens: 282 } },
    ]);
  });

  it('streams a whole tool call as one delta and finishes with tool_calls', async () => {
    const events = await streamEvents(fixture('chat-stream-tool-call.ndjson'), 'chat');
    expect(events.slice(1)).toEqual([
      {
        type: 'tool-call-delta',
        choice: 0,
        index: 0,
        id: expect.stringMatching(/^call_/),
        name: 'get_weather',
        argumentsDelta: '{"city":"Paris"}',
      },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
      { type: 'usage', usage: { inputTokens: 122, outputTokens: 33 } },
    ]);
  });

  it('streams /api/generate lines, thinking as reasoning', async () => {
    const thinking =
      '{"model":"qwen3","created_at":"2024-08-04T08:52:19.1Z","response":"","thinking":"Hmm","done":false}\n';
    const events = await streamEvents(thinking + fixture('generate-stream.ndjson'), 'generate');
    expect(events.slice(1)).toEqual([
      { type: 'reasoning-delta', choice: 0, text: 'Hmm' },
      { type: 'text-delta', choice: 0, text: 'The' },
      { type: 'text-delta', choice: 0, text: ' sky' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { inputTokens: 26, outputTokens: 259 } },
    ]);
  });

  it('stream without a done line ends with an error event', async () => {
    const events = await streamEvents(fixture('chat-stream-cut.ndjson'), 'chat');
    expect(events.map((e) => e.type)).toEqual(['start', 'text-delta', 'text-delta', 'error']);
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: {
        kind: 'upstream_error',
        provider: 'ollama_chat',
        status: 502,
        message: 'ollama_chat ended the stream before it finished',
        retryable: true,
      },
    });
  });

  it('an {"error": ...} line becomes an error event without the upstream text', async () => {
    const events = await streamEvents(fixture('chat-stream-error.ndjson'), 'chat');
    expect(events.map((e) => e.type)).toEqual(['start', 'text-delta', 'error']);
    expect(events.at(-1)).toEqual({
      type: 'error',
      error: {
        kind: 'upstream_error',
        provider: 'ollama_chat',
        status: 502,
        message: 'ollama_chat reported an error mid-stream',
        retryable: false,
      },
    });
  });

  it('a line that is not JSON ends the stream with an error event', async () => {
    const events = await streamEvents(
      '{"model":"m","message":{"content":"a"},"done":false}\n{oops\n',
      'chat',
    );
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      error: { message: 'ollama_chat sent a line that is not JSON' },
    });
  });

  it('splits inline <think> sections out of streamed content', async () => {
    const lines = ['<think>', 'plan', '</think>', '\n\nHi']
      .map((content) => JSON.stringify({ model: 'deepseek-r1', message: { content }, done: false }))
      .concat(JSON.stringify({ model: 'deepseek-r1', message: { content: '' }, done: true }))
      .join('\n');
    const events = await streamEvents(lines, 'chat');
    expect(events.filter((e) => e.type === 'reasoning-delta' || e.type === 'text-delta')).toEqual([
      { type: 'reasoning-delta', choice: 0, text: 'plan' },
      { type: 'text-delta', choice: 0, text: '\n\nHi' },
    ]);
  });
});

describe('NDJSON parsing', () => {
  it('reassembles lines split across reads, accepts CRLF, skips blank lines and reads a last unterminated line', async () => {
    const items = [];
    for await (const item of parseNdjson(bytesOf('{"a":1}\r\n\n{"b":"\\u00e9t\u00e9"}\n{"c":3}', 3)))
      items.push(item);
    expect(items).toEqual([
      { ok: true, value: { a: 1 } },
      { ok: true, value: { b: 'été' } },
      { ok: true, value: { c: 3 } },
    ]);
  });

  it('gives up on a line longer than the cap instead of buffering without end', async () => {
    const items = [];
    const encoder = new TextEncoder();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('{"a":1}\n{"long":"'));
        controller.enqueue(encoder.encode('xxxxxxxxxxxxxxxxxxxx'));
        controller.close();
      },
    });
    for await (const item of source.pipeThrough(new TransformStream(ndjsonItems(16)))) items.push(item);
    expect(items).toEqual([
      { ok: true, value: { a: 1 } },
      { ok: false, error: { linePrefix: '{"long":"xxxxxxxxxxxxxxxxxxxx', reason: 'too_long' } },
    ]);
  });
});
