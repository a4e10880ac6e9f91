import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, type FieldError } from '@agentplane/errors';

/**
 * The global pipe: DTOs are whitelisted (unknown properties are errors, not silently dropped)
 * and every failure becomes one 422 listing each field by its path, like `llm[1].base_url`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => DomainError.validation(flattenValidationErrors(errors)),
  });
}

export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent === ''
        ? error.property
        : `${parent}.${error.property}`;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      // A DTO can name a stable code for a constraint: `{ context: { code: 'invalid_api_key' } }`.
      const declared = (error.contexts?.[constraint] as { code?: unknown } | undefined)?.code;
      const code = typeof declared === 'string' ? declared : constraintCode(constraint);
      out.push({ path, code, message: withoutPropertyName(message, error.property) });
    }
    out.push(...flattenValidationErrors(error.children ?? [], path));
  }
  return out;
}

function constraintCode(constraint: string): string {
  if (constraint === 'whitelistValidation') return 'unknown_property';
  return constraint.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

// class-validator starts messages with the property name; the path already says it.
function withoutPropertyName(message: string, property: string): string {
  return message.startsWith(property + ' ') ? message.slice(property.length + 1) : message;
}
