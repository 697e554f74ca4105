/**
 * The console's pages as Eta templates (https://eta.js.org), kept as strings so they ship inside
 * both builds with no copy step. Every `<%= %>` is HTML-escaped by Eta (autoEscape); `<%~ %>`
 * (unescaped) is used only for the layout's body and never for a value. Values that come from
 * providers or hosts are wrapped in <bdi>, so right-to-left text cannot reorder the page around it.
 * Links are built by the console (OpsConsole) and only http(s) tracking URLs become links. No
 * script anywhere: every action is a plain form POST.
 */
export const OPS_TEMPLATES = {
  layout: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> · fulfilment ops</title>
<link rel="stylesheet" href="<%= it.base %>/console.css">
</head>
<body>
<header>
<strong class="brand">fulfilment ops</strong>
<nav>
<% it.sections.forEach(function (s) { %><a href="<%= s.href %>"<% if (s.current) { %> aria-current="page"<% } %>><%= s.label %></a>
<% }) %></nav>
<span class="operator">signed in as <bdi><%= it.operator %></bdi></span>
</header>
<main>
<% if (it.notice) { %><p class="notice <%= it.notice.kind %>" role="status"><%= it.notice.text %></p>
<% } %><%~ it.body %>
</main>
</body>
</html>
`,

  orders: `<% layout('@layout') %>
<h1>Orders</h1>
<form method="get" action="<%= it.base %>/orders" class="filters">
<label>Find <input name="q" value="<%= it.filters.q %>" placeholder="host reference, provider id or order id" size="38"></label>
<label>Provider <select name="provider"><option value="">any</option>
<% it.providers.forEach(function (p) { %><option value="<%= p %>"<% if (p === it.filters.provider) { %> selected<% } %>><%= p %></option>
<% }) %></select></label>
<label>Status <select name="status"><option value="">any</option>
<% it.statuses.forEach(function (s) { %><option value="<%= s %>"<% if (s === it.filters.status) { %> selected<% } %>><%= s %></option>
<% }) %></select></label>
<label><input type="checkbox" name="stuck" value="1"<% if (it.filters.stuck) { %> checked<% } %>> stuck: open, unchanged for more than</label>
<label><input name="minutes" type="number" min="1" value="<%= it.filters.minutes %>" class="minutes"> minutes</label>
<button type="submit">Show</button> <a href="<%= it.base %>/orders">clear</a>
</form>
<table class="orders">
<thead><tr><th>Order</th><th>Provider</th><th>Provider id</th><th>Host reference</th><th>Status</th><th>Provider status</th><th>Created</th><th>Last change</th></tr></thead>
<tbody>
<% it.orders.forEach(function (o) { %><tr>
<td><a href="<%= o.href %>"><code><%= o.id %></code></a></td>
<td><%= o.provider %></td>
<td><bdi><%= o.providerOrderId %></bdi></td>
<td><bdi><%= o.hostReference %></bdi></td>
<td><span class="status <%= o.statusClass %>"><%= o.status %></span></td>
<td><bdi><%= o.providerStatus %></bdi></td>
<td><time><%= o.createdAt %></time></td>
<td><time><%= o.updatedAt %></time> <small><%= o.updatedAgo %></small></td>
</tr>
<% }) %></tbody>
</table>
<% if (it.orders.length === 0) { %><p class="empty">No orders match.</p>
<% } %><nav class="pages"><% if (it.firstHref) { %><a href="<%= it.firstHref %>">« first page</a> <% } %><% if (it.nextHref) { %><a href="<%= it.nextHref %>" rel="next">next page »</a><% } %></nav>
`,

  order: `<% layout('@layout') %>
<h1>Order <code><%= it.order.id %></code> <span class="status <%= it.order.statusClass %>"><%= it.order.status %></span></h1>
<section class="facts">
<dl>
<dt>Provider</dt><dd><%= it.order.provider %></dd>
<dt>Provider id</dt><dd><bdi><%= it.order.providerOrderId %></bdi></dd>
<dt>Host reference</dt><dd><bdi><%= it.order.hostReference %></bdi></dd>
<dt>Provider status</dt><dd><bdi><%= it.order.providerStatus %></bdi></dd>
<dt>Service level</dt><dd><bdi><%= it.order.serviceLevel %></bdi></dd>
<dt>Tracking</dt><dd><bdi><%= it.order.trackingNumber %></bdi>
<% if (it.order.trackingHref) { %> <a href="<%= it.order.trackingHref %>" rel="noreferrer noopener">tracking page</a><% } else if (it.order.trackingUrl) { %> <bdi><%= it.order.trackingUrl %></bdi><% } %></dd>
<dt>ETA</dt><dd><time><%= it.order.eta %></time></dd>
<dt>Created</dt><dd><time><%= it.order.createdAt %></time></dd>
<dt>Last change</dt><dd><time><%= it.order.updatedAt %></time> <small><%= it.order.updatedAgo %></small></dd>
<dt>Last synced</dt><dd><time><%= it.order.lastSyncedAt %></time></dd>
<dt>Next sync</dt><dd><time><%= it.order.nextSyncAt %></time></dd>
<dt>Last error</dt><dd><bdi><%= it.order.lastError %></bdi></dd>
</dl>
</section>
<section class="actions">
<h2>Actions</h2>
<% if (it.actions.refresh) { %><form method="post" action="<%= it.order.href %>/refresh"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><button type="submit">Refresh now</button></form>
<% } %><% if (it.actions.cancel) { %><form method="post" action="<%= it.order.href %>/cancel"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><button type="submit" class="danger">Cancel at <%= it.order.provider %></button></form>
<% } %><% if (it.actions.resolve) { %><form method="post" action="<%= it.order.href %>/resolve" class="resolve"><input type="hidden" name="_csrf" value="<%= it.csrf %>">
<label>Found at <%= it.order.provider %> as <input name="providerOrderId" required maxlength="64" placeholder="provider order id"></label> <button type="submit">Link it</button></form>
<form method="post" action="<%= it.order.href %>/resolve"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><input type="hidden" name="notCreated" value="1"><button type="submit" class="danger">Close as not created</button></form>
<% } %><% if (!it.actions.refresh && !it.actions.cancel && !it.actions.resolve) { %><p class="empty">No action applies to this order.</p>
<% } %></section>
<section>
<h2>Status timeline</h2>
<table class="timeline">
<thead><tr><th>When</th><th>Status</th><th>Provider status</th><th>Source</th><th>By</th><th>Provider time</th></tr></thead>
<tbody>
<% it.history.forEach(function (h) { %><tr>
<td><time><%= h.occurredAt %></time></td>
<td><%= h.fromStatus %> → <span class="status <%= h.statusClass %>"><%= h.toStatus %></span></td>
<td><bdi><%= h.fromProviderStatus %></bdi> → <bdi><%= h.toProviderStatus %></bdi></td>
<td><span class="source"><%= h.source %></span></td>
<td><bdi><%= h.actor %></bdi></td>
<td><time><%= h.providerTimestamp %></time></td>
</tr>
<% }) %></tbody>
</table>
</section>
<section>
<h2>Webhook events</h2>
<% if (it.events.length === 0) { %><p class="empty"><%= it.eventsNote %></p>
<% } else { %><%~ include('@events', it) %><% } %>
</section>
`,

  events: `<table class="events">
<thead><tr><th>Received</th><th>Topic</th><th>Provider id</th><th>Provider status</th><th>Provider time</th><th>Outcome</th><th>Error</th><th></th></tr></thead>
<tbody>
<% it.events.forEach(function (e) { %><tr>
<td><time><%= e.receivedAt %></time></td>
<td><%= e.topic %></td>
<td><% if (e.orderSearchHref) { %><a href="<%= e.orderSearchHref %>"><bdi><%= e.entityId %></bdi></a><% } else { %><bdi><%= e.entityId %></bdi><% } %></td>
<td><bdi><%= e.providerStatus %></bdi></td>
<td><time><%= e.providerTimestamp %></time></td>
<td><span class="outcome o-<%= e.outcome %>"><%= e.outcome %></span></td>
<td><bdi><%= e.error %></bdi></td>
<td><% if (e.replayable) { %><form method="post" action="<%= it.base %>/webhooks/replay"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><input type="hidden" name="event" value="<%= e.dedupKey %>"><button type="submit">Replay</button></form><% } %></td>
</tr>
<% }) %></tbody>
</table>
`,

  webhooks: `<% layout('@layout') %>
<h1>Webhooks</h1>
<nav class="tabs">
<% it.tabs.forEach(function (t) { %><a href="<%= t.href %>"<% if (t.current) { %> aria-current="page"<% } %>><%= t.label %></a>
<% }) %></nav>
<% if (it.stored) { %><p class="hint"><%= it.tabHint %></p>
<% if (it.events.length === 0) { %><p class="empty">No <%= it.outcome %> events.</p>
<% } else { %><%~ include('@events', it) %><% } %>
<nav class="pages"><% if (it.firstHref) { %><a href="<%= it.firstHref %>">« newest</a> <% } %><% if (it.nextHref) { %><a href="<%= it.nextHref %>" rel="next">older »</a><% } %></nav>
<% } else { %><p class="hint"><%= it.tabHint %> <%= it.unstoredCount %> since this replica started.</p>
<table class="unstored">
<thead><tr><th>When</th><th>Topic</th><th>Provider id</th><th>Reason</th><th>Fields</th></tr></thead>
<tbody>
<% it.unstored.forEach(function (w) { %><tr><td><time><%= w.at %></time></td><td><%= w.topic %></td><td><bdi><%= w.entityId %></bdi></td><td><%= w.reason %></td><td><bdi><%= w.fields %></bdi></td></tr>
<% }) %></tbody>
</table>
<% if (it.unstored.length === 0) { %><p class="empty">None.</p>
<% } %><% } %>
<h2>Registrations</h2>
<table class="registrations">
<thead><tr><th>Provider</th><th>Topic</th><th>Callback URL (without its token)</th><th>Secret</th><th>Registered</th><th>Confirmed</th></tr></thead>
<tbody>
<% it.registrations.forEach(function (r) { %><tr><td><%= r.provider %></td><td><%= r.topic %></td><td><bdi><%= r.callbackUrl %></bdi></td><td><code><%= r.secretFingerprint %></code> <small><%= r.secretNote %></small></td><td><time><%= r.registeredAt %></time></td><td><% if (r.confirmedAt) { %><time><%= r.confirmedAt %></time><% } else { %><span class="outcome o-failed">not confirmed</span><% } %></td></tr>
<% }) %></tbody>
</table>
<% if (it.registrations.length === 0) { %><p class="empty">No webhook registrations.</p>
<% } %>`,

  sync: `<% layout('@layout') %>
<h1>Status sync</h1>
<section class="facts">
<dl>
<dt>Scheduled</dt><dd><%= it.scheduled %></dd>
<dt>Due now</dt><dd><%= it.due %></dd>
<dt>Overdue</dt><dd><%= it.overdue %> <small>(due for more than <%= it.overdueAfter %>)</small></dd>
<dt>This replica</dt><dd><code><%= it.instanceId %></code></dd>
</dl>
</section>
<h2>Paused providers</h2>
<% if (it.paused.length === 0) { %><p class="empty">No provider is paused.</p>
<% } else { %><table class="paused"><thead><tr><th>Provider</th><th>Paused until</th></tr></thead><tbody>
<% it.paused.forEach(function (p) { %><tr><td><%= p.provider %></td><td><time><%= p.until %></time> <small><%= p.left %></small></td></tr>
<% }) %></tbody></table>
<% } %>
<h2>Leases per replica</h2>
<% if (it.leases.length === 0) { %><p class="empty">No order is leased right now.</p>
<% } else { %><table class="leases"><thead><tr><th>Replica</th><th>Orders leased</th><th>Until</th></tr></thead><tbody>
<% it.leases.forEach(function (l) { %><tr><td><code><%= l.owner %></code><% if (l.self) { %> <small>(this replica)</small><% } %></td><td><%= l.orders %></td><td><time><%= l.until %></time></td></tr>
<% }) %></tbody></table>
<% } %>
<h2>Last ticks of this replica</h2>
<% if (it.ticks.length === 0) { %><p class="empty">No tick has run on this replica yet.</p>
<% } else { %><table class="ticks"><thead><tr><th>Started</th><th>Took</th><th>Claimed</th><th>Changed</th><th>Read failures</th><th>Error</th></tr></thead><tbody>
<% it.ticks.forEach(function (t) { %><tr><td><time><%= t.startedAt %></time></td><td><%= t.took %></td><td><%= t.claimed %></td><td><%= t.changed %></td><td><%= t.failed %></td><td><bdi><%= t.error %></bdi></td></tr>
<% }) %></tbody></table>
<% } %>`,
} as const;

export type OpsTemplateName = keyof typeof OPS_TEMPLATES;

/** The console's stylesheet (served by the console itself: the Content-Security-Policy allows no inline style). */
export const OPS_STYLESHEET = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5d6677; --line: #d9dde5; --bg: #f6f7f9; --accent: #2354c7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #1d2330; color: #fff; }
header a { color: #cdd6ea; text-decoration: none; margin-right: 1rem; }
header a[aria-current] { color: #fff; border-bottom: 2px solid #7ea2ff; }
.brand { font-weight: 700; letter-spacing: .02em; }
.operator { margin-left: auto; color: #aab4c8; }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f4; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
a { color: var(--accent); }
small, .hint, .empty { color: var(--muted); }
.filters { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: center; margin-bottom: 1rem; padding: .7rem; background: #fff; border: 1px solid var(--line); }
.filters .minutes { width: 5em; }
input, select, button { font: inherit; }
input, select { padding: .2rem .35rem; border: 1px solid #b8bfcc; border-radius: 3px; }
button { padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 3px; cursor: pointer; }
button.danger { background: #fff; color: #b3261e; border-color: #b3261e; }
.actions form { display: inline-block; margin: 0 .6rem .6rem 0; }
.facts dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; background: #fff; border: 1px solid var(--line); padding: .8rem 1rem; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.status, .outcome, .source { display: inline-block; padding: 0 .45rem; border-radius: 9px; font-size: 12px; background: #e7eaf0; }
.s-delivered, .o-applied { background: #d8f0de; color: #1b5e2b; }
.s-in_transit, .s-accepted { background: #dde8fb; color: #1f4aa8; }
.s-unknown, .s-delivery_failed, .s-returned, .o-failed, .o-unmatched { background: #fbe0de; color: #8c1d18; }
.s-cancelled, .s-not_created, .o-stale, .o-duplicate { background: #ece7f6; color: #4f3d86; }
.tabs { margin-bottom: .8rem; }
.tabs a { margin-right: .9rem; }
.tabs a[aria-current] { font-weight: 700; color: var(--ink); text-decoration: none; }
.notice { padding: .6rem .8rem; border-radius: 4px; background: #e3f1e6; border: 1px solid #a9d3b3; }
.notice.error { background: #fbe8e6; border-color: #e6aaa4; }
.pages { margin-top: .8rem; }
`;
