import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { countPromptTokens, replyTokens } from '../reply.ts';

/** What the mock needs from an OpenAI chat request; anything else is accepted and ignored. */
export const mockChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
});
export type MockChatRequest = z.infer<typeof mockChatRequestSchema>;

const DEFAULT_REPLY_TOKENS = 20;

/** Every text in the request's messages, string or content-part form. */
function messageTexts(request: MockChatRequest): string[] {
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

export interface PlannedCompletion {
  id: string;
  created: number;
  model: string;
  tokens: string[];
  finishReason: 'stop' | 'length';
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
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

/** Decides the whole answer up front, so stream and non-stream report the same tokens. */
export function planCompletion(request: MockChatRequest): PlannedCompletion {
  const texts = messageTexts(request);
  const directives = readDirectives(texts);
  const wanted = directives.replyTokens ?? DEFAULT_REPLY_TOKENS;
  const cap = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const count = Math.min(wanted, cap);
  const promptTokens = countPromptTokens(texts);
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    tokens: replyTokens(count),
    finishReason: count < wanted ? 'length' : 'stop',
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: count,
      total_tokens: promptTokens + count,
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
    ...(directives.errorStatus !== undefined ? { errorStatus: directives.errorStatus } : {}),
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
        message: { role: 'assistant', content: plan.tokens.join(''), refusal: null },
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
  const payloads = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
  for (const [i, token] of plan.tokens.entries()) {
    if (i === plan.streamErrorAfter) {
      // A mid-stream failure: an error payload instead of more chunks, then the end.
      payloads.push(JSON.stringify(toErrorBody(500)));
      return payloads;
    }
    payloads.push(chunk({ content: token }, null));
  }
  payloads.push(chunk({}, plan.finishReason));
  if (includeUsage) payloads.push(JSON.stringify({ ...base, choices: [], usage: plan.usage }));
  payloads.push('[DONE]');
  return payloads;
}

/** OpenAI's error envelope (§1.4). */
export function toErrorBody(status: number) {
  const byStatus: Record<number, { type: string; code: string | null; message: string }> = {
    400: { type: 'invalid_request_error', code: null, message: 'Invalid request (mock).' },
    401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
    404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
    429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  };
  const known = byStatus[status] ?? { type: 'server_error', code: null, message: 'The server had an error.' };
  return { error: { message: known.message, type: known.type, param: null, code: known.code } };
}
