/**
 * Error bodies exactly as SGLang's FastAPI app returns them (http_server.py, serving_base.py):
 * OpenAI-style `ErrorResponse` for validation and OpenAI routes, `{"error": {"message"}}` for
 * /generate ValueErrors, FastAPI's `{"detail": ...}` for unknown routes.
 */
export class WireError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message?: string,
  ) {
    super(message ?? `HTTP ${status}`);
    this.name = 'WireError';
  }
}

/** pydantic ErrorResponse{object, message, type, param, code} */
export function openaiErrorBody(message: string, type: string, code: number): unknown {
  return { object: 'error', message, type, param: null, code };
}

/** RequestValidationError -> 400 with type "Bad Request" (SGLang overrides FastAPI's 422) */
export function validationError(message: string): WireError {
  return new WireError(400, openaiErrorBody(message, 'Bad Request', 400), message);
}

/** OpenAI handlers' create_error_response: 400 BadRequestError */
export function openaiBadRequest(message: string): WireError {
  return new WireError(400, openaiErrorBody(message, 'BadRequestError', 400), message);
}

/** /generate: ValueError -> {"error": {"message": ...}} with 400 */
export function generateValueError(message: string): WireError {
  return new WireError(400, { error: { message } }, message);
}

export function notFound(): WireError {
  return new WireError(404, { detail: 'Not Found' });
}

export function methodNotAllowed(): WireError {
  return new WireError(405, { detail: 'Method Not Allowed' });
}
