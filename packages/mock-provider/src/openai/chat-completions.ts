import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { countPromptTokens, replyTokens } from '../reply.ts';
import { toJsonFragments, toMockToolInput } from '../tool-input.ts';

/** What the mock needs from an OpenAI chat request; anything else is accepted and ignored. */
export const mockChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  // Read only to find the tool a `[mock:tool_call=NAME]` directive names; other tool kinds pass.
  tools: z
    .array(
      z.looseObject({
        type: z.string().optional(),
        function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional(),
      }),
    )
    .nullish(),
});
export type MockChatRequest = z.infer<typeof mockChatRequestSchema>;

const DEFAULT_REPLY_TOKENS = 20;

/** Every text in the request's messages, string or content-part form. */
export function messageTexts(request: MockChatRequest): string[] {
  const texts: string[] = [];
  for (const message of request.messages) {
    if (typeof message.content === 'string') texts.push(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string')
          texts.push(part.text);
      }
    }
  }
  return texts;
}

/** A planned function call: `arguments` is the JSON text, streamed as `fragments` (one token each). */
export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
  fragments: string[];
}

export interface PlannedCompletion {
  id: string;
  created: number;
  model: string;
  /** The text reply, one token each; empty when the answer is a tool call. */
  tokens: string[];
  toolCall?: PlannedToolCall;
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
    completion_tokens_details: {
      reasoning_tokens: number;
      audio_tokens: number;
      accepted_prediction_tokens: number;
      rejected_prediction_tokens: number;
    };
  };
  errorStatus?: number;
  /** A specific message for the error body; the status's generic one otherwise. */
  errorMessage?: string;
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

/**
 * The tool call a `[mock:tool_call=NAME]` directive asks for, with arguments built from the tool's
 * schema; undefined when there is none to make (no directive, or the last message is already a
 * tool result, so the round trip ends in text). A name the request doesn't define is a 400.
 */
function planToolCall(
  request: MockChatRequest,
  name: string | undefined,
): { ok: true; call?: PlannedToolCall } | { ok: false; message: string } {
  if (name === undefined) return { ok: true };
  const last = request.messages.at(-1);
  if (last?.role === 'tool' || last?.role === 'function') return { ok: true };
  const tool = request.tools?.find((t) => t.function?.name === name);
  if (!tool)
    return { ok: false, message: `[mock:tool_call=${name}] names a tool the request does not define.` };
  const args = JSON.stringify(toMockToolInput(tool.function?.parameters));
  return {
    ok: true,
    call: {
      id: `call_${randomBytes(12).toString('hex')}`,
      name,
      arguments: args,
      fragments: toJsonFragments(args),
    },
  };
}

/**
 * Decides the whole answer up front, so stream and non-stream report the same tokens: a text reply
 * of `reply_tokens` tokens capped by `max_completion_tokens`/`max_tokens` (finish `length`), or the
 * tool call a directive asks for (finish `tool_calls`, one completion token per arguments fragment;
 * when the call doesn't fit the cap, the capped text reply instead).
 */
export function planCompletion(request: MockChatRequest): PlannedCompletion {
  const texts = messageTexts(request);
  const directives = readDirectives(texts);
  const wanted = directives.replyTokens ?? DEFAULT_REPLY_TOKENS;
  const cap = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const tool = planToolCall(request, directives.toolCall);
  const toolCall = tool.ok && tool.call && tool.call.fragments.length <= cap ? tool.call : undefined;
  const count = toolCall ? 0 : Math.min(wanted, cap);
  const completionTokens = toolCall ? toolCall.fragments.length : count;
  const promptTokens = directives.promptTokens ?? countPromptTokens(texts);
  const errorStatus = tool.ok ? directives.errorStatus : 400;
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    tokens: replyTokens(count),
    ...(toolCall ? { toolCall } : {}),
    finishReason: toolCall ? 'tool_calls' : count < wanted ? 'length' : 'stop',
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: {
        cached_tokens: Math.min(directives.cachedTokens ?? 0, promptTokens),
        audio_tokens: 0,
      },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    ...(errorStatus !== undefined ? { errorStatus } : {}),
    ...(!tool.ok ? { errorMessage: tool.message } : {}),
    ...(directives.chunkDelayMs !== undefined ? { chunkDelayMs: directives.chunkDelayMs } : {}),
    ...(directives.cutAfter !== undefined ? { cutAfter: directives.cutAfter } : {}),
    ...(directives.streamErrorAfter !== undefined ? { streamErrorAfter: directives.streamErrorAfter } : {}),
  };
}

/** The non-streaming `chat.completion` body (provider-wire-formats.md §1.2). */
export function toCompletionBody(plan: PlannedCompletion) {
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_mock',
    choices: [
      {
        index: 0,
        message: plan.toolCall
          ? {
              role: 'assistant',
              content: null,
              refusal: null,
              tool_calls: [
                {
                  id: plan.toolCall.id,
                  type: 'function',
                  function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments },
                },
              ],
            }
          : { role: 'assistant', content: plan.tokens.join(''), refusal: null },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: plan.usage,
    service_tier: 'default',
  };
}

/** The `data:` payloads of a streamed answer, in order, `[DONE]` included (§1.3). */
export function toStreamPayloads(plan: PlannedCompletion, includeUsage: boolean): string[] {
  const base = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    system_fingerprint: 'fp_mock',
  };
  // OpenAI puts `"usage": null` on every chunk only when the caller asked for usage.
  const usageNull = includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...usageNull,
    });
  const call = plan.toolCall;
  // §1.3: a call's first fragment carries id, type, name and empty arguments (in the role chunk);
  // later ones only the call's index and a piece of the arguments.
  const payloads = [
    call
      ? chunk(
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
            ],
          },
          null,
        )
      : chunk({ role: 'assistant', content: '', refusal: null }, null),
  ];
  const deltas = call
    ? call.fragments.map((piece) => ({ tool_calls: [{ index: 0, function: { arguments: piece } }] }))
    : plan.tokens.map((token) => ({ content: token }));
  for (const [i, delta] of deltas.entries()) {
    if (i === plan.streamErrorAfter) {
      // A mid-stream failure: an error payload instead of more chunks, then the end.
      payloads.push(JSON.stringify(toErrorBody(500)));
      return payloads;
    }
    payloads.push(chunk(delta, null));
  }
  payloads.push(chunk({}, plan.finishReason));
  if (includeUsage) payloads.push(JSON.stringify({ ...base, choices: [], usage: plan.usage }));
  payloads.push('[DONE]');
  return payloads;
}

/** OpenAI's error envelope (§1.4), with `message` in place of the status's generic one if given. */
export function toErrorBody(status: number, message?: string) {
  const byStatus: Record<number, { type: string; code: string | null; message: string }> = {
    400: { type: 'invalid_request_error', code: null, message: 'Invalid request (mock).' },
    401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
    404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
    429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  };
  const known = byStatus[status] ?? { type: 'server_error', code: null, message: 'The server had an error.' };
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}
