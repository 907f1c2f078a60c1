import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/problem'
import { createApiClient, call } from '../api/client'
import { BrowserSession, CLIENT_HEADER } from './session'

type Handler = (request: Request) => Response | Promise<Response>

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  })

const tokens = (access: string, expiresIn = 900) =>
  json(200, { access_token: access, refresh_token: '', token_type: 'bearer', expires_in: expiresIn })

const problem = (status: number, code: string, detail = code) =>
  json(status, { type: 't', title: 't', status, code, detail })

/** A fake gateway: records every request, answers through `handler`. */
function gateway(handler: Handler) {
  const seen: Request[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init)
    seen.push(request.clone())
    return handler(request)
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, seen }
}

function manualTimers() {
  const timers: { callback: () => void; ms: number }[] = []
  return {
    timers,
    setTimer: (callback: () => void, ms: number) => {
      timers.push({ callback, ms })
      return timers.length
    },
    clearTimer: () => undefined,
  }
}

const path = (request: Request) => new URL(request.url).pathname

describe('BrowserSession', () => {
  it('signs in, keeps the token in memory and sends it with the UI language', async () => {
    const api = gateway((request) => {
      if (path(request) === '/api/v1/auth/login') return tokens('A1')
      return json(200, { items: [], next_page_token: null })
    })
    const session = new BrowserSession({ baseUrl: 'http://gw', language: () => 'en', fetch: api.fetch, ...manualTimers() })
    const client = createApiClient(session, 'http://gw')
    expect(await session.login('wang.lei', 'pw')).toEqual({ kind: 'signed_in' })
    expect(session.signedIn.value).toBe(true)
    await call(client.GET('/api/v1/customers', { params: { query: { q: 'bjsy' } } }))

    const [login, list] = api.seen
    expect(login!.headers.get(CLIENT_HEADER)).toBe('web')
    expect(login!.credentials).toBe('same-origin')
    expect(await login!.json()).toEqual({ username: 'wang.lei', password: 'pw' })
    expect(list!.headers.get('Authorization')).toBe('Bearer A1')
    expect(list!.headers.get('Accept-Language')).toBe('en')
    expect(list!.headers.get(CLIENT_HEADER)).toBeNull()
    expect(JSON.stringify(localStorage)).not.toContain('A1')
    expect(document.cookie).not.toContain('A1')
  })

  it('refreshes once for concurrent 401s and retries each call with the new token', async () => {
    let refreshes = 0
    const api = gateway(async (request) => {
      const p = path(request)
      if (p === '/api/v1/auth/login') return tokens('old')
      if (p === '/api/v1/auth/refresh') {
        refreshes += 1
        expect(request.headers.get(CLIENT_HEADER)).toBe('web')
        expect(await request.json()).toEqual({})
        await new Promise((resolve) => setTimeout(resolve, 10))
        return tokens('new')
      }
      return request.headers.get('Authorization') === 'Bearer new'
        ? json(200, { id: 'c1', name: '杭州食堂' })
        : problem(401, 'unauthenticated', 'access token expired')
    })
    const onSignedOut = vi.fn()
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, onSignedOut, ...manualTimers() })
    const client = createApiClient(session, 'http://gw')
    await session.login('a', 'b')
    const get = () => call(client.GET('/api/v1/customers/{customer_id}', { params: { path: { customer_id: 'c1' } } }))
    const results = await Promise.all([get(), get(), get()])
    expect(results.map((r) => (r as { name: string }).name)).toEqual(['杭州食堂', '杭州食堂', '杭州食堂'])
    expect(refreshes).toBe(1)
    expect(onSignedOut).not.toHaveBeenCalled()
  })

  it('retries a POST with its body after refreshing', async () => {
    const bodies: unknown[] = []
    const api = gateway(async (request) => {
      const p = path(request)
      if (p === '/api/v1/auth/login') return tokens('old')
      if (p === '/api/v1/auth/refresh') return tokens('new')
      bodies.push(await request.json())
      return request.headers.get('Authorization') === 'Bearer new' ? json(201, { id: 'c9' }) : problem(401, 'unauthenticated')
    })
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, ...manualTimers() })
    const client = createApiClient(session, 'http://gw')
    await session.login('a', 'b')
    await call(client.POST('/api/v1/customers', { body: { name: '杭州食堂' } }))
    expect(bodies).toEqual([{ name: '杭州食堂' }, { name: '杭州食堂' }])
  })

  it('sends the user to login when the refresh fails, and does not retry again', async () => {
    const api = gateway((request) => {
      const p = path(request)
      if (p === '/api/v1/auth/login') return tokens('old')
      if (p === '/api/v1/auth/refresh') return problem(401, 'unauthenticated', 'refresh token expired')
      return problem(401, 'unauthenticated')
    })
    const onSignedOut = vi.fn()
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, onSignedOut, ...manualTimers() })
    const client = createApiClient(session, 'http://gw')
    await session.login('a', 'b')
    const failed = call(client.GET('/api/v1/auth/me'))
    await expect(failed).rejects.toMatchObject({ status: 401, code: 'unauthenticated' })
    expect(onSignedOut).toHaveBeenCalledTimes(1)
    expect(session.signedIn.value).toBe(false)
    expect(api.seen.map(path)).toEqual(['/api/v1/auth/login', '/api/v1/auth/me', '/api/v1/auth/refresh'])
  })

  it('refreshes silently a minute before the access token expires', async () => {
    const clock = manualTimers()
    const api = gateway((request) => (path(request) === '/api/v1/auth/login' ? tokens('A', 900) : tokens('B', 900)))
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, ...clock })
    await session.login('a', 'b')
    expect(clock.timers.map((t) => t.ms)).toEqual([840_000])
    clock.timers[0]!.callback()
    await vi.waitFor(() => expect(api.seen.map(path)).toContain('/api/v1/auth/refresh'))
    await vi.waitFor(() => expect(clock.timers).toHaveLength(2))
  })

  it('refreshes under a lock shared by the tabs, so two tabs never send the same cookie at once', async () => {
    const held: string[] = []
    let inside = 0
    let most = 0
    vi.stubGlobal('navigator', {
      locks: {
        request: async (name: string, run: () => Promise<unknown>) => {
          held.push(name)
          while (inside > 0) await new Promise((resolve) => setTimeout(resolve, 1))
          inside += 1
          most = Math.max(most, inside)
          try {
            return await run()
          } finally {
            inside -= 1
          }
        },
      },
    })
    try {
      const slow = gateway(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        return tokens('R')
      })
      const tabOne = new BrowserSession({ language: () => 'zh-CN', fetch: slow.fetch, ...manualTimers() })
      const tabTwo = new BrowserSession({ language: () => 'zh-CN', fetch: slow.fetch, ...manualTimers() })
      expect(await Promise.all([tabOne.restore(), tabTwo.restore()])).toEqual([true, true])
      expect(held).toEqual(['keyuan-refresh', 'keyuan-refresh'])
      expect(most).toBe(1)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('restores a sign-in from the refresh cookie after a page load', async () => {
    const api = gateway(() => tokens('R'))
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, ...manualTimers() })
    expect(await session.restore()).toBe(true)
    expect(path(api.seen[0]!)).toBe('/api/v1/auth/refresh')
    const none = new BrowserSession({
      language: () => 'zh-CN',
      fetch: gateway(() => problem(401, 'unauthenticated')).fetch,
      ...manualTimers(),
    })
    expect(await none.restore()).toBe(false)
  })

  it('reports a locked account with the wait, and the second step of a two-factor login', async () => {
    const locked = new BrowserSession({
      language: () => 'zh-CN',
      fetch: gateway(() => json(429, { type: 't', title: 't', status: 429, code: 'account_locked', detail: '账户已锁定' }, { 'Retry-After': '900' })).fetch,
      ...manualTimers(),
    })
    const error = await locked.login('a', 'b').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'account_locked', retryAfterSeconds: 900 })

    const step = { mfa_required: true, mfa_enrolment_required: false, mfa_token: 'M', expires_in: 300 }
    const twoFactor = new BrowserSession({
      language: () => 'zh-CN',
      fetch: gateway((request) => (path(request) === '/api/v1/auth/login' ? json(200, step) : tokens('T'))).fetch,
      ...manualTimers(),
    })
    expect(await twoFactor.login('boss', 'pw')).toEqual({ kind: 'second_step', step })
    expect(twoFactor.signedIn.value).toBe(false)
    await twoFactor.verifySecondFactor('M', '123456')
    expect(twoFactor.signedIn.value).toBe(true)
  })

  it('enrols a second factor with the login ticket, which completes the sign-in', async () => {
    const api = gateway(async (request) => {
      const p = path(request)
      expect(request.headers.get('Authorization')).toBe('Bearer M')
      if (p === '/api/v1/auth/mfa/enrolment') {
        return json(200, { secret: 'ABC', otpauth_uri: 'otpauth://totp/x', qr_code: 'data:image/svg+xml;base64,PHN2Zy8+' })
      }
      expect(await request.json()).toEqual({ code: '123456' })
      return json(200, { recovery_codes: ['aaaaa-bbbbb'], tokens: { access_token: 'T', refresh_token: '', token_type: 'bearer', expires_in: 900 } })
    })
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, ...manualTimers() })
    expect((await session.startEnrolment('M')).secret).toBe('ABC')
    expect(await session.confirmEnrolment('M', '123456')).toEqual(['aaaaa-bbbbb'])
    expect(session.signedIn.value).toBe(true)
    expect(api.seen.every((r) => r.headers.get(CLIENT_HEADER) === 'web')).toBe(true)
  })

  it('logs out on the gateway with the header and forgets the token even if that fails', async () => {
    const api = gateway((request) => {
      if (path(request) === '/api/v1/auth/logout') throw new TypeError('offline')
      return tokens('A')
    })
    const session = new BrowserSession({ language: () => 'zh-CN', fetch: api.fetch, ...manualTimers() })
    await session.login('a', 'b')
    await expect(session.logout()).rejects.toMatchObject({ code: 'network_error' })
    expect(session.signedIn.value).toBe(false)
    expect(api.seen[1]!.headers.get(CLIENT_HEADER)).toBe('web')
  })

  it('sends every call, the sign-in calls and a retry after a refresh included, in the language shown at the time', async () => {
    let language = 'zh-CN'
    let expired = true
    const api = gateway((request) => {
      const p = path(request)
      if (p === '/api/v1/auth/login') return tokens('A1')
      if (p === '/api/v1/auth/refresh') return tokens('A2')
      if (expired && request.headers.get('Authorization') === 'Bearer A1') {
        expired = false
        return problem(401, 'unauthenticated')
      }
      return json(200, { items: [] })
    })
    const session = new BrowserSession({ baseUrl: 'http://gw', language: () => language, fetch: api.fetch, ...manualTimers() })
    const client = createApiClient(session, 'http://gw')
    await session.login('wang.lei', 'pw')
    language = 'en'
    await call(client.GET('/api/v1/users'))
    expect(api.seen.map((r) => [path(r), r.headers.get('Accept-Language')])).toEqual([
      ['/api/v1/auth/login', 'zh-CN'],
      ['/api/v1/users', 'en'],
      ['/api/v1/auth/refresh', 'en'],
      ['/api/v1/users', 'en'],
    ])
  })
})

