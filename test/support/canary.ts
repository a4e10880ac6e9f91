/** Searching output, logs and tables for pieces of a secret (canary leak tests). */
export const WINDOW = 8;

/**
 * Every place in `haystack` that holds WINDOW or more consecutive characters of `canary`, named by
 * `where`. A report shows the offsets and some context, with the leaked run itself replaced by
 * `[canary a..b]`, so that a failure never prints the canary.
 */
export function canaryLeaks(haystack: string, canary: string, where: string): string[] {
  const leaks: string[] = [];
  const reported: [number, number][] = [];
  for (let i = 0; i + WINDOW <= canary.length; i++) {
    const piece = canary.slice(i, i + WINDOW);
    for (let at = haystack.indexOf(piece); at !== -1; at = haystack.indexOf(piece, at + 1)) {
      if (reported.some(([from, to]) => at >= from && at < to)) continue;
      // Grow the match both ways to report the whole leaked run once.
      let start = i;
      let from = at;
      while (start > 0 && from > 0 && haystack[from - 1] === canary[start - 1]) {
        start--;
        from--;
      }
      let end = i + WINDOW;
      let to = at + WINDOW;
      while (end < canary.length && to < haystack.length && haystack[to] === canary[end]) {
        end++;
        to++;
      }
      reported.push([from, to]);
      // Printable context only: the haystack may be a binary file.
      const before = haystack.slice(Math.max(0, from - 40), from).replace(/[^\x20-\x7e]+/g, '.');
      const after = haystack.slice(to, to + 40).replace(/[^\x20-\x7e]+/g, '.');
      leaks.push(
        `${where}: ${end - start} consecutive characters of the canary (its chars ${start}..${end}) at offset ${from}: ` +
          `…${before}[canary ${start}..${end}]${after}…`,
      );
    }
  }
  return leaks;
}

/** Fails, naming where, when `haystack` holds any WINDOW-character piece of `canary`. */
export function expectNoCanary(haystack: string, canary: string, where: string): void {
  expect(canaryLeaks(haystack, canary, where)).toEqual([]);
}
