import { describe, expect, it } from 'vitest';
import {
  fromOpenRouterImageResponse,
  openAIImageRequestSchema,
  openRouterImageResponseSchema,
  toOpenRouterImageRequest,
} from './images.ts';

describe('OpenRouter image generation (wire formats §8.6)', () => {
  it('maps size to aspect_ratio and quality to image_size, and asks for image output', () => {
    const body = openAIImageRequestSchema.parse({
      model: 'img',
      prompt: 'A serene mountain lake',
      size: '1536x1024',
      quality: 'hd',
      n: 1,
    });
    expect(toOpenRouterImageRequest(body, 'google/gemini-2.5-flash-image')).toEqual({
      model: 'google/gemini-2.5-flash-image',
      messages: [{ role: 'user', content: 'A serene mountain lake' }],
      modalities: ['image', 'text'],
      image_config: { aspect_ratio: '3:2', image_size: '4K' },
      n: 1,
      usage: { include: true },
    });
    const odd = openAIImageRequestSchema.parse({
      model: 'img',
      prompt: 'x',
      size: '999x1',
      quality: 'weird',
    });
    expect(toOpenRouterImageRequest(odd, 'm').image_config).toEqual({ aspect_ratio: '1:1' });
  });

  it('returns data-URL images as b64_json with the reported cost', () => {
    const parsed = openRouterImageResponseSchema.parse({
      id: 'gen-1',
      model: 'google/gemini-2.5-flash-image',
      object: 'chat.completion',
      created: 1718000000,
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: 'Here you go.',
            images: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0...' }, index: 0 }],
          },
        },
      ],
      usage: {
        prompt_tokens: 6,
        completion_tokens: 1299,
        total_tokens: 1305,
        completion_tokens_details: { image_tokens: 1290 },
        cost: 0.0387243,
      },
    });
    expect(fromOpenRouterImageResponse(parsed)).toEqual({
      response: {
        created: 1718000000,
        data: [{ b64_json: 'iVBORw0...', revised_prompt: null }],
        usage: {
          input_tokens: 6,
          input_tokens_details: { text_tokens: 6, image_tokens: 0 },
          output_tokens: 1290,
          total_tokens: 1305,
        },
      },
      costUsd: '0.0387243',
      inputTokens: 6,
    });
  });
});
