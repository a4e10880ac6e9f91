/** Why an allowed origin was refused; becomes the field error code. */
export type OriginProblem = 'invalid_origin' | 'https_required' | 'is_string';

const MAX_ORIGIN_LENGTH = 2048;

export type OriginResult = { readonly origin: string } | { readonly problem: OriginProblem; readonly message: string };

/**
 * Normalizes one `allowed_origins` entry to the WHATWG origin (`https://host[:port]`, lower case,
 * default port dropped, IDN as punycode), so that comparing origins is comparing strings.
 * Whether the host is public is the egress guard's question, asked at every connection.
 */
export function normalizeOrigin(raw: unknown): OriginResult {
  // Request bodies reach this unchecked per entry, so that errors can name the entry's index.
  if (typeof raw !== 'string') return { problem: 'is_string', message: 'must be a string' };
  if (raw.length > MAX_ORIGIN_LENGTH) {
    return { problem: 'invalid_origin', message: `must be at most ${MAX_ORIGIN_LENGTH} characters` };
  }
  // The URL parser silently strips or rewrites these; refuse rather than guess what was meant.
  if (/[\s\\\u0000-\u001f\u007f]/u.test(raw)) {
    return { problem: 'invalid_origin', message: 'must not contain whitespace, control characters or backslashes' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'invalid_origin', message: 'must be an origin like https://api.example.com' };
  }
  // The parser folds "/." and "/%2e/" into "/", so look at what was written, not what was parsed.
  const path = raw.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  if (url.protocol !== 'https:') return { problem: 'https_required', message: 'must use https' };
  if (url.username !== '' || url.password !== '' || raw.includes('@')) {
    return { problem: 'invalid_origin', message: 'must not contain user information' };
  }
  if (url.port === '0') return { problem: 'invalid_origin', message: 'must not use port 0' };
  if (
    url.hostname === '' ||
    (path !== '/' && path !== '') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    /[?#]/.test(raw)
  ) {
    return { problem: 'invalid_origin', message: 'must be scheme, host and optional port only (no path, query or fragment)' };
  }
  return { origin: url.origin };
}

/**
 * The rule that keeps a secret with the hosts it was given for: true only when `target`'s origin
 * is exactly one of `allowedOrigins`. A target that does not parse is never allowed.
 */
export function isOriginAllowed(allowedOrigins: readonly string[], target: string | URL): boolean {
  let origin: string;
  try {
    origin = (typeof target === 'string' ? new URL(target) : target).origin;
  } catch {
    return false;
  }
  return origin !== 'null' && allowedOrigins.includes(origin);
}
