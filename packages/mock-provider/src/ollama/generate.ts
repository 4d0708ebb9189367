import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { type MockAnswer, type StreamParts, toInvalidBodyMessage, toNdjsonLine } from '../mock-answer.ts';
import { countPromptTokens } from '../reply.ts';
import { ollamaOptionsSchema, ollamaThinkSchema } from './chat.ts';
import { toOllamaDoneFields } from './done-fields.ts';
import { OLLAMA_STREAM_ERROR, toOllamaErrorMessage } from './errors.ts';
import {
  isOllamaThinking,
  type PlannedOllamaAnswer,
  planOllamaOutput,
  toOllamaAnswer,
} from './plan-ollama-output.ts';

const DEFAULT_REPLY_TOKENS = 20;

/**
 * What the mock reads from an `/api/generate` request (provider-wire-formats.md §7.2): `prompt`,
 * `suffix` (fill-in-the-middle), `system`, `images`, `think`, `options.num_predict`, `stream`. No
 * (or an empty) `prompt` loads the model (`done_reason: "load"`).
 */
export const mockOllamaGenerateRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.string().nullish(),
  suffix: z.string().nullish(),
  system: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  think: ollamaThinkSchema,
  options: ollamaOptionsSchema,
  stream: z.boolean().nullish(),
});
export type MockOllamaGenerateRequest = z.infer<typeof mockOllamaGenerateRequestSchema>;

export type PlannedOllamaGenerate = PlannedOllamaAnswer;

/**
 * Decides the whole answer up front. `system`, `prompt` and `suffix` are all read for directives and
 * counted (`countPromptTokens`) as the prompt. Output: `planOllamaOutput` with `think`,
 * `options.num_predict` and `[mock:reply_tokens=N]`; with a `suffix` the response is a fill-in whose
 * first token is `[fill-in before "<suffix>"]` (`toFillInTokens`). `[mock:error=N]` fails as a value.
 */
export function planOllamaGenerate(request: MockOllamaGenerateRequest): PlannedOllamaGenerate {
  const texts = [request.system, request.prompt, request.suffix].filter((text): text is string => !!text);
  const directives = readDirectives(texts);
  return {
    model: request.model,
    createdAt: new Date().toISOString(),
    isLoad: !request.prompt,
    output: planOllamaOutput({
      isThinking: isOllamaThinking(request.think),
      numPredict: request.options?.num_predict,
      replyTokens: directives.replyTokens ?? DEFAULT_REPLY_TOKENS,
      suffix: request.suffix,
    }),
    promptEvalCount: directives.promptTokens ?? countPromptTokens(texts),
    ...(directives.errorStatus !== undefined
      ? {
          errorStatus: directives.errorStatus,
          errorMessage: toOllamaErrorMessage(directives.errorStatus, request.model),
        }
      : {}),
    ...(directives.chunkDelayMs !== undefined ? { chunkDelayMs: directives.chunkDelayMs } : {}),
    ...(directives.cutAfter !== undefined ? { cutAfter: directives.cutAfter } : {}),
    ...(directives.streamErrorAfter !== undefined ? { streamErrorAfter: directives.streamErrorAfter } : {}),
  };
}

/** The object Ollama answers when it only loaded the model (no prompt). */
function toLoadBody(plan: PlannedOllamaGenerate) {
  return { model: plan.model, created_at: plan.createdAt, response: '', done: true, done_reason: 'load' };
}

/**
 * The encoded conversation Ollama returns for a follow-up call: here the token ids 1..n, n = prompt
 * plus output tokens.
 */
function toContext(plan: PlannedOllamaGenerate): number[] {
  return Array.from({ length: plan.promptEvalCount + plan.output.evalCount }, (_, i) => i + 1);
}

/**
 * The non-streaming body (§7.2): `response`, `thinking` when thinking, `done: true`, `done_reason`,
 * `context`, counters and durations (`toOllamaDoneFields`).
 */
export function toOllamaGenerateBody(plan: PlannedOllamaGenerate) {
  if (plan.isLoad) return toLoadBody(plan);
  const { output } = plan;
  return {
    model: plan.model,
    created_at: plan.createdAt,
    response: output.content.join(''),
    ...(output.thinking.length > 0 ? { thinking: output.thinking.join('') } : {}),
    done: true,
    done_reason: output.doneReason,
    context: toContext(plan),
    ...toOllamaDoneFields(plan.promptEvalCount, output.evalCount),
  };
}

/**
 * The NDJSON stream (§7.2), before the stream directives: one `done: false` line per token
 * (`thinking` pieces with an empty `response` first, then `response` pieces), then the `done: true`
 * line with an empty `response`, `done_reason`, `context`, counters and durations. A mid-stream
 * failure is an `{"error": "..."}` line.
 */
export function toOllamaGenerateStreamParts(plan: PlannedOllamaGenerate): StreamParts {
  const errorFrames = [toNdjsonLine(OLLAMA_STREAM_ERROR)];
  if (plan.isLoad) return { head: [], tokens: [], tail: [toNdjsonLine(toLoadBody(plan))], errorFrames };
  const { output } = plan;
  const line = (fields: Record<string, unknown>) =>
    toNdjsonLine({ model: plan.model, created_at: plan.createdAt, ...fields, done: false });
  return {
    head: [],
    tokens: [
      ...output.thinking.map((piece) => line({ response: '', thinking: piece })),
      ...output.content.map((piece) => line({ response: piece })),
    ],
    tail: [
      toNdjsonLine({
        model: plan.model,
        created_at: plan.createdAt,
        response: '',
        done: true,
        done_reason: output.doneReason,
        context: toContext(plan),
        ...toOllamaDoneFields(plan.promptEvalCount, output.evalCount),
      }),
    ],
    errorFrames,
  };
}

/**
 * The `/api/generate` answer to a parsed JSON body: a 400 for a body the schema refuses; a stream
 * unless `stream` is `false` (Ollama streams by default).
 */
export function answerOllamaGenerate(body: unknown): MockAnswer {
  const parsed = mockOllamaGenerateRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  return toOllamaAnswer(
    planOllamaGenerate(parsed.data),
    parsed.data.stream,
    toOllamaGenerateBody,
    toOllamaGenerateStreamParts,
  );
}
