import { ValidateBy } from 'class-validator';
import type { FieldError } from '#agentplane/errors';
import { VARIABLE_NAME } from '#agentplane/runtime';
import { IsRecord } from './is-metadata.validator.js';

export const VARIABLES_MAX_PAIRS = 100;
export const VARIABLE_MAX_VALUE = 10_000;

/**
 * `variables` (an agent's defaults, a reply's values): an object of at most 100 pairs, taken as
 * sent (IsRecord), so a variable named `constructor` is data like any other. Its pairs are checked
 * by variableErrors, which can name each one (`variables.<name>`); a validator can only name the
 * whole field.
 */
export function IsVariables(): PropertyDecorator {
  const validate = ValidateBy(
    {
      name: 'variables',
      validator: {
        validate: (value: unknown) => value !== null && typeof value === 'object' && Object.keys(value).length <= VARIABLES_MAX_PAIRS,
        defaultMessage: () => `must have at most ${VARIABLES_MAX_PAIRS} variables`,
      },
    },
    { context: { code: 'too_many_variables' } },
  );
  return (target, property) => {
    IsRecord()(target, property);
    validate(target, property);
  };
}

/** Every pair of `variables` whose name or value is not one a placeholder can take. */
export function variableErrors(variables: Readonly<Record<string, unknown>>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(variables)) {
    // A name that is not an identifier is quoted, as the pipe names such keys.
    const path = VARIABLE_NAME.test(name) ? `variables.${name}` : `variables[${JSON.stringify(name)}]`;
    if (name === '__proto__') {
      // A placeholder name, but stored JSON read back drops it: refused rather than lost.
      errors.push({ path, code: 'forbidden_key', message: 'may not be __proto__' });
    } else if (!VARIABLE_NAME.test(name)) {
      errors.push({
        path,
        code: 'invalid_variable_name',
        message: 'has a name that is not a placeholder name: a letter or _, then up to 63 letters, digits or _',
      });
    } else if (typeof value !== 'string') {
      errors.push({ path, code: 'is_string', message: 'must be a string' });
    } else if (value.length > VARIABLE_MAX_VALUE) {
      errors.push({ path, code: 'max_length', message: `must be shorter than or equal to ${VARIABLE_MAX_VALUE} characters` });
    }
  }
  return errors;
}
