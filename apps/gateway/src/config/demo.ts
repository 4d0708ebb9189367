import type { Deployment } from './gateway-config.ts';

/**
 * The model list served when no config file is given: real model names answered by the
 * built-in mock provider, so the gateway works offline and costs are priced from the catalog.
 * `mock-unpriced` shows how a model without a known price is recorded (cost null, not $0).
 */
export function demoDeployments(mockOpenAIBaseUrl: string): Deployment[] {
  const viaMock = (modelName: string, upstreamModel: string): Deployment => ({
    modelName,
    deploymentId: `demo-${modelName}`,
    provider: 'openai',
    upstreamModel,
    apiBase: mockOpenAIBaseUrl,
    apiKey: 'sk-mock',
    priceOverrides: {},
  });
  return [
    viaMock('gpt-4o-mini', 'gpt-4o-mini'),
    viaMock('gpt-4o', 'gpt-4o'),
    viaMock('gpt-4.1-nano', 'gpt-4.1-nano'),
    viaMock('mock-unpriced', 'mock-unpriced'),
  ];
}
