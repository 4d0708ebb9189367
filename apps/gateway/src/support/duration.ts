const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const pattern = /^(\d+)(s|m|h|d|w|mo)?$/;

/** The last instant a duration may reach: Postgres and ISO 8601 both read four-digit years. */
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Adds a LiteLLM duration string (`30s`, `30m`, `30h`, `30d`, `2w`, `1mo`; a bare integer is
 * seconds) to `from`. Months are calendar months. Returns undefined for a string that is not a
 * duration, or one that ends after the year 9999.
 */
export function addDuration(from: Date, duration: string): Date | undefined {
  const match = pattern.exec(duration.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  let result: Date;
  if (unit === 'mo') {
    result = new Date(from);
    result.setUTCMonth(result.getUTCMonth() + amount);
  } else {
    result = new Date(from.getTime() + amount * unitSeconds[unit]! * 1000);
  }
  const ms = result.getTime();
  return Number.isFinite(ms) && ms <= LATEST_MS ? result : undefined;
}

/** Whether a string is a duration LiteLLM accepts (`30s`, `1d`, `2w`, `1mo`, seconds). */
export function isDuration(duration: string): boolean {
  return pattern.test(duration.trim());
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
