import { STATUS_CODES } from 'node:http';
import {
  FulfilmentConfigurationError,
  FulfilmentError,
  FulfilmentNotFoundError,
  FulfilmentOptionsError,
  FulfilmentUnsupportedOperationError,
  FulfilmentValidationError,
  OrderOutcomeUnknownError,
  OrderStateError,
} from '../orders/fulfilment-errors.js';
import {
  ProviderConflictError,
  ProviderError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderRetryAfterError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  ProviderValidationError,
  providerDisplayName,
  type ProviderErrorCode,
  type ProviderName,
} from '../http/provider-errors.js';

/** Machine-readable kind of an answer (stable: a host's clients may switch on it). */
export type FulfilmentErrorType =
  | 'invalid_input'
  | 'not_found'
  | 'order_state_conflict'
  | 'unsupported_operation'
  | 'order_outcome_unknown'
  | 'not_configured'
  | 'invalid_options'
  | 'fulfilment_error'
  | `provider_${ProviderErrorCode}`;

/** The JSON body of every answer the module's errors map to. */
export interface FulfilmentErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, as in Nest's own error answers (`Not Found`). */
  error: string;
  type: FulfilmentErrorType;
  message: string;
  /** Invalid input only: each bad field's path and the first rule it broke (never its value). */
  fields?: Array<{ path: string; message: string }>;
  provider?: ProviderName;
  /**
   * When the provider refused the request (its 400, 404, 405, 406, 409, 422...): its own explanation, scrubbed
   * of our credentials and of every value the request sent. Never for 401/403, 429, 5xx or
   * transport failures, whose bodies say nothing the host's client can act on.
   */
  providerMessage?: string;
}

export interface FulfilmentHttpError {
  statusCode: number;
  body: FulfilmentErrorBody;
  /** Headers to send with it: `Retry-After` (seconds) when the provider asked us to wait. */
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  type: FulfilmentErrorType;
  message: string;
  fields?: FulfilmentErrorBody['fields'];
  provider?: ProviderName;
  providerMessage?: string;
  retryAfterMs?: number;
}

/** What each provider failure tells the host's client; the provider's name goes in front. */
const PROVIDER_FAILURES: Record<ProviderErrorCode, string> = {
  validation: 'refused the request as invalid',
  conflict: 'refused the request in the current state of the order',
  not_found: 'does not know the requested object',
  request: 'refused the request',
  auth: 'refused the credentials of this service',
  rate_limited: 'is limiting requests; try again later',
  unavailable: 'is unavailable; try again later',
  timeout: 'did not answer in time',
  network: 'could not be reached',
  invalid_response: 'answered with a response that could not be read',
};

/**
 * A provider failure is not the host's client's fault, so most are 502/503/504. Only a refusal
 * that the client can act on keeps a 4xx: invalid content (422) and a state conflict (409 only; a
 * provider's 405/406 is a wrong route or format, the module's fault, so 502 as any other 4xx).
 */
function providerStatus(error: ProviderError): number {
  if (error instanceof ProviderValidationError) return 422;
  if (error instanceof ProviderConflictError) return 409;
  if (error instanceof ProviderRateLimitError) return 503;
  if (error instanceof ProviderUnavailableError) return error.status === 503 ? 503 : 502;
  if (error instanceof ProviderTimeoutError) return 504;
  return 502;
}

/** Refusals whose message explains what to change; other failures' bodies are infrastructure noise. */
const isRefusal = (error: ProviderError): boolean =>
  error instanceof ProviderValidationError ||
  error instanceof ProviderConflictError ||
  error instanceof ProviderNotFoundError ||
  error instanceof ProviderRequestError;

function answerOf(error: FulfilmentError): Answer {
  if (error instanceof FulfilmentValidationError) {
    return { status: 400, type: 'invalid_input', message: error.message, fields: error.fields };
  }
  if (error instanceof FulfilmentNotFoundError) return { status: 404, type: 'not_found', message: error.message };
  if (error instanceof OrderStateError) return { status: 409, type: 'order_state_conflict', message: error.message };
  if (error instanceof FulfilmentUnsupportedOperationError) {
    return { status: 422, type: 'unsupported_operation', message: error.message, provider: error.provider };
  }
  if (error instanceof OrderOutcomeUnknownError) {
    const status = error.cause instanceof ProviderTimeoutError ? 504 : 502;
    return { status, type: 'order_outcome_unknown', message: error.message, provider: error.provider };
  }
  if (error instanceof FulfilmentConfigurationError) return { status: 500, type: 'not_configured', message: error.message };
  if (error instanceof FulfilmentOptionsError) return { status: 500, type: 'invalid_options', message: 'Invalid FulfilmentModule options' };
  if (error instanceof ProviderError) {
    return {
      status: providerStatus(error),
      type: `provider_${error.code}`,
      message: `${providerDisplayName(error.provider)} ${PROVIDER_FAILURES[error.code]}`,
      provider: error.provider,
      providerMessage: isRefusal(error) ? error.providerMessage : undefined,
      retryAfterMs: error instanceof ProviderRetryAfterError ? error.retryAfterMs : undefined,
    };
  }
  // A FulfilmentError of no listed kind: its message was not written for clients.
  return { status: 500, type: 'fulfilment_error', message: 'The fulfilment module could not complete the request' };
}

/**
 * The HTTP answer for an error the module threw (any FulfilmentError, provider failures included),
 * or undefined for any other error. For a host's own exception filter; FulfilmentExceptionFilter
 * sends exactly this. The body never holds a secret or a patient value: the module's messages
 * name paths, ids and statuses only, and provider messages are scrubbed (see FulfilmentErrorBody).
 */
export function toHttpError(error: unknown): FulfilmentHttpError | undefined {
  if (!(error instanceof FulfilmentError)) return undefined;
  const answer = answerOf(error);
  const body: FulfilmentErrorBody = {
    statusCode: answer.status,
    error: STATUS_CODES[answer.status] ?? 'Error',
    type: answer.type,
    message: answer.message,
  };
  if (answer.fields) body.fields = answer.fields;
  if (answer.provider) body.provider = answer.provider;
  if (answer.providerMessage) body.providerMessage = answer.providerMessage;
  const headers: Record<string, string> = {};
  if (answer.status === 503 && answer.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(answer.retryAfterMs / 1000));
  return { statusCode: answer.status, body, headers };
}
