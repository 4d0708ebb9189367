import type { ChatResult } from '../canonical.ts';
import { fromOpenAIUsage } from './map-openai-usage.ts';
import type { OpenAIChatResponse } from './wire.ts';

/** A validated OpenAI Chat Completions response -> the canonical result. */
export function fromOpenAIChatResponse(response: OpenAIChatResponse): ChatResult {
  return {
    id: response.id,
    model: response.model,
    created: response.created,
    ...(response.system_fingerprint ? { systemFingerprint: response.system_fingerprint } : {}),
    choices: response.choices.map((choice) => {
      const reasoning = choice.message.reasoning_content ?? choice.message.reasoning;
      return {
        index: choice.index,
        text: choice.message.content ?? null,
        ...(reasoning != null ? { reasoning } : {}),
        ...(choice.message.refusal !== undefined ? { refusal: choice.message.refusal } : {}),
        toolCalls: (choice.message.tool_calls ?? []).map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        })),
        finishReason: choice.finish_reason ?? null,
        ...(choice.logprobs != null ? { logprobs: choice.logprobs } : {}),
      };
    }),
    usage: fromOpenAIUsage(response.usage),
  };
}
