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

/** The end-user headers LiteLLM's newer versions read; `user_header_name` / `user_header_mappings` replace them. */
export const DEFAULT_END_USER_HEADERS = ['x-litellm-customer-id', 'x-litellm-end-user-id'];

/**
 * The end user a request is for, first match wins (the cost-tracking issue's order, which
 * differs from LiteLLM's by reading `user` last): the configured end-user headers, then
 * `litellm_metadata.user`, Anthropic's `metadata.user_id`, and the OpenAI `user` field.
 */
export function resolveEndUser(
  headers: Pick<Headers, 'get'>,
  body: Record<string, unknown>,
  endUserHeaders: readonly string[] = DEFAULT_END_USER_HEADERS,
): string | undefined {
  const found = findEndUser(headers, body, endUserHeaders);
  return found === undefined ? undefined : clean(found, MAX_ID_CHARS);
}

function findEndUser(
  headers: Pick<Headers, 'get'>,
  body: Record<string, unknown>,
  endUserHeaders: readonly string[],
): string | undefined {
  for (const name of endUserHeaders) {
    const value = headers.get(name);
    if (value) return value;
  }
  const litellmUser = objectField(body.litellm_metadata)?.user;
  if (typeof litellmUser === 'string' && litellmUser) return litellmUser;
  const anthropicUser = objectField(body.metadata)?.user_id;
  if (typeof anthropicUser === 'string' && anthropicUser) return anthropicUser;
  if (typeof body.user === 'string' && body.user) return body.user;
  return undefined;
}

/**
 * Tags of a request, de-duplicated, request tags first (contract §4.7): `litellm_metadata.tags`
 * (or `metadata.tags`), top-level `tags`, the `x-litellm-tags` header, then the key's and its
 * team's own tags (`metadata.tags`).
 */
export function resolveTags(
  headers: Pick<Headers, 'get'>,
  body: Record<string, unknown>,
  keyMetadata: Record<string, unknown>,
  teamMetadata: Record<string, unknown> = {},
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
  add(teamMetadata.tags);
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
