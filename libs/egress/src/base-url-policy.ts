import type { EgressAllowEntry, PrivateNetwork } from '#agentplane/config';
import { isAllowedAddress, isIpLiteral } from './address-policy.js';

/** The stable codes of a refused base_url (field error codes under its path). */
export type BaseUrlRejectionCode = 'invalid_url' | 'https_required' | 'userinfo_not_allowed' | 'private_host' | 'unresolvable_host';

export const BASE_URL_REJECTION_CODES: readonly BaseUrlRejectionCode[] = [
  'invalid_url',
  'https_required',
  'userinfo_not_allowed',
  'private_host',
  'unresolvable_host',
];

export interface BaseUrlRejection {
  readonly ok: false;
  readonly code: BaseUrlRejectionCode;
  /** Says what is wrong without repeating the input. */
  readonly message: string;
}

export interface AcceptedBaseUrl {
  readonly ok: true;
  /** The WHATWG-normalized URL, what gets stored. */
  readonly href: string;
  /** Host name (lower case, punycode, no trailing dot) or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  readonly ipLiteral: boolean;
  /** True when AGENTPLANE_EGRESS_ALLOWLIST exempted the host from the public-host rule. */
  readonly allowlisted: boolean;
}

export type BaseUrlVerdict = AcceptedBaseUrl | BaseUrlRejection;

const MAX_URL_LENGTH = 2048;
// Backslashes (WHATWG reads them as slashes), whitespace anywhere (tabs and newlines are
// silently removed by the parser), C0/C1 controls, and Unicode separators.
const FORBIDDEN_RAW = /[\\\s\u0000-\u001f\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2060\u3000\ufeff]/u;
const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'instance-data', 'metadata.google.internal', 'metadata.goog']);
const BLOCKED_SUFFIXES = [
  '.localhost',
  '.internal',
  '.local',
  '.localdomain',
  '.home.arpa',
  '.arpa',
  '.invalid',
  '.test',
  '.example',
  '.onion',
];
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

const reject = (code: BaseUrlRejectionCode, message: string): BaseUrlRejection => ({ ok: false, code, message });

/**
 * The parse-time half of the base_url policy: decides on the WHATWG-parsed parts,
 * never on the raw string, except to refuse characters the parser would quietly drop or
 * reinterpret. DNS is the other half (EgressPolicy.check).
 */
export function parseBaseUrl(
  raw: unknown,
  allowlist: readonly EgressAllowEntry[] = [],
  privateNetworks: readonly PrivateNetwork[] = [],
): BaseUrlVerdict {
  if (typeof raw !== 'string' || raw === '') return reject('invalid_url', 'must be a URL string');
  if (raw.length > MAX_URL_LENGTH) return reject('invalid_url', `must be at most ${MAX_URL_LENGTH} characters`);
  if (FORBIDDEN_RAW.test(raw)) return reject('invalid_url', 'must not contain whitespace, control characters or backslashes');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return reject('invalid_url', 'must be an absolute https URL');
  if (scheme !== 'https') return reject('https_required', 'must use https');
  // The parser accepts `https:host` and `https:///host`; only the plain form is unambiguous.
  if (!/^https:\/\/[^/]/i.test(raw)) return reject('invalid_url', 'must start with https:// followed by a host');

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject('invalid_url', 'is not a valid URL');
  }
  const authority = raw.slice('https://'.length).split(/[/?#]/, 1)[0] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    return reject('userinfo_not_allowed', 'must not contain a user name or password');
  }
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(raw)) {
    return reject('invalid_url', 'must not have a query string or fragment');
  }
  // The parser drops an empty port (`https://host:/`); it is a typo, not a request for 443.
  if (authority.endsWith(':')) return reject('invalid_url', 'has an empty port');
  if (url.port === '0') return reject('invalid_url', 'must not use port 0');
  const port = url.port === '' ? 443 : Number(url.port);

  const bracketed = url.hostname.startsWith('[');
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, '');
  const ipLiteral = bracketed || isIpLiteral(host);
  const allowlisted = allowlist.some((entry) => entry.host === host && (entry.port === undefined || entry.port === port));
  const accepted: AcceptedBaseUrl = { ok: true, href: url.href, host, port, ipLiteral, allowlisted };

  if (ipLiteral) {
    if (allowlisted) return accepted;
    return isAllowedAddress(host, privateNetworks)
      ? accepted
      : reject('private_host', 'must be a public host, not a private, loopback, link-local or reserved address');
  }

  if (host === '' || host.length > 253) return reject('invalid_url', 'has a host name that is empty or longer than 253 characters');
  if (url.hostname.endsWith('.')) return blockedName(host) ?? reject('invalid_url', 'must not end the host name with a dot');
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) {
    return reject('invalid_url', 'has a host name with an empty, over-long (> 63) or invalid label');
  }
  if (allowlisted) return accepted;
  return blockedName(host) ?? (labels.length < 2 ? reject('private_host', 'must be a fully qualified public host name') : accepted);
}

/** Resolves a host name to every A/AAAA address (empty when it does not resolve). */
export type ResolveHost = (host: string) => Promise<readonly string[]>;

/**
 * The whole save-time check: the parse-time rules, then DNS, where every answer must be public
 * (or in one of the operator's private networks) and there must be at least one. Allowlisted
 * hosts skip only the public-address rule.
 */
export async function checkBaseUrl(
  raw: unknown,
  resolve: ResolveHost,
  allowlist: readonly EgressAllowEntry[] = [],
  privateNetworks: readonly PrivateNetwork[] = [],
): Promise<BaseUrlVerdict> {
  const parsed = parseBaseUrl(raw, allowlist, privateNetworks);
  if (!parsed.ok || parsed.ipLiteral) return parsed;
  const addresses = await resolve(parsed.host);
  if (addresses.length === 0) return reject('unresolvable_host', 'does not resolve to any address');
  if (!parsed.allowlisted && !addresses.every((address) => isAllowedAddress(address, privateNetworks))) {
    return reject('private_host', 'resolves to a non-public address');
  }
  return parsed;
}

function blockedName(host: string): BaseUrlRejection | undefined {
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return reject('private_host', 'must be a public host, not a local, internal or metadata name');
  }
  return undefined;
}
