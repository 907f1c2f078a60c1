// One way to put an error in front of a user: in their language, with the API's stable code.
import { ApiError } from '../api/problem'

type Translate = (key: string, values?: Record<string, unknown>) => string

/** A sentence for `error`: the API's own detail (already in the language asked for) with its
 * code, or our text for failures that brought no problem+json. */
export function describeError(t: Translate, error: unknown): string {
  if (!(error instanceof ApiError)) return t('errors.unknown')
  if (error.status === 0) return t('errors.network')
  if (error.code === 'rate_limited') return t('errors.rateLimited', { seconds: error.retryAfterSeconds ?? 1 })
  const detail =
    error.detail ||
    (error.status >= 500
      ? t('errors.server')
      : error.status === 404
        ? t('errors.notFound')
        : error.status === 403
          ? t('errors.forbidden')
          : t('errors.unknown'))
  return t('errors.withCode', { detail, code: error.code })
}
