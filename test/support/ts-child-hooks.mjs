// Lets a child process of a test run the library's TypeScript sources, as Jest does for the test
// itself (same transpile settings: isolated modules, legacy decorators with metadata), so a test
// can start a second process on the code under test without a build:
//   node --import ./test/support/ts-child-hooks.mjs child.ts
// `.js` specifiers of a .ts file go to the .ts beside them; `nestjs-fulfilment` goes to the sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

// Imported with --import (main thread): registers this same file as the hooks (run off-thread).
if (isMainThread) register(import.meta.url);

const root = new URL('../../', import.meta.url);
const entries = {
  'nestjs-fulfilment': new URL('libs/fulfilment/src/index.ts', root).href,
  'nestjs-fulfilment/testing': new URL('libs/fulfilment/src/sandbox/index.ts', root).href,
};

export async function resolve(specifier, context, next) {
  if (entries[specifier]) return { url: entries[specifier], shortCircuit: true };
  if (context.parentURL?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

// Transpiled files are kept by hash (these hooks, path, source): a child starts in about a second instead of four.
const cache = join(tmpdir(), 'nestjs-fulfilment-ts-child');
const hooks = readFileSync(fileURLToPath(import.meta.url));
let ts;
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const cached = join(cache, `${createHash('sha256').update(hooks).update(url).update(source).digest('hex')}.js`);
  if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  ts ??= (await import(pathToFileURL(fileURLToPath(new URL('node_modules/typescript/lib/typescript.js', root))).href)).default;
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
      esModuleInterop: true,
    },
  });
  mkdirSync(cache, { recursive: true });
  // Renamed into place: a child starting at the same time never reads half a file.
  writeFileSync(`${cached}.${process.pid}`, outputText);
  renameSync(`${cached}.${process.pid}`, cached);
  return { format: 'module', source: outputText, shortCircuit: true };
}
