import { unstorableText } from './storable-text.js';

describe('unstorableText', () => {
  it('finds NUL and unpaired surrogates in values and property names, by path', () => {
    expect(
      unstorableText({
        name: 'a\u0000',
        llm: [{ model: 'ok' }, { model: '\ud800' }],
        metadata: { team: 'x\udfff', 'x-\u0000': 'v', fine: 'v' },
      }),
    ).toEqual([
      { path: 'name', code: 'nul_character', message: 'must not contain NUL characters (U+0000)' },
      { path: 'llm[1].model', code: 'unpaired_surrogate', message: expect.any(String) },
      { path: 'metadata.team', code: 'unpaired_surrogate', message: expect.any(String) },
      { path: 'metadata["x-\\u0000"]', code: 'nul_character', message: 'has a name that must not contain NUL characters (U+0000)' },
    ]);
  });

  it('accepts surrogate pairs, other control characters and non-strings', () => {
    expect(unstorableText({ a: '\u{1F642}\u{10FFFF}\t\u0001\u007f', b: [1, null, true, { c: '\ud83d\ude42' }] })).toEqual([]);
  });

  it('names a top-level string by the path it is given', () => {
    expect(unstorableText('agt_\u0000', 'id')).toEqual([{ path: 'id', code: 'nul_character', message: expect.any(String) }]);
  });
});
