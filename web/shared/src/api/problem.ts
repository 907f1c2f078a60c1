// problem+json answers (and failures that never reached the API) as one typed error.
import type { components } from './schema'

export type Problem = components['schemas']['Problem']

/** The customer a duplicate refusal (409 already_exists) points at, when the caller may see it. */
export interface ExistingCustomer {
  id: string
  ownerId?: string
  ownerName?: string
}

/** Everything the UI needs from an error: the stable `code` decides, `detail` is already in the
 * language the request asked for (Accept-Language), `field` says where to show it. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly field?: string
  readonly fieldErrors: { field: string; message: string }[]
  readonly traceId?: string
  readonly retryAfterSeconds?: number
  readonly existing?: ExistingCustomer
  /** customer_cap_reached: the owner's cap; claim_limit_reached: the pool's claims per day;
   * claim_cooldown: when the rep may claim again. */
  readonly cap?: number
  readonly limit?: number
  readonly until?: string
  /** handover_required: how many customers the user to deactivate still holds. */
  readonly held?: number

  constructor(init: {
    status: number
    code: string
    detail: string
    field?: string | null
    fieldErrors?: { field: string; message: string }[]
    traceId?: string | null
    retryAfterSeconds?: number
    existing?: ExistingCustomer
    cap?: number | null
    limit?: number | null
    until?: string | null
    held?: number | null
  }) {
    super(`${init.code}: ${init.detail}`)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code
    this.detail = init.detail
    this.field = init.field ?? undefined
    this.fieldErrors = init.fieldErrors ?? []
    this.traceId = init.traceId ?? undefined
    this.retryAfterSeconds = init.retryAfterSeconds
    this.existing = init.existing
    this.cap = init.cap ?? undefined
    this.limit = init.limit ?? undefined
    this.until = init.until ?? undefined
    this.held = init.held ?? undefined
  }

  /** A network failure, a timeout or a 5xx: worth a retry button rather than a correction. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.code === 'rate_limited'
  }

  get notFound(): boolean {
    return this.status === 404
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string'
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  return Number.isFinite(seconds) ? seconds : undefined
}

/** The error an answer with status `status` and body `body` stands for. */
export function errorFromResponse(status: number, body: unknown, headers?: Headers): ApiError {
  if (!isProblem(body)) {
    return new ApiError({
      status,
      code: status >= 500 ? 'server_error' : `http_${status}`,
      detail: typeof body === 'string' && body.length < 200 ? body : '',
      retryAfterSeconds: retryAfter(headers),
    })
  }
  const owner = body.existing_owner ?? undefined
  const existingId = body.existing_id ?? undefined
  return new ApiError({
    status,
    code: body.code,
    detail: body.detail,
    field: body.field,
    fieldErrors: (body.errors ?? []).map(({ field, message }) => ({ field, message })),
    traceId: body.trace_id,
    retryAfterSeconds: retryAfter(headers),
    existing: existingId ? { id: existingId, ownerId: owner?.id, ownerName: owner?.name || undefined } : undefined,
    cap: body.cap,
    limit: body.limit,
    until: body.until,
    held: body.held,
  })
}

/** A request that got no answer at all (offline, DNS, connection refused, aborted). */
export function networkError(cause: unknown): ApiError {
  const error = new ApiError({ status: 0, code: 'network_error', detail: String(cause) })
  return error
}
