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
import { flattenHeaders, postJson } from '../http/post-json.ts';
import { trimBase } from '../http/trim-base.ts';
import { malformedUpstream } from '../http/upstream-error.ts';
import { upstreamEvents } from '../http/upstream-events.ts';
import { fuse } from '../sse/fuse.ts';
import { sseMessages } from '../sse/parse-sse.ts';
import { fromAnthropicError } from './errors.ts';
import { fromAnthropicMessage } from './from-anthropic-response.ts';
import { fromAnthropicStreamTransformer } from './from-anthropic-stream.ts';
import { type AnthropicRequestPlan, toAnthropicRequest } from './to-anthropic-request.ts';
import { anthropicMessageSchema } from './wire.ts';

const ANTHROPIC_VERSION = '2023-06-01';

/** `{api_base}/v1/messages`; a base that already ends in `/v1` or `/v1/messages` is respected. */
export function anthropicMessagesUrl(apiBase: string): URL {
  const base = trimBase(apiBase);
  if (base.endsWith('/v1/messages')) return new URL(base);
  return new URL(base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`);
}

/** The headers Anthropic requires (wire formats §2.1), plus the betas the request needs. */
export function anthropicHeaders(
  apiKey: string | undefined,
  betas: string[],
  stream: boolean,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
    ...(apiKey ? { 'x-api-key': apiKey } : {}),
    ...(betas.length > 0 ? { 'anthropic-beta': [...new Set(betas)].sort().join(',') } : {}),
  };
}

/** The Anthropic Messages API (`POST {api_base}/v1/messages`). */
export function createAnthropicAdapter(deps: AdapterDeps): ProviderAdapter {
  async function send(
    plan: AnthropicRequestPlan,
    target: CallTarget,
    stream: boolean,
  ): Promise<Result<Dispatcher.ResponseData>> {
    return postJson({
      pools: deps.pools,
      provider: 'anthropic',
      url: anthropicMessagesUrl(target.apiBase),
      headers: anthropicHeaders(target.apiKey, plan.betas, stream),
      body: plan.body,
      target,
      toError: fromAnthropicError,
    });
  }

  return {
    id: 'anthropic',
    async chat(request: ChatRequest, target): Promise<Result<ChatResponse>> {
      const plan = toAnthropicRequest({ ...request, stream: false });
      const sent = await send(plan, target, false);
      if (!sent.ok) return sent;
      const response = sent.value;
      let payload: unknown;
      try {
        payload = await response.body.json();
      } catch (cause) {
        if (cause instanceof SyntaxError) {
          return err(malformedUpstream('anthropic', 'a body that is not JSON'));
        }
        return err(mapTransportError('anthropic', cause, target.signal));
      }
      const parsed = anthropicMessageSchema.safeParse(payload);
      if (!parsed.success) {
        return err(malformedUpstream('anthropic', 'a response of unexpected shape'));
      }
      return ok({
        result: fromAnthropicMessage(parsed.data, plan.jsonToolName),
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: plan.warnings,
      });
    },
    async chatStream(request: ChatRequest, target): Promise<Result<ChatStreamResponse>> {
      const plan = toAnthropicRequest({ ...request, stream: true });
      const sent = await send(plan, target, true);
      if (!sent.ok) return sent;
      const response = sent.value;
      const events = upstreamEvents(
        response.body,
        fuse(sseMessages(), fromAnthropicStreamTransformer(plan.jsonToolName)),
        (cause) => mapTransportError('anthropic', cause, target.signal),
      );
      return ok({
        events,
        upstream: { status: response.statusCode, headers: flattenHeaders(response.headers) },
        droppedParams: plan.warnings,
      });
    },
  };
}

export interface PassthroughRequest {
  method: string;
  /** Path and query under the Anthropic base, e.g. `/v1/messages/count_tokens?beta=true`. */
  path: string;
  /** Client headers worth forwarding (`anthropic-version`, `anthropic-beta`, `content-type`, ...). */
  headers: Record<string, string>;
  body?: string;
}

export interface PassthroughResponse {
  status: number;
  headers: Record<string, string>;
  /** The answer's body, read once: relayed as bytes (`bodyStream`), read whole, or as events. */
  body: Dispatcher.ResponseData['body'];
}

// Never forwarded: the client's credentials (the gateway's own key goes upstream instead)
// and hop-by-hop or length headers that the relay recomputes.
const strippedRequestHeaders = new Set([
  'authorization',
  'x-api-key',
  'x-litellm-api-key',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'accept-encoding',
]);

/**
 * The native `/anthropic/*` pass-through (wire formats §5.5): any Anthropic endpoint, body and
 * answer relayed byte for byte, with the gateway's Anthropic key in place of the caller's.
 */
export function createAnthropicPassthrough(deps: AdapterDeps) {
  return {
    async forward(request: PassthroughRequest, target: CallTarget): Promise<Result<PassthroughResponse>> {
      const url = new URL(`${trimBase(target.apiBase)}${request.path}`);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (!strippedRequestHeaders.has(name.toLowerCase())) headers[name] = value;
      }
      headers['anthropic-version'] ??= ANTHROPIC_VERSION;
      if (target.apiKey) headers['x-api-key'] = target.apiKey;
      Object.assign(headers, target.extraHeaders);
      try {
        const response = await deps.pools.forUrl(url).request({
          method: request.method as Dispatcher.HttpMethod,
          path: url.pathname + url.search,
          headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
          ...requestControls(target),
        });
        return ok({
          status: response.statusCode,
          headers: flattenHeaders(response.headers),
          body: response.body,
        });
      } catch (cause) {
        return err(mapTransportError('anthropic', cause, target.signal));
      }
    },
  };
}

export type AnthropicPassthrough = ReturnType<typeof createAnthropicPassthrough>;
