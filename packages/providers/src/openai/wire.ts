import { z } from 'zod';

/**
 * OpenAI Chat Completions wire schemas (provider-wire-formats.md §1). Requests are checked
 * strictly enough to give a clear 400; responses and chunks leniently, keeping unknown fields.
 */

/** LiteLLM's extension: Anthropic prompt-cache breakpoints on OpenAI-format parts and messages. */
const cacheControl = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });

const textPart = z.object({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl.optional(),
});
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string(),
    detail: z.enum(['auto', 'low', 'high']).optional(),
    format: z.string().optional(),
  }),
  cache_control: cacheControl.optional(),
});
const audioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const filePart = z.object({
  type: z.literal('file'),
  file: z.object({
    file_data: z.string().optional(),
    file_id: z.string().optional(),
    filename: z.string().optional(),
  }),
  cache_control: cacheControl.optional(),
});
const knownUserPart = z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart]);
export type OpenAIKnownUserPart = z.infer<typeof knownUserPart>;

const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

const thinkingBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().nullish() }),
  z.object({ type: z.literal('redacted_thinking'), data: z.string() }),
]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const openAIMessageSchema = z.discriminatedUnion('role', [
  z.object({
    role: z.enum(['system', 'developer']),
    content: z.union([z.string(), z.array(textPart)]),
    name: z.string().optional(),
    cache_control: cacheControl.optional(),
  }),
  z.object({
    role: z.literal('user'),
    content: z.union([
      z.string(),
      z.array(
        z.union([
          knownUserPart,
          // Vendor-native blocks (Anthropic `document` with citations, ...), passed through.
          z.looseObject({
            type: z.string().refine((t) => !['text', 'image_url', 'input_audio', 'file'].includes(t)),
          }),
        ]),
      ),
    ]),
    name: z.string().optional(),
    cache_control: cacheControl.optional(),
  }),
  z.object({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(z.union([textPart, refusalPart]))]).nullish(),
    tool_calls: z.array(toolCall).nullish(),
    refusal: z.string().nullish(),
    name: z.string().optional(),
    reasoning_content: z.string().nullish(),
    thinking_blocks: z.array(thinkingBlock).nullish(),
  }),
  z.object({
    role: z.literal('tool'),
    tool_call_id: z.string(),
    content: z.union([z.string(), z.array(textPart)]),
    cache_control: cacheControl.optional(),
  }),
]);
export type OpenAIMessage = z.infer<typeof openAIMessageSchema>;

export type OpenAIFunctionTool = z.infer<typeof functionTool>;
const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
  cache_control: cacheControl.optional(),
});

export const openAIChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(openAIMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: z.number().int().nullish(),
  n: z.number().int().positive().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  tools: z
    .array(
      z.union([
        functionTool,
        // Hosted and vendor tools (web search, computer use, MCP ...), passed through.
        z.looseObject({ type: z.string().refine((t) => t !== 'function') }),
      ]),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string(),
          description: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    ])
    .nullish(),
  reasoning_effort: z.string().nullish(),
  // LiteLLM accepts Anthropic's thinking and top_k on OpenAI-format requests.
  thinking: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().positive() }),
      z.object({ type: z.literal('disabled') }),
      z.object({ type: z.literal('adaptive') }),
    ])
    .nullish(),
  top_k: z.number().int().positive().nullish(),
  user: z.string().nullish(),
});
export type OpenAIChatRequest = z.infer<typeof openAIChatRequestSchema>;

export const openAIUsageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative().nullish(),
  completion_tokens: z.number().int().nonnegative().nullish(),
  total_tokens: z.number().int().nonnegative().nullish(),
  prompt_tokens_details: z
    .looseObject({
      cached_tokens: z.number().int().nonnegative().nullish(),
      // LiteLLM-style and some OpenAI-compatible hosts report cache writes here;
      // OpenRouter calls them cache_write_tokens.
      cache_creation_tokens: z.number().int().nonnegative().nullish(),
      cache_write_tokens: z.number().int().nonnegative().nullish(),
    })
    .nullish(),
  completion_tokens_details: z
    .looseObject({ reasoning_tokens: z.number().int().nonnegative().nullish() })
    .nullish(),
  // OpenRouter reports the call's cost in USD.
  cost: z.number().nonnegative().nullish(),
  // DeepSeek reports its automatic prefix cache this way (hit + miss = prompt_tokens).
  prompt_cache_hit_tokens: z.number().int().nonnegative().nullish(),
  prompt_cache_miss_tokens: z.number().int().nonnegative().nullish(),
});
export type OpenAIUsage = z.infer<typeof openAIUsageSchema>;

// Not an enum: upstreams report more than OpenAI's five values, and one is no reason to fail.
const finishReason = z.string();

export const openAIChatResponseSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion').optional(),
  created: z.number(),
  model: z.string(),
  system_fingerprint: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      message: z.looseObject({
        role: z.literal('assistant').optional(),
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        reasoning_content: z.string().nullish(),
        reasoning: z.string().nullish(),
        tool_calls: z.array(toolCall).nullish(),
      }),
      finish_reason: finishReason.nullish(),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: openAIUsageSchema.nullish(),
});
export type OpenAIChatResponse = z.infer<typeof openAIChatResponseSchema>;

export const openAIErrorBodySchema = z.looseObject({
  error: z.looseObject({
    message: z.string().nullish(),
    type: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
    param: z.string().nullish(),
  }),
});
