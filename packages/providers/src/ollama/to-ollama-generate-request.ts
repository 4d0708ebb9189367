import type { ChatRequest, Message } from '../canonical.ts';
import type { OllamaRequestPlan } from './to-ollama-chat-request.ts';
import { joinText, parseToolArguments, splitUserParts } from './to-ollama-content.ts';
import { isKeepAlive, toOllamaCommonFields } from './to-ollama-options.ts';

/**
 * Top-level `/api/generate` fields a caller may pass as extra body params. LiteLLM lifts only
 * `stream`, `format`, `images` and `think` and leaves these inside `options`, where Ollama
 * ignores them (wire formats §7.2); `suffix` is the text after the insertion point for
 * fill-in-the-middle (OpenAI `/v1/completions` `suffix`).
 */
const generateTopLevelExtras = {
  keep_alive: isKeepAlive,
  suffix: (value: unknown) => typeof value === 'string',
};

/**
 * Messages -> one transcript, as LiteLLM's `ollama_pt` renders it
 * (`litellm/litellm_core_utils/prompt_templates/factory.py`): runs of user and tool messages
 * become `### User:\n...\n\n`, runs of system messages `### System:\n...\n\n`, runs of assistant
 * messages `### Assistant:\n...\n\n` with their tool calls appended as
 * `Tool Calls: <JSON, 2-space indent>`. Images of every user message are collected.
 * (LiteLLM's version raises IndexError when the last message is an assistant's; this one does not.)
 */
function renderTranscript(messages: Message[], images: string[], warnings: string[]): string {
  let prompt = '';
  let i = 0;
  while (i < messages.length) {
    let user = '';
    for (let m = messages[i]; m && (m.role === 'user' || m.role === 'tool'); m = messages[++i]) {
      if (m.role === 'tool') user += joinText(m.content);
      else {
        const parts = splitUserParts(m.content, warnings);
        user += parts.text;
        images.push(...parts.images);
      }
    }
    if (user) prompt += `### User:\n${user}\n\n`;

    let system = '';
    for (let m = messages[i]; m?.role === 'system'; m = messages[++i]) system += joinText(m.content);
    if (system) prompt += `### System:\n${system}\n\n`;

    let assistant = '';
    for (let m = messages[i]; m?.role === 'assistant'; m = messages[++i]) {
      assistant += joinText(m.content);
      if (m.toolCalls.length > 0) {
        const calls = m.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: parseToolArguments(call.arguments, warnings) },
        }));
        assistant += `Tool Calls: ${JSON.stringify(calls, null, 2)}`;
      }
    }
    if (assistant) prompt += `### Assistant:\n${assistant}\n\n`;
  }
  return prompt;
}

/**
 * Messages -> `system`, `prompt` and `images`. Leading system messages become the top-level
 * `system` (Ollama puts it where the model's template expects a system prompt; LiteLLM writes
 * it into the prompt as `### System:`). A lone user message is sent verbatim: that is the
 * `/v1/completions` case, where LiteLLM also sends the raw prompt, and the only shape for which
 * fill-in-the-middle makes sense; Ollama's template already wraps the prompt as a user turn, so
 * a `### User:` header would only add noise. Longer conversations are rendered as a transcript.
 */
function toOllamaPrompt(
  messages: Message[],
  warnings: string[],
): { system?: string; prompt: string; images: string[] } {
  let start = 0;
  const systemTexts: string[] = [];
  for (let m = messages[0]; m?.role === 'system'; m = messages[++start])
    systemTexts.push(joinText(m.content));
  const rest = messages.slice(start);
  const system = systemTexts.length > 0 ? systemTexts.join('\n') : undefined;
  const images: string[] = [];
  // Only system messages: they are the prompt (an empty prompt would just load the model).
  if (rest.length === 0) return { prompt: system ?? '', images };
  const only = rest[0];
  if (rest.length === 1 && only?.role === 'user') {
    const parts = splitUserParts(only.content, warnings);
    return { ...(system !== undefined ? { system } : {}), prompt: parts.text, images: parts.images };
  }
  const prompt = renderTranscript(rest, images, warnings);
  return { ...(system !== undefined ? { system } : {}), prompt, images };
}

/**
 * The canonical request -> an Ollama `/api/generate` body (wire formats §7.2, for `ollama/`
 * models): the messages rendered to one `prompt` (plus `system` and `images`), `stream` always
 * sent (Ollama streams when it is omitted), `format`, `think`, `keep_alive` and `suffix` at the
 * top level, sampling settings in `options`. `/api/generate` has no tools: tool definitions
 * and `tool_choice` are reported as warnings (LiteLLM's JSON-mode tool emulation is not done).
 */
export function toOllamaGenerateRequest(request: ChatRequest): OllamaRequestPlan {
  const warnings: string[] = [];
  const { system, prompt, images } = toOllamaPrompt(request.messages, warnings);
  const common = toOllamaCommonFields(request, generateTopLevelExtras, warnings);
  if (request.tools && request.tools.length > 0) warnings.push('tools');
  if (request.toolChoice !== undefined && request.toolChoice !== 'auto' && request.toolChoice !== 'none') {
    warnings.push('tool_choice');
  }

  const body: Record<string, unknown> = { model: request.model, prompt };
  if (common.topLevel.suffix !== undefined) body.suffix = common.topLevel.suffix;
  if (system !== undefined) body.system = system;
  if (images.length > 0) body.images = images;
  if (common.format !== undefined) body.format = common.format;
  if (Object.keys(common.options).length > 0) body.options = common.options;
  body.stream = request.stream;
  if (common.topLevel.keep_alive !== undefined) body.keep_alive = common.topLevel.keep_alive;
  if (common.think !== undefined) body.think = common.think;
  // One entry per kind of loss, however often it happened.
  return { body, warnings: [...new Set(warnings)] };
}
