import type {
  CacheControl,
  ChatRequest,
  Message,
  ResponseFormat,
  TextPart,
  ToolChoice,
  UserPart,
} from '../canonical.ts';
import type { OpenAIChatRequest, OpenAIFunctionTool, OpenAIKnownUserPart, OpenAIMessage } from './wire.ts';

/**
 * Body fields the gateway owns: LiteLLM proxy fields it reads (tags, end user), LiteLLM router
 * and SDK settings a client may send (they configure LiteLLM, not the model), and upstream
 * choices it checks. None is forwarded upstream, translated or relayed.
 */
export const gatewayOwnedFields: ReadonlySet<string> = new Set([
  'metadata',
  'litellm_metadata',
  'tags',
  'fallbacks',
  'num_retries',
  'max_retries',
  'timeout',
  'stream_timeout',
  'mock_response',
  'mock_testing_fallbacks',
  'caching',
  'cache',
  'context_window_fallback_dict',
  'guardrails',
  'litellm_call_id',
  'litellm_session_id',
  'litellm_trace_id',
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'custom_llm_provider',
]);

/** Fields of an OpenAI request that the canonical model names, or the gateway itself owns. */
const consumedFields = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'thinking',
  'top_k',
  'user',
  ...gatewayOwnedFields,
]);

/**
 * Body fields that would choose the upstream or its credentials. The gateway refuses them:
 * a caller must never point the operator's keys at a host of its choosing.
 */
export const upstreamOverrideFields = [
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'custom_llm_provider',
] as const;

/** A validated OpenAI Chat Completions body -> the canonical request. */
export function fromOpenAIChatRequest(body: OpenAIChatRequest): ChatRequest {
  const openaiExtras: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (!consumedFields.has(field) && value !== undefined) openaiExtras[field] = value;
  }
  const request: ChatRequest = {
    model: body.model,
    messages: body.messages.map(fromOpenAIMessage),
    stream: body.stream === true,
    openaiExtras,
  };
  const maxOutputTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxOutputTokens != null) request.maxOutputTokens = maxOutputTokens;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.stop != null) request.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.seed != null) request.seed = body.seed;
  if (body.n != null) request.n = body.n;
  if (body.presence_penalty != null) request.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) request.frequencyPenalty = body.frequency_penalty;
  if (body.tools != null) {
    request.tools = body.tools.map((tool) => {
      if (tool.type !== 'function' || !('function' in tool)) {
        const native: Record<string, unknown> = { ...tool };
        return { native, name: typeof native.name === 'string' ? native.name : tool.type };
      }
      const { function: fn, cache_control } = tool as OpenAIFunctionTool;
      return {
        ...toCacheControl(cache_control),
        name: fn.name,
        ...(fn.description !== undefined ? { description: fn.description } : {}),
        ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
        ...(fn.strict != null ? { strict: fn.strict } : {}),
      };
    });
  }
  if (body.tool_choice != null) request.toolChoice = fromOpenAIToolChoice(body.tool_choice);
  if (body.parallel_tool_calls != null) request.parallelToolCalls = body.parallel_tool_calls;
  if (body.response_format != null) request.responseFormat = fromOpenAIResponseFormat(body.response_format);
  if (body.reasoning_effort != null) request.reasoningEffort = body.reasoning_effort;
  if (body.thinking != null) {
    request.thinking =
      body.thinking.type === 'enabled'
        ? { type: 'enabled', budgetTokens: body.thinking.budget_tokens }
        : body.thinking;
  }
  if (body.top_k != null) request.topK = body.top_k;
  if (body.user != null) request.user = body.user;
  return request;
}

type WireCacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' | undefined } | undefined;

function toCacheControl(value: WireCacheControl): { cacheControl?: CacheControl } {
  if (!value) return {};
  return { cacheControl: value.ttl ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' } };
}

/** String content becomes one text part carrying the message-level `cache_control`. */
function textParts(
  content: string | { type: 'text'; text: string; cache_control?: WireCacheControl }[],
  messageCacheControl?: WireCacheControl,
): TextPart[] {
  return typeof content === 'string'
    ? [{ type: 'text', text: content, ...toCacheControl(messageCacheControl) }]
    : content.map((p) => ({ type: 'text', text: p.text, ...toCacheControl(p.cache_control) }));
}

function fromOpenAIMessage(message: OpenAIMessage): Message {
  switch (message.role) {
    case 'system':
    case 'developer':
      return {
        role: 'system',
        content: textParts(message.content, message.cache_control),
        ...(message.role === 'developer' ? { developer: true } : {}),
      };
    case 'user':
      return {
        role: 'user',
        content:
          typeof message.content === 'string'
            ? textParts(message.content, message.cache_control)
            : message.content.map(fromOpenAIUserPart),
        ...(message.name !== undefined ? { name: message.name } : {}),
      };
    case 'assistant': {
      const content: TextPart[] = [];
      let refusal = message.refusal ?? undefined;
      if (typeof message.content === 'string') content.push({ type: 'text', text: message.content });
      else
        for (const part of message.content ?? []) {
          if (part.type === 'text') content.push({ type: 'text', text: part.text });
          else refusal = part.refusal;
        }
      return {
        role: 'assistant',
        content,
        toolCalls: (message.tool_calls ?? []).map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        })),
        ...(refusal != null ? { refusal } : {}),
        ...(message.reasoning_content != null ? { reasoning: message.reasoning_content } : {}),
        ...(message.thinking_blocks
          ? {
              thinkingBlocks: message.thinking_blocks.map((block) =>
                block.type === 'thinking'
                  ? {
                      type: 'thinking' as const,
                      thinking: block.thinking,
                      ...(block.signature ? { signature: block.signature } : {}),
                    }
                  : block,
              ),
            }
          : {}),
        ...(message.name !== undefined ? { name: message.name } : {}),
      };
    }
    case 'tool':
      return {
        role: 'tool',
        toolCallId: message.tool_call_id,
        content: textParts(message.content),
        ...toCacheControl(message.cache_control),
      };
  }
}

type OpenAIUserPart = Exclude<Extract<OpenAIMessage, { role: 'user' }>['content'], string>[number];

const knownPartTypes = new Set(['text', 'image_url', 'input_audio', 'file']);

function fromOpenAIUserPart(part: OpenAIUserPart): UserPart {
  if (!knownPartTypes.has(part.type)) return { type: 'native', block: { ...part } };
  const known = part as OpenAIKnownUserPart;
  switch (known.type) {
    case 'text':
      return { type: 'text', text: known.text, ...toCacheControl(known.cache_control) };
    case 'image_url':
      return {
        type: 'image',
        url: known.image_url.url,
        ...(known.image_url.detail ? { detail: known.image_url.detail } : {}),
        ...toCacheControl(known.cache_control),
      };
    case 'input_audio':
      return { type: 'audio', data: known.input_audio.data, format: known.input_audio.format };
    case 'file':
      return {
        type: 'file',
        ...(known.file.file_data !== undefined ? { data: known.file.file_data } : {}),
        ...(known.file.file_id !== undefined ? { fileId: known.file.file_id } : {}),
        ...(known.file.filename !== undefined ? { filename: known.file.filename } : {}),
        ...toCacheControl(known.cache_control),
      };
  }
}

function fromOpenAIToolChoice(choice: NonNullable<OpenAIChatRequest['tool_choice']>): ToolChoice {
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

function fromOpenAIResponseFormat(format: NonNullable<OpenAIChatRequest['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const { name, description, schema, strict } = format.json_schema;
  return {
    type: 'json_schema',
    name,
    ...(description !== undefined ? { description } : {}),
    ...(schema !== undefined ? { schema } : {}),
    ...(strict != null ? { strict } : {}),
  };
}
