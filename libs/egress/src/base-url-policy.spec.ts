import { parseBaseUrl, type BaseUrlRejectionCode } from './base-url-policy.js';

type Expected = 'ok' | BaseUrlRejectionCode;

/**
 * The parse-time corpus: hostile and benign base_url inputs and what the policy must answer.
 * Grouped by the trick each one tries; every group is from a real SSRF or credential-leak bug
 * class in this product's field.
 */
const CORPUS: readonly (readonly [string, string, Expected])[] = [
  // Benign: public names and a public IP literal.
  ['public name with path', 'https://api.openai.com/v1', 'ok'],
  ['public name, mixed case, default port', 'https://API.OpenAI.com:443/v1/', 'ok'],
  ['public name with a port', 'https://llm.example.com:8443/openai/v1', 'ok'],
  ['public IPv4 literal', 'https://8.8.8.8/v1', 'ok'],
  ['public IPv6 literal', 'https://[2606:4700:4700::1111]/v1', 'ok'],
  ['IDN name (punycoded by the parser)', 'https://bücher.de/v1', 'ok'],
  ['punycode name', 'https://xn--bcher-kva.de/v1', 'ok'],
  ['deep path', 'https://gateway.ai.cloudflare.com/v1/acct/gw/openai', 'ok'],
  ['path with dot segments', 'https://api.example.com/a/../v1', 'ok'],

  // IPv4 in every spelling the WHATWG parser normalizes to loopback.
  ['dotted loopback', 'https://127.0.0.1/', 'private_host'],
  ['loopback, other address', 'https://127.255.255.254/', 'private_host'],
  ['decimal loopback', 'https://2130706433/', 'private_host'],
  ['octal loopback', 'https://017700000001/', 'private_host'],
  ['hex loopback', 'https://0x7f000001/', 'private_host'],
  ['short form loopback', 'https://127.1/', 'private_host'],
  ['mixed hex/decimal short form', 'https://0x7f.1/', 'private_host'],
  ['dotted octal loopback', 'https://0177.0.0.01/', 'private_host'],
  ['zero', 'https://0/', 'private_host'],
  ['bare 0x', 'https://0x/', 'private_host'],
  ['unspecified', 'https://0.0.0.0/', 'private_host'],
  ['loopback with trailing dot', 'https://127.0.0.1./', 'private_host'],

  // Cloud metadata, in every encoding.
  ['metadata dotted', 'https://169.254.169.254/latest/meta-data', 'private_host'],
  ['metadata decimal', 'https://2852039166/', 'private_host'],
  ['metadata hex', 'https://0xa9fea9fe/', 'private_host'],
  ['metadata octal', 'https://0251.0376.0251.0376/', 'private_host'],
  ['metadata short form', 'https://169.254.43518/', 'private_host'],
  ['metadata IPv4-mapped IPv6', 'https://[::ffff:169.254.169.254]/', 'private_host'],
  ['metadata IPv4-mapped IPv6, hex', 'https://[::ffff:a9fe:a9fe]/', 'private_host'],
  ['AWS metadata over IPv6', 'https://[fd00:ec2::254]/', 'private_host'],
  ['GCP metadata name', 'https://metadata.google.internal/computeMetadata/v1', 'private_host'],
  ['GCP metadata name, trailing dot', 'https://metadata.google.internal./', 'private_host'],
  ['GCP metadata name, upper case', 'https://METADATA.GOOGLE.INTERNAL/', 'private_host'],
  ['Alibaba metadata', 'https://100.100.100.200/', 'private_host'],
  ['Azure wireserver', 'https://168.63.129.16/', 'private_host'],
  ['Azure wireserver decimal', 'https://2822734096/', 'private_host'],
  ['Azure wireserver IPv4-mapped IPv6', 'https://[::ffff:a83f:8110]/', 'private_host'],
  ['single-label metadata name', 'https://metadata/', 'private_host'],

  // Private, shared and special IPv4 ranges.
  ['10/8', 'https://10.0.0.1/', 'private_host'],
  ['172.16/12', 'https://172.16.5.4/', 'private_host'],
  ['192.168/16', 'https://192.168.1.1/', 'private_host'],
  ['CGNAT', 'https://100.64.0.1/', 'private_host'],
  ['link-local', 'https://169.254.1.1/', 'private_host'],
  ['benchmarking', 'https://198.18.0.1/', 'private_host'],
  ['documentation TEST-NET-1', 'https://192.0.2.1/', 'private_host'],
  ['documentation TEST-NET-2', 'https://198.51.100.7/', 'private_host'],
  ['documentation TEST-NET-3', 'https://203.0.113.9/', 'private_host'],
  ['IETF protocol assignments', 'https://192.0.0.8/', 'private_host'],
  ['multicast', 'https://224.0.0.1/', 'private_host'],
  ['reserved class E', 'https://240.0.0.1/', 'private_host'],
  ['broadcast', 'https://255.255.255.255/', 'private_host'],

  // IPv6.
  ['IPv6 loopback', 'https://[::1]/', 'private_host'],
  ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/', 'private_host'],
  ['IPv6 unspecified', 'https://[::]/', 'private_host'],
  ['IPv4-mapped loopback, dotted', 'https://[::ffff:127.0.0.1]/', 'private_host'],
  ['IPv4-mapped loopback, hex', 'https://[::ffff:7f00:1]/', 'private_host'],
  ['IPv4-mapped private, hex', 'https://[::ffff:a00:1]/', 'private_host'],
  ['IPv4-compatible loopback', 'https://[::7f00:1]/', 'private_host'],
  ['IPv4-compatible, dotted', 'https://[::127.0.0.1]/', 'private_host'],
  ['IPv4-compatible public (still ::/96)', 'https://[::808:808]/', 'private_host'],
  ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/', 'private_host'],
  ['NAT64 of a public address', 'https://[64:ff9b::808:808]/', 'private_host'],
  ['local-use NAT64', 'https://[64:ff9b:1::a00:1]/', 'private_host'],
  ['6to4 of private', 'https://[2002:a00:1::1]/', 'private_host'],
  ['6to4 of loopback', 'https://[2002:7f00:1::]/', 'private_host'],
  ['Teredo', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'private_host'],
  ['IPv6 link-local', 'https://[fe80::1]/', 'private_host'],
  ['IPv6 link-local with zone id', 'https://[fe80::1%25eth0]/', 'invalid_url'],
  ['unique-local', 'https://[fc00::1]/', 'private_host'],
  ['unique-local fd', 'https://[fd12:3456::1]/', 'private_host'],
  ['site-local (deprecated)', 'https://[fec0::1]/', 'private_host'],
  ['IPv6 multicast', 'https://[ff02::1]/', 'private_host'],
  ['documentation 2001:db8', 'https://[2001:db8::1]/', 'private_host'],
  ['documentation 3fff::/20', 'https://[3fff::1]/', 'private_host'],
  ['discard-only', 'https://[100::1]/', 'private_host'],
  ['benchmarking 2001:2::/48', 'https://[2001:2::1]/', 'private_host'],
  ['outside 2000::/3', 'https://[4000::1]/', 'private_host'],

  // localhost and local names.
  ['localhost', 'https://localhost/', 'private_host'],
  ['localhost upper case', 'https://LOCALHOST/', 'private_host'],
  ['localhost fullwidth', 'https://ｌｏｃａｌｈｏｓｔ/', 'private_host'],
  ['localhost percent-encoded', 'https://%6c%6f%63%61%6c%68%6f%73%74/', 'private_host'],
  ['localhost trailing dot', 'https://localhost./', 'private_host'],
  ['localhost with port', 'https://localhost:8443/', 'private_host'],
  ['*.localhost', 'https://api.localhost/', 'private_host'],
  ['*.localhost, trailing dot', 'https://api.localhost./', 'private_host'],
  ['*.localhost, mixed case', 'https://Evil.LocalHost/', 'private_host'],
  ['single-label name', 'https://intranet/', 'private_host'],
  ['.internal', 'https://db.corp.internal/', 'private_host'],
  ['.local', 'https://printer.local/', 'private_host'],
  ['.localdomain', 'https://host.localdomain/', 'private_host'],
  ['.home.arpa', 'https://router.home.arpa/', 'private_host'],
  ['reverse-DNS name', 'https://1.0.0.127.in-addr.arpa/', 'private_host'],

  // userinfo and delimiter tricks.
  ['userinfo', 'https://user:pass@api.example.com/', 'userinfo_not_allowed'],
  ['user only', 'https://user@api.example.com/', 'userinfo_not_allowed'],
  ['empty userinfo', 'https://@api.example.com/', 'userinfo_not_allowed'],
  ['userinfo hiding the real host', 'https://api.example.com@127.0.0.1/', 'userinfo_not_allowed'],
  ['fragment then @', 'https://127.0.0.1#@api.example.com/', 'invalid_url'],
  ['query then @', 'https://127.0.0.1?@api.example.com/', 'invalid_url'],
  ['backslash before @', 'https://api.example.com\\@127.0.0.1/', 'invalid_url'],
  ['backslash as slash', 'https:\\\\api.example.com/', 'invalid_url'],
  ['space in host', 'https://api.exa mple.com/', 'invalid_url'],
  ['tab in host', 'https://api.exa\tmple.com/', 'invalid_url'],
  ['newline in host', 'https://api.example.com\n.evil.com/', 'invalid_url'],
  ['leading space', ' https://api.example.com/', 'invalid_url'],
  ['trailing space', 'https://api.example.com/ ', 'invalid_url'],
  ['NUL byte', 'https://api.example.com\u0000.evil/', 'invalid_url'],
  ['non-breaking space', 'https://api.example.com\u00a0/', 'invalid_url'],

  // Schemes.
  ['http', 'http://api.example.com/', 'https_required'],
  ['HTTP upper case', 'HTTP://api.example.com/', 'https_required'],
  ['ws', 'ws://api.example.com/', 'https_required'],
  ['wss', 'wss://api.example.com/', 'https_required'],
  ['ftp', 'ftp://api.example.com/', 'https_required'],
  ['file', 'file:///etc/passwd', 'https_required'],
  ['gopher', 'gopher://127.0.0.1:6379/_INFO', 'https_required'],
  ['data', 'data:text/plain,hi', 'https_required'],
  ['javascript', 'javascript:alert(1)', 'https_required'],
  ['dict', 'dict://127.0.0.1:11211/', 'https_required'],
  ['scheme-relative', '//api.example.com/', 'invalid_url'],
  ['no scheme', 'api.example.com', 'invalid_url'],
  ['https without slashes', 'https:api.example.com', 'invalid_url'],
  ['https with three slashes', 'https:///api.example.com', 'invalid_url'],
  ['HTTPS upper case is fine', 'HTTPS://api.example.com/v1', 'ok'],

  // Ports.
  ['port 0', 'https://api.example.com:0/', 'invalid_url'],
  ['port 00', 'https://api.example.com:00/', 'invalid_url'],
  ['port 65536', 'https://api.example.com:65536/', 'invalid_url'],
  ['port 99999', 'https://api.example.com:99999/', 'invalid_url'],
  ['negative port', 'https://api.example.com:-1/', 'invalid_url'],
  ['empty port', 'https://api.example.com:/', 'invalid_url'],
  ['port 65535', 'https://api.example.com:65535/', 'ok'],

  // Labels and lengths.
  ['empty label', 'https://api..example.com/', 'invalid_url'],
  ['leading dot', 'https://.api.example.com/', 'invalid_url'],
  ['trailing dot on a public name', 'https://api.example.com./', 'invalid_url'],
  ['label of 64 characters', `https://${'a'.repeat(64)}.example.com/`, 'invalid_url'],
  ['label of 63 characters', `https://${'a'.repeat(63)}.example.com/`, 'ok'],
  ['name over 253 characters', `https://${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}.com/`, 'invalid_url'],
  ['underscore in label', 'https://my_host.example.com/', 'invalid_url'],
  ['label starting with a hyphen', 'https://-api.example.com/', 'invalid_url'],
  ['empty host', 'https:///', 'invalid_url'],

  // Query and fragment.
  ['query', 'https://api.example.com/v1?x=1', 'invalid_url'],
  ['empty query', 'https://api.example.com/v1?', 'invalid_url'],
  ['fragment', 'https://api.example.com/v1#top', 'invalid_url'],
  ['empty fragment', 'https://api.example.com/v1#', 'invalid_url'],

  // Not a string.
  ['empty string', '', 'invalid_url'],
  ['over-long URL', `https://api.example.com/${'a'.repeat(2100)}`, 'invalid_url'],
];

describe('parseBaseUrl corpus', () => {
  it(`has at least 80 cases (has ${CORPUS.length})`, () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(CORPUS.map(([name]) => name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS)('%s: %j → %s', (_name, input, expected) => {
    const verdict = parseBaseUrl(input);
    expect(verdict.ok ? 'ok' : verdict.code).toBe(expected);
    // A rejection says what is wrong without echoing the input back.
    if (!verdict.ok && input.length > 12) expect(verdict.message).not.toContain(input);
  });

  it('refuses values that are not strings', () => {
    for (const value of [undefined, null, 42, {}, ['https://api.example.com']]) {
      expect(parseBaseUrl(value)).toMatchObject({ ok: false, code: 'invalid_url' });
    }
  });
});

describe('parseBaseUrl results', () => {
  it('returns the normalized href, host and effective port', () => {
    expect(parseBaseUrl('https://API.Example.COM:443/v1')).toEqual({
      ok: true,
      href: 'https://api.example.com/v1',
      host: 'api.example.com',
      port: 443,
      ipLiteral: false,
      allowlisted: false,
    });
    expect(parseBaseUrl('https://[2606:4700:4700::1111]:8443/')).toMatchObject({
      href: 'https://[2606:4700:4700::1111]:8443/',
      host: '2606:4700:4700::1111',
      port: 8443,
      ipLiteral: true,
    });
    expect(parseBaseUrl('https://bücher.de/')).toMatchObject({ host: 'xn--bcher-kva.de' });
  });
});

describe('parseBaseUrl with AGENTPLANE_EGRESS_ALLOWLIST', () => {
  const allowlist = [{ host: 'localhost', port: 8443 }, { host: '127.0.0.1' }, { host: '::1', port: 9443 }];

  it('exempts exactly the listed host and port from the public-host rule', () => {
    expect(parseBaseUrl('https://localhost:8443/v1', allowlist)).toMatchObject({ ok: true, allowlisted: true });
    expect(parseBaseUrl('https://LOCALHOST:8443/v1', allowlist)).toMatchObject({ ok: true, allowlisted: true });
    expect(parseBaseUrl('https://localhost:8444/v1', allowlist)).toMatchObject({ ok: false, code: 'private_host' });
    expect(parseBaseUrl('https://localhost/v1', allowlist)).toMatchObject({ ok: false, code: 'private_host' });
    expect(parseBaseUrl('https://127.0.0.1:1234/', allowlist)).toMatchObject({ ok: true, allowlisted: true });
    expect(parseBaseUrl('https://2130706433/', allowlist)).toMatchObject({ ok: true, allowlisted: true });
    expect(parseBaseUrl('https://127.0.0.2/', allowlist)).toMatchObject({ ok: false, code: 'private_host' });
    expect(parseBaseUrl('https://[::1]:9443/', allowlist)).toMatchObject({ ok: true, allowlisted: true });
    expect(parseBaseUrl('https://[::1]:443/', allowlist)).toMatchObject({ ok: false, code: 'private_host' });
  });

  it('still requires https and refuses userinfo, queries and fragments', () => {
    expect(parseBaseUrl('http://localhost:8443/', allowlist)).toMatchObject({ ok: false, code: 'https_required' });
    expect(parseBaseUrl('https://u@localhost:8443/', allowlist)).toMatchObject({ ok: false, code: 'userinfo_not_allowed' });
    expect(parseBaseUrl('https://localhost:8443/?a', allowlist)).toMatchObject({ ok: false, code: 'invalid_url' });
    expect(parseBaseUrl('https://localhost.:8443/', allowlist)).toMatchObject({ ok: false, code: 'private_host' });
  });
});
