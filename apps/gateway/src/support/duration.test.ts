import { describe, expect, it } from 'vitest';
import { addDuration, windowStart } from './duration.ts';

const from = new Date('2026-01-31T12:00:00.000Z');

describe('addDuration', () => {
  it.each([
    ['30s', '2026-01-31T12:00:30.000Z'],
    ['30m', '2026-01-31T12:30:00.000Z'],
    ['2h', '2026-01-31T14:00:00.000Z'],
    ['30d', '2026-03-02T12:00:00.000Z'],
    ['1w', '2026-02-07T12:00:00.000Z'],
    ['90', '2026-01-31T12:01:30.000Z'],
  ])('adds %s', (duration, expected) => {
    expect(addDuration(from, duration)?.toISOString()).toBe(expected);
  });

  it('adds calendar months', () => {
    expect(addDuration(new Date('2026-03-15T00:00:00Z'), '1mo')?.toISOString()).toBe(
      '2026-04-15T00:00:00.000Z',
    );
  });

  it('refuses what is not a duration', () => {
    expect(addDuration(from, 'soon')).toBeUndefined();
    expect(addDuration(from, '-5d')).toBeUndefined();
  });
});

describe('windowStart', () => {
  const at = new Date('2026-11-22T13:45:12.345Z');
  it.each([
    ['1d', '2026-11-22T00:00:00.000Z'],
    ['1h', '2026-11-22T13:00:00.000Z'],
    ['30s', '2026-11-22T13:45:00.000Z'],
    ['1mo', '2026-11-01T00:00:00.000Z'],
    ['3mo', '2026-10-01T00:00:00.000Z'],
  ])('puts %s windows on fixed boundaries', (duration, start) => {
    expect(windowStart(at, duration)?.toISOString()).toBe(start);
  });
  it('refuses what is not a duration', () => {
    expect(windowStart(at, 'soon')).toBeUndefined();
  });
});

describe('addDuration bounds', () => {
  it('refuses a duration that would end after the year 9999 instead of an invalid date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(addDuration(now, '99999999999999d')).toBeUndefined();
    expect(addDuration(now, '99999999999mo')).toBeUndefined();
    expect(addDuration(now, '3000000d')).toBeUndefined();
    expect(addDuration(now, '2000000d')?.getUTCFullYear()).toBe(7501);
  });
});
