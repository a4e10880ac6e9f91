import { CommonErrorCode, type DomainError } from '#agentplane/errors';
import { parseIdempotencyKey, parseIfMatch } from './request-headers.js';

describe('parseIfMatch', () => {
  it.each([
    [undefined, undefined],
    ['*', '*'],
    [' * ', '*'],
    ['"x"', ['"x"']],
    ['"y", "x"', ['"y"', '"x"']],
    // Weak tags and things that are not entity tags never match a strong comparison.
    ['W/"x"', []],
    ['"x', []],
    ['x', []],
    ['', []],
    ['W/"a", "b"', ['"b"']],
  ])('%j → %j', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });
});

describe('parseIdempotencyKey', () => {
  it('pairs the key with the request, body keys sorted', () => {
    expect(parseIdempotencyKey('k-1', 'POST', '/v1/agents', { name: 'a', llm: [] })).toEqual({
      key: 'k-1',
      request: 'POST /v1/agents {"llm":[],"name":"a"}',
    });
    expect(parseIdempotencyKey(undefined, 'POST', '/v1/agents', {})).toBeUndefined();
  });

  it.each(['has space', '', 'x'.repeat(256), 'é'])('refuses %j naming the header', (key) => {
    let error: DomainError | undefined;
    try {
      parseIdempotencyKey(key, 'POST', '/v1/agents', {});
    } catch (e) {
      error = e as DomainError;
    }
    expect(error?.code).toBe(CommonErrorCode.ValidationFailed);
    expect(error?.errors).toEqual([{ path: 'Idempotency-Key', code: 'invalid_idempotency_key', message: expect.any(String) }]);
  });
});
