import type { InlineLlmEntry } from '#agentplane/agents';
import { DomainError } from '#agentplane/errors';
import type { BaseUrlRejectionCode } from '#agentplane/egress';
import type { CallSecrets } from './entry-secrets.js';
import type { RuntimeErrorCode } from './runtime.error.js';

/** What a connection test checks, in order; it stops at the first that fails. */
export const TEST_STEPS = ['policy', 'dns', 'connect', 'tls', 'request', 'stream', 'first_token'] as const;
export type TestStepName = (typeof TEST_STEPS)[number];

/** Outcomes a reply has no code for: a test reads the status a reply only reports. */
export enum TestOutcomeCode {
  /** The upstream answered 401 or 403: the key (or a header) is wrong, or lacks a permission. */
  AuthRejected = 'auth_rejected',
  /** The upstream answered 404: no such model or deployment, or a base_url with a wrong path. */
  ModelOrPathNotFound = 'model_or_path_not_found',
}

/** Why a step failed, in one word. */
export type TestStepCode = RuntimeErrorCode | TestOutcomeCode | BaseUrlRejectionCode;

export interface TestStep {
  readonly name: TestStepName;
  readonly ok: boolean;
  /** From the end of the step before (or the start of the test) to the end of this one. */
  readonly durationMs: number;
  readonly code?: TestStepCode;
  /** For `request`: the status the upstream answered. */
  readonly httpStatus?: number;
}

/** What one entry's test found. Holds no upstream body, header or key. */
export interface ConnectionReport {
  readonly ok: boolean;
  /** The failing step's code, or null. */
  readonly code: TestStepCode | null;
  /** What the code means and what to do about it, or null. */
  readonly message: string | null;
  /** The model asked for (after a provider's model map). */
  readonly model: string;
  /** The model the endpoint said it is, when it said so before the test ended. */
  readonly reportedModel: string | null;
  /** Every step run, in order: all of them when the test passed, up to the failing one otherwise. */
  readonly steps: readonly TestStep[];
  readonly durationMs: number;
}

/** An entry to test: where and how to call it, and its secrets (stored ones, or inline for an unsaved entry). */
export interface EntryUnderTest {
  readonly endpoint: Pick<InlineLlmEntry, 'baseUrl' | 'model' | 'api' | 'extraBody' | 'azure' | 'timeouts'>;
  readonly secrets: CallSecrets;
}

export enum ConnectionTestErrorCode {
  /** Too many entries tested by this organization lately. */
  RateLimited = 'rate_limited',
}

export class ConnectionTestError extends DomainError<ConnectionTestErrorCode> {
  constructor(
    code: ConnectionTestErrorCode,
    message: string,
    /** When another test may start. */
    readonly retryAfterSeconds: number,
  ) {
    super(code, message);
  }
}
