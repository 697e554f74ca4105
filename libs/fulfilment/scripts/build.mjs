// Builds both module formats of the library from one source tree, with two tsc passes:
//   dist/esm  ES modules (module nodenext), for `import`
//   dist/cjs  CommonJS (module commonjs), for `require` and a CommonJS host's Jest
// tsc, not a bundler: Nest DI and TypeORM columns need emitDecoratorMetadata, which esbuild (and
// so tsup) does not emit, and unbundled files keep every class and token in one file per format.
// `--docs` (prepack) also copies the repository's README, LICENSE and CHANGELOG into the package.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(lib, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(lib, project)], { stdio: 'inherit' });
}
// The package is "type": "module"; this marks the files under dist/cjs as CommonJS.
writeFileSync(join(lib, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

if (process.argv.includes('--docs')) {
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) copyFileSync(join(lib, '../..', file), join(lib, file));
}
