import type { ChatRequest, Usage } from '@gateway/providers';
import { documentPages as countDocumentPages } from '../admission/admission.ts';
import { type ModelCall, producedOutput } from '../request/request-event.ts';

type CountTokens = (text: string) => number;

// OpenAI's o200k_base tokenizer, loaded on first use only: it costs ~70 MB and a quarter of a
// second, and is needed only when a provider never reported usage (a stream cut early).
let tokenizer: Promise<CountTokens> | undefined;
const loadTokenizer = () =>
  (tokenizer ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => m.countTokens));

// Chat formatting overhead per message and for priming the reply, as OpenAI documents it.
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;

const pending = new Set<Promise<void>>();

/**
 * Completes a call's usage where the provider never reported it, then calls `then` (always
 * exactly once). Only a call that produced output is estimated; a known count is never
 * replaced. Estimated buckets are listed in `call.estimatedUsage`, so the spend row says the
 * cost is an estimate. Counting runs off the request path; {@link drainUsageEstimates} waits
 * for it at shutdown.
 */
export function completeUsage(
  call: ModelCall,
  texts: { prompt?: (() => PromptText) | undefined; output: string },
  then: () => void,
): void {
  const estimateInput = call.usage.inputTokens === undefined && texts.prompt !== undefined;
  const estimateOutput = call.usage.outputTokens === undefined;
  if (!producedOutput(call) || (!estimateInput && !estimateOutput)) {
    then();
    return;
  }
  const work = loadTokenizer()
    .then((count) => {
      const usage: Usage = { ...call.usage };
      const estimated: ModelCall['estimatedUsage'] = [];
      if (estimateInput && texts.prompt) {
        usage.inputTokens = countPrompt(texts.prompt(), count);
        estimated.push('input');
      }
      if (estimateOutput) {
        usage.outputTokens = texts.output ? count(texts.output) : 0;
        estimated.push('output');
      }
      call.usage = usage;
      call.estimatedUsage = estimated;
    })
    .catch(() => {
      // No estimate: the row records the usage as unknown, as before.
    })
    .finally(() => {
      pending.delete(work);
      then();
    });
  pending.add(work);
}

/** Resolves once every estimate under way has been recorded. */
export async function drainUsageEstimates(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}

/** What a prompt says, and in how many messages (each costs a few tokens of framing). */
export interface PromptText {
  text: string;
  messages: number;
}

function countPrompt(prompt: PromptText, count: CountTokens): number {
  return count(prompt.text) + prompt.messages * TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS;
}

/** Images and document pages a chat request sends, for its token bound. */
export function chatRequestMedia(request: ChatRequest): { images: number; documentPages: number } {
  let images = 0;
  let documentPages = 0;
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.type === 'image') images++;
      else if (part.type === 'file') documentPages += countDocumentPages(part.data);
      else if (part.type === 'native') {
        const block = part.block as { type?: unknown; source?: { data?: unknown } };
        if (block.type === 'image') images++;
        else if (block.type === 'document')
          documentPages += countDocumentPages(
            typeof block.source?.data === 'string' ? block.source.data : undefined,
          );
      }
    }
  }
  return { images, documentPages };
}

/** The text a chat request sends the model: roles, text parts, tool calls and tool definitions. */
export function chatRequestText(request: ChatRequest): PromptText {
  const parts: string[] = [];
  for (const message of request.messages) {
    parts.push(message.role);
    for (const part of message.content) if (part.type === 'text') parts.push(part.text);
    if (message.role === 'assistant') {
      if (message.reasoning) parts.push(message.reasoning);
      for (const call of message.toolCalls) parts.push(call.name, call.arguments);
    }
  }
  for (const tool of request.tools ?? []) {
    parts.push(
      JSON.stringify(
        tool.native ?? { name: tool.name, description: tool.description, parameters: tool.parameters },
      ),
    );
  }
  return { text: parts.join('\n'), messages: request.messages.length };
}
