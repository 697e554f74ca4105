import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpsConsoleOptions } from 'nestjs-fulfilment';
import { HostConfigError } from './fulfilment-config.js';

/** `user:password` from OPS_BASIC_AUTH, or undefined (console off); a value without both parts refuses to boot. */
function credentialsFrom(value: string | undefined): { user: string; password: string } | undefined {
  if (!value) return undefined;
  const colon = value.indexOf(':');
  if (colon < 1 || colon === value.length - 1) throw new HostConfigError('OPS_BASIC_AUTH must be user:password (both non-empty)');
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The sample host's access check for the module's ops console: HTTP Basic against
 * OPS_BASIC_AUTH. A host with its own sign-in (sessions, SSO, JWT) puts its own guard here instead;
 * the console only needs `request.user` (or a function's answer) to name the operator.
 */
@Injectable()
export class OpsBasicAuthGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly user: string;

  constructor(
    config: ConfigService,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const credentials = credentialsFrom(config.get<string>('OPS_BASIC_AUTH'));
    if (!credentials) throw new HostConfigError('OPS_BASIC_AUTH is not set: the ops console should not be mounted');
    this.user = credentials.user;
    this.expected = digest(`${credentials.user}:${credentials.password}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined>; user?: unknown }>();
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
    // Hashes of equal length, compared in constant time: the answer says nothing of how close a guess was.
    if (match && timingSafeEqual(digest(Buffer.from(match[1], 'base64').toString('utf8')), this.expected)) {
      request.user = { username: this.user };
      return true;
    }
    // The browser asks for credentials on this header.
    this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'www-authenticate', 'Basic realm="fulfilment ops", charset="UTF-8"');
    throw new UnauthorizedException('sign in to the ops console');
  }
}

/** The console at /ops behind HTTP Basic when OPS_BASIC_AUTH is set (`user:password`); off otherwise. */
export function opsConsoleFromEnv(env: NodeJS.ProcessEnv = process.env): OpsConsoleOptions | undefined {
  if (!credentialsFrom(env.OPS_BASIC_AUTH)) return undefined;
  return { path: 'ops', guard: OpsBasicAuthGuard, csrfSecret: env.OPS_CSRF_SECRET || undefined };
}
