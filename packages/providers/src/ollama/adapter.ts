import type { Dispatcher } from 'undici';
import type {
  AdapterDeps,
  CallTarget,
  ChatResponse,
  ChatStreamResponse,
  EmbeddingResponse,
  ProviderAdapter,
} from '../adapter.ts';
import type { ChatRequest, ChatResult } from '../canonical.ts';
import { err, ok, type Result } from '../errors.ts';
import { mapTransportError } from '../http/map-transport-error.ts';
import { flattenHeaders, postJson, readJson } from '../http/post-json.ts';
import { trimBase } from '../http/trim-base.ts';
import { malformedUpstream } from '../http/upstream-error.ts';
import { upstreamEvents } from '../http/upstream-events.ts';
import { fuse } from '../sse/fuse.ts';
import { fromOllamaError } from './errors.ts';
import { fromOllamaChatResponse, fromOllamaGenerateResponse } from './from-ollama-response.ts';
import { fromOllamaStreamTransformer } from './from-ollama-stream.ts';
import { ndjsonItems } from './parse-ndjson.ts';
import { type OllamaRequestPlan, toOllamaChatRequest } from './to-ollama-chat-request.ts';
import { toOllamaGenerateRequest } from './to-ollama-generate-request.ts';
import { ollamaChatResponseSchema, ollamaEmbedResponseSchema, ollamaGenerateResponseSchema } from './wire.ts';

export interface OllamaAdapterOptions {
  /**
   * `chat` for `ollama_chat/<model>` (`POST /api/chat`), `generate` for `ollama/<model>`
   * (`POST /api/generate`, messages rendered to a prompt). Wire formats §0 and §10.
   */
  mode: 'chat' | 'generate';
}

/**
 * `{api_base}/api/chat` or `{api_base}/api/generate`. A base that already ends in the endpoint
 * path is used as it is, as LiteLLM does.
 */
export function ollamaUrl(apiBase: string, mode: OllamaAdapterOptions['mode']): URL {
  const base = trimBase(apiBase);
  const path = mode === 'chat' ? '/api/chat' : '/api/generate';
  return new URL(base.endsWith(path) ? base : `${base}${path}`);
}

/**
 * An Ollama server (wire formats §7): id `ollama_chat` in chat mode, `ollama` in generate mode.
 * Ollama needs no key locally; when the target has one (Ollama cloud, or a proxy in front of
 * Ollama) it is sent as a bearer token. Streams are NDJSON.
 */
export function createOllamaAdapter(deps: AdapterDeps, options: OllamaAdapterOptions): ProviderAdapter {
  const { mode } = options;
  const id = mode === 'chat' ? 'ollama_chat' : 'ollama';
  const plan = (request: ChatRequest): OllamaRequestPlan =>
    mode === 'chat' ? toOllamaChatRequest(request) : toOllamaGenerateRequest(request);

  async function send(
    body: Record<string, unknown>,
    target: CallTarget,
    stream: boolean,
    url: URL = ollamaUrl(target.apiBase, mode),
  ): Promise<Result<Dispatcher.ResponseData>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'application/x-ndjson' : 'application/json',
    };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return postJson({
      pools: deps.pools,
      provider: id,
      url,
      headers,
      body,
      target,
      toError: (status, text, responseHeaders) => fromOllamaError(id, status, text, responseHeaders),
    });
  }

  /** A non-streamed body -> the canonical result; undefined when it is not what Ollama sends. */
  function readResult(payload: unknown): ChatResult | undefined {
    if (mode === 'chat') {
      const parsed = ollamaChatResponseSchema.safeParse(payload);
      return parsed.success ? fromOllamaChatResponse(parsed.data, id) : undefined;
    }
    const parsed = ollamaGenerateResponseSchema.safeParse(payload);
    return parsed.success ? fromOllamaGenerateResponse(parsed.data, id) : undefined;
  }

  return {
    id,
    async chat(request, target): Promise<Result<ChatResponse>> {
      const planned = plan({ ...request, stream: false });
      const sent = await send(planned.body, target, false);
      if (!sent.ok) return sent;
      const response = sent.value;
      let payload: unknown;
      try {
        payload = await response.body.json();
      } catch (cause) {
        if (cause instanceof SyntaxError) {
          return err(malformedUpstream(id, 'a body that is not JSON'));
        }
        return err(mapTransportError(id, cause, target.signal));
      }
      const result = readResult(payload);
      if (!result) {
        return err(malformedUpstream(id, 'a response of unexpected shape'));
      }
      return ok({
        result,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: planned.warnings,
      });
    },
    async embed(request, target): Promise<Result<EmbeddingResponse>> {
      // Ollama embeds text only; token-array input has no Ollama form.
      if (typeof request.input[0] !== 'string') {
        return err({
          kind: 'invalid_request',
          param: 'input',
          message: `${id} embeds text only, not token arrays`,
        });
      }
      const base = trimBase(target.apiBase);
      const sent = await send(
        {
          model: request.model,
          input: request.input,
          ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
        },
        target,
        false,
        new URL(`${base}/api/embed`),
      );
      if (!sent.ok) return sent;
      const parsed = await readJson(id, sent.value, ollamaEmbedResponseSchema, target.signal);
      if (!parsed.ok) return parsed;
      const dropped = [...(request.user !== undefined ? ['user'] : []), ...Object.keys(request.openaiExtras)];
      return ok({
        result: {
          model: `${id}/${request.model}`,
          vectors: parsed.value.embeddings,
          usage:
            parsed.value.prompt_eval_count != null
              ? { inputTokens: parsed.value.prompt_eval_count, outputTokens: 0 }
              : {},
        },
        upstream: { status: sent.value.statusCode, headers: flattenHeaders(sent.value.headers) },
        droppedParams: dropped,
      });
    },
    async chatStream(request, target): Promise<Result<ChatStreamResponse>> {
      const planned = plan({ ...request, stream: true });
      const sent = await send(planned.body, target, true);
      if (!sent.ok) return sent;
      const response = sent.value;
      const events = upstreamEvents(
        response.body,
        fuse(ndjsonItems(), fromOllamaStreamTransformer(id, mode)),
        (cause) => mapTransportError(id, cause, target.signal),
      );
      return ok({
        events,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: planned.warnings,
      });
    },
  };
}
