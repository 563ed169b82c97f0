/**
 * True when `digits` (a BIN or a whole card number) falls in one of the ranges: "412345" (a
 * prefix) or "41234500-41234599" (bounds of equal length, compared on as many leading digits).
 */
export function binInRanges(digits: string, ranges: readonly string[]): boolean {
  return ranges.some((r) => {
    const [lo, hi] = r.split('-') as [string, string | undefined];
    if (hi === undefined) return digits.startsWith(lo);
    const head = digits.slice(0, lo.length);
    return head.length === lo.length && head >= lo && head <= hi;
  });
}
