/** Models with native structured outputs (`output_format`), matched by name as LiteLLM does. */
const STRUCTURED_OUTPUT_MODELS = /claude-(sonnet-4-[56]|opus-4-[1567]|sonnet-4\.[56]|opus-4\.[1567])/;

export function supportsStructuredOutputs(model: string): boolean {
  return STRUCTURED_OUTPUT_MODELS.test(model);
}

// Constraints Anthropic's structured outputs do not take; they are kept as words in the
// description so the model still sees them.
const UNSUPPORTED_CONSTRAINTS = [
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
] as const;

type Schema = Record<string, unknown>;

/**
 * A JSON schema made acceptable to Anthropic's `output_format` (wire formats §3.3): `$defs`
 * references inlined, unsupported constraints moved into the description, and every object
 * closed with `additionalProperties: false`.
 */
export function toAnthropicOutputSchema(schema: Schema): Schema {
  const defs = (schema.$defs ?? schema.definitions ?? {}) as Record<string, Schema>;
  const visit = (node: unknown, depth: number): unknown => {
    if (Array.isArray(node)) return node.map((item) => visit(item, depth));
    if (!node || typeof node !== 'object') return node;
    const input = node as Schema;
    const ref =
      typeof input.$ref === 'string' ? /^#\/(?:\$defs|definitions)\/(.+)$/.exec(input.$ref)?.[1] : undefined;
    // A recursive schema cannot be inlined for ever: past a depth, the reference stays an open object.
    if (ref !== undefined) return depth > 8 || !defs[ref] ? { type: 'object' } : visit(defs[ref], depth + 1);
    const output: Schema = {};
    const notes: string[] = [];
    for (const [key, value] of Object.entries(input)) {
      if (key === '$defs' || key === 'definitions') continue;
      if ((UNSUPPORTED_CONSTRAINTS as readonly string[]).includes(key))
        notes.push(`${key}=${JSON.stringify(value)}`);
      else output[key] = visit(value, depth);
    }
    if (notes.length > 0) {
      const note = `(constraints: ${notes.join(', ')})`;
      output.description = typeof output.description === 'string' ? `${output.description} ${note}` : note;
    }
    if (output.type === 'object' && output.additionalProperties === undefined)
      output.additionalProperties = false;
    return output;
  };
  return visit(schema, 0) as Schema;
}
