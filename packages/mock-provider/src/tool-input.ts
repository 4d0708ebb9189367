import { z } from 'zod';

const objectSchema = z.looseObject({
  properties: z.record(z.string(), z.unknown()).optional(),
  required: z.array(z.string()).optional(),
});
const propertySchema = z.looseObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  enum: z.array(z.unknown()).optional(),
});

/**
 * The arguments the mock passes to a tool: one entry per `required` property of the tool's JSON
 * schema, with a fixed placeholder of the property's type (`"mock"` for strings, the first `enum`
 * value when there is one, 1, true, [] or {}). Optional properties are left out; a schema that can't
 * be read (or has no required properties) gives `{}`. Deterministic, so tests can assert the call.
 */
export function toMockToolInput(schema: unknown): Record<string, unknown> {
  const parsed = objectSchema.safeParse(schema);
  if (!parsed.success) return {};
  const input: Record<string, unknown> = {};
  for (const name of parsed.data.required ?? []) {
    const property = propertySchema.safeParse(parsed.data.properties?.[name]);
    const spec = property.success ? property.data : {};
    if (spec.enum && spec.enum.length > 0) {
      input[name] = spec.enum[0];
      continue;
    }
    const type = Array.isArray(spec.type) ? spec.type[0] : spec.type;
    input[name] = toPlaceholder(type);
  }
  return input;
}

/** A fresh value of the JSON schema type (fresh, so no two inputs share an array or object). */
function toPlaceholder(type: string | undefined): unknown {
  switch (type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    case 'null':
      return null;
    default:
      return 'mock';
  }
}

/**
 * A JSON text cut into the pieces the mock streams, about four characters each (one "token" per
 * piece) and never fewer than two for a text of two or more characters, so clients must really
 * concatenate fragments the way the vendors' streams require.
 */
export function toJsonFragments(json: string): string[] {
  const chars = Array.from(json);
  const size = Math.max(1, Math.min(4, Math.ceil(chars.length / 2)));
  const fragments: string[] = [];
  for (let i = 0; i < chars.length; i += size) fragments.push(chars.slice(i, i + size).join(''));
  return fragments;
}
