import type { Transformer } from 'node:stream/web';
import { z } from 'zod';
import type { ChatRequest, ChatResult, StreamEvent } from '../canonical.ts';
import type { ProviderError } from '../errors.ts';
import { malformedUpstream, streamEndedEarly } from '../http/upstream-error.ts';
import type { EventSourceMessage } from '../sse/parse-sse.ts';
import { fromOpenAIStreamError } from './errors.ts';
import { fromOpenAIUsage, toOpenAIUsage } from './map-openai-usage.ts';
import { openAIUsageSchema } from './wire.ts';

/** `POST /v1/completions` bodies as clients send them (wire formats §1.5). */
export const openAICompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  suffix: z.string().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  n: z.number().int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  user: z.string().nullish(),
});
export type OpenAICompletionRequest = z.infer<typeof openAICompletionRequestSchema>;

const consumed = new Set([
  ...Object.keys(openAICompletionRequestSchema.shape),
  'metadata',
  'litellm_metadata',
  'tags',
]);

/** OpenAI's default when `max_tokens` is absent on this legacy endpoint. */
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/** A completions body -> a canonical text-completion request (the prompt as one user message). */
export function fromOpenAICompletionRequest(body: OpenAICompletionRequest): ChatRequest {
  const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!;
  const openaiExtras: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) if (!consumed.has(name)) openaiExtras[name] = value;
  if (body.suffix != null) openaiExtras.suffix = body.suffix;
  return {
    model: body.model,
    messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }],
    stream: body.stream === true,
    textCompletion: true,
    maxOutputTokens: body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
    openaiExtras,
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(body.n != null ? { n: body.n } : {}),
    ...(body.stop != null ? { stop: typeof body.stop === 'string' ? [body.stop] : body.stop } : {}),
    ...(body.seed != null ? { seed: body.seed } : {}),
    ...(body.presence_penalty != null ? { presencePenalty: body.presence_penalty } : {}),
    ...(body.frequency_penalty != null ? { frequencyPenalty: body.frequency_penalty } : {}),
    ...(body.user != null ? { user: body.user } : {}),
  };
}

/** A canonical text-completion request -> the body of an upstream `POST /completions`. */
export function toOpenAICompletionRequest(request: ChatRequest): Record<string, unknown> {
  const first = request.messages[0];
  const prompt =
    first?.role === 'user' ? first.content.map((p) => (p.type === 'text' ? p.text : '')).join('') : '';
  return {
    ...request.openaiExtras,
    model: request.model,
    prompt,
    ...(request.maxOutputTokens !== undefined ? { max_tokens: request.maxOutputTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.n !== undefined ? { n: request.n } : {}),
    ...(request.stop !== undefined ? { stop: request.stop } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.presencePenalty !== undefined ? { presence_penalty: request.presencePenalty } : {}),
    ...(request.frequencyPenalty !== undefined ? { frequency_penalty: request.frequencyPenalty } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
    ...(request.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

const completionChoice = z.looseObject({
  index: z.number().int(),
  text: z.string().nullish(),
  finish_reason: z.string().nullish(),
  logprobs: z.unknown().optional(),
});

export const openAICompletionResponseSchema = z.looseObject({
  id: z.string(),
  created: z.number(),
  model: z.string(),
  choices: z.array(completionChoice),
  usage: openAIUsageSchema.nullish(),
});

export function fromOpenAICompletionResponse(
  body: z.infer<typeof openAICompletionResponseSchema>,
): ChatResult {
  return {
    id: body.id,
    model: body.model,
    created: body.created,
    choices: body.choices.map((choice) => ({
      index: choice.index,
      text: choice.text ?? '',
      toolCalls: [],
      finishReason: choice.finish_reason ?? null,
      ...(choice.logprobs != null ? { logprobs: choice.logprobs } : {}),
    })),
    usage: fromOpenAIUsage(body.usage),
  };
}

/** Upstream `text_completion` SSE chunks -> canonical events; ends with an error if cut short. */
export function fromOpenAICompletionStreamTransformer(
  provider: string,
): Transformer<EventSourceMessage, StreamEvent> {
  let started = false;
  let finished = false;
  let failed = false;
  return {
    transform(message, controller) {
      if (failed || message.data === '[DONE]') return;
      let payload: unknown;
      try {
        payload = JSON.parse(message.data);
      } catch {
        payload = undefined;
      }
      if (payload && typeof payload === 'object' && 'error' in payload) {
        failed = true;
        controller.enqueue({ type: 'error', error: fromOpenAIStreamError(provider, payload) });
        return;
      }
      const parsed = openAICompletionResponseSchema.safeParse(payload);
      if (!parsed.success) {
        failed = true;
        controller.enqueue({
          type: 'error',
          error: malformedUpstream(provider, 'a malformed chunk'),
        });
        return;
      }
      const chunk = parsed.data;
      if (!started) {
        started = true;
        controller.enqueue({ type: 'start', id: chunk.id, model: chunk.model, created: chunk.created });
      }
      for (const choice of chunk.choices) {
        if (choice.text) controller.enqueue({ type: 'text-delta', choice: choice.index, text: choice.text });
        if (choice.finish_reason) {
          finished = true;
          controller.enqueue({ type: 'finish', choice: choice.index, finishReason: choice.finish_reason });
        }
      }
      if (chunk.usage) controller.enqueue({ type: 'usage', usage: fromOpenAIUsage(chunk.usage) });
    },
    flush(controller) {
      if (failed || finished) return;
      controller.enqueue({
        type: 'error',
        error: streamEndedEarly(provider),
      });
    },
  };
}

/** The canonical result -> a `text_completion` object (wire formats §1.5). */
export function toOpenAICompletionResponse(result: ChatResult): Record<string, unknown> {
  const usage = toOpenAIUsage(result.usage);
  return {
    id: result.id,
    object: 'text_completion',
    created: result.created,
    model: result.model,
    choices: result.choices.map((choice) => ({
      text: choice.text ?? '',
      index: choice.index,
      logprobs: choice.logprobs ?? null,
      finish_reason: choice.finishReason,
    })),
    ...(usage ? { usage } : {}),
  };
}

export interface ToOpenAICompletionStreamOptions {
  includeUsage: boolean;
  renderError: (error: ProviderError) => unknown;
}

/** Canonical events -> `text_completion` SSE chunks ending in `data: [DONE]`. */
export function toOpenAICompletionStreamTransformer(
  options: ToOpenAICompletionStreamOptions,
): Transformer<StreamEvent, string> {
  let head = { id: '', model: '', created: 0 };
  let usage: ReturnType<typeof toOpenAIUsage>;
  let failed = false;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...head, object: 'text_completion', choices, ...extra })}\n\n`;
  return {
    transform(event, controller) {
      if (failed) return;
      switch (event.type) {
        case 'start':
          head = { id: event.id, model: event.model, created: event.created };
          return;
        case 'text-delta':
          controller.enqueue(
            chunk([{ text: event.text, index: event.choice, logprobs: null, finish_reason: null }]),
          );
          return;
        case 'finish':
          controller.enqueue(
            chunk([{ text: '', index: event.choice, logprobs: null, finish_reason: event.finishReason }]),
          );
          return;
        case 'usage':
          usage = toOpenAIUsage(event.usage);
          return;
        case 'error':
          failed = true;
          controller.enqueue(`data: ${JSON.stringify(options.renderError(event.error))}\n\n`);
          return;
        default:
          // Reasoning, tool calls and refusals have no place in a text completion.
          return;
      }
    },
    flush(controller) {
      if (failed) return;
      if (options.includeUsage && usage) controller.enqueue(chunk([], { usage }));
      controller.enqueue('data: [DONE]\n\n');
    },
  };
}

export function toOpenAICompletionStream(
  options: ToOpenAICompletionStreamOptions,
): TransformStream<StreamEvent, string> {
  return new TransformStream(toOpenAICompletionStreamTransformer(options));
}
