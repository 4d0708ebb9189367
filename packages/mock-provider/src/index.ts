export {
  type MessageStreamEvent,
  type MessageUsage,
  MOCK_THINKING_SIGNATURE,
  type MockMessagesRequest,
  mockMessagesRequestSchema,
  type PlannedBlock,
  type PlannedMessage,
  planMessage,
  toAnthropicErrorBody,
  toInvalidRequestMessage,
  toMessageBody,
  toMessageStreamEvents,
  toSseFrame,
} from './anthropic/messages.ts';
export {
  answerDeepSeekChat,
  type DeepSeekUsage,
  isDeepSeekThinking,
  type MockDeepSeekChatRequest,
  mockDeepSeekChatRequestSchema,
  type PlannedDeepSeekCompletion,
  planDeepSeekCompletion,
  toDeepSeekCompletionBody,
  toDeepSeekErrorBody,
  toDeepSeekStreamParts,
} from './deepseek/chat-completions.ts';
export { type MockDirectives, readDirectives } from './directives.ts';
export { DEFAULT_EMBEDDING_DIMENSIONS, toBase64Float32, toMockEmbedding } from './embedding-vector.ts';
export {
  type MockAnswer,
  type MockErrorAnswer,
  type MockJsonAnswer,
  type MockStreamAnswer,
  type StreamParts,
  toNdjsonLine,
  toSseComment,
  toSseData,
  toStreamFrames,
} from './mock-answer.ts';
export {
  answerOllamaChat,
  type MockOllamaChatRequest,
  mockOllamaChatRequestSchema,
  type PlannedOllamaChat,
  planOllamaChat,
  toOllamaChatBody,
  toOllamaChatStreamParts,
} from './ollama/chat.ts';
export {
  MOCK_OLLAMA_EVAL_NS_PER_TOKEN,
  MOCK_OLLAMA_LOAD_DURATION_NS,
  MOCK_OLLAMA_PROMPT_EVAL_NS_PER_TOKEN,
  toOllamaDoneFields,
} from './ollama/done-fields.ts';
export {
  answerOllamaEmbed,
  type MockOllamaEmbedRequest,
  mockOllamaEmbedRequestSchema,
  toOllamaEmbedBody,
} from './ollama/embed.ts';
export { OLLAMA_STREAM_ERROR, toOllamaErrorBody, toOllamaErrorMessage } from './ollama/errors.ts';
export {
  answerOllamaGenerate,
  type MockOllamaGenerateRequest,
  mockOllamaGenerateRequestSchema,
  type PlannedOllamaGenerate,
  planOllamaGenerate,
  toOllamaGenerateBody,
  toOllamaGenerateStreamParts,
} from './ollama/generate.ts';
export {
  isOllamaThinking,
  type OllamaToolCall,
  type PlannedOllamaOutput,
  planOllamaOutput,
} from './ollama/plan-ollama-output.ts';
export type { PlannedToolCall } from './openai/chat-completions.ts';
export {
  answerTextCompletion,
  DEFAULT_COMPLETION_MAX_TOKENS,
  type MockTextCompletionRequest,
  mockTextCompletionRequestSchema,
  type PlannedTextCompletion,
  planTextCompletion,
  toTextCompletionBody,
  toTextCompletionStreamParts,
} from './openai/completions.ts';
export {
  answerEmbeddings,
  MAX_EMBEDDING_DIMENSIONS,
  type MockEmbeddingsRequest,
  mockEmbeddingsRequestSchema,
  toEmbeddingsBody,
} from './openai/embeddings.ts';
export {
  type PlannedReasonedCompletion,
  planReasonedCompletion,
} from './openai/plan-reasoned-completion.ts';
export {
  answerOpenRouterChat,
  MOCK_OPENROUTER_COMPLETION_MICRO_USD_PER_TOKEN,
  MOCK_OPENROUTER_PROMPT_MICRO_USD_PER_TOKEN,
  type MockOpenRouterChatRequest,
  mockOpenRouterChatRequestSchema,
  type OpenRouterUsage,
  type PlannedOpenRouterCompletion,
  planOpenRouterCompletion,
  toOpenRouterCompletionBody,
  toOpenRouterCost,
  toOpenRouterErrorBody,
  toOpenRouterStreamParts,
} from './openrouter/chat-completions.ts';
export { countTextTokens, reasoningTokens, toFillInTokens } from './reply.ts';
export {
  type MockProvider,
  type MockProviderOptions,
  type RecordedRequest,
  startMockProvider,
} from './server.ts';
export { toJsonFragments, toMockToolInput } from './tool-input.ts';
