import { Writable } from 'node:stream';
import { createLogger } from './create-logger.js';
import { REDACTED, redactLine, SECRET_FIELD_NAMES } from './redaction.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('log redaction', () => {
  const SECRET = 'sk-live-0123456789abcdef';

  it('redacts secret-named fields at any depth, in arrays too', () => {
    const { lines, logger } = capture();
    logger.info({
      api_key: SECRET,
      req: { headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET, cookie: SECRET } },
      body: { llm: [{ base_url: 'https://api.example.com', api_key: SECRET, headers: [{ name: 'X-Gateway-Key', secret_value: SECRET }] }] },
      deep: { a: { b: { c: { password: SECRET, token: SECRET } } } },
      config: { AGENTPLANE_MASTER_KEYS: SECRET, DATABASE_URL: `postgres://u:${SECRET}@h/db` },
    });
    const out = lines.join('');
    expect(out).not.toContain(SECRET);
    expect(out).toContain('https://api.example.com');
    expect(out).toContain('[redacted]');
  });

  it('logs the request path but never its query string', () => {
    const { lines, logger } = capture();
    logger.info({ req: { method: 'GET', url: `/v1/agents?api_key=${SECRET}`, ip: '127.0.0.1' } }, 'incoming request');
    const out = lines.join('');
    expect(out).toContain('"path":"/v1/agents"');
    expect(out).not.toContain(SECRET);
  });
});

describe('redactLine', () => {
  const SECRET = 'sk-live-0123456789abcdef';

  it('redacts secrets in bindings, serialized errors and errors nested anywhere, in any letter case, at any depth', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error('outer'), { API_KEY: SECRET });
    const nested = Object.assign(new Error('inner'), { config: { headers: { Authorization: `Bearer ${SECRET}` } } });
    const deep = { a: { b: { c: { d: { e: { f: { g: { token: SECRET } } } } } } } };
    logger.child({ apiKey: SECRET }).error({ err, detail: { upstream: nested }, deep, list: [[{ 'X-Api-Key': SECRET }]] }, 'failed');
    const out = lines.join('');
    expect(out).not.toContain(SECRET);
    expect(JSON.parse(out)).toMatchObject({
      apiKey: REDACTED,
      msg: 'failed',
      err: { message: 'outer', API_KEY: REDACTED },
      detail: { upstream: { config: { headers: { Authorization: REDACTED } } } },
      deep: { a: { b: { c: { d: { e: { f: { g: { token: REDACTED } } } } } } } },
      list: [[{ 'X-Api-Key': REDACTED }]],
    });
  });

  it('redacts every secret name however it is spelled: snake, camel, kebab, upper case', () => {
    const camel = (n: string) => n.toLowerCase().replace(/[-_]([a-z])/g, (_m, c: string) => c.toUpperCase());
    for (const name of SECRET_FIELD_NAMES) {
      for (const spelling of [name, camel(name), name.toUpperCase(), name.replace(/_/g, '-')]) {
        const out = redactLine(`${JSON.stringify({ level: 30, nested: { [spelling]: SECRET } })}\n`);
        expect({ spelling, leaked: out.includes(SECRET) }).toEqual({ spelling, leaked: false });
      }
    }
    // Names that only look alike are left alone.
    expect(JSON.parse(redactLine(`{"api_key_hint":"****abcd","master_key_id":"k1","keys":2}\n`))).toEqual({
      api_key_hint: '****abcd',
      master_key_id: 'k1',
      keys: 2,
    });
  });

  it('leaves a line without secret-named keys exactly as it was', () => {
    const line = '{"level":"info","msg":"api_key rotated","note":"\\"token\\": is fine"}\n';
    expect(redactLine(line)).toBe(line);
  });

  it('keeps the line JSON, its newline, and a "__proto__" key a plain property', () => {
    const out = redactLine(`{"__proto__":{"password":"${SECRET}"},"n":1}\n`);
    expect(out.endsWith('\n')).toBe(true);
    expect(out).not.toContain(SECRET);
    expect(JSON.parse(out)).toEqual({ ['__proto__']: { password: REDACTED }, n: 1 });
  });

  it('withholds a line it cannot parse or walk rather than write it unchecked', () => {
    const deep = `${'{"a":'.repeat(100_000)}{"password":"${SECRET}"}${'}'.repeat(100_000)}\n`;
    for (const line of [`{"password":"${SECRET}"`, `{"password":"${SECRET}"}{"n":1}\n`, deep]) {
      const out = redactLine(line);
      expect(out).not.toContain(SECRET);
      expect(JSON.parse(out)).toMatchObject({ level: 'error', time: expect.any(String) });
    }
  });
});
