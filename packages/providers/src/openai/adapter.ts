import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type {
  AdapterDeps,
  CallTarget,
  ChatResponse,
  ChatStreamResponse,
  EmbeddingResponse,
  ImageResponse,
  ProviderAdapter,
  RelayedChat,
} from '../adapter.ts';
import type { ChatRequest, ChatResult } from '../canonical.ts';
import { err, ok, type Result } from '../errors.ts';
import { mapTransportError } from '../http/map-transport-error.ts';
import { flattenHeaders, postJson, readJson } from '../http/post-json.ts';
import { trimBase } from '../http/trim-base.ts';
import { malformedUpstream } from '../http/upstream-error.ts';
import { upstreamEvents } from '../http/upstream-events.ts';
import {
  fromOpenRouterImageResponse,
  openRouterImageResponseSchema,
  toOpenRouterImageRequest,
} from '../openrouter/images.ts';
import { fuse } from '../sse/fuse.ts';
import { sseMessages } from '../sse/parse-sse.ts';
import {
  fromOpenAICompletionResponse,
  fromOpenAICompletionStreamTransformer,
  openAICompletionResponseSchema,
  toOpenAICompletionRequest,
} from './completions.ts';
import {
  fromOpenAIEmbeddingResponse,
  openAIEmbeddingResponseSchema,
  toOpenAIEmbeddingRequest,
} from './embeddings.ts';
import { fromOpenAIError } from './errors.ts';
import { fromOpenAIChatResponse } from './from-openai-response.ts';
import { fromOpenAIStreamTransformer } from './from-openai-stream.ts';
import { fromOpenAIUsage } from './map-openai-usage.ts';
import { type ToOpenAIRequestOptions, toOpenAIChatRequest } from './to-openai-request.ts';
import { type OpenAIUsage, openAIChatResponseSchema } from './wire.ts';

export interface OpenAICompatibleOptions extends Partial<ToOpenAIRequestOptions> {
  /** Our provider id, used in errors, logs and pricing (`openai`, `deepseek`, `openrouter`, ...). */
  id?: string;
  /**
   * A provider's own changes to the OpenAI body (pure): e.g. DeepSeek's `thinking` toggle,
   * OpenRouter's usage accounting. Returns the parameters it dropped. Without `request` the body
   * is a client's own, relayed: only what the provider needs changes.
   */
  adjustBody?: (body: Record<string, unknown>, request?: ChatRequest) => string[];
  /** Extra request headers (OpenRouter attribution). */
  headers?: Record<string, string>;
  /**
   * Send text completions to the upstream's own `/completions` (OpenAI, vLLM and other
   * OpenAI-compatible servers) instead of answering them as chat. Default: on for `openai`.
   */
  nativeCompletions?: boolean;
}

/**
 * An adapter for OpenAI and any OpenAI-compatible Chat Completions endpoint
 * (`POST {api_base}/chat/completions`, provider-wire-formats.md §1 and §9).
 */
export function createOpenAICompatibleAdapter(
  deps: AdapterDeps,
  options: OpenAICompatibleOptions = {},
): ProviderAdapter {
  const id = options.id ?? 'openai';
  const requestOptions: ToOpenAIRequestOptions = {
    maxTokensField: options.maxTokensField ?? (id === 'openai' ? 'max_completion_tokens' : 'max_tokens'),
  };

  const nativeCompletions = options.nativeCompletions ?? id === 'openai';
  const endpointOf = (request: ChatRequest) =>
    request.textCompletion && nativeCompletions ? ('/completions' as const) : ('/chat/completions' as const);

  /** The body to send and the parameters left out of it. */
  function plan(request: ChatRequest): { body: Record<string, unknown>; dropped: string[] } {
    if (endpointOf(request) === '/completions')
      return { body: toOpenAICompletionRequest(request), dropped: [] };
    const body = toOpenAIChatRequest(request, requestOptions);
    const dropped = [...droppedAnthropicParams(request), ...(options.adjustBody?.(body, request) ?? [])];
    return { body, dropped };
  }

  /** The provider's edits to a relayed body (DeepSeek's thinking switch, OpenRouter's usage accounting). */
  function relayEdits(body: Record<string, unknown>): { body: Record<string, unknown>; dropped: string[] } {
    const edited = { ...body };
    return { body: edited, dropped: options.adjustBody?.(edited) ?? [] };
  }

  async function send(
    endpoint: '/chat/completions' | '/completions' | '/embeddings' | '/images/generations',
    body: Record<string, unknown>,
    stream: boolean,
    target: CallTarget,
  ): Promise<Result<Dispatcher.ResponseData>> {
    const url = new URL(`${trimBase(target.apiBase)}${endpoint}`);
    const headers: Record<string, string> = {
      ...options.headers,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return postJson({
      pools: deps.pools,
      provider: id,
      url,
      headers,
      body,
      target,
      toError: (status, text, responseHeaders) => fromOpenAIError(id, status, text, responseHeaders),
    });
  }

  return {
    id,
    async chat(request, target): Promise<Result<ChatResponse>> {
      const planned = plan({ ...request, stream: false });
      const endpoint = endpointOf(request);
      const sent = await send(endpoint, planned.body, false, target);
      if (!sent.ok) return sent;
      let result: ChatResult;
      if (endpoint === '/completions') {
        const parsed = await readJson(id, sent.value, openAICompletionResponseSchema, target.signal);
        if (!parsed.ok) return parsed;
        result = fromOpenAICompletionResponse(parsed.value);
      } else {
        const parsed = await readJson(id, sent.value, openAIChatResponseSchema, target.signal);
        if (!parsed.ok) return parsed;
        result = fromOpenAIChatResponse(parsed.value);
      }
      return ok({
        result,
        upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
        droppedParams: planned.dropped,
      });
    },
    async generateImage(body, target): Promise<Result<ImageResponse>> {
      if (id === 'openrouter') {
        const sent = await send(
          '/chat/completions',
          toOpenRouterImageRequest(body, body.model),
          false,
          target,
        );
        if (!sent.ok) return sent;
        const parsed = await readJson(id, sent.value, openRouterImageResponseSchema, target.signal);
        if (!parsed.ok) return parsed;
        const { response, costUsd, inputTokens } = fromOpenRouterImageResponse(parsed.value);
        return ok({
          response,
          ...(costUsd !== undefined ? { providerCostUsd: costUsd } : {}),
          ...(inputTokens !== undefined ? { inputTokens } : {}),
          upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
        });
      }
      const sent = await send('/images/generations', { ...body }, false, target);
      if (!sent.ok) return sent;
      const parsed = await readJson(id, sent.value, imagesResponseSchema, target.signal);
      if (!parsed.ok) return parsed;
      const inputTokens = parsed.value.usage?.input_tokens ?? undefined;
      return ok({
        response: parsed.value,
        ...(inputTokens != null ? { inputTokens } : {}),
        upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
      });
    },
    async embed(request, target): Promise<Result<EmbeddingResponse>> {
      const sent = await send('/embeddings', toOpenAIEmbeddingRequest(request), false, target);
      if (!sent.ok) return sent;
      const parsed = await readJson(id, sent.value, openAIEmbeddingResponseSchema, target.signal);
      if (!parsed.ok) return parsed;
      return ok({
        result: fromOpenAIEmbeddingResponse(parsed.value),
        upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
        droppedParams: [],
      });
    },
    async relayChat(body, target): Promise<Result<RelayedChat>> {
      const { body: edited, dropped } = relayEdits(body);
      const sent = await send('/chat/completions', edited, false, target);
      if (!sent.ok) return sent;
      let text: string;
      try {
        text = await sent.value.body.text();
      } catch (cause) {
        return err(mapTransportError(id, cause, target.signal));
      }
      let answer: { id?: unknown; model?: unknown; usage?: OpenAIUsage | null } | null;
      try {
        answer = JSON.parse(text);
      } catch {
        return err(malformedUpstream(id, 'a body that is not JSON'));
      }
      if (!answer || typeof answer !== 'object')
        return err(malformedUpstream(id, 'a body that is not an object'));
      return ok({
        body: text,
        ...(typeof answer.id === 'string' ? { id: answer.id } : {}),
        ...(typeof answer.model === 'string' ? { model: answer.model } : {}),
        usage: fromOpenAIUsage(answer.usage),
        upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
        droppedParams: dropped,
      });
    },
    async relayChatStream(body, target, relayOptions): Promise<Result<ChatStreamResponse>> {
      const { body: edited, dropped } = relayEdits(body);
      // Usage is always asked for, to bill the call; the relay takes it out again if the client did not ask.
      const streamOptions = edited.stream_options;
      edited.stream_options = {
        ...(streamOptions && typeof streamOptions === 'object' ? streamOptions : {}),
        include_usage: true,
      };
      const sent = await send('/chat/completions', edited, true, target);
      if (!sent.ok) return sent;
      const response = sent.value;
      const events = upstreamEvents(
        response.body,
        fuse(sseMessages(), fromOpenAIStreamTransformer(id, relayOptions)),
        (cause) => mapTransportError(id, cause, target.signal),
      );
      return ok({
        events,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: dropped,
      });
    },
    async chatStream(request, target): Promise<Result<ChatStreamResponse>> {
      const planned = plan({ ...request, stream: true });
      const endpoint = endpointOf(request);
      const sent = await send(endpoint, planned.body, true, target);
      if (!sent.ok) return sent;
      const response = sent.value;
      const events = upstreamEvents(
        response.body,
        fuse(
          sseMessages(),
          endpoint === '/completions'
            ? fromOpenAICompletionStreamTransformer(id)
            : fromOpenAIStreamTransformer(id),
        ),
        (cause) => mapTransportError(id, cause, target.signal),
      );
      return ok({
        events,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: planned.dropped,
      });
    },
  };
}

/** An OpenAI images answer, read only for its usage; passed to the client as it is. */
const imagesResponseSchema = z.looseObject({
  data: z.array(z.unknown()),
  usage: z.looseObject({ input_tokens: z.number().int().nullish() }).nullish(),
});

/** Anthropic-only request fields have no OpenAI equivalent and are not sent (thinking maps to reasoning_effort). */
function droppedAnthropicParams(request: ChatRequest): string[] {
  const dropped = Object.keys(request.anthropicExtras ?? {});
  if (request.topK !== undefined) dropped.push('top_k');
  return dropped;
}
