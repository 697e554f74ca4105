import { Eta } from 'eta';
import { OPS_TEMPLATES, type OpsTemplateName } from './ops-templates.js';

/**
 * Renders the console's pages with Eta: escaping on by default (every `<%= %>`), templates
 * compiled once from the strings in ops-templates.ts, no files read at run time.
 */
export class OpsRenderer {
  private readonly eta = new Eta({ autoEscape: true, cache: true, useWith: false });

  constructor() {
    for (const [name, template] of Object.entries(OPS_TEMPLATES)) this.eta.loadTemplate(`@${name}`, template);
  }

  render(page: OpsTemplateName, data: object): string {
    return this.eta.render(`@${page}`, data);
  }
}
