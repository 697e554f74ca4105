import { describe, expect, it, beforeAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * What `npm pack` puts in the tarball, and what its built files load: the package a host installs,
 * not the source tree. `npm pack --dry-run` runs the library's prepack, which rebuilds dist/.
 */
const root = process.cwd();
const lib = join(root, 'libs/fulfilment');
const manifest = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

let files: string[] = [];

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false', '-w', 'libs/fulfilment'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path).sort();
}, 120_000);

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

/** The package names a built file loads: static imports, re-exports, require() and import(). */
function importedPackages(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

describe('the published package', () => {
  it('carries README, LICENSE, CHANGELOG and both builds, and no sources, maps or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']));
    for (const format of ['esm', 'cjs']) {
      expect(files).toEqual(
        expect.arrayContaining([
          `dist/${format}/index.js`,
          `dist/${format}/index.d.ts`,
          `dist/${format}/sandbox/index.js`,
          `dist/${format}/sandbox/index.d.ts`,
          // The ops console's templates and stylesheet travel as modules of both builds.
          `dist/${format}/ops/ops-templates.js`,
          `dist/${format}/ops/ops-renderer.js`,
        ]),
      );
    }
    expect(files).toContain('dist/cjs/package.json');
    const unexpected = files.filter((f) => !/^(README\.md|LICENSE|CHANGELOG\.md|package\.json)$/.test(f) && !/^dist\/(esm|cjs)\/.+\.(js|d\.ts)$/.test(f) && f !== 'dist/cjs/package.json');
    expect(unexpected).toEqual([]);
    expect(files.filter((f) => /\.map$|\.spec\.|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('marks dist/cjs as CommonJS and maps import, require and types for both entries', () => {
    expect(JSON.parse(readFileSync(join(lib, 'dist/cjs/package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    const { exports } = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, Record<string, string>>> };
    for (const [entry, dir] of [['.', ''], ['./testing', 'sandbox/']] as const) {
      expect(exports[entry].import).toEqual({ types: `./dist/esm/${dir}index.d.ts`, default: `./dist/esm/${dir}index.js` });
      expect(exports[entry].require).toEqual({ types: `./dist/cjs/${dir}index.d.ts`, default: `./dist/cjs/${dir}index.js` });
    }
  });

  it('declares every package its built files load, and no peer that nothing loads', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const used = new Map<string, string>();
    for (const file of walk(join(lib, 'dist')).filter((f) => f.endsWith('.js'))) {
      for (const name of importedPackages(readFileSync(file, 'utf8'))) used.set(name, relative(lib, file));
    }
    const undeclared = [...used].filter(([name]) => !declared.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(undeclared).toEqual([]);
    expect([...declared].filter((name) => !used.has(name))).toEqual([]);
  });
});

describe('the built main entry', () => {
  // Each check runs in a fresh Node process, as a host would load the package.
  const run = (args: string[], script: string): string =>
    execFileSync(process.execPath, [...args, script], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

  it('require() loads no simulator module', () => {
    const loaded = JSON.parse(
      run(['-e'], `require('nestjs-fulfilment'); console.log(JSON.stringify(Object.keys(require.cache)))`),
    ) as string[];
    expect(loaded.some((f) => f.includes('/libs/fulfilment/dist/cjs/index.js'))).toBe(true);
    expect(loaded.filter((f) => f.includes('/dist/cjs/sandbox/'))).toEqual([]);
    // The check can fail: the testing entry does load them.
    const testing = JSON.parse(run(['-e'], `require('nestjs-fulfilment/testing'); console.log(JSON.stringify(Object.keys(require.cache)))`)) as string[];
    expect(testing.filter((f) => f.includes('/dist/cjs/sandbox/')).length).toBeGreaterThan(3);
  });

  it('renders an ops console page with the template engine from both builds', () => {
    const data = JSON.stringify({ title: 'T', base: '/ops', operator: '<b>x</b>', sections: [], scheduled: '', due: 0, overdue: 0, overdueAfter: '', instanceId: 'i', paused: [], leases: [], ticks: [] });
    const cjs = run(['-e'], `const { OpsRenderer } = require('./libs/fulfilment/dist/cjs/ops/ops-renderer.js'); process.stdout.write(new OpsRenderer().render('sync', ${data}))`);
    const esm = run(['--input-type=module', '-e'], `import { OpsRenderer } from './libs/fulfilment/dist/esm/ops/ops-renderer.js'; process.stdout.write(new OpsRenderer().render('sync', ${data}))`);
    for (const html of [cjs, esm]) {
      expect(html).toContain('<h1>Status sync</h1>');
      expect(html).toContain('signed in as <bdi>&lt;b&gt;x&lt;/b&gt;</bdi>');
    }
  });

  it('import loads no simulator module', () => {
    // A loader hook records every module Node loads, into a file (hooks run on their own thread).
    const dir = mkdtempSync(join(tmpdir(), 'fulfilment-loads-'));
    try {
      const log = join(dir, 'loaded.txt');
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }\n`,
      );
      const loads = (entry: string): string[] => {
        writeFileSync(log, '');
        run(
          ['--input-type=module', '-e'],
          `import { register } from 'node:module'; import { pathToFileURL } from 'node:url'; register(pathToFileURL(${JSON.stringify(hooks)})); await import('${entry}');`,
        );
        return readFileSync(log, 'utf8').split('\n').filter(Boolean);
      };
      const main = loads('nestjs-fulfilment');
      expect(main.some((u) => u.endsWith('/libs/fulfilment/dist/esm/index.js'))).toBe(true);
      expect(main.filter((u) => u.includes('/dist/esm/sandbox/'))).toEqual([]);
      expect(loads('nestjs-fulfilment/testing').filter((u) => u.includes('/dist/esm/sandbox/')).length).toBeGreaterThan(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
