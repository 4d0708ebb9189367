import type { ChatResult } from '../canonical.ts';
import { toOpenAIUsage } from './map-openai-usage.ts';

/** The canonical result -> an OpenAI `chat.completion` object, as clients of /v1/chat/completions expect. */
export function toOpenAIChatResponse(result: ChatResult): Record<string, unknown> {
  const usage = toOpenAIUsage(result.usage);
  return {
    id: result.id,
    object: 'chat.completion',
    created: result.created,
    model: result.model,
    ...(result.systemFingerprint ? { system_fingerprint: result.systemFingerprint } : {}),
    choices: result.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.text,
        ...(choice.reasoning !== undefined ? { reasoning_content: choice.reasoning } : {}),
        ...(choice.thinkingBlocks ? { thinking_blocks: choice.thinkingBlocks } : {}),
        ...(choice.citations || choice.serverToolResults
          ? {
              provider_specific_fields: {
                ...(choice.citations ? { citations: choice.citations } : {}),
                ...(choice.serverToolResults ? { tool_results: choice.serverToolResults } : {}),
              },
            }
          : {}),
        refusal: choice.refusal ?? null,
        ...(choice.toolCalls.length > 0
          ? {
              tool_calls: choice.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      },
      logprobs: choice.logprobs ?? null,
      finish_reason: choice.finishReason,
    })),
    ...(usage ? { usage } : {}),
  };
}
