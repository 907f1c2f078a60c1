// The typed API client: paths, parameters and bodies from schema.d.ts, sign-in from the session.
import createClient from 'openapi-fetch'
import type { BrowserSession } from '../auth/session'
import { ApiError, errorFromResponse, networkError } from './problem'
import type { paths } from './schema'

export type ApiClient = ReturnType<typeof createClient<paths>>

export function createApiClient(session: BrowserSession, baseUrl = ''): ApiClient {
  return createClient<paths>({
    baseUrl: baseUrl || globalThis.location?.origin || '',
    credentials: 'same-origin',
    fetch: (request: Request) => session.fetch(request),
  })
}

interface FetchResult<D> {
  data?: D
  error?: unknown
  response: Response
}

/** The answer's body, or an ApiError for a problem, a non-2xx or no answer at all. */
export async function call<D>(pending: Promise<FetchResult<D>>): Promise<D> {
  let result: FetchResult<D>
  try {
    result = await pending
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw networkError(error)
  }
  if (!result.response.ok) {
    throw errorFromResponse(result.response.status, result.error, result.response.headers)
  }
  return result.data as D
}
