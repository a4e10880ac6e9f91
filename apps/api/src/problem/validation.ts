import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, type FieldError } from '@agentplane/errors';
import { unstorableText } from '../http/storable-text.js';

/**
 * The global pipe: DTOs are whitelisted (unknown properties are errors, not silently dropped)
 * and every failure becomes one 422 listing each field once by its path, like `llm[1].base_url`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // The value tells a missing field from a wrong one; it is never put in a response.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => DomainError.validation(flattenValidationErrors(errors)),
  });
}

/** Also refuses text PostgreSQL cannot store, anywhere in a body, query or path parameter. */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameters (the caller's auth context) are not client input.
    const unstorable = metadata.type === 'custom' ? [] : unstorableText(value, metadata.data ?? '');
    let result: unknown;
    try {
      result = await super.transform(value, metadata);
    } catch (error) {
      if (unstorable.length === 0 || !(error instanceof DomainError) || error.errors === undefined) throw error;
      // Still one error per field: what the DTO found first, then the text nothing else flagged.
      const reported = new Set(error.errors.map((e) => e.path));
      throw DomainError.validation([...error.errors, ...unstorable.filter((e) => !reported.has(e.path))]);
    }
    if (unstorable.length > 0) throw DomainError.validation(unstorable);
    return result;
  }
}

export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent === ''
        ? error.property
        : `${parent}.${error.property}`;
    const constraint = firstThatMatters(Object.keys(error.constraints ?? {}));
    if (constraint === undefined) {
      // Only a container of invalid fields, like `llm` holding `llm[1]`.
    } else if (error.value === undefined && constraint !== 'whitelistValidation') {
      out.push({ path, code: 'required', message: 'is required' });
    } else {
      // A DTO can name a stable code for a constraint: `{ context: { code: 'invalid_api_key' } }`.
      const declared = (error.contexts?.[constraint] as { code?: unknown } | undefined)?.code;
      const code = typeof declared === 'string' ? declared : constraintCode(constraint);
      out.push({ path, code, message: withoutPropertyName(error.constraints![constraint]!, error.property) });
    }
    out.push(...flattenValidationErrors(error.children ?? [], path));
  }
  return out;
}

// What a field is decides whether its length or format means anything: those come first.
const TYPE_CONSTRAINTS = ['whitelistValidation', 'isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isIn'];

/**
 * One failure per field: its type check, else the first declared of the others. class-validator
 * reports a property's failures in the reverse of their declaration order (decorators apply
 * bottom-up), and DTOs declare the type first, then lengths, then formats.
 */
function firstThatMatters(failed: readonly string[]): string | undefined {
  return TYPE_CONSTRAINTS.find((type) => failed.includes(type)) ?? failed.at(-1);
}

function constraintCode(constraint: string): string {
  if (constraint === 'whitelistValidation') return 'unknown_property';
  return constraint.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

// class-validator starts messages with the property name; the path already says it.
function withoutPropertyName(message: string, property: string): string {
  return message.startsWith(property + ' ') ? message.slice(property.length + 1) : message;
}
