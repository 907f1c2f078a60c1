// What a fake gateway answers in the apps' component tests: JSON bodies, and refusals shaped as
// the gateway's problem+json (typed by its OpenAPI document, so a fixture cannot drift from it).
// Tests only: nothing in src/index.ts exports it.
import type { components } from '../api/schema'

type Problem = components['schemas']['Problem']
type FieldError = components['schemas']['FieldError']

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

/** A refusal with a stable `code` and the reader's `detail`, and any of the problem's extras. */
export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Response {
  const body: Problem = { type: `https://keyuan.dev/problems/${code}`, title: code, status, code, detail, ...extra }
  return json(status, body)
}

/** A 422 naming each refused field, its message already in the reader's language. */
export function refusal(errors: Omit<FieldError, 'type'>[]): Response {
  const [first] = errors
  return problem(422, 'validation_failed', first ? `${first.field}: ${first.message}` : '', {
    errors: errors.map((error) => ({ type: 'value_error', ...error })),
  })
}
