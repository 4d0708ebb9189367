import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { countPromptTokens, replyTokens } from '../reply.ts';
import { toJsonFragments, toMockToolInput } from '../tool-input.ts';

const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });

/**
 * What the mock needs from an Anthropic Messages request (provider-wire-formats.md §2.2); any
 * other field is accepted and ignored. `max_tokens` is required, as upstream.
 */
export const mockMessagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z
    .array(
      z.looseObject({
        // Current Claude Code sends `system` entries inside `messages` too; Anthropic takes them.
        role: z.enum(['user', 'assistant', 'system']),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
      }),
    )
    .min(1),
  system: z.union([z.string(), z.array(textBlockSchema)]).nullish(),
  // Client tools come with or without `"type":"custom"`; hosted tools carry their own type.
  tools: z
    .array(
      z.looseObject({ name: z.string(), type: z.string().nullish(), input_schema: z.unknown().optional() }),
    )
    .nullish(),
  thinking: z.looseObject({ type: z.string() }).nullish(),
  stream: z.boolean().nullish(),
});
export type MockMessagesRequest = z.infer<typeof mockMessagesRequestSchema>;

const DEFAULT_REPLY_TOKENS = 20;
const thinkingWords = 'The user wants an answer so I will reply with the deterministic mock text'.split(' ');
/** Looks like the base64 signatures Anthropic puts on thinking blocks; the same on every answer. */
export const MOCK_THINKING_SIGNATURE = Buffer.from(
  'mock-provider thinking signature: not issued by Anthropic, never verified',
).toString('base64');

/** One content block of the planned answer; `deltas` are its streamed pieces, one output token each. */
export type PlannedBlock =
  | { type: 'thinking'; deltas: string[]; signature: string }
  | { type: 'text'; deltas: string[] }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown>; deltas: string[] };

/** Anthropic usage (§2.3): `input_tokens` excludes cache reads and writes. */
export interface MessageUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
}

export interface PlannedMessage {
  /** `msg_...` */
  id: string;
  model: string;
  blocks: PlannedBlock[];
  stopReason: 'end_turn' | 'max_tokens' | 'tool_use';
  usage: MessageUsage;
  errorStatus?: number;
  /** A specific message for the error body; the status's generic one otherwise. */
  errorMessage?: string;
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

/** Every prompt text the mock counts and reads directives from: system, text blocks, tool results. */
function promptTexts(request: MockMessagesRequest): string[] {
  const texts: string[] = [];
  if (typeof request.system === 'string') texts.push(request.system);
  else for (const block of request.system ?? []) texts.push(block.text);
  const addBlocks = (content: unknown) => {
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const block of content) {
        const text = textBlockSchema.safeParse(block);
        if (text.success) texts.push(text.data.text);
        else if (block && typeof block === 'object' && 'type' in block && block.type === 'tool_result') {
          addBlocks('content' in block ? block.content : undefined);
        }
      }
    }
  };
  for (const message of request.messages) addBlocks(message.content);
  return texts;
}

/** True when the conversation ends in a user turn carrying a `tool_result` (the round trip's end). */
function endsWithToolResult(request: MockMessagesRequest): boolean {
  const last = request.messages.at(-1);
  return (
    last?.role === 'user' && Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_result')
  );
}

/** `prefix` + 24 base62 characters, the shape of Anthropic's ids. */
function toVendorId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return prefix + Array.from(randomBytes(24), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Decides the whole answer up front, so stream and non-stream report the same blocks and tokens.
 *
 * Output: with `thinking.type` `"enabled"` (or `"adaptive"`) a thinking block of 14 words comes
 * first. Then either the text reply (`reply_tokens`, default 20, one token per word; stop `end_turn`) or, for
 * `[mock:tool_call=NAME]`, the sentence "I will call NAME." and a `tool_use` block (stop
 * `tool_use`, one output token per JSON fragment). `max_tokens` caps the sum of all blocks' tokens:
 * whatever no longer fits is cut (a tool call is made whole or not at all) and the stop reason
 * becomes `max_tokens`. `output_tokens` counts every block's tokens, thinking included.
 *
 * Input: the prompt is counted as on the OpenAI side (`countPromptTokens` over system, text blocks
 * and tool results), giving `total`. The cache directives are reported exactly as given, and
 * `input_tokens = max(total - cache_read - cache_write, 0)`: the uncached remainder, never negative.
 * So input + cache read + cache write = max(total, cache read + cache write), which is always at
 * least the cache tokens, even when a test asks for more cache than its short prompt holds.
 *
 * Fails as a value: `errorStatus` is set for `[mock:error=N]`, and to 400 (with `errorMessage`) when
 * `[mock:tool_call=NAME]` names a tool the request doesn't define.
 */
export function planMessage(request: MockMessagesRequest): PlannedMessage {
  const texts = promptTexts(request);
  const directives = readDirectives(texts);
  let left = request.max_tokens;
  let truncated = false;
  /** The first `wanted.length` pieces that still fit in `max_tokens`. */
  const take = (wanted: string[]): string[] => {
    const taken = wanted.slice(0, Math.max(left, 0));
    left -= taken.length;
    if (taken.length < wanted.length) truncated = true;
    return taken;
  };

  const blocks: PlannedBlock[] = [];
  // `adaptive` (Claude 4.6+) lets the model decide whether to think; the mock always does.
  if (request.thinking?.type === 'enabled' || request.thinking?.type === 'adaptive') {
    blocks.push({
      type: 'thinking',
      deltas: take(replyWords(thinkingWords)),
      signature: MOCK_THINKING_SIGNATURE,
    });
  }

  let errorMessage: string | undefined;
  const toolName = endsWithToolResult(request) ? undefined : directives.toolCall;
  const tool = toolName === undefined ? undefined : request.tools?.find((t) => t.name === toolName);
  if (toolName !== undefined && !tool) {
    errorMessage = `[mock:tool_call=${toolName}] names a tool the request does not define.`;
  }
  let madeToolCall = false;
  if (tool && !truncated) {
    const lead = take(['I', ' will', ' call', ` ${tool.name}.`]);
    if (lead.length > 0) blocks.push({ type: 'text', deltas: lead });
    const input = toMockToolInput(tool.input_schema);
    const fragments = toJsonFragments(JSON.stringify(input));
    if (!truncated && fragments.length <= left) {
      left -= fragments.length;
      blocks.push({ type: 'tool_use', id: toVendorId('toolu_'), name: tool.name, input, deltas: fragments });
      madeToolCall = true;
    } else truncated = true;
  } else if (!tool && !truncated) {
    const text = take(replyTokens(directives.replyTokens ?? DEFAULT_REPLY_TOKENS));
    if (text.length > 0) blocks.push({ type: 'text', deltas: text });
  }

  const cacheRead = directives.cachedTokens ?? 0;
  const write5m = directives.cacheWriteTokens ?? 0;
  const write1h = directives.cacheWrite1hTokens ?? 0;
  const errorStatus = errorMessage !== undefined ? 400 : directives.errorStatus;
  return {
    id: toVendorId('msg_'),
    model: request.model,
    blocks,
    stopReason: truncated ? 'max_tokens' : madeToolCall ? 'tool_use' : 'end_turn',
    usage: {
      input_tokens: Math.max(
        (directives.promptTokens ?? countPromptTokens(texts)) - cacheRead - write5m - write1h,
        0,
      ),
      cache_creation_input_tokens: write5m + write1h,
      cache_read_input_tokens: cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
      output_tokens: blocks.reduce((sum, block) => sum + block.deltas.length, 0),
    },
    ...(errorStatus !== undefined ? { errorStatus } : {}),
    ...(errorMessage !== undefined ? { errorMessage } : {}),
    ...(directives.chunkDelayMs !== undefined ? { chunkDelayMs: directives.chunkDelayMs } : {}),
    ...(directives.cutAfter !== undefined ? { cutAfter: directives.cutAfter } : {}),
    ...(directives.streamErrorAfter !== undefined ? { streamErrorAfter: directives.streamErrorAfter } : {}),
  };
}

/** Words as stream pieces: the first bare, the rest with a leading space. */
function replyWords(words: string[]): string[] {
  return words.map((word, i) => (i === 0 ? word : ` ${word}`));
}

/** A planned block as it appears, complete, in a response's `content` (§2.3). */
function toContentBlock(block: PlannedBlock) {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: block.deltas.join(''), signature: block.signature };
    case 'text':
      return { type: 'text', text: block.deltas.join('') };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  }
}

/** The non-streaming `message` body (§2.3). */
export function toMessageBody(plan: PlannedMessage) {
  return {
    id: plan.id,
    type: 'message',
    role: 'assistant',
    model: plan.model,
    content: plan.blocks.map(toContentBlock),
    stop_reason: plan.stopReason,
    stop_sequence: null,
    usage: { ...plan.usage, server_tool_use: { web_search_requests: 0 }, service_tier: 'standard' },
  };
}

/** One server-sent event of a Messages stream: its `event:` name and its `data:` JSON. */
export interface MessageStreamEvent {
  event: string;
  data: { type: string } & Record<string, unknown>;
}

/** The SSE frame of one event: the `event:` line, the `data:` line and the blank line. */
export function toSseFrame(event: MessageStreamEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The mid-stream error Anthropic sends after HTTP 200 (§2.4). */
const streamError = {
  type: 'error',
  error: { type: 'overloaded_error', message: 'Overloaded' },
} as const;

/**
 * The events of a streamed answer, in §2.4 order: `message_start` (input usage, cache fields with
 * the TTL split, placeholder `output_tokens: 1`), `ping`, each block's start / deltas / stop,
 * `message_delta` (stop reason and cumulative usage, input fields repeated as the current API does,
 * without the TTL split) and `message_stop`.
 *
 * A "streamed token" is one `thinking_delta`, `text_delta` or non-empty `input_json_delta`
 * (`signature_delta` and the empty first `input_json_delta` don't count). With `streamErrorAfter` N
 * the stream ends with an `error` event after N tokens; with `cutAfter` N it just stops after N
 * tokens (the caller then drops the connection). If the answer has fewer tokens, both happen just
 * before `message_delta`, so the stream never finishes.
 */
export function toMessageStreamEvents(plan: PlannedMessage): MessageStreamEvent[] {
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, cache_creation } = plan.usage;
  const events: MessageStreamEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: plan.id,
          type: 'message',
          role: 'assistant',
          content: [],
          model: plan.model,
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens,
            cache_creation_input_tokens,
            cache_read_input_tokens,
            cache_creation,
            output_tokens: 1,
          },
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  const push = (type: string, fields: Record<string, unknown>) =>
    events.push({ event: type, data: { type, ...fields } });
  const stopAt = Math.min(
    plan.cutAfter ?? Number.POSITIVE_INFINITY,
    plan.streamErrorAfter ?? Number.POSITIVE_INFINITY,
  );
  /** Ends the stream early: the error event if that was asked for first, else nothing (a cut). */
  const stopEarly = () => {
    if (plan.streamErrorAfter === stopAt) events.push({ event: 'error', data: { ...streamError } });
    return events;
  };

  let streamed = 0;
  for (const [index, block] of plan.blocks.entries()) {
    const delta = (fields: Record<string, unknown>) => push('content_block_delta', { index, delta: fields });
    if (block.type === 'thinking')
      push('content_block_start', { index, content_block: { type: 'thinking', thinking: '' } });
    else if (block.type === 'text')
      push('content_block_start', { index, content_block: { type: 'text', text: '' } });
    else {
      push('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      // Anthropic opens a tool's input with an empty fragment (§2.4).
      delta({ type: 'input_json_delta', partial_json: '' });
    }
    for (const piece of block.deltas) {
      if (streamed === stopAt) return stopEarly();
      if (block.type === 'thinking') delta({ type: 'thinking_delta', thinking: piece });
      else if (block.type === 'text') delta({ type: 'text_delta', text: piece });
      else delta({ type: 'input_json_delta', partial_json: piece });
      streamed += 1;
    }
    if (block.type === 'thinking') delta({ type: 'signature_delta', signature: block.signature });
    push('content_block_stop', { index });
  }
  if (stopAt !== Number.POSITIVE_INFINITY) return stopEarly();

  push('message_delta', {
    delta: { stop_reason: plan.stopReason, stop_sequence: null },
    usage: {
      input_tokens,
      cache_creation_input_tokens,
      cache_read_input_tokens,
      output_tokens: plan.usage.output_tokens,
    },
  });
  push('message_stop', {});
  return events;
}

const errorTypes: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request (mock).' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API.' },
  403: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  409: { type: 'conflict_error', message: 'Conflict.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: {
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  504: { type: 'timeout_error', message: 'Request timed out.' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

/**
 * Anthropic's error body (§2.5) for an HTTP status: `error.type` from the status table (other 4xx
 * are `invalid_request_error`, other 5xx `api_error`), `message` if given, and a fresh
 * `request_id` (`req_...`), the one to echo in the `request-id` header.
 */
export function toAnthropicErrorBody(status: number, message?: string) {
  const known =
    errorTypes[status] ??
    (status < 500
      ? { type: 'invalid_request_error', message: 'Invalid request (mock).' }
      : { type: 'api_error', message: 'Internal server error' });
  return {
    type: 'error',
    error: { type: known.type, message: message ?? known.message },
    request_id: toVendorId('req_'),
  };
}

/**
 * The `message` of a 400 for a body that failed `mockMessagesRequestSchema`, worded like
 * Anthropic's: `max_tokens: Field required` for a missing field, `<path>: <problem>` otherwise.
 */
export function toInvalidRequestMessage(issues: readonly z.core.$ZodIssue[], body: unknown): string {
  const issue = issues[0];
  if (!issue) return 'Invalid request.';
  const path = issue.path.join('.');
  // zod leaves the offending input out of its issues, so look it up to tell "missing" from "wrong".
  let value: unknown = body;
  for (const key of issue.path) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const problem = issue.code === 'invalid_type' && value === undefined ? 'Field required' : issue.message;
  return path ? `${path}: ${problem}` : problem;
}
