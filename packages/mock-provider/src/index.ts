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
export { type MockDirectives, readDirectives } from './directives.ts';
export type { PlannedToolCall } from './openai/chat-completions.ts';
export {
  type MockProvider,
  type MockProviderOptions,
  type RecordedRequest,
  startMockProvider,
} from './server.ts';
export { toJsonFragments, toMockToolInput } from './tool-input.ts';
