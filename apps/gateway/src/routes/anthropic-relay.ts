import type { PriceResult } from '@gateway/pricing';
import {
  type AnthropicPassthrough,
  anthropicMessageSchema,
  bodyStream,
  type CallTarget,
  fromAnthropicMessage,
  fromAnthropicRelayTransformer,
  fuse,
  isRetryableStatus,
  mapTransportError,
  type PassthroughResponse,
  parseRetryAfter,
  sseMessages,
  toRelayTransformer,
  type Usage,
  upstreamEvents,
} from '@gateway/providers';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { toAnthropicErrorBody } from '../errors.ts';
import { clientRequest } from '../middleware/client-request.ts';
import { meterCallStream, withRetries } from '../model-call/model-call.ts';
import type { FinishRequestEvent } from '../request/finish-request-event.ts';
import type { ModelCall } from '../request/request-event.ts';
import { sseResponse } from './sse-response.ts';

/** Response headers that belong to one hop and are not relayed. */
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function relayHeaders(upstream: Record<string, string>, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream)) if (!hopByHop.has(name)) headers[name] = value;
  headers['x-litellm-call-id'] = requestId;
  return headers;
}

/** The client headers worth forwarding to Anthropic. */
export function anthropicRequestHeaders(headers: Headers): Record<string, string> {
  const forwarded: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith('anthropic-') || name === 'content-type' || name === 'accept')
      forwarded[name] = value;
  });
  return forwarded;
}

export interface RelayOptions {
  client: AnthropicPassthrough;
  method: string;
  /** Path and query under the Anthropic base. */
  path: string;
  body: string | undefined;
  target: CallTarget;
  /** The model call to meter, for `POST /v1/messages`; other endpoints are relayed unmetered. */
  call: ModelCall | undefined;
  finish: FinishRequestEvent;
  /** Prices the call's usage (the deployment's overrides apply on `/v1/messages`). */
  price: (usage: Usage, at: Date) => PriceResult;
  /** Headers of ours to add to the relayed answer. */
  responseHeaders?: Record<string, string>;
  /** Retries of a retryable answer (429, 5xx) before anything was relayed (`num_retries`). */
  retries?: number;
}

/** A relayed 429 or 5xx, to be tried again while retries remain (its body let go). */
function retryableAnswer(answer: PassthroughResponse) {
  if (!isRetryableStatus(answer.status)) return undefined;
  return {
    status: answer.status,
    retryAfterSeconds: parseRetryAfter(answer.headers['retry-after']),
    discard: () => answer.body.dump().catch(() => {}),
  };
}

/**
 * Relays a request to Anthropic and its answer back as Anthropic sent it, while metering a
 * messages call: a plain answer is read whole for its usage; a stream goes on event for event
 * through the shared stream meter, which closes the wide event exactly once (the input side is
 * billed once `message_start` was seen). Errors Anthropic answers are relayed as they are.
 */
export async function relayAnthropic(c: Context<AppEnv>, options: RelayOptions): Promise<Response> {
  const event = c.get('event');
  const { call } = options;
  const forwarded = await withRetries(
    { retries: options.retries ?? 0, call, signal: options.target.signal },
    () =>
      options.client.forward(
        {
          method: options.method,
          path: options.path,
          headers: anthropicRequestHeaders(c.req.raw.headers),
          ...(options.body !== undefined ? { body: options.body } : {}),
        },
        options.target,
      ),
    retryableAnswer,
  );
  const { status, headers, body } = forwarded;
  const outHeaders = { ...relayHeaders(headers, event.requestId), ...options.responseHeaders };
  if (!call || status >= 400) {
    // Relayed as Anthropic sent it; recorded as the upstream's failure.
    if (call)
      event.error = {
        kind: 'upstream_error',
        provider: 'anthropic',
        status,
        message: 'relayed from Anthropic',
        retryable: false,
      };
    return new Response(bodyStream(body), { status, headers: outHeaders });
  }

  // The answer says how to read it, not the request: a body whose `stream` an upstream
  // coerced still streams, and is metered as a stream.
  call.stream = (headers['content-type'] ?? '').toLowerCase().includes('text/event-stream');
  if (call.stream) {
    const events = meterCallStream(event, clientRequest(c).signal, options.finish, {
      call,
      events: upstreamEvents(body, fuse(sseMessages(), fromAnthropicRelayTransformer()), (cause) =>
        mapTransportError('anthropic', cause, options.target.signal),
      ),
      price: options.price,
    });
    return sseResponse(
      c,
      events,
      toRelayTransformer(
        (error) => `event: error\ndata: ${JSON.stringify(toAnthropicErrorBody(error, event.requestId))}\n\n`,
      ),
      outHeaders,
    );
  }

  const raw = await body.text();
  try {
    const result = fromAnthropicMessage(anthropicMessageSchema.parse(JSON.parse(raw)));
    call.usage = result.usage;
    call.responseModel = result.model;
    call.providerResponseId = result.id;
  } catch {
    // Relayed anyway; the row records the usage as unknown.
  }
  call.price = options.price(call.usage, event.startedAt);
  // LiteLLM's cost headers, as on every other model route.
  if (call.price.priced) outHeaders['x-litellm-response-cost'] = call.price.costUsd;
  const caller = c.get('caller');
  if (caller.kind === 'virtual') outHeaders['x-litellm-key-spend'] = caller.key.spend;
  return new Response(raw, { status, headers: outHeaders });
}
