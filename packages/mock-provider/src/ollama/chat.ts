import { z } from 'zod';
import { readDirectives } from '../directives.ts';
import { type MockAnswer, type StreamParts, toInvalidBodyMessage, toNdjsonLine } from '../mock-answer.ts';
import { countPromptTokens } from '../reply.ts';
import { toMockToolInput } from '../tool-input.ts';
import { toOllamaDoneFields } from './done-fields.ts';
import { OLLAMA_STREAM_ERROR, toOllamaErrorMessage } from './errors.ts';
import {
  isOllamaThinking,
  type OllamaToolCall,
  type PlannedOllamaAnswer,
  planOllamaOutput,
  toOllamaAnswer,
} from './plan-ollama-output.ts';

const DEFAULT_REPLY_TOKENS = 20;

/** `options`: the mock reads only `num_predict` (the output token cap). */
export const ollamaOptionsSchema = z.looseObject({ num_predict: z.number().int().nullish() }).nullish();

/** `think`: a switch, or a level string for models such as gpt-oss. */
export const ollamaThinkSchema = z.union([z.boolean(), z.string()]).nullish();

/**
 * What the mock reads from an `/api/chat` request (provider-wire-formats.md §7.1). A message's
 * `images` are base64 strings; an assistant's `tool_calls` must carry `arguments` as a JSON object,
 * as Ollama requires (a JSON string is a 400). No `messages` loads the model (`done_reason: "load"`).
 */
export const mockOllamaChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.string().nullish(),
        images: z.array(z.string()).nullish(),
        thinking: z.string().nullish(),
        tool_calls: z
          .array(
            z.looseObject({
              function: z.looseObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()) }),
            }),
          )
          .nullish(),
        tool_name: z.string().nullish(),
      }),
    )
    .nullish(),
  tools: z
    .array(
      z.looseObject({
        type: z.string().optional(),
        function: z.looseObject({ name: z.string(), parameters: z.unknown().optional() }).optional(),
      }),
    )
    .nullish(),
  think: ollamaThinkSchema,
  options: ollamaOptionsSchema,
  stream: z.boolean().nullish(),
});
export type MockOllamaChatRequest = z.infer<typeof mockOllamaChatRequestSchema>;

export type PlannedOllamaChat = PlannedOllamaAnswer;

/**
 * Decides the whole answer up front. Prompt tokens: `countPromptTokens` over the messages' contents.
 * Output: `planOllamaOutput` with `think`, `options.num_predict`, `[mock:reply_tokens=N]` and the
 * tool `[mock:tool_call=NAME]` names (arguments from its schema, `toMockToolInput`), unless the last
 * message has role `tool`, so the round trip ends in text. Fails as a value: `[mock:error=N]`, and a
 * 400 when the directive names a tool the request doesn't define.
 */
export function planOllamaChat(request: MockOllamaChatRequest): PlannedOllamaChat {
  const messages = request.messages ?? [];
  const texts = messages.flatMap((message) => (message.content ? [message.content] : []));
  const directives = readDirectives(texts);
  const wantedTool = messages.at(-1)?.role === 'tool' ? undefined : directives.toolCall;
  const tool =
    wantedTool === undefined ? undefined : request.tools?.find((t) => t.function?.name === wantedTool);
  const toolCall: OllamaToolCall | undefined = tool?.function
    ? { function: { name: tool.function.name, arguments: toMockToolInput(tool.function.parameters) } }
    : undefined;
  const errorMessage =
    wantedTool !== undefined && !toolCall
      ? `[mock:tool_call=${wantedTool}] names a tool the request does not define.`
      : directives.errorStatus !== undefined
        ? toOllamaErrorMessage(directives.errorStatus, request.model)
        : undefined;
  const errorStatus = wantedTool !== undefined && !toolCall ? 400 : directives.errorStatus;
  return {
    model: request.model,
    createdAt: new Date().toISOString(),
    isLoad: messages.length === 0,
    output: planOllamaOutput({
      isThinking: isOllamaThinking(request.think),
      numPredict: request.options?.num_predict,
      replyTokens: directives.replyTokens ?? DEFAULT_REPLY_TOKENS,
      toolCall,
    }),
    promptEvalCount: directives.promptTokens ?? countPromptTokens(texts),
    ...(errorStatus !== undefined ? { errorStatus } : {}),
    ...(errorMessage !== undefined ? { errorMessage } : {}),
    ...(directives.chunkDelayMs !== undefined ? { chunkDelayMs: directives.chunkDelayMs } : {}),
    ...(directives.cutAfter !== undefined ? { cutAfter: directives.cutAfter } : {}),
    ...(directives.streamErrorAfter !== undefined ? { streamErrorAfter: directives.streamErrorAfter } : {}),
  };
}

/** The object Ollama answers when it only loaded the model (empty `messages`). */
function toLoadBody(plan: PlannedOllamaChat) {
  return {
    model: plan.model,
    created_at: plan.createdAt,
    message: { role: 'assistant', content: '' },
    done_reason: 'load',
    done: true,
  };
}

/**
 * The non-streaming body (§7.1): `message` with `content`, `thinking` when thinking, `tool_calls`
 * (arguments as objects) for a call; then `done_reason`, `done: true`, counters and durations
 * (`toOllamaDoneFields`).
 */
export function toOllamaChatBody(plan: PlannedOllamaChat) {
  if (plan.isLoad) return toLoadBody(plan);
  const { output } = plan;
  return {
    model: plan.model,
    created_at: plan.createdAt,
    message: {
      role: 'assistant',
      content: output.content.join(''),
      ...(output.thinking.length > 0 ? { thinking: output.thinking.join('') } : {}),
      ...(output.toolCall ? { tool_calls: [output.toolCall] } : {}),
    },
    done_reason: output.doneReason,
    done: true,
    ...toOllamaDoneFields(plan.promptEvalCount, output.evalCount),
  };
}

/**
 * The NDJSON stream (§7.1), before the stream directives: one `done: false` line per token
 * (`message.thinking` pieces with empty `content` first, then `content` pieces; a tool call arrives
 * whole in one line), then the `done: true` line with an empty `content`, `done_reason`, counters
 * and durations. A mid-stream failure is an `{"error": "..."}` line.
 */
export function toOllamaChatStreamParts(plan: PlannedOllamaChat): StreamParts {
  const errorFrames = [toNdjsonLine(OLLAMA_STREAM_ERROR)];
  if (plan.isLoad) return { head: [], tokens: [], tail: [toNdjsonLine(toLoadBody(plan))], errorFrames };
  const { output } = plan;
  const line = (message: Record<string, unknown>) =>
    toNdjsonLine({
      model: plan.model,
      created_at: plan.createdAt,
      message: { role: 'assistant', ...message },
      done: false,
    });
  return {
    head: [],
    tokens: [
      ...output.thinking.map((piece) => line({ content: '', thinking: piece })),
      ...(output.toolCall
        ? [line({ content: '', tool_calls: [output.toolCall] })]
        : output.content.map((piece) => line({ content: piece }))),
    ],
    tail: [
      toNdjsonLine({
        model: plan.model,
        created_at: plan.createdAt,
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: output.doneReason,
        ...toOllamaDoneFields(plan.promptEvalCount, output.evalCount),
      }),
    ],
    errorFrames,
  };
}

/**
 * The `/api/chat` answer to a parsed JSON body: a 400 for a body the schema refuses; a stream unless
 * `stream` is `false` (Ollama streams by default).
 */
export function answerOllamaChat(body: unknown): MockAnswer {
  const parsed = mockOllamaChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'error', status: 400, message: toInvalidBodyMessage(parsed.error.issues) };
  }
  return toOllamaAnswer(
    planOllamaChat(parsed.data),
    parsed.data.stream,
    toOllamaChatBody,
    toOllamaChatStreamParts,
  );
}
