#!/usr/bin/env -S npx tsx
import { startMockProvider } from './server.ts';

// Standalone mock for benchmarks and docker-compose's demo profile.
const mock = await startMockProvider({
  port: Number(process.env.PORT ?? 8090),
  host: process.env.HOST ?? '127.0.0.1',
  chunkDelayMs: Number(process.env.MOCK_CHUNK_DELAY_MS ?? 0),
  keepRequests: 0,
});
console.log(
  `mock provider listening on ${mock.origin} (OpenAI base URL ${mock.openaiBaseUrl}, Anthropic base URL ${mock.anthropicBaseUrl}, ` +
    `DeepSeek base URL ${mock.deepseekBaseUrl}, OpenRouter base URL ${mock.openrouterBaseUrl}, Ollama base URL ${mock.ollamaBaseUrl})`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void mock.close().then(() => process.exit(0)));
}
