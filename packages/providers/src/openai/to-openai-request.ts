import type { ChatRequest, Message, TextPart, UserPart } from '../canonical.ts';

export interface ToOpenAIRequestOptions {
  /**
   * Which name the output-token cap travels under. OpenAI itself wants
   * `max_completion_tokens` (reasoning models refuse `max_tokens`); many OpenAI-compatible
   * servers only know `max_tokens`.
   */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

/**
 * The canonical request -> an OpenAI Chat Completions body. Streams always ask for usage
 * (`stream_options.include_usage`), whatever the client asked, so every call can be priced.
 */
export function toOpenAIChatRequest(
  request: ChatRequest,
  options: ToOpenAIRequestOptions,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...request.openaiExtras,
    model: request.model,
    messages: request.messages.map(toOpenAIMessage),
  };
  if (request.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.maxOutputTokens !== undefined) body[options.maxTokensField] = request.maxOutputTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.n !== undefined) body.n = request.n;
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
  if (request.tools !== undefined) {
    body.tools = request.tools.map(
      (tool) =>
        tool.native ?? {
          type: 'function',
          function: {
            name: tool.name,
            ...(tool.description !== undefined ? { description: tool.description } : {}),
            ...(tool.parameters !== undefined ? { parameters: tool.parameters } : {}),
            ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
          },
        },
    );
  }
  if (request.toolChoice !== undefined) {
    body.tool_choice =
      typeof request.toolChoice === 'string'
        ? request.toolChoice
        : { type: 'function', function: { name: request.toolChoice.name } };
  }
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat !== undefined) {
    const format = request.responseFormat;
    body.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              ...(format.schema !== undefined ? { schema: format.schema } : {}),
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          }
        : { type: format.type };
  }
  const effort = request.reasoningEffort ?? reasoningEffortOf(request.thinking);
  if (effort !== undefined) body.reasoning_effort = effort;
  if (request.user !== undefined) body.user = request.user;
  return body;
}

/** Anthropic-style thinking -> OpenAI `reasoning_effort`, by budget as LiteLLM maps it (§5.2). */
function reasoningEffortOf(thinking: ChatRequest['thinking']): string | undefined {
  if (thinking?.type === 'adaptive') return 'medium';
  if (thinking?.type !== 'enabled') return undefined;
  const budget = thinking.budgetTokens;
  return budget >= 4096 ? 'high' : budget >= 2048 ? 'medium' : budget >= 1024 ? 'low' : 'minimal';
}

/** One text part travels as a plain string: some OpenAI-compatible servers accept nothing else. */
function toOpenAIText(parts: TextPart[]): string | { type: 'text'; text: string }[] {
  if (parts.length === 1 && parts[0]) return parts[0].text;
  return parts.map((p) => ({ type: 'text', text: p.text }));
}

function toOpenAIMessage(message: Message): Record<string, unknown> {
  switch (message.role) {
    case 'system':
      return { role: message.developer ? 'developer' : 'system', content: toOpenAIText(message.content) };
    case 'user': {
      const onlyText = message.content.every((p) => p.type === 'text');
      return {
        role: 'user',
        content: onlyText
          ? toOpenAIText(message.content as TextPart[])
          : message.content.map(toOpenAIUserPart),
        ...(message.name !== undefined ? { name: message.name } : {}),
      };
    }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content.length === 0 ? null : toOpenAIText(message.content),
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
        ...(message.refusal !== undefined ? { refusal: message.refusal } : {}),
        ...(message.name !== undefined ? { name: message.name } : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: toOpenAIText(message.content) };
  }
}

function toOpenAIUserPart(part: UserPart): Record<string, unknown> {
  switch (part.type) {
    case 'native':
      return part.block;
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return {
        type: 'image_url',
        image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) },
      };
    case 'audio':
      return { type: 'input_audio', input_audio: { data: part.data, format: part.format } };
    case 'file':
      return {
        type: 'file',
        file: {
          ...(part.data !== undefined ? { file_data: part.data } : {}),
          ...(part.fileId !== undefined ? { file_id: part.fileId } : {}),
          ...(part.filename !== undefined ? { filename: part.filename } : {}),
        },
      };
  }
}
