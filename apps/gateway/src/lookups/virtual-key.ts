import { createHash, randomBytes } from 'node:crypto';

/** LiteLLM's length: `secrets.token_urlsafe(16)` gives 22 URL-safe characters. */
const RANDOM_BYTES = 16;

/** A new raw virtual key: `sk-` + 22 URL-safe characters from 128 random bits. */
export function generateRawKey(): string {
  return `sk-${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

/** Lowercase hex SHA-256 of the whole raw key, `sk-` included: the only form we store. */
export function hashKey(rawKey: string): string {
  return createHash('sha256').update(rawKey, 'utf8').digest('hex');
}

/** LiteLLM's display abbreviation: `sk-...` + the last four characters. */
export function displayKeyName(rawKey: string): string {
  return `sk-...${rawKey.slice(-4)}`;
}

/**
 * Admin endpoints accept a raw key or its hash: a value starting with `sk-` is hashed first,
 * anything else is taken as a hash already (contract §1.4).
 */
export function toKeyHash(rawOrHash: string): string {
  return rawOrHash.startsWith('sk-') ? hashKey(rawOrHash) : rawOrHash;
}

/** `abcd****wxyz`, as LiteLLM shows a key it refuses; never the whole key. */
export function maskKey(rawKey: string): string {
  return rawKey.length <= 8 ? '****' : `${rawKey.slice(0, 4)}****${rawKey.slice(-4)}`;
}

/** Something shaped like a raw key: `sk-` and at least eight key characters. */
const RAW_KEY = /sk-[A-Za-z0-9_-]{8,}/g;

/**
 * Text with every raw-key-shaped part replaced by its display name (`sk-...wxyz`): for paths,
 * messages and anything else a log line takes from a request (`/key/{key}/regenerate` puts a
 * key in the path).
 */
export function redactKeys(text: string): string {
  return text.includes('sk-') ? text.replace(RAW_KEY, displayKeyName) : text;
}
