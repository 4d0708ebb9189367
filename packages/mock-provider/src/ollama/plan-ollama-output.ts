import { type MockAnswer, type StreamParts, toStreamFrames } from '../mock-answer.ts';
import { reasoningTokens, replyTokens, toFillInTokens } from '../reply.ts';
import { toJsonFragments } from '../tool-input.ts';

/** A tool call as Ollama sends it: `arguments` is a JSON object, not text (§7.1). */
export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

/** What a `/api/chat` or `/api/generate` answer says, one token per entry. */
export interface PlannedOllamaOutput {
  /** The `thinking` pieces (`reasoningTokens`), empty unless `think` was on. */
  thinking: string[];
  /** The `content` (chat) or `response` (generate) pieces; empty for a tool call. */
  content: string[];
  toolCall?: OllamaToolCall;
  doneReason: 'stop' | 'length';
  /** Output tokens: thinking plus content, or plus one per JSON fragment of the call's arguments. */
  evalCount: number;
}

/** Whether `think` asks for thinking: `true` or a level (`"low"`, `"medium"`, `"high"`). */
export function isOllamaThinking(think: boolean | string | null | undefined): boolean {
  return think === true || (typeof think === 'string' && think !== '');
}

/**
 * Plans the output: the 8 thinking tokens when `isThinking`, then the tool call if one is asked for
 * and fits, else `replyTokens` tokens (a fill-in with `suffix`). `numPredict` (`options.num_predict`;
 * negative or absent = unlimited) caps thinking and answer together; a cut answer is done with
 * `length`, and a tool call that doesn't fit becomes the capped text reply.
 */
export function planOllamaOutput(input: {
  isThinking: boolean;
  numPredict: number | null | undefined;
  replyTokens: number;
  toolCall?: OllamaToolCall | undefined;
  suffix?: string | null | undefined;
}): PlannedOllamaOutput {
  const cap =
    input.numPredict === null || input.numPredict === undefined || input.numPredict < 0
      ? Number.POSITIVE_INFINITY
      : input.numPredict;
  const wantedThinking = input.isThinking ? reasoningTokens() : [];
  const thinking = wantedThinking.slice(0, cap);
  const left = cap - thinking.length;
  const fragments = input.toolCall ? toJsonFragments(JSON.stringify(input.toolCall.function.arguments)) : [];
  if (input.toolCall && fragments.length <= left) {
    return {
      thinking,
      content: [],
      toolCall: input.toolCall,
      doneReason: 'stop',
      evalCount: thinking.length + fragments.length,
    };
  }
  const count = Math.min(input.replyTokens, left);
  const reply = replyTokens(count);
  const content = input.suffix ? toFillInTokens(reply, input.suffix) : reply;
  const isCut = thinking.length < wantedThinking.length || count < input.replyTokens;
  return { thinking, content, doneReason: isCut ? 'length' : 'stop', evalCount: thinking.length + count };
}

/** A whole `/api/chat` or `/api/generate` answer, decided up front. */
export interface PlannedOllamaAnswer {
  model: string;
  /** RFC 3339, the `created_at` of every object of the answer. */
  createdAt: string;
  /** No messages (chat) or no prompt (generate): the model is loaded and nothing generated. */
  isLoad: boolean;
  output: PlannedOllamaOutput;
  promptEvalCount: number;
  errorStatus?: number;
  errorMessage?: string;
  chunkDelayMs?: number;
  cutAfter?: number;
  streamErrorAfter?: number;
}

/**
 * The answer to a planned request: the planned error, else the JSON body when `stream` is `false`,
 * else the NDJSON stream (Ollama streams by default).
 */
export function toOllamaAnswer(
  plan: PlannedOllamaAnswer,
  stream: boolean | null | undefined,
  toBody: (plan: PlannedOllamaAnswer) => unknown,
  toStreamParts: (plan: PlannedOllamaAnswer) => StreamParts,
): MockAnswer {
  if (plan.errorStatus !== undefined) {
    return {
      kind: 'error',
      status: plan.errorStatus,
      ...(plan.errorMessage ? { message: plan.errorMessage } : {}),
    };
  }
  if (stream === false) return { kind: 'json', body: toBody(plan) };
  return {
    kind: 'stream',
    format: 'ndjson',
    ...toStreamFrames(toStreamParts(plan), plan),
    ...(plan.chunkDelayMs !== undefined ? { chunkDelayMs: plan.chunkDelayMs } : {}),
  };
}
