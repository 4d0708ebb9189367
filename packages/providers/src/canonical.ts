import type { ProviderError } from './errors.ts';

/**
 * The canonical model every translation goes through (vendor in -> canonical -> vendor out).
 * It is close to OpenAI Chat Completions, the most common dialect, but typed and
 * provider-neutral: content is always a list of parts and usage buckets are disjoint-aware.
 */

/** A prompt-cache breakpoint (Anthropic `cache_control`, also accepted on OpenAI-format input). */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
}
export interface ImagePart {
  type: 'image';
  /** An `https:` URL or a `data:` URL. */
  url: string;
  detail?: 'auto' | 'low' | 'high';
  cacheControl?: CacheControl;
}
export interface FilePart {
  type: 'file';
  /** A `data:` URL with the file's bytes. */
  data?: string;
  /** A provider file id, or an `https:` URL of the document. */
  fileId?: string;
  filename?: string;
  cacheControl?: CacheControl;
}
export interface AudioPart {
  type: 'audio';
  /** Base64 audio. */
  data: string;
  format: string;
}
/**
 * A content block in a vendor's own shape that the canonical model does not describe (an
 * Anthropic `document` with citations, a `search_result`, ...): sent as it is to upstreams that
 * speak that shape, reported as dropped elsewhere.
 */
export interface NativePart {
  type: 'native';
  block: Record<string, unknown>;
}

export type UserPart = TextPart | ImagePart | FilePart | AudioPart | NativePart;

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, possibly invalid. */
  arguments: string;
}

/** Anthropic's extended-thinking blocks, kept whole: they must go back unchanged in later turns. */
export type ThinkingBlock =
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string };

export type Message =
  | { role: 'system'; content: TextPart[] /** OpenAI's newer name for system. */; developer?: boolean }
  | { role: 'user'; content: UserPart[]; name?: string }
  | {
      role: 'assistant';
      content: TextPart[];
      toolCalls: ToolCall[];
      reasoning?: string;
      thinkingBlocks?: ThinkingBlock[];
      refusal?: string;
      name?: string;
    }
  | { role: 'tool'; toolCallId: string; content: TextPart[]; isError?: boolean; cacheControl?: CacheControl };

export interface ToolDefinition {
  /**
   * A hosted or vendor-specific tool (Anthropic `web_search_20250305`, `bash_*`, an OpenAI
   * `mcp` tool ...), kept in its own shape; `name` and `parameters` are then unused.
   */
  native?: Record<string, unknown>;
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      name: string;
      schema?: Record<string, unknown>;
      strict?: boolean;
      description?: string;
    };

export interface ChatRequest {
  /** The provider-facing model id (no provider prefix). */
  model: string;
  messages: Message[];
  stream: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  n?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  reasoningEffort?: string;
  /** Extended thinking, Anthropic style; `reasoningEffort` is its OpenAI-style equivalent. */
  thinking?: { type: 'enabled'; budgetTokens: number } | { type: 'disabled' } | { type: 'adaptive' };
  topK?: number;
  /** The end-user id the caller sent (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
  /** `anthropic-beta` values the caller asked for. */
  anthropicBeta?: string[];
  /**
   * A legacy text completion (`/v1/completions`): one user message holding the prompt.
   * Adapters with a native completions endpoint send the prompt there (with `suffix` for
   * fill-in-the-middle from `openaiExtras`); the others answer it as a chat turn.
   */
  textCompletion?: boolean;
  /**
   * OpenAI parameters the canonical model does not name (`logprobs`, `logit_bias`,
   * `service_tier`, ...). OpenAI-compatible upstreams receive them as sent; other adapters
   * must report each one they cannot honour as a warning.
   */
  openaiExtras: Record<string, unknown>;
  /**
   * Anthropic request fields the canonical model does not name (`context_management`,
   * `container`, `mcp_servers`, `output_config`, ...). The Anthropic adapter sends them as they
   * are; other adapters report them as dropped.
   */
  anthropicExtras?: Record<string, unknown>;
}

/**
 * Why a choice ended. The OpenAI values, plus whatever else an upstream reports
 * (OpenRouter's `error`, vLLM's `abort`), kept as sent rather than refused.
 */
export type FinishReason =
  | 'stop'
  | 'length'
  | 'tool_calls'
  | 'content_filter'
  | 'function_call'
  | (string & {});

/**
 * Token usage of one call. Every field is `undefined` when the provider did not report it;
 * unknown is never zero. `inputTokens` counts every prompt token, cache reads and writes
 * included; `outputTokens` includes reasoning tokens.
 */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  /** All cache writes, 5-minute and 1-hour together. */
  cacheWriteTokens?: number;
  /** The 1-hour part of `cacheWriteTokens`. */
  cacheWrite1hTokens?: number;
  reasoningTokens?: number;
  /** Cost the provider reported for the call (OpenRouter), USD as a decimal string. */
  providerCostUsd?: string;
  /** Server-side web searches the provider ran and bills per search (Anthropic `server_tool_use`). */
  webSearchRequests?: number;
}

export interface Choice {
  index: number;
  text: string | null;
  reasoning?: string;
  thinkingBlocks?: ThinkingBlock[];
  refusal?: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
  /** OpenAI-format log probabilities, passed through as the upstream sent them. */
  logprobs?: unknown;
  /** Anthropic citations: one list per cited text block, each with the text it supports. */
  citations?: Record<string, unknown>[][];
  /** Results of server-side tools (web search, web fetch, code execution), as the vendor sent them. */
  serverToolResults?: Record<string, unknown>[];
}

export interface ChatResult {
  id: string;
  /** The model id the provider reported. */
  model: string;
  /** Unix seconds. */
  created: number;
  choices: Choice[];
  usage: Usage;
  systemFingerprint?: string;
}

/** Events of a streamed chat, in the order a provider produces them. */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number; systemFingerprint?: string }
  | { type: 'text-delta'; choice: number; text: string; logprobs?: unknown }
  | { type: 'refusal-delta'; choice: number; text: string }
  | { type: 'reasoning-delta'; choice: number; text: string }
  /** The signature that closes an Anthropic thinking block. */
  | { type: 'reasoning-signature'; choice: number; signature: string }
  | { type: 'redacted-thinking'; choice: number; data: string }
  | {
      type: 'tool-call-delta';
      choice: number;
      /** Position of the call among this choice's tool calls. */
      index: number;
      id?: string;
      name?: string;
      argumentsDelta: string;
    }
  | { type: 'finish'; choice: number; finishReason: FinishReason }
  /** Usage so far; a later usage event replaces an earlier one. */
  | { type: 'usage'; usage: Usage }
  | { type: 'error'; error: ProviderError }
  /**
   * Upstream SSE text relayed to a client of the same dialect as it came (same-dialect relay);
   * the other events beside it only meter the call. Renderers of another dialect ignore it.
   */
  | { type: 'raw'; text: string };

/** An embeddings request in the OpenAI shape, which every provider is translated from. */
export interface EmbeddingRequest {
  /** The provider-facing model id. */
  model: string;
  /** Texts, or token arrays as OpenAI accepts them. */
  input: string[] | number[][];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  user?: string;
  /** Other OpenAI fields, sent as they are to OpenAI-compatible upstreams. */
  openaiExtras: Record<string, unknown>;
}

export interface EmbeddingResult {
  model: string;
  /** One vector per input, in input order; base64 when asked for. */
  vectors: (number[] | string)[];
  usage: Usage;
}
