// @ts-check
import tseslint from 'typescript-eslint';

const LIB_IMPORTS_APP = {
  group: ['**/apps/**', '#agentplane/api', '#agentplane/cli'],
  message: 'A lib must not import an app.',
};
const OUTBOUND = 'Outbound calls go through #agentplane/egress (EgressClient), which checks every address it connects to.';
// node:http stays importable for what does not connect (STATUS_CODES, types).
const CLIENT_EXPORTS = ['request', 'get', 'Agent', 'globalAgent', 'ClientRequest', 'connect'];
const OUTBOUND_MODULES = [
  { name: 'undici', message: OUTBOUND, allowTypeImports: true },
  ...['http', 'https', 'http2', 'node:http', 'node:https', 'node:http2'].map((name) => ({
    name,
    importNames: CLIENT_EXPORTS,
    message: OUTBOUND,
    allowTypeImports: true,
  })),
];
const OUTBOUND_GLOBALS = ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource'].map((name) => ({ name, message: OUTBOUND }));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'libs/db/src/generated/', 'clients/typescript/', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through AppConfig (libs/config); only entry points pass process.env to loadConfig.',
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: OUTBOUND_MODULES }],
      'no-restricted-globals': ['error', ...OUTBOUND_GLOBALS],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: OUTBOUND_MODULES, patterns: [LIB_IMPORTS_APP] }],
    },
  },
  {
    // The one place allowed to open outbound connections: its dispatcher checks every address.
    files: ['libs/egress/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_IMPORTS_APP] }],
      'no-restricted-globals': 'off',
    },
  },
  {
    files: ['prisma.config.ts', 'apps/*/src/main.ts', 'apps/cli/src/cli-context.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
