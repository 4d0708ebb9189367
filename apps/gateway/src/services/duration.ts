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
