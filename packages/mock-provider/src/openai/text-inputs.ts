import { z } from 'zod';
import { countTextTokens } from '../reply.ts';

const tokenArraySchema = z.array(z.number().int().nonnegative()).min(1);

/**
 * OpenAI's text-or-tokens input (`/v1/embeddings` `input`, `/v1/completions` `prompt`): a string,
 * strings, a token array or token arrays.
 */
export const textInputsSchema = z.union([
  z.string(),
  z.array(z.string()).min(1),
  tokenArraySchema,
  z.array(tokenArraySchema).min(1),
]);
export type TextInputs = z.infer<typeof textInputsSchema>;

function isTokenArray(items: readonly unknown[]): items is number[] {
  return typeof items[0] === 'number';
}

/**
 * Each input, in order, as a text and its token count: a string is counted by `countTextTokens`;
 * a token array counts its ids and its text is the ids joined by spaces.
 */
export function toTextInputs(inputs: TextInputs): { text: string; tokens: number }[] {
  if (typeof inputs === 'string') return [{ text: inputs, tokens: countTextTokens(inputs) }];
  if (isTokenArray(inputs)) return [{ text: inputs.join(' '), tokens: inputs.length }];
  return inputs.map((item) =>
    typeof item === 'string'
      ? { text: item, tokens: countTextTokens(item) }
      : { text: item.join(' '), tokens: item.length },
  );
}
