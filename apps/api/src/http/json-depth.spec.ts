import { jsonDepthExceeds } from './json-depth.js';

const nested = (levels: number, open = '[', close = ']'): string => open.repeat(levels) + close.repeat(levels);

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, not scalars', () => {
    expect(jsonDepthExceeds('1', 0)).toBe(false);
    expect(jsonDepthExceeds('"x"', 0)).toBe(false);
    expect(jsonDepthExceeds('{}', 0)).toBe(true);
    expect(jsonDepthExceeds('{}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(nested(32), 32)).toBe(false);
    expect(jsonDepthExceeds(nested(33), 32)).toBe(true);
    expect(jsonDepthExceeds('{"a":'.repeat(33) + '1' + '}'.repeat(33), 32)).toBe(true);
  });

  it('measures depth, not the number of siblings', () => {
    expect(jsonDepthExceeds('[' + '[[]],'.repeat(10_000) + '[]]', 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[{{{{' }), 1)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ a: 'say \\"[[[[" and \\\\', b: '{{{{' }), 1)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify(['"', '[[[[']), 1)).toBe(false);
  });

  // Time is not asserted here (the machines are noisy): the scan returns at the first bracket past
  // the limit, whatever follows.
  it('refuses a hostile body nested five million deep', () => {
    expect(jsonDepthExceeds(nested(10_000_000 / 2), 32)).toBe(true);
  });
});
