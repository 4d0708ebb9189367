import type {
  ChatRequest,
  ChatResult,
  EmbeddingRequest,
  EmbeddingResult,
  StreamEvent,
  Usage,
} from './canonical.ts';
import type { Result } from './errors.ts';
import type { UpstreamPools } from './http/upstream-pools.ts';
import type { OpenAIRelayStreamOptions } from './openai/from-openai-stream.ts';
import type { OpenAIImageRequest } from './openrouter/images.ts';

/** Where and how to reach one deployment, resolved by the gateway from its config. */
export interface CallTarget {
  /** Base URL, e.g. `https://api.openai.com/v1`; the adapter appends the endpoint path. */
  apiBase: string;
  apiKey?: string;
  /** Aborts the upstream call, e.g. when the client disconnects. */
  signal?: AbortSignal;
  /** Time allowed for the response headers (a stream's first byte), ms. */
  timeoutMs?: number;
  /** Longest silence allowed between two body chunks, ms. */
  streamTimeoutMs?: number;
  /** Headers the operator adds to every request to this upstream (`litellm_params.extra_headers`). */
  extraHeaders?: Record<string, string>;
}

/**
 * The per-call parts of an undici request: abort signal and time limits. Undici enforces the
 * limits on the connection's own timers, so no extra timer is started per request.
 */
export function requestControls(target: CallTarget): {
  signal?: AbortSignal;
  headersTimeout?: number;
  bodyTimeout?: number;
} {
  return {
    ...(target.signal ? { signal: target.signal } : {}),
    ...(target.timeoutMs !== undefined ? { headersTimeout: target.timeoutMs } : {}),
    ...(target.streamTimeoutMs !== undefined ? { bodyTimeout: target.streamTimeoutMs } : {}),
  };
}

/** What the upstream said besides the body, for headers and logs. */
export interface UpstreamResponseInfo {
  status: number;
  headers: Record<string, string>;
}

export interface ChatResponse {
  result: ChatResult;
  upstream: UpstreamResponseInfo;
  /** Request parameters this provider could not honour and did not send. */
  droppedParams: string[];
}

/** A relayed answer: the upstream's body as it came, and what billing reads from it. */
export interface RelayedChat {
  /** The upstream's JSON text, unchanged. */
  body: string;
  id?: string;
  model?: string;
  usage: Usage;
  upstream: UpstreamResponseInfo;
  droppedParams: string[];
}

export interface ChatStreamResponse {
  /**
   * The answer's events, in batches: what one read from the upstream yielded, so that what
   * arrived together is handled (and written to the client) together. Ends with a `finish` (and
   * usually a `usage`) event, or with an `error` event.
   */
  events: ReadableStream<StreamEvent[]>;
  upstream: UpstreamResponseInfo;
  droppedParams: string[];
}

/** One provider. `adapter.ts` in the provider's folder is the only code that does I/O. */
export interface EmbeddingResponse {
  result: EmbeddingResult;
  upstream: UpstreamResponseInfo;
  droppedParams: string[];
}

export interface ProviderAdapter {
  id: string;
  chat(request: ChatRequest, target: CallTarget): Promise<Result<ChatResponse>>;
  chatStream(request: ChatRequest, target: CallTarget): Promise<Result<ChatStreamResponse>>;
  /**
   * The same-dialect relay, for adapters whose wire format is OpenAI Chat Completions: the
   * client's own body (its model already the upstream's) goes with only the provider's needed
   * edits, and the answer comes back as the upstream sent it. Absent for other wire formats.
   */
  relayChat?(body: Record<string, unknown>, target: CallTarget): Promise<Result<RelayedChat>>;
  /** {@link relayChat} for a stream: the upstream's events as `raw` text beside metering events. */
  relayChatStream?(
    body: Record<string, unknown>,
    target: CallTarget,
    options: OpenAIRelayStreamOptions,
  ): Promise<Result<ChatStreamResponse>>;
  /** Absent when the provider has no embeddings endpoint. */
  embed?(request: EmbeddingRequest, target: CallTarget): Promise<Result<EmbeddingResponse>>;
  /** Absent when the provider cannot generate images. `body.model` is the upstream model. */
  generateImage?(body: OpenAIImageRequest, target: CallTarget): Promise<Result<ImageResponse>>;
}

export interface ImageResponse {
  /** The OpenAI images response (`created`, `data[]`, optional `usage`). */
  response: Record<string, unknown>;
  /** The cost the provider reported (OpenRouter), USD. */
  providerCostUsd?: string;
  inputTokens?: number;
  upstream: UpstreamResponseInfo;
}

export interface AdapterDeps {
  pools: UpstreamPools;
}
