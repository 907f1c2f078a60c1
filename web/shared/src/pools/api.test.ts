import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApiClient } from '../api/client'
import type { BrowserSession } from '../auth/session'
import { followUpsApi } from '../followUps/api'
import { json, problem } from '../testing/answers'
import { poolsApi } from './api'

function client(answer: (request: Request, body: unknown) => Response) {
  const seen: { method: string; path: string; query: URLSearchParams; body: unknown }[] = []
  const session = {
    fetch: async (request: Request) => {
      const body = request.method === 'GET' ? undefined : await request.clone().json().catch(() => undefined)
      const url = new URL(request.url)
      seen.push({ method: request.method, path: url.pathname, query: url.searchParams, body })
      return answer(request, body)
    },
  } as unknown as BrowserSession
  return { api: createApiClient(session, 'http://crm.test'), seen }
}

describe('poolsApi', () => {
  afterEach(() => vi.restoreAllMocks())

  it('claims with a trimmed reason and an idempotency key', async () => {
    const { api, seen } = client(() => json(201, { id: 'cl1', status: 'pending' }))
    const claim = await poolsApi(api).claim('p1', 'c1', '  客户来电询价 ')
    expect(claim.status).toBe('pending')
    expect(seen[0]!.method).toBe('POST')
    expect(seen[0]!.path).toBe('/api/v1/pools/p1/claims')
    expect(seen[0]!.body).toMatchObject({ customer_id: 'c1', reason: '客户来电询价' })
    expect((seen[0]!.body as { request_id: string }).request_id).toBeTruthy()
  })

  it('turns a cool-down refusal into an ApiError carrying `until`', async () => {
    const { api } = client(() => problem(412, 'claim_cooldown', '冷静期', { until: '2026-12-31T00:00:00+08:00' }))
    await expect(poolsApi(api).claim('p1', 'c1', 'r')).rejects.toMatchObject({
      status: 412,
      code: 'claim_cooldown',
      until: '2026-12-31T00:00:00+08:00',
    })
  })

  it('asks for the claims awaiting the caller’s decision', async () => {
    const { api, seen } = client(() => json(200, { items: [], next_page_token: null }))
    await poolsApi(api).claims('to_decide', 'pending')
    expect(seen[0]!.path).toBe('/api/v1/pool-claims')
    expect(seen[0]!.query.get('view')).toBe('to_decide')
    expect(seen[0]!.query.get('status')).toBe('pending')
  })
})

describe('followUpsApi', () => {
  it('asks for the tasks due in the given window', async () => {
    const { api, seen } = client(() => json(200, { items: [], next_page_token: null }))
    await followUpsApi(api).tasks('overdue')
    expect(seen[0]!.path).toBe('/api/v1/follow-up-tasks')
    expect(seen[0]!.query.get('due')).toBe('overdue')
  })

  it('edits one entry of one customer with PATCH', async () => {
    const { api, seen } = client(() => json(200, { id: 'f1' }))
    await followUpsApi(api).edit('c1', 'f1', { content: '改' })
    expect(seen[0]).toMatchObject({ method: 'PATCH', path: '/api/v1/customers/c1/follow-ups/f1', body: { content: '改' } })
  })
})
