import { Get, Inject, Injectable, Post, Req, Res } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { ResolvedOpsOptions } from '../fulfilment.options.js';
import { FulfilmentError } from '../fulfilment-error.js';
import { toHttpError } from '../host-http/to-http-error.js';
import { OPS_OPTIONS, Operator } from './ops-access.guard.js';
import { DONE_NOTICES, OpsConsole, REPLAY_OUTCOMES, type DoneNotice, type Notice, type Query } from './ops-console.service.js';
import { OpsCsrf } from './ops-csrf.js';
import { OpsRenderer } from './ops-renderer.js';
import { OPS_STYLESHEET, type OpsTemplateName } from './ops-templates.js';

/** What the console reads of the adapter's request (express and Fastify both have these). */
interface ConsoleRequest {
  query?: Query;
  body?: unknown;
  params?: Record<string, string>;
}

/**
 * Sent with every page: no script, style only from the console's own stylesheet, forms only to
 * itself, never framed. Pages hold operator actions, so they are not cached.
 */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const SECTIONS = [
  { key: 'orders', label: 'Orders' },
  { key: 'webhooks', label: 'Webhooks' },
  { key: 'sync', label: 'Sync' },
] as const;

const joinPath = (...parts: string[]): string => `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
const formOf = (req: ConsoleRequest): Query => (typeof req.body === 'object' && req.body !== null ? (req.body as Query) : {});

/**
 * The ops console's routes. Served at the `ops.path` option (set on a subclass per module: see
 * bindOpsConsole) behind the host's guard and OpsAccessGuard. Answers go through the app's HTTP
 * adapter, the same on express and Fastify; actions answer 303 to the page that shows their result.
 * (Injectable only so its constructor's types are recorded for the subclass to inherit.)
 */
@Injectable()
export class OpsConsoleController {
  constructor(
    private readonly console: OpsConsole,
    private readonly renderer: OpsRenderer,
    private readonly csrf: OpsCsrf,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ApplicationConfig,
    @Inject(OPS_OPTIONS) private readonly ops: ResolvedOpsOptions,
  ) {}

  @Get(['', 'orders'])
  async orders(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    const { data, problems } = await this.console.ordersPage(this.base(), req.query ?? {});
    this.page(res, operator, 'orders', 'Orders', data, problems.length ? { kind: 'error', text: problems.join('; ') } : undefined, problems.length ? 400 : 200);
  }

  @Get('orders/:id')
  async order(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    const done = req.query?.done;
    const result = typeof req.query?.result === 'string' && REPLAY_OUTCOMES.includes(req.query.result) ? req.query.result : undefined;
    await this.orderPage(res, operator, req.params?.id ?? '', typeof done === 'string' && done in DONE_NOTICES ? { kind: 'done', text: this.doneText(done as DoneNotice, result) } : undefined);
  }

  @Post('orders/:id/refresh')
  refresh(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    return this.act(res, operator, req, async (id) => (await this.console.refresh(id, operator), 'refreshed'));
  }

  @Post('orders/:id/cancel')
  cancel(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    return this.act(res, operator, req, async (id) => (await this.console.cancel(id, operator), 'cancelled'));
  }

  @Post('orders/:id/resolve')
  resolve(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    return this.act(res, operator, req, (id) => this.console.resolve(id, formOf(req), operator));
  }

  @Get('webhooks')
  async webhooks(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    const { data, problems } = await this.console.webhooksPage(this.base(), req.query ?? {});
    const result = req.query?.done === 'replayed' && typeof req.query.result === 'string' && REPLAY_OUTCOMES.includes(req.query.result) ? req.query.result : undefined;
    const notice: Notice | undefined = problems.length ? { kind: 'error', text: problems.join('; ') } : result ? { kind: 'done', text: this.doneText('replayed', result) } : undefined;
    this.page(res, operator, 'webhooks', 'Webhooks', data, notice, problems.length ? 400 : 200);
  }

  @Post('webhooks/replay')
  async replay(@Req() req: ConsoleRequest, @Operator() operator: string, @Res() res: unknown): Promise<void> {
    const event = formOf(req).event;
    const { outcome, from, orderId, problem } = typeof event === 'string' && event !== '' ? await this.console.replay(event, operator) : { problem: 'event is required', from: undefined };
    if (problem) {
      const { data } = await this.console.webhooksPage(this.base(), { outcome: from ?? 'failed' });
      return this.page(res, operator, 'webhooks', 'Webhooks', data, { kind: 'error', text: problem }, 409);
    }
    const target = orderId ? `${this.base()}/orders/${encodeURIComponent(orderId)}` : `${this.base()}/webhooks`;
    const query = new URLSearchParams({ ...(orderId ? {} : { outcome: outcome! }), done: 'replayed', result: outcome! });
    this.adapterHost.httpAdapter.redirect(res, 303, `${target}?${query.toString()}`);
  }

  @Get('sync')
  async sync(@Operator() operator: string, @Res() res: unknown): Promise<void> {
    this.page(res, operator, 'sync', 'Sync', await this.console.syncPage());
  }

  @Get('console.css')
  stylesheet(@Res() res: unknown): void {
    this.send(res, 200, 'text/css; charset=utf-8', OPS_STYLESHEET);
  }

  // --- answers -------------------------------------------------------------------------------

  /** The console's root as the app serves it (under the global prefix). */
  private base(): string {
    return joinPath(this.config.getGlobalPrefix(), this.ops.path);
  }

  private async orderPage(res: unknown, operator: string, orderId: string, notice?: Notice, status = 200): Promise<void> {
    const data = await this.console.orderPage(this.base(), orderId);
    if (!data) return this.page(res, operator, 'orders', 'Order not found', await this.emptyOrders(), { kind: 'error', text: `No order ${orderId}.` }, 404);
    this.page(res, operator, 'order', `Order ${orderId}`, data, notice, status);
  }

  private async emptyOrders(): Promise<object> {
    return (await this.console.ordersPage(this.base(), {})).data;
  }

  /**
   * Runs an order action; 303 to the order's page with what it did, or the order's page again
   * with the module's error (its documented status, e.g. 409 for a terminal order).
   */
  private async act(res: unknown, operator: string, req: ConsoleRequest, action: (orderId: string) => Promise<DoneNotice>): Promise<void> {
    const orderId = req.params?.id ?? '';
    try {
      const done = await action(orderId);
      this.adapterHost.httpAdapter.redirect(res, 303, `${this.base()}/orders/${encodeURIComponent(orderId)}?done=${done}`);
    } catch (err) {
      if (!(err instanceof FulfilmentError)) throw err;
      await this.orderPage(res, operator, orderId, { kind: 'error', text: err.message }, toHttpError(err)?.statusCode ?? 500);
    }
  }

  private doneText(done: DoneNotice, result?: string): string {
    return result ? `${DONE_NOTICES[done]} Outcome: ${result}.` : DONE_NOTICES[done];
  }

  private page(res: unknown, operator: string, template: OpsTemplateName, title: string, data: object, notice?: Notice, status = 200): void {
    const base = this.base();
    const section = template === 'order' ? 'orders' : template;
    const html = this.renderer.render(template, {
      ...data,
      title,
      base,
      operator,
      notice,
      csrf: this.csrf.issue(operator),
      sections: SECTIONS.map((s) => ({ label: s.label, href: `${base}/${s.key}`, current: s.key === section })),
    });
    this.send(res, status, 'text/html; charset=utf-8', html);
  }

  private send(res: unknown, status: number, type: string, body: string): void {
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries({ ...PAGE_HEADERS, 'content-type': type })) adapter.setHeader(res, name, value);
    adapter.reply(res, body, status);
  }
}
