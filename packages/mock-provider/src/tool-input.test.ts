import { describe, expect, it } from 'vitest';
import { toJsonFragments, toMockToolInput } from './tool-input.ts';

describe('mock tool input', () => {
  it('fills each required property with a placeholder of its type and leaves optional ones out', () => {
    const input = toMockToolInput({
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer' },
        detailed: { type: 'boolean' },
        note: { type: 'string' },
      },
      required: ['city', 'unit', 'days', 'detailed'],
    });
    expect(input).toEqual({ city: 'mock', unit: 'celsius', days: 1, detailed: true });
  });

  it('gives {} for a schema without required properties or one it cannot read', () => {
    expect(toMockToolInput({ type: 'object', properties: {} })).toEqual({});
    expect(toMockToolInput(undefined)).toEqual({});
    expect(toMockToolInput('nonsense')).toEqual({});
  });

  it('cuts JSON into at least two fragments that join back to the original', () => {
    for (const json of ['{}', '{"city":"mock"}', JSON.stringify({ a: 'x'.repeat(50) })]) {
      const fragments = toJsonFragments(json);
      expect(fragments.length).toBeGreaterThanOrEqual(2);
      expect(fragments.join('')).toBe(json);
    }
  });
});
