import { describe, expect, it } from 'vitest';
import type { Deployment } from '../config/gateway-config.ts';
import { ModelRouter } from './model-router.ts';

const deployment = (
  modelName: string,
  provider: Deployment['provider'],
  upstreamModel: string,
): Deployment => ({
  modelName,
  deploymentId: `${modelName}#${upstreamModel}`,
  provider,
  upstreamModel,
  apiBase: 'http://upstream',
  priceOverrides: {},
});

describe('ModelRouter', () => {
  const router = new ModelRouter([
    deployment('fast', 'openai', 'gpt-4o-mini'),
    deployment('fast', 'openai', 'gpt-4.1-nano'),
    deployment('anthropic/*', 'anthropic', '*'),
    deployment('*', 'openai', '*'),
  ]);

  it('serves a model group in turn', () => {
    expect(
      [router.pick('fast'), router.pick('fast'), router.pick('fast')].map((d) => d?.upstreamModel),
    ).toEqual(['gpt-4o-mini', 'gpt-4.1-nano', 'gpt-4o-mini']);
  });

  it('forwards what a wildcard matched, trying wildcards in config order', () => {
    expect(router.pick('anthropic/claude-sonnet-4-5')).toMatchObject({
      provider: 'anthropic',
      upstreamModel: 'claude-sonnet-4-5',
      modelName: 'anthropic/claude-sonnet-4-5',
    });
    expect(router.pick('gpt-4o')).toMatchObject({ provider: 'openai', upstreamModel: 'gpt-4o' });
  });

  it('lists only concrete names and refuses unknown names without a catch-all', () => {
    expect(router.modelNames()).toEqual(['fast']);
    expect(new ModelRouter([deployment('fast', 'openai', 'x')]).pick('other')).toBeUndefined();
  });
});
