import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import {
  type MockAnswer,
  type StreamParts,
  toInvalidBodyMessage,
  toSseComment,
  toSseData,
  toStreamFrames,
} from '../mock-answer.ts';
import { messageTexts, mockChatRequestSchema } from '../openai/chat-completions.ts';
import {
  type PlannedReasonedCompletion,
  planReasonedCompletion,
} from '../openai/plan-reasoned-completion.ts';

/**
 * An OpenAI chat request plus OpenRouter's reasoning switches (provider-wire-formats.md §8.2):
 * `reasoning: {effort | max_tokens, exclude, enabled}`, `reasoning_effort`, `include_reasoning`.
 * Other OpenRouter fields (`provider`, `transforms`, `models`, `usage`) are accepted and ignored.
 */
export const mockOpenRouterChatRequestSchema = mockChatRequestSchema.extend({
  reasoning: z
    .looseObject({
      effort: z.string().nullish(),
      max_tokens: z.number().nullish(),
      exclude: z.boolean().nullish(),
      enabled: z.boolean().nullish(),
    })
    .nullish(),
  reasoning_effort: z.string().nullish(),
  include_reasoning: z.boolean().nullish(),
});
export type MockOpenRouterChatRequest = z.infer<typeof mockOpenRouterChatRequestSchema>;

/** The mock's prices, in micro-USD per token, so costs are exact integers until rendered. */
export const MOCK_OPENROUTER_PROMPT_MICRO_USD_PER_TOKEN = 1;
export const MOCK_OPENROUTER_COMPLETION_MICRO_USD_PER_TOKEN = 2;

/** OpenRouter's usage (§8.3): OpenAI's plus the charged `cost` (USD) and its split. */
export interface OpenRouterUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; image_tokens: number };
  cost: number;
  is_byok: boolean;
  cost_details: {
    upstream_inference_cost: number | null;
    upstream_inference_prompt_cost: number;
    upstream_inference_completions_cost: number;
  };
}

/**
 * The mock's charge for a request, in USD: `cost` = prompt × 1e-6 + completion × 2e-6 (cached and
 * reasoning tokens at the same rates, as they are part of prompt and completion), computed in
 * integer micro-USD and rendered rounded to 8 decimals; `cost_details` splits it into prompt and
 * completion parts, `upstream_inference_cost` null (not BYOK).
 */
export function toOpenRouterCost(
  promptTokens: number,
  completionTokens: number,
): Pick<OpenRouterUsage, 'cost' | 'is_byok' | 'cost_details'> {
  const promptMicroUsd = promptTokens * MOCK_OPENROUTER_PROMPT_MICRO_USD_PER_TOKEN;
  const completionMicroUsd = completionTokens * MOCK_OPENROUTER_COMPLETION_MICRO_USD_PER_TOKEN;
  const toUsd = (microUsd: number) => Number((microUsd / 1e6).toFixed(8));
  return {
    cost: toUsd(promptMicroUsd + completionMicroUsd),
    is_byok: false,
    cost_details: {
      upstream_inference_cost: null,
      upstream_inference_prompt_cost: toUsd(promptMicroUsd),
      upstream_inference_completions_cost: toUsd(completionMicroUsd),
    },
  };
}

export interface PlannedOpenRouterCompletion extends Omit<PlannedReasonedCompletion, 'usage'> {
  /** The upstream OpenRouter reports in `provider`, from the model's vendor prefix. */
  provider: string;
  /** False for `reasoning.exclude`: the model reasons (and is billed for it) but the text is withheld. */
  showsReasoning: boolean;
  usage: OpenRouterUsage;
}

const providersByVendor = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  google: 'Google',
  deepseek: 'DeepSeek',
  'meta-llama': 'Meta',
  mistralai: 'Mistral',
  'x-ai': 'xAI',
  qwen: 'Alibaba',
} satisfies Record<string, string>;

/** The `provider` OpenRouter names for a model id: by vendor prefix, `Mock` for others. */
function toProviderName(model: string): string {
  const vendor = model.split('/')[0] ?? '';
  return Object.hasOwn(providersByVendor, vendor)
    ? providersByVendor[vendor as keyof typeof providersByVendor]
    : 'Mock';
}

/** `gen-<unix seconds>-<20 letters and digits>`, the shape of OpenRouter's generation ids. */
function toGenerationId(created: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `gen-${created}-${Array.from(randomBytes(20), (byte) => alphabet[byte % alphabet.length]).join('')}`;
}

/** True when the request asks OpenRouter to reason (any switch on, effort other than `none`). */
function wantsReasoning(request: MockOpenRouterChatRequest): boolean {
  const { reasoning, reasoning_effort, include_reasoning } = request;
  if (reasoning) return reasoning.enabled !== false && reasoning.effort !== 'none';
  if (reasoning_effort) return reasoning_effort !== 'none';
  return include_reasoning === true;
}

/**
 * The OpenAI route's plan (`planCompletion`) with OpenRouter's additions: an id `gen-...`, the
 * `provider`, the 8 reasoning tokens first when the request asks for reasoning
 * (`planReasonedCompletion`), and usage with `cost`/`cost_details` (`toOpenRouterCost`) and
 * `prompt_tokens_details.cache_write_tokens` from `[mock:cache_write_tokens=N]` (capped at the
 * uncached prompt).
 */
export function planOpenRouterCompletion(request: MockOpenRouterChatRequest): PlannedOpenRouterCompletion {
  const isReasoning = wantsReasoning(request);
  const plan = planReasonedCompletion(request, isReasoning);
  const { cacheWriteTokens } = readDirectives(messageTexts(request));
  const { prompt_tokens, completion_tokens, total_tokens } = plan.usage;
  const cached = plan.usage.prompt_tokens_details.cached_tokens;
  return {
    ...plan,
    id: toGenerationId(plan.created),
    provider: toProviderName(request.model),
    showsReasoning: isReasoning && request.reasoning?.exclude !== true,
    usage: {
      prompt_tokens,
      completion_tokens,
      total_tokens,
      prompt_tokens_details: {
        cached_tokens: cached,
        cache_write_tokens: Math.min(cacheWriteTokens ?? 0, prompt_tokens - cached),
        audio_tokens: 0,
      },
      completion_tokens_details: { reasoning_tokens: plan.reasoning.length, image_tokens: 0 },
      ...toOpenRouterCost(prompt_tokens, completion_tokens),
    },
  };
}

/** The non-streaming body (§8.3): `provider`, `native_finish_reason`, `message.reasoning`, usage with cost. */
export function toOpenRouterCompletionBody(plan: PlannedOpenRouterCompletion) {
  const call = plan.toolCall;
  const reasoning = plan.showsReasoning ? plan.reasoning.join('') : null;
  return {
    id: plan.id,
    provider: plan.provider,
    model: plan.model,
    object: 'chat.completion',
    created: plan.created,
    choices: [
      {
        index: 0,
        logprobs: null,
        finish_reason: plan.finishReason,
        native_finish_reason: plan.finishReason,
        message: {
          role: 'assistant',
          content: call ? '' : plan.tokens.join(''),
          refusal: null,
          reasoning,
          ...(reasoning !== null
            ? {
                reasoning_details: [{ type: 'reasoning.text', text: reasoning, format: 'unknown', index: 0 }],
              }
            : {}),
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
      },
    ],
    usage: plan.usage,
  };
}

/**
 * The stream (§8.4), before the stream directives: a `: OPENROUTER PROCESSING` comment first, then
 * one chunk per token, every delta with `role: "assistant"`: `reasoning` pieces (unless excluded),
 * then `content` pieces (or the tool call: header glued to the first arguments fragment), the finish
 * chunk, the usage chunk (`choices: []`, cost included) whether or not `include_usage` was asked,
 * and `[DONE]`. A mid-stream failure is OpenRouter's error chunk (`error` beside the chunk fields,
 * `finish_reason: "error"`) and no `[DONE]`.
 */
export function toOpenRouterStreamParts(plan: PlannedOpenRouterCompletion): StreamParts {
  const base = {
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    provider: plan.provider,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    toSseData({
      ...base,
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', ...delta },
          finish_reason: finishReason,
          native_finish_reason: finishReason,
          logprobs: null,
        },
      ],
    });
  const call = plan.toolCall;
  const answerTokens = call
    ? call.fragments.map(
        (piece, i) =>
          (i === 0
            ? chunk({
                content: null,
                tool_calls: [
                  { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
                ],
              })
            : '') + chunk({ content: null, tool_calls: [{ index: 0, function: { arguments: piece } }] }),
      )
    : plan.tokens.map((token) => chunk({ content: token }));
  return {
    head: [toSseComment('OPENROUTER PROCESSING')],
    tokens: [
      ...(plan.showsReasoning ? plan.reasoning.map((piece) => chunk({ content: '', reasoning: piece })) : []),
      ...answerTokens,
    ],
    tail: [
      chunk({ content: '' }, plan.finishReason),
      toSseData({ ...base, choices: [], usage: plan.usage }),
      toSseData('[DONE]'),
    ],
    errorFrames: [
      toSseData({
        ...base,
        error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
      }),
    ],
  };
}

const messagesByStatus: Record<number, string> = {
  400: 'Invalid request (mock).',
  401: 'No auth credentials found',
  402: 'Insufficient credits. Add more using https://openrouter.ai/credits',
  403: 'Your input was flagged by moderation (mock).',
  404: 'No endpoints found for this model (mock).',
  408: 'Request timed out (mock).',
  429: 'Rate limit exceeded (mock).',
  502: 'Provider returned error',
  503: 'No available providers (mock).',
};

/** OpenRouter's error body (§8.5): `{"error": {"code": <status>, "message"}}`, `message` if given. */
export function toOpenRouterErrorBody(status: number, message?: string) {
  return { error: { code: status, message: message ?? messagesByStatus[status] ?? 'Internal Server Error' } };
}

/**
 * The OpenRouter route's answer to a parsed JSON body (a 400 for a body the schema refuses); the
 * generation id is also sent in the `x-generation-id` header, as OpenRouter does.
 */
export function answerOpenRouterChat(body: unknown): MockAnswer {
  const parsed = mockOpenRouterChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  const plan = planOpenRouterCompletion(parsed.data);
  if (plan.errorStatus !== undefined) {
    return {
      kind: 'error',
      status: plan.errorStatus,
      ...(plan.errorMessage ? { message: plan.errorMessage } : {}),
    };
  }
  const headers = { 'x-generation-id': plan.id };
  if (!parsed.data.stream) return { kind: 'json', body: toOpenRouterCompletionBody(plan), headers };
  return {
    kind: 'stream',
    format: 'sse',
    ...toStreamFrames(toOpenRouterStreamParts(plan), plan),
    ...(plan.chunkDelayMs !== undefined ? { chunkDelayMs: plan.chunkDelayMs } : {}),
    headers,
  };
}
