import type {
  CacheControl,
  ChatRequest,
  FilePart,
  ImagePart,
  Message,
  TextPart,
  ThinkingBlock,
  ToolCall,
  UserPart,
} from '../canonical.ts';
import type { AnthropicRequest, AnthropicRequestBlock } from './wire.ts';

/** Fields of an Anthropic request the canonical model names, or the gateway owns. */
const consumedFields = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  // LiteLLM's own field (tags, end user): read by the gateway, never forwarded.
  'litellm_metadata',
]);

type WireCacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' | undefined } | null | undefined;

function cache(value: WireCacheControl): { cacheControl?: CacheControl } {
  if (!value) return {};
  return { cacheControl: value.ttl ? { type: 'ephemeral', ttl: value.ttl } : { type: 'ephemeral' } };
}

function field<T>(block: AnthropicRequestBlock, name: string): T | undefined {
  return (block as Record<string, unknown>)[name] as T | undefined;
}

/** An image or document source -> a URL (data URL for inline bytes). */
function sourceUrl(source: Record<string, unknown> | undefined): string | undefined {
  if (!source) return undefined;
  if (source.type === 'base64') return `data:${String(source.media_type)};base64,${String(source.data)}`;
  if (source.type === 'url') return String(source.url);
  return undefined;
}

function toUserPart(block: AnthropicRequestBlock, dropped: Set<string>): UserPart | undefined {
  const cacheControl = cache(field<WireCacheControl>(block, 'cache_control'));
  switch (block.type) {
    case 'text':
      return { type: 'text', text: String(field(block, 'text') ?? ''), ...cacheControl };
    case 'image': {
      const source = field<Record<string, unknown>>(block, 'source');
      if (source?.type === 'file')
        return { type: 'file', fileId: String(source.file_id), ...cacheControl } satisfies FilePart;
      const url = sourceUrl(source);
      return url ? ({ type: 'image', url, ...cacheControl } satisfies ImagePart) : undefined;
    }
    case 'document': {
      const source = field<Record<string, unknown>>(block, 'source');
      if (source?.type === 'base64') return { type: 'file', data: sourceUrl(source)!, ...cacheControl };
      if (source?.type === 'url') return { type: 'file', fileId: String(source.url), ...cacheControl };
      if (source?.type === 'file') return { type: 'file', fileId: String(source.file_id), ...cacheControl };
      dropped.add(`document source ${String(source?.type)}`);
      return undefined;
    }
    default:
      dropped.add(`${block.type} block`);
      return undefined;
  }
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : ''))
    .join('');
}

/**
 * An Anthropic Messages request (the gateway's `/v1/messages`) -> the canonical request
 * (wire formats §5.2). A user turn's tool results become tool messages placed before the rest
 * of the turn. Fields the canonical model does not name travel in `anthropicExtras`, sent as
 * they are to Anthropic and reported as dropped elsewhere; `dropped` names the content that
 * had no canonical form.
 */
export function fromAnthropicRequest(body: AnthropicRequest): { request: ChatRequest; dropped: string[] } {
  const dropped = new Set<string>();
  const messages: Message[] = [];
  if (typeof body.system === 'string')
    messages.push({ role: 'system', content: [{ type: 'text', text: body.system }] });
  else if (body.system) {
    messages.push({
      role: 'system',
      content: body.system.map((b) => ({ type: 'text', text: b.text, ...cache(b.cache_control) })),
    });
  }
  for (const turn of body.messages) {
    const blocks: AnthropicRequestBlock[] =
      typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : turn.content;
    if (turn.role === 'user') {
      const parts: UserPart[] = [];
      for (const block of blocks) {
        if (block.type === 'tool_result') {
          messages.push({
            role: 'tool',
            toolCallId: String(field(block, 'tool_use_id')),
            content: [{ type: 'text', text: toolResultText(field(block, 'content')) }],
            ...(field(block, 'is_error') === true ? { isError: true } : {}),
            ...cache(field<WireCacheControl>(block, 'cache_control')),
          });
        } else {
          const part = toUserPart(block, dropped);
          if (part) parts.push(part);
        }
      }
      if (parts.length > 0) messages.push({ role: 'user', content: parts });
      continue;
    }
    const content: TextPart[] = [];
    const toolCalls: ToolCall[] = [];
    const thinkingBlocks: ThinkingBlock[] = [];
    for (const block of blocks) {
      if (block.type === 'text') content.push({ type: 'text', text: String(field(block, 'text') ?? '') });
      else if (block.type === 'tool_use') {
        toolCalls.push({
          id: String(field(block, 'id')),
          name: String(field(block, 'name')),
          arguments: JSON.stringify(field(block, 'input') ?? {}),
        });
      } else if (block.type === 'thinking') {
        const signature = field<string | null>(block, 'signature');
        thinkingBlocks.push({
          type: 'thinking',
          thinking: String(field(block, 'thinking') ?? ''),
          ...(signature ? { signature } : {}),
        });
      } else if (block.type === 'redacted_thinking') {
        thinkingBlocks.push({ type: 'redacted_thinking', data: String(field(block, 'data') ?? '') });
      } else dropped.add(`${block.type} block`);
    }
    messages.push({
      role: 'assistant',
      content,
      toolCalls,
      ...(thinkingBlocks.length > 0
        ? {
            thinkingBlocks,
            reasoning: thinkingBlocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''),
          }
        : {}),
    });
  }

  const anthropicExtras: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!consumedFields.has(name) && value !== undefined) anthropicExtras[name] = value;
  }
  const request: ChatRequest = {
    model: body.model,
    messages,
    stream: body.stream === true,
    maxOutputTokens: body.max_tokens,
    openaiExtras: {},
    ...(Object.keys(anthropicExtras).length > 0 ? { anthropicExtras } : {}),
  };
  if (body.stop_sequences) request.stop = body.stop_sequences;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.top_k != null) request.topK = body.top_k;
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  if (body.thinking) {
    request.thinking =
      body.thinking.type === 'enabled'
        ? { type: 'enabled', budgetTokens: body.thinking.budget_tokens }
        : { type: body.thinking.type };
  }
  if (body.tools) {
    request.tools = body.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      parameters: tool.input_schema ?? { type: 'object', properties: {} },
      ...cache(tool.cache_control),
    }));
  }
  if (body.tool_choice) {
    const choice = body.tool_choice;
    request.toolChoice =
      choice.type === 'tool' && choice.name
        ? { name: choice.name }
        : choice.type === 'any'
          ? 'required'
          : choice.type === 'none'
            ? 'none'
            : 'auto';
    if (choice.disable_parallel_tool_use) request.parallelToolCalls = false;
  }
  return { request, dropped: [...dropped] };
}
