import { ForbiddenException, Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { OpsRequest, ResolvedOpsOptions } from '../fulfilment.options.js';
import { OpsCsrf } from './ops-csrf.js';

export const OPS_OPTIONS = Symbol('FULFILMENT_OPS_OPTIONS');

/** Where the guard leaves the operator's name on the request. */
const OPERATOR = Symbol('fulfilment.opsOperator');

type ConsoleRequest = OpsRequest & { body?: unknown; [OPERATOR]?: string };

/** Longest operator name kept (the history's `actor` column). */
const MAX_ACTOR_LENGTH = 128;

/** The operator's name a guard class left in `request.user`, as Passport-style guards do. */
function nameOf(user: unknown): string | undefined {
  if (typeof user === 'string') return user;
  if (typeof user !== 'object' || user === null) return undefined;
  const u = user as Record<string, unknown>;
  for (const key of ['username', 'name', 'email', 'sub', 'id']) {
    if (typeof u[key] === 'string' || typeof u[key] === 'number') return String(u[key]);
  }
  return undefined;
}

/** Printable, one line, bounded: it lands in the history table and on pages. */
const cleanName = (name: string): string => name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, MAX_ACTOR_LENGTH);

/**
 * Runs after the host's guard class (or runs the host's function): no operator, no console (403,
 * nothing rendered). On every POST the form's CSRF token must be the operator's (403 otherwise,
 * before the action runs).
 */
@Injectable()
export class OpsAccessGuard implements CanActivate {
  constructor(
    @Inject(OPS_OPTIONS) private readonly options: ResolvedOpsOptions,
    private readonly csrf: OpsCsrf,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const { guard } = this.options;
    // A guard class has run before this one (and let the request through).
    const given = guard.kind === 'function' ? await guard.check(request) : (nameOf(request.user) ?? 'operator');
    const actor = typeof given === 'string' ? cleanName(given) : '';
    if (!actor) throw new ForbiddenException('access to the ops console was refused');
    request[OPERATOR] = actor;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>)._csrf : undefined;
      if (!this.csrf.verify(actor, token)) throw new ForbiddenException('the form\'s CSRF token is missing or invalid: reload the page and try again');
    }
    return true;
  }
}

/** The operator the access guard admitted. */
export const Operator = createParamDecorator((_data: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<ConsoleRequest>()[OPERATOR]!);
