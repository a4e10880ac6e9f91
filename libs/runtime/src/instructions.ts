import { DomainError, type FieldError } from '#agentplane/errors';

/** A variable's name, as `{{name}}` placeholders and a reply's `variables` spell it. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

// Exactly `{{name}}`: anything else between braces (spaces, dots, a longer name) is plain text.
const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]{0,63})\}\}/g;

/**
 * The instructions a reply sends: every `{{name}}` replaced by the reply's value for it, else the
 * agent's default. One pass: a value that itself looks like a placeholder is sent as written, so
 * a caller's text never pulls in another variable. Throws a validation error naming every
 * placeholder without a value (`variables.<name>`, code `missing_variable`), so a reply that
 * cannot be sent as configured fails before anything streams.
 */
export function renderInstructions(
  instructions: string | null,
  defaults: Readonly<Record<string, string>>,
  given: Readonly<Record<string, string>>,
): string | null {
  if (instructions === null) return null;
  const missing = new Set<string>();
  const rendered = instructions.replace(PLACEHOLDER, (placeholder, name: string) => {
    // Own properties only: a record's `constructor` is data, never Object.prototype's.
    const value = Object.hasOwn(given, name) ? given[name] : Object.hasOwn(defaults, name) ? defaults[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return placeholder;
    }
    return value;
  });
  if (missing.size > 0) throw DomainError.validation([...missing].map(missingVariable));
  return rendered;
}

function missingVariable(name: string): FieldError {
  return {
    path: `variables.${name}`,
    code: 'missing_variable',
    message: `is used by the agent's instructions as {{${name}}} and has no value: send it in variables, or give the agent a default`,
  };
}
