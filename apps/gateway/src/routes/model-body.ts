import {
  type CallEstimate,
  documentPages,
  inputTokensAtMost,
  type PromptSize,
} from '../admission/admission.ts';
import type { Deployment } from '../config/gateway-config.ts';
import { GatewayHttpError } from '../errors.ts';
import { maxOutputTokensOf } from '../model-call/model-call.ts';
import { CONTROL_CHARACTER, parseJsonBody } from './parse-json-body.ts';

/** The largest `max_tokens` accepted; larger values could not be reserved for exactly. */
const MAX_TOKENS_LIMIT = 2 ** 31 - 1;

export function invalid(message: string, param?: string): GatewayHttpError {
  return new GatewayHttpError({ kind: 'invalid_request', message, ...(param ? { param } : {}) });
}

/**
 * A model call's body read and checked ({@link checkModelBody}): a 400 in the caller's dialect
 * when it is not JSON, not an object, or lacks what the gateway needs.
 */
export async function parseModelBody(request: Pick<Request, 'text'>): Promise<Record<string, unknown>> {
  const raw = await parseJsonBody(request);
  const json =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  checkModelBody(json);
  return json;
}

/** The `anthropic-beta` values a client asked for (comma-separated), when it asked for any. */
export function anthropicBetas(header: string | null): string[] | undefined {
  if (!header) return undefined;
  return header
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
}

/**
 * What the gateway needs of a model call's body (Anthropic Messages or OpenAI Chat Completions)
 * to meter it, checked before anything goes upstream: a JSON object naming its model, a
 * boolean `stream` (a `"true"` or `1` that an upstream coerces would stream past a reader
 * expecting JSON), and output caps it can reserve for. Everything else is the upstream's to
 * judge.
 */
export function checkModelBody(
  json: Record<string, unknown> | undefined,
): asserts json is Record<string, unknown> {
  if (!json) throw invalid('The request body must be a JSON object.');
  if (typeof json.model !== 'string' || json.model.length === 0 || json.model.length > 256)
    throw invalid('model: a model id (a string of 1 to 256 characters) is required.', 'model');
  if (CONTROL_CHARACTER.test(json.model))
    throw invalid('model: a model id has no control characters.', 'model');
  if ('stream' in json && typeof json.stream !== 'boolean')
    throw invalid('stream: must be true or false.', 'stream');
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    const value = json[field];
    if (
      value !== undefined &&
      value !== null &&
      !(typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TOKENS_LIMIT)
    )
      throw invalid(`${field}: must be an integer from 1 to ${MAX_TOKENS_LIMIT}.`, field);
  }
}

/** The output cap a body sets, when it sets one (checked by {@link checkModelBody}). */
export function maxTokensOf(json: Record<string, unknown>): number | undefined {
  const value = json.max_completion_tokens ?? json.max_tokens;
  return typeof value === 'number' ? value : undefined;
}

/**
 * What a model call's body sends the model, for its token bound, in either dialect: system and
 * message text, tool definitions and calls, images (Anthropic `image`, OpenAI `image_url`) and
 * document pages (Anthropic `document`, OpenAI `file`), priced by size rather than as base64
 * text. Audio is not counted, as on the translated path.
 */
export function promptSize(json: Record<string, unknown>): PromptSize {
  const texts: string[] = [];
  let images = 0;
  let pages = 0;
  const visit = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) for (const item of value) visit(item);
    else if (value && typeof value === 'object') {
      const block = value as Record<string, unknown>;
      switch (block.type) {
        case 'image':
        case 'image_url':
          images++;
          return;
        case 'input_audio':
          return;
        case 'document': {
          const source = block.source as { type?: unknown; data?: unknown } | undefined;
          // Plain-text documents are text; PDFs are counted by their pages.
          if (source?.type === 'text' && typeof source.data === 'string') texts.push(source.data);
          else pages += documentPages(typeof source?.data === 'string' ? source.data : undefined);
          return;
        }
        case 'file': {
          const file = block.file as { file_data?: unknown } | undefined;
          pages += documentPages(typeof file?.file_data === 'string' ? file.file_data : undefined);
          return;
        }
      }
      for (const [field, inner] of Object.entries(block)) if (field !== 'cache_control') visit(inner);
    }
  };
  visit(json.system);
  visit(json.messages);
  visit(json.tools);
  return {
    text: texts.join('\n'),
    messages: Array.isArray(json.messages) ? json.messages.length : 1,
    images,
    documentPages: pages,
  };
}

/**
 * The most a call with this body may use, for its budget reservation: its prompt's bound, and
 * its output cap or else the deployment's.
 */
export function bodyEstimate(json: Record<string, unknown>): (deployment: Deployment) => CallEstimate {
  return (deployment) => ({
    inputTokens: inputTokensAtMost(promptSize(json)),
    outputTokens: maxTokensOf(json) ?? maxOutputTokensOf(deployment),
  });
}
