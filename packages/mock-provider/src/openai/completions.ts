import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import {
  type MockAnswer,
  type StreamParts,
  toInvalidBodyMessage,
  toSseData,
  toStreamFrames,
} from '../mock-answer.ts';
import { countTextTokens, replyTokens, toFillInTokens } from '../reply.ts';
import { toErrorBody } from './chat-completions.ts';
import { textInputsSchema, toTextInputs } from './text-inputs.ts';

/** OpenAI's default `max_tokens` for legacy completions (provider-wire-formats.md §1.5). */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;
const DEFAULT_REPLY_TOKENS = 20;

/** What the mock reads from a `/v1/completions` request; anything else is accepted and ignored. */
export const mockTextCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: textInputsSchema,
  suffix: z.string().nullish(),
  max_tokens: z.number().int().nonnegative().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});
export type MockTextCompletionRequest = z.infer<typeof mockTextCompletionRequestSchema>;

export interface PlannedTextCompletion {
  /** `cmpl-...` */
  id: string;
  created: number;
  model: string;
  /** One choice per prompt, each with its tokens. */
  choices: { tokens: string[]; finishReason: 'stop' | 'length' }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  errorStatus?: number;
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

/**
 * Decides the answer up front: one choice per prompt, each `reply_tokens` tokens (default 20) capped
 * by `max_tokens`, which defaults to 16 as at OpenAI (so the default answer is 16 tokens, finish
 * `length`). With a non-empty `suffix` each choice is a fill-in (`toFillInTokens`). Prompt tokens:
 * `countTextTokens` of each string prompt (a token array counts its ids) plus the suffix's.
 * Directives are read from the prompts and the suffix; `[mock:tool_call]` and cache directives don't
 * apply.
 */
export function planTextCompletion(request: MockTextCompletionRequest): PlannedTextCompletion {
  const prompts = toTextInputs(request.prompt);
  const suffix = request.suffix ?? '';
  const directives = readDirectives([...prompts.map((p) => p.text), suffix]);
  const wanted = directives.replyTokens ?? DEFAULT_REPLY_TOKENS;
  const count = Math.min(wanted, request.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS);
  const tokens = suffix ? toFillInTokens(replyTokens(count), suffix) : replyTokens(count);
  const promptTokens = prompts.reduce((sum, p) => sum + p.tokens, 0) + (suffix ? countTextTokens(suffix) : 0);
  const completionTokens = count * prompts.length;
  return {
    id: `cmpl-${randomBytes(15).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: prompts.map(() => ({ tokens, finishReason: count < wanted ? 'length' : 'stop' })),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
    ...(directives.errorStatus !== undefined ? { errorStatus: directives.errorStatus } : {}),
    ...(directives.chunkDelayMs !== undefined ? { chunkDelayMs: directives.chunkDelayMs } : {}),
    ...(directives.cutAfter !== undefined ? { cutAfter: directives.cutAfter } : {}),
    ...(directives.streamErrorAfter !== undefined ? { streamErrorAfter: directives.streamErrorAfter } : {}),
  };
}

/** The non-streaming `text_completion` body (§1.5). */
export function toTextCompletionBody(plan: PlannedTextCompletion) {
  return {
    id: plan.id,
    object: 'text_completion',
    created: plan.created,
    model: plan.model,
    choices: plan.choices.map((choice, index) => ({
      text: choice.tokens.join(''),
      index,
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: plan.usage,
  };
}

/**
 * The stream (§1.5), before the stream directives: one `text_completion` chunk per token (choice
 * after choice, `finish_reason: null`), then each choice's finish chunk (`text: ""`), the usage chunk
 * (`choices: []`) when `include_usage` (then every other chunk has `usage: null`, as in chat), and
 * `[DONE]`. A mid-stream failure is OpenAI's `data: {"error": ...}`.
 */
export function toTextCompletionStreamParts(plan: PlannedTextCompletion, includeUsage: boolean): StreamParts {
  const base = { id: plan.id, object: 'text_completion', created: plan.created, model: plan.model };
  const chunk = (index: number, text: string, finishReason: string | null) =>
    toSseData({
      ...base,
      choices: [{ text, index, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
  return {
    head: [],
    tokens: plan.choices.flatMap((choice, index) => choice.tokens.map((token) => chunk(index, token, null))),
    tail: [
      ...plan.choices.map((choice, index) => chunk(index, '', choice.finishReason)),
      ...(includeUsage ? [toSseData({ ...base, choices: [], usage: plan.usage })] : []),
      toSseData('[DONE]'),
    ],
    errorFrames: [toSseData(toErrorBody(500))],
  };
}

/** The completions route's answer to a parsed JSON body: a 400 for a body the schema refuses. */
export function answerTextCompletion(body: unknown): MockAnswer {
  const parsed = mockTextCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  const plan = planTextCompletion(parsed.data);
  if (plan.errorStatus !== undefined) return { kind: 'error', status: plan.errorStatus };
  if (!parsed.data.stream) return { kind: 'json', body: toTextCompletionBody(plan) };
  const parts = toTextCompletionStreamParts(plan, parsed.data.stream_options?.include_usage === true);
  return {
    kind: 'stream',
    format: 'sse',
    ...toStreamFrames(parts, plan),
    ...(plan.chunkDelayMs !== undefined ? { chunkDelayMs: plan.chunkDelayMs } : {}),
  };
}
