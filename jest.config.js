// Jest runs the TypeScript sources as native ESM (NestJS 12 is ESM-only), compiled by SWC with
// the same decorator settings as the build. Requires `node --experimental-vm-modules` (npm test).
const swc = {
  swcrc: false,
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  // `#agentplane/<lib>` resolves to the TypeScript sources under this condition (package.json imports).
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', 'agentplane:source'] },
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Small tests sit beside the code (*.spec.ts); tests against a real database and over HTTP
  // live in test/ (*.e2e-spec.ts) and drive the built app (npm test builds first).
  testMatch: [
    '<rootDir>/apps/**/*.spec.ts',
    '<rootDir>/libs/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
    '<rootDir>/test/**/*.medium-spec.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
