/** HTTP helpers for end-to-end tests: requests to a running API and problem+json checks. */
import { randomBytes } from 'node:crypto';
export interface FieldError {
  path: string;
  code: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
}

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A provider-looking key of exactly `length` characters, random so that no two tests share one. */
export function providerKey(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The hint the contract promises: "****" plus the last 4 characters for keys of 20 or more. */
export const hintOf = (key: string): string => (key.length >= 20 ? '****' + key.slice(-4) : '****');

export type Body = Record<string, unknown> | string | undefined;

export function send(
  url: string,
  method: string,
  path: string,
  key: string | undefined,
  body?: Body,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url + path, {
    method,
    headers: {
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

export async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toEqual({ status, body: expect.any(String) });
  expect(res.headers.get('content-type')).toBe(PROBLEM_TYPE);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, code, type: `https://agentplane.dev/problems/${code}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  return body;
}

/** A 422 validation problem; returns its field errors. */
export async function expectInvalid(res: Response): Promise<FieldError[]> {
  const body = await expectProblem(res, 422, 'validation_failed');
  expect(Array.isArray(body.errors)).toBe(true);
  for (const e of body.errors!) expect(e).toEqual({ path: expect.any(String), code: expect.any(String), message: expect.any(String) });
  return body.errors!;
}
