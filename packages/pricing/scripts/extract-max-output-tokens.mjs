// Writes src/max-output-tokens.json: each chat model's `max_output_tokens` from a copy of
// LiteLLM's public price file (facts only), by our provider id. Run again when the file changes:
//   node packages/pricing/scripts/extract-max-output-tokens.mjs ../shared/reference/model_prices_and_context_window.json
import { readFileSync, writeFileSync } from 'node:fs';

const [source] = process.argv.slice(2);
if (!source) throw new Error('usage: extract-max-output-tokens.mjs <model_prices_and_context_window.json>');
const entries = JSON.parse(readFileSync(source, 'utf8'));
const providers = ['openai', 'anthropic', 'deepseek', 'openrouter'];
const table = Object.fromEntries(providers.map((p) => [p, {}]));
for (const [name, entry] of Object.entries(entries)) {
  if (!entry || typeof entry !== 'object' || !providers.includes(entry.litellm_provider)) continue;
  if (!['chat', 'responses'].includes(entry.mode) || typeof entry.max_output_tokens !== 'number') continue;
  const model = name.startsWith(`${entry.litellm_provider}/`)
    ? name.slice(entry.litellm_provider.length + 1)
    : name;
  table[entry.litellm_provider][model] = entry.max_output_tokens;
}
const sorted = Object.fromEntries(
  Object.entries(table).map(([p, models]) => [p, Object.fromEntries(Object.entries(models).sort())]),
);
writeFileSync(
  new URL('../src/max-output-tokens.json', import.meta.url),
  `${JSON.stringify(sorted, null, 2)}\n`,
);
