import { Writable } from 'node:stream';
import { createLogger } from './create-logger.js';

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
      body: { llm: [{ base_url: 'https://api.example.com', api_key: SECRET }] },
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
