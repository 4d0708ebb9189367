import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type {
  AdapterDeps,
  CallTarget,
  ChatResponse,
  ChatStreamResponse,
  ProviderAdapter,
} from '../adapter.ts';
import { requestControls } from '../adapter.ts';
import type { ChatRequest } from '../canonical.ts';
import { err, ok, type Result } from '../errors.ts';
import { mapTransportError } from '../http/map-transport-error.ts';
import { endWithErrorEvent } from '../sse/end-with-error-event.ts';
import { parseSse } from '../sse/parse-sse.ts';
import { fromOpenAIError } from './errors.ts';
import { fromOpenAIChatResponse } from './from-openai-response.ts';
import { fromOpenAIStream } from './from-openai-stream.ts';
import { type ToOpenAIRequestOptions, toOpenAIChatRequest } from './to-openai-request.ts';
import { openAIChatResponseSchema } from './wire.ts';

export interface OpenAICompatibleOptions extends Partial<ToOpenAIRequestOptions> {
  /** Our provider id, used in errors, logs and pricing (`openai`, `deepseek`, `openrouter`, ...). */
  id?: string;
  /**
   * A provider's own changes to the OpenAI body (pure): e.g. DeepSeek's `thinking` toggle,
   * OpenRouter's usage accounting. Returns the parameters it dropped.
   */
  adjustBody?: (body: Record<string, unknown>, request: ChatRequest) => string[];
  /** Extra request headers (OpenRouter attribution). */
  headers?: Record<string, string>;
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

  /** The body to send and the parameters left out of it. */
  function plan(request: ChatRequest): { body: Record<string, unknown>; dropped: string[] } {
    const body = toOpenAIChatRequest(request, requestOptions);
    const dropped = [...droppedAnthropicParams(request), ...(options.adjustBody?.(body, request) ?? [])];
    return { body, dropped };
  }

  async function send(
    request: ChatRequest,
    body: Record<string, unknown>,
    target: CallTarget,
  ): Promise<Result<Dispatcher.ResponseData>> {
    const url = new URL(`${target.apiBase.replace(/\/+$/, '')}/chat/completions`);
    const headers: Record<string, string> = {
      ...options.headers,
      'content-type': 'application/json',
      accept: request.stream ? 'text/event-stream' : 'application/json',
    };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    try {
      const response = await deps.pools.forUrl(url).request({
        method: 'POST',
        path: url.pathname + url.search,
        headers,
        body: JSON.stringify(body),
        ...requestControls(target),
      });
      if (response.statusCode >= 400) {
        const text = await response.body.text().catch(() => '');
        return err(fromOpenAIError(id, response.statusCode, text, flattenHeaders(response.headers)));
      }
      return ok(response);
    } catch (cause) {
      return err(mapTransportError(id, cause, target.signal));
    }
  }

  return {
    id,
    async chat(request, target): Promise<Result<ChatResponse>> {
      const planned = plan({ ...request, stream: false });
      const sent = await send({ ...request, stream: false }, planned.body, target);
      if (!sent.ok) return sent;
      const response = sent.value;
      let payload: unknown;
      try {
        payload = await response.body.json();
      } catch (cause) {
        if (cause instanceof SyntaxError) {
          return err({
            kind: 'upstream_error',
            provider: id,
            status: 502,
            message: `${id} sent a body that is not JSON`,
            retryable: false,
          });
        }
        return err(mapTransportError(id, cause, target.signal));
      }
      const parsed = openAIChatResponseSchema.safeParse(payload);
      if (!parsed.success) {
        return err({
          kind: 'upstream_error',
          provider: id,
          status: 502,
          message: `${id} sent a response of unexpected shape`,
          retryable: false,
        });
      }
      return ok({
        result: fromOpenAIChatResponse(parsed.data),
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: planned.dropped,
      });
    },
    async chatStream(request, target): Promise<Result<ChatStreamResponse>> {
      const planned = plan({ ...request, stream: true });
      const sent = await send({ ...request, stream: true }, planned.body, target);
      if (!sent.ok) return sent;
      const response = sent.value;
      const bytes = Readable.toWeb(response.body) as ReadableStream<Uint8Array>;
      const events = endWithErrorEvent(parseSse(bytes).pipeThrough(fromOpenAIStream(id)), (cause) =>
        mapTransportError(id, cause, target.signal),
      );
      return ok({
        events,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: planned.dropped,
      });
    },
  };
}

/** Anthropic-only request fields have no OpenAI equivalent and are not sent (thinking maps to reasoning_effort). */
function droppedAnthropicParams(request: ChatRequest): string[] {
  const dropped = Object.keys(request.anthropicExtras ?? {});
  if (request.topK !== undefined) dropped.push('top_k');
  return dropped;
}

export function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
