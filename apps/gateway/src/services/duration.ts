const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const pattern = /^(\d+)(s|m|h|d|w|mo)?$/;

/**
 * Adds a LiteLLM duration string (`30s`, `30m`, `30h`, `30d`, `2w`, `1mo`; a bare integer is
 * seconds) to `from`. Months are calendar months. Returns undefined for a string that is not a
 * duration.
 */
export function addDuration(from: Date, duration: string): Date | undefined {
  const match = pattern.exec(duration.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  if (unit === 'mo') {
    const result = new Date(from);
    result.setUTCMonth(result.getUTCMonth() + amount);
    return result;
  }
  return new Date(from.getTime() + amount * unitSeconds[unit]! * 1000);
}

/**
 * The start of the fixed window of `duration` that holds `at`: calendar months for `mo`
 * (counted from January 1970), else multiples of the duration since the Unix epoch (a `1d`
 * window is a UTC day). Undefined for a string that is not a duration.
 */
export function windowStart(at: Date, duration: string): Date | undefined {
  const match = pattern.exec(duration.trim());
  if (!match) return undefined;
  const amount = Math.max(1, Number(match[1]));
  const unit = match[2] ?? 's';
  if (unit === 'mo') {
    const months = at.getUTCFullYear() * 12 + at.getUTCMonth();
    const start = months - (months % amount);
    return new Date(Date.UTC(Math.floor(start / 12), start % 12, 1));
  }
  const ms = amount * unitSeconds[unit]! * 1000;
  return new Date(at.getTime() - (at.getTime() % ms));
}
