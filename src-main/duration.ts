const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses durations such as `90s`, `30m`, `12h`, `7d` (or bare seconds) into seconds. Any number of
 * digits (a very long one reads as Infinity), so that a long one is told it is too long (its
 * caller's maximum), not that it is no duration at all.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  return seconds > 0 ? seconds : undefined;
}
