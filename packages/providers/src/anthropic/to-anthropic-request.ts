import type { CacheControl, ChatRequest, Message, TextPart, UserPart } from '../canonical.ts';
import { supportsStructuredOutputs, toAnthropicOutputSchema } from './to-anthropic-output-schema.ts';

/** Anthropic requires `max_tokens`; this is what LiteLLM sends when the caller gave none. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
/** `reasoning_effort` -> `thinking.budget_tokens`, as LiteLLM maps it (wire formats §3.3). */
const thinkingBudgets: Record<string, number> = { minimal: 1024, low: 1024, medium: 2048, high: 4096 };
/** The forced tool that carries a JSON-schema answer on models without native structured output. */
export const JSON_TOOL_NAME = 'json_tool_call';

export interface AnthropicRequestPlan {
  body: Record<string, unknown>;
  /** `anthropic-beta` values to send, if any. */
  betas: string[];
  /** Parameters the request carried that Anthropic cannot honour; they were not sent. */
  warnings: string[];
  /** Set when the answer comes back as a forced tool call that must be read as text. */
  jsonToolName?: string;
}

type AnthropicBlock = Record<string, unknown>;

function withCache(block: AnthropicBlock, cacheControl: CacheControl | undefined): AnthropicBlock {
  return cacheControl ? { ...block, cache_control: cacheControl } : block;
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;
const BEARER = /^Bearer (.+)$/;

function imageOrDocument(url: string, cacheControl: CacheControl | undefined): AnthropicBlock {
  const data = DATA_URL.exec(url);
  if (data) {
    const mediaType = data[1]!;
    const type = mediaType === 'application/pdf' ? 'document' : 'image';
    return withCache(
      { type, source: { type: 'base64', media_type: mediaType, data: data[2] } },
      cacheControl,
    );
  }
  return withCache({ type: 'image', source: { type: 'url', url } }, cacheControl);
}

function toAnthropicUserPart(part: UserPart, warnings: string[]): AnthropicBlock | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : withCache({ type: 'text', text: part.text }, part.cacheControl);
    case 'image':
      return imageOrDocument(part.url, part.cacheControl);
    case 'file': {
      if (part.data) {
        const data = DATA_URL.exec(part.data);
        return withCache(
          {
            type: 'document',
            source: {
              type: 'base64',
              media_type: data?.[1] ?? 'application/pdf',
              data: data?.[2] ?? part.data,
            },
          },
          part.cacheControl,
        );
      }
      if (part.fileId?.startsWith('http')) {
        return withCache({ type: 'document', source: { type: 'url', url: part.fileId } }, part.cacheControl);
      }
      if (part.fileId) {
        return withCache(
          { type: 'document', source: { type: 'file', file_id: part.fileId } },
          part.cacheControl,
        );
      }
      warnings.push('a file part without data or file id was dropped');
      return undefined;
    }
    case 'audio':
      warnings.push('input_audio parts are not supported by Anthropic and were dropped');
      return undefined;
    case 'native':
      // Already an Anthropic block (a document with citations, a search result, ...).
      return part.block;
  }
}

function textBlocks(parts: TextPart[]): AnthropicBlock[] {
  return parts
    .filter((p) => p.text !== '')
    .map((p) => withCache({ type: 'text', text: p.text }, p.cacheControl));
}

/** Tool arguments are JSON text in OpenAI format and an object in Anthropic's. */
function parseToolInput(args: string, warnings: string[]): unknown {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // fall through
  }
  warnings.push('tool call arguments that are not a JSON object were sent as {}');
  return {};
}

/**
 * Messages -> Anthropic `system` and alternating turns (wire formats §3.2): every system message
 * joins `system`; adjacent user and tool messages merge into one user turn (tool results
 * first, as they come); adjacent assistant messages merge; thinking blocks lead an assistant turn.
 */
function toAnthropicTurns(messages: Message[], warnings: string[]) {
  const system: AnthropicBlock[] = [];
  const turns: { role: 'user' | 'assistant'; content: AnthropicBlock[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicBlock[]) => {
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        system.push(...textBlocks(message.content));
        break;
      case 'user':
        push(
          'user',
          message.content.map((p) => toAnthropicUserPart(p, warnings)).filter((b) => b !== undefined),
        );
        break;
      case 'tool': {
        const text = message.content.map((p) => p.text).join('');
        push('user', [
          withCache(
            {
              type: 'tool_result',
              tool_use_id: message.toolCallId,
              content: text,
              ...(message.isError ? { is_error: true } : {}),
            },
            message.cacheControl,
          ),
        ]);
        break;
      }
      case 'assistant':
        push('assistant', [
          ...(message.thinkingBlocks ?? []).map((block) => ({ ...block })),
          ...textBlocks(message.content),
          ...message.toolCalls.map((call) => ({
            type: 'tool_use',
            id: call.id,
            name: call.name,
            input: parseToolInput(call.arguments, warnings),
          })),
        ]);
        break;
    }
  }
  // Anthropic continues a final assistant turn (prefill) but refuses trailing whitespace in it.
  const last = turns.at(-1);
  const lastBlock = last?.role === 'assistant' ? last.content.at(-1) : undefined;
  if (lastBlock?.type === 'text' && typeof lastBlock.text === 'string')
    lastBlock.text = lastBlock.text.trimEnd();
  return { system, turns };
}

/** Anthropic request fields an OpenAI-format caller may send; they go to Anthropic as they are. */
const anthropicFieldsFromOpenAI = new Set([
  'context_management',
  'cache_control',
  'speed',
  'container',
  'mcp_servers',
  'output_config',
  'inference_geo',
  'service_tier',
]);

/** OpenAI's list form `[{"type":"compaction","compact_threshold":N}]` -> Anthropic's `{"edits":[...]}`. */
function toContextManagement(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return {
    edits: value.map((edit: Record<string, unknown>) =>
      edit?.type === 'compaction'
        ? { type: 'compact_20260112', trigger: { type: 'input_tokens', value: edit.compact_threshold } }
        : edit,
    ),
  };
}

/** An OpenAI `{"type":"mcp", server_url, server_label, allowed_tools, headers}` tool -> an MCP server entry. */
function toMcpServer(tool: Record<string, unknown>): Record<string, unknown> {
  const headers = (tool.headers ?? {}) as Record<string, string>;
  const bearer = BEARER.exec(headers.Authorization ?? headers.authorization ?? '')?.[1];
  const allowed = tool.allowed_tools;
  return {
    type: 'url',
    url: tool.server_url,
    name: tool.server_label,
    ...(Array.isArray(allowed) ? { tool_configuration: { allowed_tools: allowed } } : {}),
    ...(bearer ? { authorization_token: bearer } : {}),
  };
}

/** The `anthropic-beta` values the body's features need (wire formats §2.1); caller betas are kept. */
function betasFor(body: Record<string, unknown>): string[] {
  const betas: string[] = [];
  if (body.mcp_servers) betas.push('mcp-client-2025-04-04');
  const edits = (body.context_management as { edits?: { type?: string }[] } | undefined)?.edits;
  if (edits?.some((edit) => edit.type === 'compact_20260112')) betas.push('compact-2026-01-12');
  else if (edits?.length) betas.push('context-management-2025-06-27');
  if (body.speed === 'fast') betas.push('fast-mode-2026-02-01');
  if ((body.container as { skills?: unknown } | undefined)?.skills) betas.push('skills-2025-10-02');
  return betas;
}

/** LiteLLM passes `user` on as `metadata.user_id` unless it looks like an email or a phone number. */
function isShareableUserId(user: string): boolean {
  return !user.includes('@') && !/^\+?[\d\s().-]{7,}$/.test(user);
}

/**
 * The canonical request -> an Anthropic Messages body (wire formats §3). Parameters Anthropic
 * has no equivalent for are not sent; each is named in `warnings`.
 */
export function toAnthropicRequest(request: ChatRequest): AnthropicRequestPlan {
  const warnings: string[] = [];
  const betas = new Set(request.anthropicBeta ?? []);
  const { system, turns } = toAnthropicTurns(request.messages, warnings);
  const body: Record<string, unknown> = { model: request.model, messages: turns };
  if (system.length > 0) body.system = system;

  let thinking = request.thinking;
  if (!thinking && request.reasoningEffort !== undefined) {
    const budget = thinkingBudgets[request.reasoningEffort];
    if (budget !== undefined) thinking = { type: 'enabled', budgetTokens: budget };
    else if (request.reasoningEffort !== 'none') warnings.push(`reasoning_effort=${request.reasoningEffort}`);
  }
  if (thinking) {
    body.thinking =
      thinking.type === 'enabled' ? { type: 'enabled', budget_tokens: thinking.budgetTokens } : thinking;
  }
  body.max_tokens =
    request.maxOutputTokens ??
    (thinking?.type === 'enabled'
      ? thinking.budgetTokens + DEFAULT_ANTHROPIC_MAX_TOKENS
      : DEFAULT_ANTHROPIC_MAX_TOKENS);

  if (request.stop !== undefined) body.stop_sequences = request.stop;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.user !== undefined && isShareableUserId(request.user))
    body.metadata = { user_id: request.user };

  // OpenAI-style `mcp` tools are Anthropic MCP servers (wire formats §3.3).
  const mcpServers = (request.tools ?? [])
    .filter((tool) => tool.native?.type === 'mcp')
    .map((tool) => toMcpServer(tool.native!));
  if (mcpServers.length > 0) body.mcp_servers = mcpServers;
  const tools: AnthropicBlock[] = (request.tools ?? [])
    .filter((tool) => tool.native?.type !== 'mcp')
    .map((tool) =>
      // Hosted tools (web search, bash, text editor, code execution ...) keep their own shape.
      tool.native
        ? { ...tool.native }
        : withCache(
            {
              name: tool.name,
              type: 'custom',
              ...(tool.description !== undefined ? { description: tool.description } : {}),
              input_schema: { type: 'object', properties: {}, ...tool.parameters },
            },
            tool.cacheControl,
          ),
    );
  let toolChoice: Record<string, unknown> | undefined;
  if (request.toolChoice !== undefined) {
    const choice = request.toolChoice;
    toolChoice =
      typeof choice === 'object'
        ? { type: 'tool', name: choice.name }
        : { type: choice === 'required' ? 'any' : choice };
  }

  let jsonToolName: string | undefined;
  const format = request.responseFormat;
  if (format?.type === 'json_schema' && supportsStructuredOutputs(request.model)) {
    body.output_format = {
      type: 'json_schema',
      schema: toAnthropicOutputSchema({ type: 'object', ...format.schema }),
    };
    betas.add('structured-outputs-2025-11-13');
  } else if (format?.type === 'json_schema') {
    // Older models: a forced tool call whose input is the answer.
    jsonToolName = JSON_TOOL_NAME;
    tools.push({ name: JSON_TOOL_NAME, type: 'custom', input_schema: { type: 'object', ...format.schema } });
    if (!thinking || thinking.type === 'disabled') toolChoice = { type: 'tool', name: JSON_TOOL_NAME };
  } else if (format?.type === 'json_object') {
    warnings.push('response_format=json_object (no schema)');
  }
  if (request.parallelToolCalls === false && toolChoice?.type !== 'none') {
    toolChoice = { ...(toolChoice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  if (tools.length > 0) body.tools = tools;
  if (toolChoice) body.tool_choice = toolChoice;

  if (request.n !== undefined && request.n !== 1) warnings.push('n');
  if (request.seed !== undefined) warnings.push('seed');
  if (request.presencePenalty !== undefined) warnings.push('presence_penalty');
  if (request.frequencyPenalty !== undefined) warnings.push('frequency_penalty');
  for (const [field, value] of Object.entries(request.openaiExtras)) {
    if (!anthropicFieldsFromOpenAI.has(field)) warnings.push(field);
    else body[field] = field === 'context_management' ? toContextManagement(value) : value;
  }
  Object.assign(body, request.anthropicExtras);
  for (const beta of betasFor(body)) betas.add(beta);
  if (request.stream) body.stream = true;
  return { body, betas: [...betas], warnings, ...(jsonToolName ? { jsonToolName } : {}) };
}
