import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { postgresUrl, type TestDatabase } from './test-database.js';
import type { ChildConfig, ChildStep } from './zone-replica-child.js';

const HOOKS = fileURLToPath(new URL('./ts-child-hooks.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./zone-replica-child.ts', import.meta.url));

export type { ChildStep };

/**
 * Runs `steps` in a child process with `TZ=tz` on the test's database (the library's sources, see
 * zone-replica-child.ts) and returns its answers, one per step, dates as ISO strings.
 */
export async function inZone(tz: string, db: TestDatabase, steps: ChildStep[]): Promise<{ zone: string; answers: any[] }> {
  const options = db.options as { schema?: string; database?: string };
  const config: ChildConfig = { url: db.kind === 'postgres' ? postgresUrl() : `sqlite:${options.database}`, schema: options.schema, steps };
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', HOOKS, CHILD], {
    env: { ...process.env, TZ: tz, TZ_CHILD: JSON.stringify(config), NODE_OPTIONS: '' },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}
