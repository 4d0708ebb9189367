import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type MockAnswer,
  type StreamParts,
  toInvalidBodyMessage,
  toSseComment,
  toSseData,
  toStreamFrames,
} from '../mock-answer.ts';
import { mockChatRequestSchema } from '../openai/chat-completions.ts';
import {
  type PlannedReasonedCompletion,
  planReasonedCompletion,
} from '../openai/plan-reasoned-completion.ts';

/** An OpenAI chat request plus DeepSeek's `thinking` toggle (provider-wire-formats.md §6.2). */
export const mockDeepSeekChatRequestSchema = mockChatRequestSchema.extend({
  thinking: z.looseObject({ type: z.string() }).nullish(),
});
export type MockDeepSeekChatRequest = z.infer<typeof mockDeepSeekChatRequestSchema>;

/** DeepSeek's usage (§6.3): hits + misses = prompt tokens; `cached_tokens` repeats the hits. */
export interface DeepSeekUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
}

export interface PlannedDeepSeekCompletion extends Omit<PlannedReasonedCompletion, 'usage'> {
  /** Thinking mode: the answer carries `reasoning_content` (possibly cut by the token cap). */
  isThinking: boolean;
  usage: DeepSeekUsage;
}

/** True when DeepSeek thinks: a `reasoner` model, or `thinking: {"type": "enabled"}` (§6.1, §6.2). */
export function isDeepSeekThinking(request: MockDeepSeekChatRequest): boolean {
  return request.model.includes('reasoner') || request.thinking?.type === 'enabled';
}

/**
 * The OpenAI route's plan (`planCompletion`: reply, tool call, caps, directives), with the 8
 * reasoning tokens first in thinking mode (`planReasonedCompletion`), a UUID `id` as DeepSeek sends,
 * and DeepSeek's usage: `prompt_cache_hit_tokens` = `[mock:cached_tokens=N]` capped at the prompt,
 * `prompt_cache_miss_tokens` = prompt − hits, `prompt_tokens_details.cached_tokens` = hits,
 * `completion_tokens_details.reasoning_tokens` = reasoning tokens (0 outside thinking mode).
 */
export function planDeepSeekCompletion(request: MockDeepSeekChatRequest): PlannedDeepSeekCompletion {
  const isThinking = isDeepSeekThinking(request);
  const plan = planReasonedCompletion(request, isThinking);
  const { prompt_tokens, completion_tokens, total_tokens } = plan.usage;
  const hits = plan.usage.prompt_tokens_details.cached_tokens;
  return {
    ...plan,
    id: randomUUID(),
    isThinking,
    usage: {
      prompt_tokens,
      completion_tokens,
      total_tokens,
      prompt_tokens_details: { cached_tokens: hits },
      completion_tokens_details: { reasoning_tokens: plan.reasoning.length },
      prompt_cache_hit_tokens: hits,
      prompt_cache_miss_tokens: prompt_tokens - hits,
    },
  };
}

/** The non-streaming body (§6.3): `reasoning_content` beside `content` in thinking mode. */
export function toDeepSeekCompletionBody(plan: PlannedDeepSeekCompletion) {
  const call = plan.toolCall;
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_mock',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: call ? '' : plan.tokens.join(''),
          ...(plan.isThinking ? { reasoning_content: plan.reasoning.join('') } : {}),
          ...(call
            ? {
                tool_calls: [
                  {
                    index: 0,
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  },
                ],
              }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: plan.usage,
  };
}

/**
 * The stream (§6.4), before the stream directives: a `: keep-alive` comment, the role chunk
 * (`content: null, reasoning_content: ""` in thinking mode), one `reasoning_content` chunk per
 * reasoning token, then one `content` chunk per token (or the tool call: header glued to the first
 * arguments fragment, then one fragment per chunk), the finish chunk, the usage chunk
 * (`choices: []`, DeepSeek usage) when `include_usage`, and `[DONE]`. A mid-stream failure is an
 * OpenAI-shaped `data: {"error": ...}`.
 */
export function toDeepSeekStreamParts(plan: PlannedDeepSeekCompletion, includeUsage: boolean): StreamParts {
  const base = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_mock',
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    toSseData({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  const call = plan.toolCall;
  const answerTokens = call
    ? call.fragments.map(
        (piece, i) =>
          (i === 0
            ? chunk({
                tool_calls: [
                  { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
                ],
              })
            : '') + chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }),
      )
    : plan.tokens.map((token) =>
        chunk(plan.isThinking ? { content: token, reasoning_content: null } : { content: token }),
      );
  return {
    head: [
      // DeepSeek keeps a queued connection open with SSE comments (§6.4); parsers must skip them.
      toSseComment('keep-alive'),
      chunk(
        plan.isThinking
          ? { role: 'assistant', content: null, reasoning_content: '' }
          : { role: 'assistant', content: '' },
      ),
    ],
    tokens: [
      ...plan.reasoning.map((piece) => chunk({ content: null, reasoning_content: piece })),
      ...answerTokens,
    ],
    tail: [
      chunk({ content: '' }, plan.finishReason),
      ...(includeUsage ? [toSseData({ ...base, choices: [], usage: plan.usage })] : []),
      toSseData('[DONE]'),
    ],
    errorFrames: [toSseData(toDeepSeekErrorBody(500))],
  };
}

// Messages from https://api-docs.deepseek.com/quick_start/error_codes (§6.5).
const errorsByStatus: Record<number, { type: string; message: string; code: string | null }> = {
  400: { type: 'invalid_request_error', message: 'Invalid Format (mock).', code: null },
  401: {
    type: 'authentication_error',
    message: 'Authentication Fails, Your api key is invalid',
    code: 'invalid_request_error',
  },
  402: { type: 'invalid_request_error', message: 'Insufficient Balance', code: null },
  422: { type: 'invalid_request_error', message: 'Invalid Parameters (mock).', code: null },
  429: { type: 'rate_limit_error', message: 'Rate Limit Reached', code: null },
  500: { type: 'server_error', message: 'Server Error', code: null },
  503: { type: 'server_error', message: 'Server Overloaded', code: null },
};

/** DeepSeek's error body: the OpenAI envelope (§6.5) with DeepSeek's wording, `message` if given. */
export function toDeepSeekErrorBody(status: number, message?: string) {
  const known =
    errorsByStatus[status] ??
    (status < 500
      ? { type: 'invalid_request_error', message: 'Invalid request (mock).', code: null }
      : { type: 'server_error', message: 'Server Error', code: null });
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

/** The DeepSeek route's answer to a parsed JSON body: a 400 for a body the schema refuses. */
export function answerDeepSeekChat(body: unknown): MockAnswer {
  const parsed = mockDeepSeekChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  const plan = planDeepSeekCompletion(parsed.data);
  if (plan.errorStatus !== undefined) {
    return {
      kind: 'error',
      status: plan.errorStatus,
      ...(plan.errorMessage ? { message: plan.errorMessage } : {}),
    };
  }
  if (!parsed.data.stream) return { kind: 'json', body: toDeepSeekCompletionBody(plan) };
  const parts = toDeepSeekStreamParts(plan, parsed.data.stream_options?.include_usage === true);
  return {
    kind: 'stream',
    format: 'sse',
    ...toStreamFrames(parts, plan),
    ...(plan.chunkDelayMs !== undefined ? { chunkDelayMs: plan.chunkDelayMs } : {}),
  };
}
