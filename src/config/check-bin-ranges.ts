import { ConfigError } from '../errors.js';

/**
 * Card ranges as `binRanges` spell them (`412345` or `41234500-41234599`): a range's bounds of
 * equal length, low first. The schema checks the digits; this, what it cannot say.
 * @throws ConfigError naming `${at}/binRanges/${i}`.
 */
export function checkBinRanges(ranges: readonly string[] | undefined, at: string): void {
  ranges?.forEach((r, i) => {
    const [lo, hi] = r.split('-');
    if (hi !== undefined && (lo!.length !== hi.length || lo! > hi))
      throw new ConfigError(`${at}/binRanges/${i}`, 'bounds must have equal length, low first');
  });
}
