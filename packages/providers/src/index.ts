export type {
  AdapterDeps,
  CallTarget,
  ChatResponse,
  ChatStreamResponse,
  ProviderAdapter,
  RelayedChat,
  UpstreamResponseInfo,
} from './adapter.ts';
export {
  type AnthropicPassthrough,
  anthropicHeaders,
  anthropicMessagesUrl,
  createAnthropicAdapter,
  createAnthropicPassthrough,
  type PassthroughRequest,
  type PassthroughResponse,
} from './anthropic/adapter.ts';
export { fromAnthropicRequest } from './anthropic/from-anthropic-request.ts';
export { fromAnthropicMessage } from './anthropic/from-anthropic-response.ts';
export { fromAnthropicStream } from './anthropic/from-anthropic-stream.ts';
export { fromAnthropicRelayTransformer } from './anthropic/relay-stream.ts';
export { toAnthropicMessage } from './anthropic/to-anthropic-response.ts';
export { toAnthropicStream, toAnthropicStreamTransformer } from './anthropic/to-anthropic-stream.ts';
export { type AnthropicRequest, anthropicMessageSchema, anthropicRequestSchema } from './anthropic/wire.ts';
export type * from './canonical.ts';
export { adjustDeepSeekBody } from './deepseek/adjust-deepseek-body.ts';
export { err, isRetryableStatus, ok, type ProviderError, type Result } from './errors.ts';
export { mapTransportError } from './http/map-transport-error.ts';
export { bodyStream } from './http/post-json.ts';
export { parseRetryAfter } from './http/upstream-error.ts';
export { upstreamEvents } from './http/upstream-events.ts';
export { type UpstreamPoolOptions, UpstreamPools } from './http/upstream-pools.ts';
export { createOllamaAdapter, type OllamaAdapterOptions } from './ollama/adapter.ts';
export { createOpenAICompatibleAdapter, type OpenAICompatibleOptions } from './openai/adapter.ts';
export {
  fromOpenAICompletionRequest,
  type OpenAICompletionRequest,
  openAICompletionRequestSchema,
  toOpenAICompletionResponse,
  toOpenAICompletionStream,
  toOpenAICompletionStreamTransformer,
} from './openai/completions.ts';
export {
  fromOpenAIEmbeddingRequest,
  type OpenAIEmbeddingRequest,
  openAIEmbeddingRequestSchema,
  toOpenAIEmbeddingResponse,
} from './openai/embeddings.ts';
export {
  fromOpenAIChatRequest,
  gatewayOwnedFields,
  upstreamOverrideFields,
} from './openai/from-openai-request.ts';
export type { OpenAIRelayStreamOptions } from './openai/from-openai-stream.ts';
export { toOpenAIChatResponse } from './openai/to-openai-response.ts';
export { toOpenAIStream, toOpenAIStreamTransformer } from './openai/to-openai-stream.ts';
export { type OpenAIChatRequest, openAIChatRequestSchema } from './openai/wire.ts';
export { adjustOpenRouterBody } from './openrouter/adjust-openrouter-body.ts';
export { type OpenAIImageRequest, openAIImageRequestSchema } from './openrouter/images.ts';
export {
  isKnownProvider,
  knownProviders,
  openAICompatibleProviders,
  type ProviderId,
  parseProviderModel,
} from './routing.ts';
export { collector, fuse } from './sse/fuse.ts';
export { parseSse, sseMessages } from './sse/parse-sse.ts';
export { sseFrame, toRelayTransformer } from './sse/relay.ts';
