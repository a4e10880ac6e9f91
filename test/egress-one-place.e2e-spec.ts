import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ROOT } from './support/processes.js';

/**
 * "One place": outbound connections are opened only by libs/egress, whose dispatcher checks
 * every address. Anything else that could reach the network from product code is a way around
 * the SSRF guard. (ESLint enforces the same with no-restricted-imports/-globals; this test does
 * not depend on lint being run.)
 */
const FORBIDDEN: readonly (readonly [string, RegExp])[] = [
  ['fetch(', /\bfetch\s*\(/],
  ['http.request / https.request', /\bhttps?\.(request|get)\s*\(/],
  ['undici.request', /\bundici\.(request|fetch|stream|connect|pipeline)\b/],
  ['import from undici', /\bfrom\s+['"]undici['"]|\bimport\s*\(\s*['"]undici['"]\s*\)/],
  // Whole-module or client imports; `import { STATUS_CODES } from 'node:http'` connects nothing.
  [
    'client import of node:http(s)/http2',
    /^\s*import\s+(?!type\b)(?:\*|\w+\s*(?=,|from\b)|\{[^}]*\b(?:request|get|Agent|globalAgent|ClientRequest|connect)\b)[^;]*from\s+['"](?:node:)?(?:https?|http2)['"]/m,
  ],
  ['require of http(s)/undici', /\brequire\s*\(\s*['"](node:)?(https?|http2|undici)['"]\s*\)/],
];

export function violations(source: string): string[] {
  return FORBIDDEN.filter(([, pattern]) => pattern.test(source)).map(([name]) => name);
}

async function productSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'generated' || entry.name === 'node_modules') continue;
      out.push(...(await productSources(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      out.push(path);
    }
  }
  return out;
}

describe('outbound connections are opened only by libs/egress', () => {
  it('no product source outside libs/egress uses fetch, http(s).request or undici', async () => {
    const files = [...(await productSources(join(ROOT, 'apps'))), ...(await productSources(join(ROOT, 'libs')))].filter(
      (file) => !relative(ROOT, file).startsWith(join('libs', 'egress')),
    );
    expect(files.length).toBeGreaterThan(30);
    const found: string[] = [];
    for (const file of files) {
      for (const what of violations(await readFile(file, 'utf8'))) found.push(`${relative(ROOT, file)}: ${what}`);
    }
    expect(found).toEqual([]);
  });

  it('libs/egress itself is where undici is used (the check looks at the right files)', async () => {
    const egress = await productSources(join(ROOT, 'libs', 'egress', 'src'));
    const hits = (await Promise.all(egress.map(async (f) => violations(await readFile(f, 'utf8'))))).flat();
    expect(hits).toContain('import from undici');
  });

  it.each([
    ['await fetch(url)', 'fetch('],
    ["const r = https.request({ host: 'x' })", 'http.request / https.request'],
    ['http.get(url, cb)', 'http.request / https.request'],
    ['await undici.request(url)', 'undici.request'],
    ["import { request } from 'undici';", 'import from undici'],
    ["import { request } from 'node:https';", 'client import of node:http(s)/http2'],
    ["import { STATUS_CODES, Agent } from 'node:http';", 'client import of node:http(s)/http2'],
    ["import * as http2 from 'http2';", 'client import of node:http(s)/http2'],
    ["import https from 'node:https';", 'client import of node:http(s)/http2'],
    ["const https = require('node:https');", 'require of http(s)/undici'],
  ])('flags %s', (source, expected) => {
    expect(violations(source)).toContain(expected);
  });

  it('allows type-only imports and unrelated words', () => {
    expect(
      violations(
        "import type { IncomingMessage } from 'node:http';\nimport { STATUS_CODES } from 'node:http';\nconst prefetch = 1; refetchAll();",
      ),
    ).toEqual([]);
  });
});
