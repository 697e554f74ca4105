// A leaf file: every layer (the HTTP core included) derives its errors from this one class.

/**
 * Root of every error the module throws: its own (below) and the provider call failures
 * (ProviderError, see http/provider-errors.ts). `instanceof FulfilmentError` catches them all, and
 * `toHttpError()` / FulfilmentExceptionFilter map each kind to one HTTP answer.
 *
 * Messages name operations, field paths, ids and statuses; never a secret or a patient value, so a
 * message may be logged or shown to the host's client as it is.
 */
export class FulfilmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
