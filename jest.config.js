// ESM Jest: run through `node --experimental-vm-modules` (see package.json scripts).
// Type-checking is `tsc --noEmit` (npm test runs it first); ts-jest only transpiles here.
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-fulfilment$': '<rootDir>/libs/fulfilment/src/index.ts',
    '^nestjs-fulfilment/testing$': '<rootDir>/libs/fulfilment/src/sandbox/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 60000,
};

const reliability = process.env.FULFILMENT_TEST_SUITE === 'reliability';

export default {
  ...base,
  testMatch: reliability
    ? ['<rootDir>/test/reliability/**/*.spec.ts']
    : ['<rootDir>/test/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
  // test/hosts/: fixture hosts with their own Jest setups, run by `npm run test:hosts`.
  testPathIgnorePatterns: reliability
    ? ['/node_modules/', '<rootDir>/test/hosts/']
    : ['/node_modules/', '<rootDir>/test/reliability/', '<rootDir>/test/hosts/'],
};
