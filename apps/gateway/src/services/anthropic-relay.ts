import type { PriceResult } from '@gateway/pricing';
import {
  type AnthropicPassthrough,
  AnthropicUsageTap,
  anthropicMessageSchema,
  type CallTarget,
  fromAnthropicMessage,
  type GatewayError,
  isRetryableStatus,
  type Usage,
} from '@gateway/providers';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { GatewayHttpError, statusOf } from '../errors.ts';
import type { FinishRequestEvent } from './finish-request-event.ts';
import { attemptClock, type ModelCall, producedOutput } from './request-event.ts';
import { completeUsage } from './usage-estimate.ts';

function isRetryableError(error: GatewayError): boolean {
  return (error.kind === 'upstream_error' && error.retryable) || error.kind === 'upstream_timeout';
}

/** Response headers that belong to one hop and are not relayed. */
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function relayHeaders(upstream: Record<string, string>, requestId: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(upstream)) if (!hopByHop.has(name)) headers.set(name, value);
  headers.set('x-litellm-call-id', requestId);
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
  extraHeaders?: Record<string, string>;
  /** Retries of a retryable answer (429, 5xx) before anything was relayed (`num_retries`). */
  retries?: number;
}

/**
 * Relays a request to Anthropic and its answer back unchanged, byte for byte, while metering a
 * messages call: a stream is read through a usage tap as the client reads it (no buffering
 * beyond the client's pace), a plain answer is read whole. The call is priced from the usage
 * Anthropic reported, and the wide event is closed when the answer ends, fails or the client
 * leaves (the input side is billed once `message_start` was seen).
 */
export async function relayAnthropic(c: Context<AppEnv>, options: RelayOptions): Promise<Response> {
  const event = c.get('event');
  const { call } = options;
  const send = () =>
    options.client.forward(
      {
        method: options.method,
        path: options.path,
        headers: anthropicRequestHeaders(c.req.raw.headers),
        ...(options.body !== undefined ? { body: options.body } : {}),
      },
      options.target,
    );
  const clock = attemptClock(call);
  clock.start();
  let forwarded = await send();
  for (let attempt = 0; attempt < (options.retries ?? 0); attempt++) {
    const retryable = forwarded.ok
      ? isRetryableStatus(forwarded.value.status)
      : isRetryableError(forwarded.error);
    if (!retryable || options.target.signal?.aborted) break;
    if (forwarded.ok) await forwarded.value.body.cancel().catch(() => {});
    clock.retrying(
      forwarded.ok ? forwarded.value.status : statusOf(forwarded.error),
      forwarded.ok ? undefined : forwarded.error,
    );
    const hinted = forwarded.ok ? Number(forwarded.value.headers['retry-after']) : Number.NaN;
    const delayMs = Math.min(Number.isFinite(hinted) ? hinted * 1000 : 250 * 2 ** attempt, 5_000);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (call) call.attemptedRetries = attempt + 1;
    clock.start();
    forwarded = await send();
  }
  if (!forwarded.ok) {
    clock.answered();
    throw new GatewayHttpError(forwarded.error);
  }
  const { status, headers, body } = forwarded.value;
  const outHeaders = relayHeaders(headers, event.requestId);
  for (const [name, value] of Object.entries(options.extraHeaders ?? {})) outHeaders.set(name, value);
  if (!call || status >= 400) {
    clock.answered();
    // Relayed as Anthropic sent it; recorded as the upstream's failure.
    if (call)
      event.error = {
        kind: 'upstream_error',
        provider: 'anthropic',
        status,
        message: 'relayed from Anthropic',
        retryable: false,
      };
    return new Response(body, { status, headers: outHeaders });
  }

  const price = (): PriceResult => options.price(call.usage, event.startedAt);

  // The answer says how to read it, not the request: a body whose `stream` an upstream
  // coerced still streams, and is metered as a stream.
  call.stream = (headers['content-type'] ?? '').toLowerCase().includes('text/event-stream');
  if (!call.stream) {
    const raw = new Uint8Array(await new Response(body).arrayBuffer());
    try {
      const result = fromAnthropicMessage(
        anthropicMessageSchema.parse(JSON.parse(new TextDecoder().decode(raw))),
      );
      call.usage = result.usage;
      call.responseModel = result.model;
      call.providerResponseId = result.id;
    } catch {
      // Relayed anyway; the row records the usage as unknown.
    }
    clock.answered();
    call.price = price();
    // LiteLLM's cost headers, as on every other model route.
    if (call.price.priced) outHeaders.set('x-litellm-response-cost', call.price.costUsd);
    const caller = c.get('caller');
    if (caller.kind === 'virtual') outHeaders.set('x-litellm-key-spend', caller.key.spend);
    return new Response(raw, { status, headers: outHeaders });
  }

  event.deferred = true;
  const tap = new AnthropicUsageTap();
  const reader = body.getReader();
  let ended = false;
  const end = (outcome: 'success' | 'failure' | 'client_closed') => {
    if (ended) return;
    ended = true;
    call.usage = tap.usage;
    if (tap.id) call.providerResponseId = tap.id;
    if (tap.model) call.responseModel = tap.model;
    if (tap.firstContentAt) call.firstTokenAt = tap.firstContentAt;
    event.endedAt = new Date();
    event.outcome = outcome;
    if (outcome === 'failure') {
      event.error = tap.error ?? {
        kind: 'upstream_error',
        provider: 'anthropic',
        status: 502,
        message: 'anthropic ended the stream before it finished',
        retryable: true,
      };
    }
    // Input comes from message_start; output cut short is counted from the streamed text.
    completeUsage(call, { output: tap.streamedText }, () => {
      if (outcome === 'success' || producedOutput(call)) call.price = price();
      options.finish(event, status);
    });
  };
  c.req.raw.signal.addEventListener('abort', () => end('client_closed'), { once: true });
  const relayed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          end(tap.finished && !tap.error ? 'success' : 'failure');
          controller.close();
          return;
        }
        tap.feed(next.value);
        controller.enqueue(next.value);
      } catch (cause) {
        end(c.req.raw.signal.aborted ? 'client_closed' : 'failure');
        controller.error(cause);
      }
    },
    cancel(reason) {
      end('client_closed');
      return reader.cancel(reason);
    },
  });
  return new Response(relayed, { status, headers: outHeaders });
}
