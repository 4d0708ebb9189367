import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRawKey } from '../lookups/virtual-key.ts';

/**
 * The master key when neither `LITELLM_MASTER_KEY` nor `general_settings.master_key` sets one.
 * Unlike LiteLLM, which turns authentication off in that case, we generate a random key once
 * and keep it in the data directory (readable by the owner only), so the gateway is never
 * open by accident and the key survives restarts.
 */
export function readOrCreateMasterKey(dataDir: string): { key: string; path: string; created: boolean } {
  const path = join(dataDir, 'master-key');
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing) return { key: existing, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = generateRawKey();
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return { key, path, created: true };
}
