/**
 * Errors in Stripe's wire format. The SDK picks its error class from the status
 * and `type`: 400/404 → StripeInvalidRequestError, 401 → StripeAuthenticationError,
 * 402 → StripeCardError, `idempotency_error` → StripeIdempotencyError.
 */

export type StripeErrorType =
  | "invalid_request_error"
  | "idempotency_error"
  | "card_error"
  | "api_error";

export interface StripeErrorBody {
  error: { type: StripeErrorType; message: string; param?: string; code?: string };
}

export class StripeApiError extends Error {
  readonly statusCode: number;
  readonly type: StripeErrorType;
  readonly param?: string;
  readonly code?: string;

  constructor(
    statusCode: number,
    message: string,
    details: { type?: StripeErrorType; param?: string; code?: string } = {},
  ) {
    super(message);
    this.statusCode = statusCode;
    this.type = details.type ?? "invalid_request_error";
    this.param = details.param;
    this.code = details.code;
  }

  toBody(): StripeErrorBody {
    const error: StripeErrorBody["error"] = { type: this.type, message: this.message };
    if (this.param) error.param = this.param;
    if (this.code) error.code = this.code;
    return { error };
  }
}

/** 404 for an ID that names nothing, worded like Stripe: "No such price: 'price_x'". */
export function noSuchObject(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(404, `No such ${kind}: '${id}'`, {
    param,
    code: "resource_missing",
  });
}

/** 400 for a parameter that is present but not acceptable. */
export function invalidParam(param: string, message: string): StripeApiError {
  return new StripeApiError(400, message, { param, code: "parameter_invalid" });
}

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(400, `Missing required param: ${param}.`, {
    param,
    code: "parameter_missing",
  });
}
