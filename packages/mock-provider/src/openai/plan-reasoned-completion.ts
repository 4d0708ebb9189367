import { reasoningTokens } from '../reply.ts';
import { type MockChatRequest, type PlannedCompletion, planCompletion } from './chat-completions.ts';

/** A chat answer that may think first, as OpenAI-compatible vendors with reasoning send it. */
export interface PlannedReasonedCompletion extends PlannedCompletion {
  /** The reasoning, one token each (`reasoningTokens`); empty when the request doesn't ask for it. */
  reasoning: string[];
}

/**
 * `planCompletion`, preceded by the 8 reasoning tokens when `isReasoning`. The reasoning counts as
 * output: it is part of `completion_tokens` and is `completion_tokens_details.reasoning_tokens`,
 * and `max_completion_tokens`/`max_tokens` caps reasoning and answer together (DeepSeek's rule), so a
 * cap below 8 cuts the reasoning and leaves no answer (finish `length`).
 */
export function planReasonedCompletion(
  request: MockChatRequest,
  isReasoning: boolean,
): PlannedReasonedCompletion {
  if (!isReasoning) return { ...planCompletion(request), reasoning: [] };
  const cap = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const wanted = reasoningTokens();
  const reasoning = wanted.slice(0, cap);
  const plan = planCompletion(
    Number.isFinite(cap) ? { ...request, max_completion_tokens: cap - reasoning.length } : request,
  );
  const { usage } = plan;
  return {
    ...plan,
    reasoning,
    finishReason: reasoning.length < wanted.length ? 'length' : plan.finishReason,
    usage: {
      ...usage,
      completion_tokens: usage.completion_tokens + reasoning.length,
      total_tokens: usage.total_tokens + reasoning.length,
      completion_tokens_details: { ...usage.completion_tokens_details, reasoning_tokens: reasoning.length },
    },
  };
}
