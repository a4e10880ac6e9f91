import { isOriginAllowed, normalizeOrigin, type OriginProblem } from './origins.js';

describe('normalizeOrigin', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://API.Example.com', 'https://api.example.com'],
    ['HTTPS://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com'],
    ['https://api.example.com:443', 'https://api.example.com'],
    ['https://api.example.com:443/', 'https://api.example.com'],
    ['https://api.example.com:8443', 'https://api.example.com:8443'],
    ['https://bücher.example', 'https://xn--bcher-kva.example'],
    ['https://[::1]:9443', 'https://[::1]:9443'],
    ['https://[0:0:0:0:0:0:0:1]', 'https://[::1]'],
    ['https://127.0.0.1:8443', 'https://127.0.0.1:8443'],
    ['https://api.example.com:65535', 'https://api.example.com:65535'],
  ])('accepts %j as %j', (raw, origin) => {
    expect(normalizeOrigin(raw)).toEqual({ origin });
  });

  it.each<[string, OriginProblem]>([
    ['http://api.example.com', 'https_required'],
    ['http://localhost:8080', 'https_required'],
    ['ftp://files.example.com', 'https_required'],
    ['wss://stream.example.com', 'https_required'],
    ['file:///etc/passwd', 'https_required'],
    ['javascript:alert(1)', 'https_required'],
    ['https://api.example.com/v1', 'invalid_origin'],
    ['https://api.example.com/.', 'invalid_origin'],
    ['https://api.example.com/./', 'invalid_origin'],
    ['https://api.example.com/%2e/', 'invalid_origin'],
    ['https://api.example.com/v1/', 'invalid_origin'],
    ['https://api.example.com?x=1', 'invalid_origin'],
    ['https://api.example.com/?', 'invalid_origin'],
    ['https://api.example.com#frag', 'invalid_origin'],
    ['https://api.example.com/#', 'invalid_origin'],
    ['https://u:p@x.com', 'invalid_origin'],
    ['https://u@x.com', 'invalid_origin'],
    ['https://x.com@evil.com', 'invalid_origin'],
    ['https://@evil.com', 'invalid_origin'],
    ['https:\\\\api.example.com', 'invalid_origin'],
    ['https://api.example.com\\evil.com', 'invalid_origin'],
    ['https://api.example .com', 'invalid_origin'],
    [' https://api.example.com', 'invalid_origin'],
    ['https://api.example.com ', 'invalid_origin'],
    ['https://api.exa\tmple.com', 'invalid_origin'],
    ['https://api.example.com\n', 'invalid_origin'],
    ['https://api.exa\nmple.com', 'invalid_origin'],
    ['https://api.example.com\r', 'invalid_origin'],
    ['https://api.example.com\u0000', 'invalid_origin'],
    ['https://api.example.com\u00a0', 'invalid_origin'],
    ['', 'invalid_origin'],
    ['not a url', 'invalid_origin'],
    ['api.example.com', 'invalid_origin'],
    ['https://', 'invalid_origin'],
    ['https://api.example.com:0', 'invalid_origin'],
    ['https://api.example.com:65536', 'invalid_origin'],
    ['https://api.example.com:-1', 'invalid_origin'],
  ])('refuses %j with %s', (raw, problem) => {
    const result = normalizeOrigin(raw);
    expect(result).toEqual({ problem, message: expect.stringMatching(/^must /) });
  });

  it.each([42, null, undefined, {}, ['https://api.example.com']])('refuses the non-string %j as is_string', (raw) => {
    expect(normalizeOrigin(raw)).toEqual({ problem: 'is_string', message: 'must be a string' });
  });

  it('refuses an over-long origin without parsing it', () => {
    expect(normalizeOrigin(`https://${'a'.repeat(2050)}.com`)).toEqual({
      problem: 'invalid_origin',
      message: 'must be at most 2048 characters',
    });
  });
});

describe('isOriginAllowed', () => {
  const allowed = ['https://api.example.com', 'https://llm.example.org:8443', 'https://[::1]:9443'];

  it.each([
    'https://api.example.com',
    'https://api.example.com/',
    'https://api.example.com:443/v1/chat/completions',
    'https://api.example.com/v1/chat/completions',
    'https://API.EXAMPLE.COM/v1/chat/completions?stream=true#x',
    'https://llm.example.org:8443/v1/messages',
    'https://[::1]:9443/v1',
  ])('allows %j', (target) => {
    expect(isOriginAllowed(allowed, target)).toBe(true);
    expect(isOriginAllowed(allowed, new URL(target))).toBe(true);
  });

  it.each([
    'https://api.example.com:8443/v1',
    'https://llm.example.org/v1',
    'https://llm.example.org:443/v1',
    'http://api.example.com/v1',
    'wss://api.example.com/v1',
    'https://eu.api.example.com/v1',
    'https://example.com/v1',
    'https://api.example.com.evil.com/v1',
    'https://evil.com/https://api.example.com',
    'https://evil.com/?u=https://api.example.com',
    'https://api.example.com@evil.com/v1',
    'https://api.example.com:443@evil.com/v1',
    'https://[::2]:9443/v1',
    'api.example.com/v1',
    'not a url',
    '',
    'data:text/plain,https://api.example.com',
  ])('refuses %j', (target) => {
    expect(isOriginAllowed(allowed, target)).toBe(false);
  });

  it('refuses everything for an empty allow list', () => {
    expect(isOriginAllowed([], 'https://api.example.com')).toBe(false);
  });

  it("never matches the opaque origin 'null'", () => {
    expect(isOriginAllowed(['null'], 'data:text/plain,hi')).toBe(false);
    expect(isOriginAllowed(['null'], new URL('file:///etc/passwd'))).toBe(false);
  });

  it('matches what normalizeOrigin stores', () => {
    const stored = normalizeOrigin('https://Bücher.Example:443/');
    expect('origin' in stored).toBe(true);
    if (!('origin' in stored)) return;
    expect(isOriginAllowed([stored.origin], 'https://xn--bcher-kva.example/v1')).toBe(true);
    expect(isOriginAllowed([stored.origin], 'https://bücher.example/v1')).toBe(true);
    expect(isOriginAllowed([stored.origin], 'https://bucher.example/v1')).toBe(false);
  });
});
