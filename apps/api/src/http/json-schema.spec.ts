import fc from 'fast-check';
import { fieldPath } from './json-path.js';
import { jsonSchemaErrors } from './json-schema.js';

describe('jsonSchemaErrors', () => {
  it('accepts an object schema, with keywords the meta-schema does not know', () => {
    expect(jsonSchemaErrors({ type: 'object', properties: { x: { type: 'string', pattern: '^a+$' } }, required: ['x'] }, 'p')).toEqual([]);
    expect(jsonSchemaErrors({ type: 'object', $defs: { a: { type: 'string' } }, 'x-vendor': 1 }, 'p')).toEqual([]);
  });

  it('names the deepest member the meta-schema refuses, indexes for arrays', () => {
    expect(jsonSchemaErrors({ type: 'object', properties: { x: { type: 'strin' } } }, 'tools[2].parameters')).toEqual([
      { path: 'tools[2].parameters.properties.x.type', code: 'invalid_json_schema', message: expect.stringContaining('"string"') },
    ]);
    expect(jsonSchemaErrors({ type: 'object', required: ['a', 1] }, 'p')).toEqual([
      { path: 'p.required[1]', code: 'invalid_json_schema', message: 'must be string' },
    ]);
    expect(jsonSchemaErrors({ type: 'object', properties: { 'a-b': { items: [{ type: 7 }] } } }, 'p')[0]!.path).toBe(
      'p.properties["a-b"].items[0].type',
    );
  });

  it('checks that patterns are regular expressions', () => {
    expect(jsonSchemaErrors({ type: 'object', properties: { x: { type: 'string', pattern: '(' } } }, 'p')).toEqual([
      { path: 'p.properties.x.pattern', code: 'invalid_json_schema', message: 'must match format "regex"' },
    ]);
    expect(jsonSchemaErrors({ type: 'object', patternProperties: { '[': {} } }, 'p')).toHaveLength(1);
  });

  it('requires type "object" at the top level, whatever $schema says', () => {
    expect(jsonSchemaErrors({ type: 'string' }, 'p')).toEqual([
      { path: 'p.type', code: 'invalid_json_schema', message: expect.any(String) },
    ]);
    expect(jsonSchemaErrors({ properties: {} }, 'p')).toEqual([
      { path: 'p.type', code: 'invalid_json_schema', message: expect.any(String) },
    ]);
    expect(jsonSchemaErrors({ type: 'object', $schema: 'https://json-schema.org/draft/2020-12/schema' }, 'p')).toEqual([]);
  });
});

describe('fieldPath', () => {
  it('decodes JSON pointer escapes and tells indexes from member names by the value', () => {
    const root = { 'a/b': { '0': [{ '~': 1 }] } };
    expect(fieldPath('x', root, '/a~1b/0/0/~0')).toBe('x["a/b"]["0"][0]["~"]');
    expect(fieldPath('x', root, '')).toBe('x');
  });
});

describe('jsonSchemaErrors under random JSON (fast-check)', () => {
  it('never throws, and answers at most one error, under the path it was given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(fc.constantFrom('type', 'properties', 'items', 'pattern', '$ref', 'required'), fc.jsonValue()),
        ),
        (value) => {
          const errors = jsonSchemaErrors(value, 'p');
          expect(errors.length).toBeLessThanOrEqual(1);
          for (const e of errors)
            expect(e).toEqual({ path: expect.stringMatching(/^p(\.|\[|$)/), code: 'invalid_json_schema', message: expect.any(String) });
        },
      ),
      { numRuns: 500 },
    );
  });
});
