// ESM Jest, as the Nest 12 docs run it: `node --experimental-vm-modules` (see npm test), ts-jest
// transpiling only (isolatedModules); `tsc --noEmit` type-checks the tests.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
};
