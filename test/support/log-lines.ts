import type { LoggerService } from '@nestjs/common';
import { inspect } from 'node:util';

const render = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' ');

/**
 * A Nest logger that keeps every line of every level (nothing printed), to scan for leaks. Lines
 * go to `lines`, or to `sink` when one is given.
 */
export class LogLines implements LoggerService {
  readonly lines: string[] = [];

  constructor(private readonly sink?: (level: string, line: string) => void) {}

  private keep = (level: string) => (message: unknown, ...params: unknown[]): void => {
    const line = render([message, ...params]);
    if (this.sink) this.sink(level, line);
    else this.lines.push(`${level} ${line}`);
  };

  log = this.keep('log');
  error = this.keep('error');
  warn = this.keep('warn');
  debug = this.keep('debug');
  verbose = this.keep('verbose');
  fatal = this.keep('fatal');

  setLogLevels(): void {
    // Every level stays on: the scan must see everything.
  }
}
