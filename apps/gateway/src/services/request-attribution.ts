const MAX_ID_CHARS = 256;
const MAX_TAG_CHARS = 128;
const MAX_TAGS = 64;
// Postgres text and jsonb cannot hold NUL, and control characters have no place in ids.
const CONTROL_CHARACTERS = /\p{Cc}/gu;

/** A client-supplied id or tag made safe to store: no control characters, bounded length. */
function clean(value: string, maxChars: number): string | undefined {
  const cleaned = value.replace(CONTROL_CHARACTERS, '').trim().slice(0, maxChars);
  return cleaned || undefined;
}

/**
 * The end user a request is for, first match wins (contract §1.8): the
 * `x-litellm-customer-id` / `x-litellm-end-user-id` headers, the OpenAI `user` field,
 * `litellm_metadata.user`, then Anthropic's `metadata.user_id`.
 */
export function resolveEndUser(headers: Headers, body: Record<string, unknown>): string | undefined {
  const found = findEndUser(headers, body);
  return found === undefined ? undefined : clean(found, MAX_ID_CHARS);
}

function findEndUser(headers: Headers, body: Record<string, unknown>): string | undefined {
  const fromHeader = headers.get('x-litellm-customer-id') ?? headers.get('x-litellm-end-user-id');
  if (fromHeader) return fromHeader;
  if (typeof body.user === 'string' && body.user) return body.user;
  const litellmUser = objectField(body.litellm_metadata)?.user;
  if (typeof litellmUser === 'string' && litellmUser) return litellmUser;
  const anthropicUser = objectField(body.metadata)?.user_id;
  if (typeof anthropicUser === 'string' && anthropicUser) return anthropicUser;
  return undefined;
}

/**
 * Tags of a request, de-duplicated, request tags first (contract §4.7): `litellm_metadata.tags`
 * (or `metadata.tags`), top-level `tags`, the `x-litellm-tags` header, then the key's own tags.
 */
export function resolveTags(
  headers: Headers,
  body: Record<string, unknown>,
  keyMetadata: Record<string, unknown>,
): string[] {
  const tags = new Set<string>();
  const add = (value: unknown) => {
    if (!Array.isArray(value)) return;
    for (const tag of value) {
      const cleaned = typeof tag === 'string' ? clean(tag, MAX_TAG_CHARS) : undefined;
      if (cleaned && tags.size < MAX_TAGS) tags.add(cleaned);
    }
  };
  add((objectField(body.litellm_metadata) ?? objectField(body.metadata))?.tags);
  add(body.tags);
  const header = headers.get('x-litellm-tags');
  if (header) add(header.split(',').map((tag) => tag.trim()));
  add(keyMetadata.tags);
  return [...tags];
}

/** `litellm_metadata` may arrive as an object or as a JSON string. */
function objectField(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
