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
import { err, ok, type Result } from '../errors.ts';
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
  'output_config',
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

/** Why a body cannot be translated: the block, tool or setting the target has no form for. */
class Untranslatable extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

function untranslatable(what: string, param: string): never {
  throw new Untranslatable(
    `${param}: ${what} cannot be translated for this model's provider; send it to an Anthropic deployment, or leave it out.`,
    param,
  );
}

function toUserPart(block: AnthropicRequestBlock, param: string): UserPart {
  const cacheControl = cache(field<WireCacheControl>(block, 'cache_control'));
  switch (block.type) {
    case 'text':
      return { type: 'text', text: String(field(block, 'text') ?? ''), ...cacheControl };
    case 'image': {
      const source = field<Record<string, unknown>>(block, 'source');
      if (source?.type === 'file')
        return { type: 'file', fileId: String(source.file_id), ...cacheControl } satisfies FilePart;
      const url = sourceUrl(source);
      return url
        ? ({ type: 'image', url, ...cacheControl } satisfies ImagePart)
        : untranslatable(`an image with a ${String(source?.type)} source`, param);
    }
    case 'document': {
      const source = field<Record<string, unknown>>(block, 'source');
      if (source?.type === 'base64') return { type: 'file', data: sourceUrl(source)!, ...cacheControl };
      if (source?.type === 'url') return { type: 'file', fileId: String(source.url), ...cacheControl };
      if (source?.type === 'file') return { type: 'file', fileId: String(source.file_id), ...cacheControl };
      if (source?.type === 'text' && typeof source.data === 'string')
        return { type: 'text', text: source.data, ...cacheControl };
      return untranslatable(`a document with a ${String(source?.type)} source`, param);
    }
    default:
      return untranslatable(`a ${block.type} block`, param);
  }
}

/**
 * A tool result's content: its text for the tool message, and the images or documents in it,
 * which OpenAI-style tool messages cannot hold, for a user message right after the results.
 * A `tool_reference` (tool search) names a tool the target already has in full: its name.
 */
function toolResultContent(content: unknown, param: string): { text: string; media: UserPart[] } {
  if (typeof content === 'string') return { text: content, media: [] };
  if (!Array.isArray(content)) return { text: '', media: [] };
  const texts: string[] = [];
  const media: UserPart[] = [];
  content.forEach((part: Record<string, unknown>, i) => {
    if (part?.type === 'text') texts.push(String(part.text ?? ''));
    else if (part?.type === 'tool_reference') texts.push(String(part.tool_name ?? ''));
    else media.push(toUserPart(part as AnthropicRequestBlock, `${param}.${i}`));
  });
  return { text: texts.join('\n'), media };
}

/** A system entry (top-level or inside `messages`): text only. */
function systemText(
  content: string | readonly AnthropicRequestBlock[],
  param: string,
): Extract<Message, { role: 'system' }> {
  const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return {
    role: 'system',
    content: blocks.map((b, i) =>
      b.type === 'text'
        ? {
            type: 'text',
            text: String(field(b, 'text') ?? ''),
            ...cache(field<WireCacheControl>(b, 'cache_control')),
          }
        : untranslatable(`a ${b.type} block in a system entry`, `${param}.${i}`),
    ),
  };
}

/** Anthropic's `output_config.effort` -> OpenAI's `reasoning_effort` (`max` is OpenAI's `xhigh`). */
const effortNames: Record<string, string> = {
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'xhigh',
};

/**
 * A JSON schema made acceptable to OpenAI's strict structured outputs, as LiteLLM does for
 * `output_config.format` (§5.2): every object closed and every property required.
 */
function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(schema)) out[name] = strictSchema(value);
  if (out.type === 'object' && out.properties && typeof out.properties === 'object') {
    out.additionalProperties = false;
    out.required = Object.keys(out.properties);
  }
  return out;
}

/** Tool fields the canonical model carries; any other is reported as dropped. */
const toolFields = new Set(['name', 'type', 'description', 'input_schema', 'cache_control', 'strict']);

/**
 * An Anthropic Messages request (the gateway's `/v1/messages`) -> the canonical request
 * (wire formats §5.2), for a deployment that does not speak Anthropic's format.
 * - A user turn's tool results become tool messages placed before the rest of the turn; images
 *   and documents inside a tool result join that rest (tool messages hold text only).
 * - A `system` entry inside `messages` stays a system message at its place.
 * - `thinking` and `output_config.effort` become the target's reasoning setting,
 *   `output_config.format` its structured output.
 * - Fields the canonical model does not name travel in `anthropicExtras` and are reported as
 *   dropped by the target's adapter, as are tool fields it cannot carry (`dropped`).
 * - A block, tool type or source the target has no form for is refused, naming it: never lost.
 */
export function fromAnthropicRequest(
  body: AnthropicRequest,
): Result<{ request: ChatRequest; dropped: string[] }> {
  try {
    return ok(translate(body));
  } catch (error) {
    if (!(error instanceof Untranslatable)) throw error;
    return err({ kind: 'invalid_request', message: error.message, param: error.param });
  }
}

function translate(body: AnthropicRequest): { request: ChatRequest; dropped: string[] } {
  const dropped = new Set<string>();
  const messages: Message[] = [];
  if (typeof body.system === 'string')
    messages.push({ role: 'system', content: [{ type: 'text', text: body.system }] });
  else if (body.system) messages.push(systemText(body.system, 'system'));
  body.messages.forEach((turn, t) => {
    const param = `messages.${t}.content`;
    if (turn.role === 'system') {
      messages.push(systemText(turn.content, param));
      return;
    }
    const blocks: AnthropicRequestBlock[] =
      typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : turn.content;
    if (turn.role === 'user') {
      const parts: UserPart[] = [];
      blocks.forEach((block, b) => {
        if (block.type !== 'tool_result') {
          parts.push(toUserPart(block, `${param}.${b}`));
          return;
        }
        const { text, media } = toolResultContent(field(block, 'content'), `${param}.${b}.content`);
        messages.push({
          role: 'tool',
          toolCallId: String(field(block, 'tool_use_id')),
          content: [{ type: 'text', text }],
          ...(field(block, 'is_error') === true ? { isError: true } : {}),
          ...cache(field<WireCacheControl>(block, 'cache_control')),
        });
        parts.push(...media);
      });
      if (parts.length > 0) messages.push({ role: 'user', content: parts });
      return;
    }
    const content: TextPart[] = [];
    const toolCalls: ToolCall[] = [];
    const thinkingBlocks: ThinkingBlock[] = [];
    blocks.forEach((block, b) => {
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
      } else untranslatable(`a ${block.type} block`, `${param}.${b}`);
    });
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
  });

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
  readOutputConfig(body.output_config, request, dropped);
  if (body.tools) {
    request.tools = body.tools.map((tool, i) => {
      if (tool.type != null && tool.type !== 'custom')
        untranslatable(`the hosted tool type ${tool.type}`, `tools.${i}.type`);
      for (const name of Object.keys(tool)) if (!toolFields.has(name)) dropped.add(`tools.${name}`);
      return {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: tool.input_schema ?? { type: 'object', properties: {} },
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
        ...cache(tool.cache_control),
      };
    });
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

/** `output_config`: `effort` as the reasoning setting, `format` as structured output. */
function readOutputConfig(
  config: Record<string, unknown> | null | undefined,
  request: ChatRequest,
  dropped: Set<string>,
): void {
  if (!config) return;
  for (const [name, value] of Object.entries(config)) {
    if (name === 'effort' && typeof value === 'string' && effortNames[value]) {
      request.reasoningEffort = effortNames[value];
    } else if (name === 'format' && value && typeof value === 'object') {
      const format = value as { type?: unknown; schema?: unknown };
      if (format.type !== 'json_schema' || !format.schema || typeof format.schema !== 'object')
        untranslatable(`an output format of type ${String(format.type)}`, 'output_config.format.type');
      request.responseFormat = {
        type: 'json_schema',
        name: 'structured_output',
        schema: strictSchema(format.schema) as Record<string, unknown>,
        strict: true,
      };
    } else if (value !== undefined && value !== null) dropped.add(`output_config.${name}`);
  }
}
