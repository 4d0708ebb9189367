import type { ChatRequest, Message, ToolCall } from '../canonical.ts';
import { joinText, parseToolArguments, splitUserParts } from './to-ollama-content.ts';
import { isKeepAlive, toOllamaCommonFields } from './to-ollama-options.ts';

/** A body for Ollama plus what was left out of it. */
export interface OllamaRequestPlan {
  body: Record<string, unknown>;
  /** Parameters the request carried that Ollama cannot honour; they were not sent. */
  warnings: string[];
}

type OllamaMessage = Record<string, unknown>;

/** Top-level `/api/chat` fields a caller may pass as extra body params. */
const chatTopLevelExtras = { keep_alive: isKeepAlive };

function toOllamaToolCalls(calls: ToolCall[], warnings: string[]): OllamaMessage[] {
  return calls.map((call) => ({
    function: { name: call.name, arguments: parseToolArguments(call.arguments, warnings) },
  }));
}

/** The name of the function a tool result answers, from the latest assistant call with that id. */
function toolNameOf(messages: Message[], before: number, toolCallId: string): string | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'assistant') continue;
    const call = message.toolCalls.find((c) => c.id === toolCallId);
    if (call) return call.name;
  }
  return undefined;
}

function toOllamaMessage(messages: Message[], index: number, warnings: string[]): OllamaMessage | undefined {
  const message = messages[index];
  if (!message) return undefined;
  switch (message.role) {
    case 'system':
      return { role: 'system', content: joinText(message.content) };
    case 'user': {
      const { text, images } = splitUserParts(message.content, warnings);
      return { role: 'user', content: text, ...(images.length > 0 ? { images } : {}) };
    }
    case 'assistant': {
      const thinking =
        message.reasoning ??
        message.thinkingBlocks?.map((b) => (b.type === 'thinking' ? b.thinking : '')).join('');
      return {
        role: 'assistant',
        content: joinText(message.content),
        ...(thinking ? { thinking } : {}),
        // Some LiteLLM versions build this list and then forget to attach it (§7.1).
        ...(message.toolCalls.length > 0
          ? { tool_calls: toOllamaToolCalls(message.toolCalls, warnings) }
          : {}),
      };
    }
    case 'tool': {
      // LiteLLM forwards neither tool_call_id nor a name; current Ollama takes `tool_name`
      // on tool results, which helps it pair results with calls, so we send it when known.
      const toolName = toolNameOf(messages, index, message.toolCallId);
      return {
        role: 'tool',
        content: joinText(message.content),
        ...(toolName !== undefined ? { tool_name: toolName } : {}),
      };
    }
  }
}

/**
 * The canonical request -> an Ollama `/api/chat` body (wire formats §7.1, for `ollama_chat/`
 * models). `stream` is always sent, because Ollama streams when it is omitted. `format`,
 * `tools`, `keep_alive` and `think` are top level, sampling settings go in `options`.
 * `tool_choice` is not sent (LiteLLM drops it because it hangs Ollama): `auto` is Ollama's own
 * behaviour, `none` is honoured by not offering the tools, `required` or a named tool are
 * reported as warnings.
 */
export function toOllamaChatRequest(request: ChatRequest): OllamaRequestPlan {
  const warnings: string[] = [];
  const messages = request.messages
    .map((_, index) => toOllamaMessage(request.messages, index, warnings))
    .filter((m) => m !== undefined);
  const common = toOllamaCommonFields(request, chatTopLevelExtras, warnings);

  const body: Record<string, unknown> = { model: request.model, messages };
  const choice = request.toolChoice;
  if (request.tools && request.tools.length > 0 && choice !== 'none') {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        ...(tool.parameters !== undefined ? { parameters: tool.parameters } : {}),
      },
    }));
    if (request.tools.some((tool) => tool.strict)) warnings.push('tools.strict');
  }
  if (choice !== undefined && choice !== 'auto' && choice !== 'none') warnings.push('tool_choice');
  if (common.format !== undefined) body.format = common.format;
  if (Object.keys(common.options).length > 0) body.options = common.options;
  body.stream = request.stream;
  Object.assign(body, common.topLevel);
  if (common.think !== undefined) body.think = common.think;
  // One entry per kind of loss, however often it happened.
  return { body, warnings: [...new Set(warnings)] };
}
