import { CommonError, CommonErrorCode } from '#agentplane/errors';
import { renderInstructions } from './instructions.js';

/** The error renderInstructions throws, or a failure when it does not throw. */
function failureOf(render: () => unknown): CommonError {
  try {
    render();
  } catch (error) {
    if (error instanceof CommonError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('renderInstructions', () => {
  it('leaves no instructions as none', () => {
    expect(renderInstructions(null, { a: '1' }, { b: '2' })).toBeNull();
  });

  it("fills placeholders from the reply's variables over the agent's defaults", () => {
    const rendered = renderInstructions(
      'Hi {{name}}, you are on {{plan}}. Bye {{name}}.',
      { name: 'friend', plan: 'Free' },
      { plan: 'Pro' },
    );
    expect(rendered).toBe('Hi friend, you are on Pro. Bye friend.');
  });

  it('substitutes in one pass: a value that looks like a placeholder is sent as written', () => {
    const rendered = renderInstructions('A: {{a}} B: {{b}}', {}, { a: '{{b}}', b: '{{a}}' });
    expect(rendered).toBe('A: {{b}} B: {{a}}');
  });

  it('inserts values literally, `$` patterns included', () => {
    expect(renderInstructions('Price: {{p}}', {}, { p: "$& $1 $$ $'" })).toBe("Price: $& $1 $$ $'");
  });

  it('leaves text that is not a placeholder alone, and needs no value for it', () => {
    const text = '{{ x y }} {{ name }} {{1a}} {{a-b}} {name} {{}} {{{x}} }} {{' + 'n'.repeat(65) + '}}';
    expect(renderInstructions(text, {}, { x: 'X' })).toBe(
      '{{ x y }} {{ name }} {{1a}} {{a-b}} {name} {{}} {X }} {{' + 'n'.repeat(65) + '}}',
    );
  });

  it('accepts a name of 64 characters and an empty value', () => {
    const name = '_' + 'a'.repeat(63);
    expect(renderInstructions(`[{{${name}}}]`, { [name]: '' }, {})).toBe('[]');
  });

  it('finds names like Object.prototype members only among the given variables', () => {
    expect(renderInstructions('{{constructor}}', {}, Object.fromEntries([['constructor', 'data']]))).toBe('data');
    const failure = failureOf(() => renderInstructions('{{constructor}} {{toString}}', {}, {}));
    expect(failure.errors?.map((e) => e.path)).toEqual(['variables.constructor', 'variables.toString']);
  });

  it('names every placeholder without a value, once each, as a validation error', () => {
    const failure = failureOf(() => renderInstructions('{{a}} {{known}} {{b}} {{a}}', { known: 'k' }, {}));
    expect(failure.code).toBe(CommonErrorCode.ValidationFailed);
    expect(failure.errors).toEqual([
      { path: 'variables.a', code: 'missing_variable', message: expect.stringContaining('{{a}}') },
      { path: 'variables.b', code: 'missing_variable', message: expect.stringContaining('{{b}}') },
    ]);
  });
});
