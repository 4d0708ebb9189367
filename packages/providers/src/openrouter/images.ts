import { z } from 'zod';

/** `POST /v1/images/generations` bodies as clients send them (wire formats §1.7). */
export const openAIImageRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.string().min(1),
  n: z.number().int().positive().nullish(),
  size: z.string().nullish(),
  quality: z.string().nullish(),
  response_format: z.enum(['url', 'b64_json']).nullish(),
  image_config: z.record(z.string(), z.unknown()).nullish(),
  user: z.string().nullish(),
});
export type OpenAIImageRequest = z.infer<typeof openAIImageRequestSchema>;

const aspectRatios: Record<string, string> = {
  '256x256': '1:1',
  '512x512': '1:1',
  '1024x1024': '1:1',
  auto: '1:1',
  '1536x1024': '3:2',
  '1024x1536': '2:3',
  '1792x1024': '16:9',
  '1024x1792': '9:16',
};
const imageSizes: Record<string, string> = {
  low: '1K',
  standard: '1K',
  auto: '1K',
  medium: '2K',
  high: '4K',
  hd: '4K',
};

/**
 * An OpenAI image request -> OpenRouter's image generation through chat (wire formats §8.6):
 * `size` -> `image_config.aspect_ratio`, `quality` -> `image_config.image_size`, `n` kept, a
 * caller's own `image_config` wins. Unlike LiteLLM, `modalities: ["image", "text"]` is sent, as
 * OpenRouter's documentation asks for image output.
 */
export function toOpenRouterImageRequest(body: OpenAIImageRequest, model: string): Record<string, unknown> {
  const imageConfig: Record<string, unknown> = {};
  if (body.size != null) imageConfig.aspect_ratio = aspectRatios[body.size] ?? '1:1';
  if (body.quality != null && imageSizes[body.quality]) imageConfig.image_size = imageSizes[body.quality];
  return {
    model,
    messages: [{ role: 'user', content: body.prompt }],
    modalities: ['image', 'text'],
    image_config: { ...imageConfig, ...body.image_config },
    ...(body.n != null ? { n: body.n } : {}),
    ...(body.user != null ? { user: body.user } : {}),
    usage: { include: true },
  };
}

export const openRouterImageResponseSchema = z.looseObject({
  created: z.number().nullish(),
  choices: z.array(
    z.looseObject({
      message: z.looseObject({
        images: z.array(z.looseObject({ image_url: z.looseObject({ url: z.string() }) })).nullish(),
      }),
    }),
  ),
  usage: z
    .looseObject({
      prompt_tokens: z.number().int().nullish(),
      total_tokens: z.number().int().nullish(),
      completion_tokens_details: z.looseObject({ image_tokens: z.number().int().nullish() }).nullish(),
      cost: z.number().nullish(),
    })
    .nullish(),
});

/**
 * OpenRouter's chat answer -> the OpenAI images response: data URLs become `b64_json` (the part
 * after the comma), other URLs stay `url`; usage as OpenAI reports it for gpt-image models.
 * Returns the reported cost too.
 */
export function fromOpenRouterImageResponse(body: z.infer<typeof openRouterImageResponseSchema>): {
  response: Record<string, unknown>;
  costUsd: string | undefined;
  inputTokens: number | undefined;
} {
  const images = body.choices.flatMap((choice) => choice.message.images ?? []);
  const usage = body.usage;
  return {
    response: {
      created: body.created ?? Math.floor(Date.now() / 1000),
      data: images.map(({ image_url: { url } }) =>
        url.startsWith('data:')
          ? { b64_json: url.slice(url.indexOf(',') + 1), revised_prompt: null }
          : { url, revised_prompt: null },
      ),
      ...(usage
        ? {
            usage: {
              input_tokens: usage.prompt_tokens ?? 0,
              input_tokens_details: { text_tokens: usage.prompt_tokens ?? 0, image_tokens: 0 },
              output_tokens: usage.completion_tokens_details?.image_tokens ?? 0,
              total_tokens: usage.total_tokens ?? 0,
            },
          }
        : {}),
    },
    costUsd: usage?.cost != null ? String(usage.cost) : undefined,
    inputTokens: usage?.prompt_tokens ?? undefined,
  };
}
