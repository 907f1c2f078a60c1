// Browser sign-in: the access token lives in this object only (never in storage); the refresh
// token is the gateway's HttpOnly cookie, which only /api/v1/auth/* calls carrying
// `X-Keyuan-Client: web` can use. Refreshed silently before expiry and once on a 401.
import { ref, type Ref } from 'vue'
import type { EnrolmentConfirmedOut, EnrolmentStartOut, SecondStepOut, TokensOut } from '../api/models'
import { ApiError, errorFromResponse, networkError } from '../api/problem'

export const AUTH_PATH = '/api/v1/auth/'
/** The calls that hand out or drop tokens: a 401 from them is an answer, not an expiry. */
const TOKEN_PATHS = ['login', 'refresh', 'logout', 'mfa/verify'].map((p) => `${AUTH_PATH}${p}`)
export const CLIENT_HEADER = 'X-Keyuan-Client'
/** The Web Lock that keeps tabs from refreshing with the same cookie at once. */
export const REFRESH_LOCK = 'keyuan-refresh'
/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_SECONDS = 60

export type LoginOutcome = { kind: 'signed_in' } | { kind: 'second_step'; step: SecondStepOut }

export interface SessionOptions {
  /** Prefix of API paths, "" for the same origin. */
  baseUrl?: string
  /** The UI language, sent as Accept-Language so problem details come back in it. */
  language: () => string
  /** Called when the sign-in is gone and cannot be refreshed; the app goes to its login page. */
  onSignedOut?: () => void
  fetch?: typeof globalThis.fetch
  now?: () => number
  setTimer?: (callback: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
}

export class BrowserSession {
  /** Whether an access token is held; reactive for the UI. */
  readonly signedIn: Ref<boolean> = ref(false)
  private accessToken: string | null = null
  private expiresAt = 0
  private refreshing: Promise<boolean> | null = null
  private timer: unknown = null
  private readonly baseUrl: string
  private readonly rawFetch: typeof globalThis.fetch
  private readonly now: () => number
  private readonly setTimer: (callback: () => void, ms: number) => unknown
  private readonly clearTimer: (handle: unknown) => void

  constructor(private readonly options: SessionOptions) {
    // Absolute, so requests can be built outside a document too (Request wants a full URL).
    this.baseUrl = options.baseUrl || globalThis.location?.origin || ''
    this.rawFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    this.now = options.now ?? (() => Date.now())
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms))
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>))
  }

  /** Headers every API call carries. */
  private decorate(request: Request): Request {
    const headers = new Headers(request.headers)
    headers.set('Accept-Language', this.options.language())
    if (this.accessToken && !headers.has('Authorization')) {
      headers.set('Authorization', `Bearer ${this.accessToken}`)
    }
    if (new URL(request.url, 'http://x').pathname.startsWith(AUTH_PATH)) {
      headers.set(CLIENT_HEADER, 'web')
    }
    return new Request(request, { headers, credentials: 'same-origin' })
  }

  /** The fetch the typed client uses: adds the token and, on a 401, refreshes once and retries. */
  readonly fetch = async (input: Request): Promise<Response> => {
    const retry = input.clone()
    const sentWith = this.accessToken
    const response = await this.rawFetch(this.decorate(input))
    const path = new URL(input.url, 'http://x').pathname
    if (response.status !== 401 || TOKEN_PATHS.includes(path) || !sentWith) {
      return response
    }
    // Another call may have refreshed meanwhile: then just retry with the new token.
    const refreshed = this.accessToken !== sentWith || (await this.refresh())
    if (!refreshed) {
      this.expire()
      return response
    }
    return this.rawFetch(this.decorate(retry))
  }

  private async post(path: string, body: unknown, bearer?: string): Promise<Response> {
    const request = new Request(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    })
    try {
      return await this.rawFetch(this.decorate(request))
    } catch (error) {
      throw networkError(error)
    }
  }

  private async readError(response: Response): Promise<ApiError> {
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return errorFromResponse(response.status, body, response.headers)
  }

  private accept(tokens: TokensOut): void {
    this.accessToken = tokens.access_token
    this.expiresAt = this.now() + tokens.expires_in * 1000
    this.signedIn.value = true
    this.schedule(tokens.expires_in)
  }

  private schedule(expiresIn: number): void {
    if (this.timer !== null) this.clearTimer(this.timer)
    const delay = Math.max(5, expiresIn - REFRESH_MARGIN_SECONDS) * 1000
    this.timer = this.setTimer(() => {
      this.timer = null
      void this.refresh().then((ok) => {
        if (!ok) this.expire()
      })
    }, delay)
  }

  /** Seconds until the access token expires (0 when none is held). */
  secondsLeft(): number {
    return this.accessToken ? Math.max(0, Math.round((this.expiresAt - this.now()) / 1000)) : 0
  }

  async login(username: string, password: string): Promise<LoginOutcome> {
    const response = await this.post('/api/v1/auth/login', { username, password })
    if (!response.ok) throw await this.readError(response)
    const body = (await response.json()) as TokensOut | SecondStepOut
    if ('mfa_token' in body) return { kind: 'second_step', step: body }
    this.accept(body)
    return { kind: 'signed_in' }
  }

  async verifySecondFactor(mfaToken: string, code: string): Promise<void> {
    const response = await this.post('/api/v1/auth/mfa/verify', { mfa_token: mfaToken, code })
    if (!response.ok) throw await this.readError(response)
    this.accept((await response.json()) as TokensOut)
  }

  /** A login whose tenant requires two-factor sign-in of an unenrolled admin or boss: start the
   * enrolment with the login's `mfa_token` (the secret and its QR code). */
  async startEnrolment(mfaToken: string): Promise<EnrolmentStartOut> {
    const response = await this.post('/api/v1/auth/mfa/enrolment', {}, mfaToken)
    if (!response.ok) throw await this.readError(response)
    return (await response.json()) as EnrolmentStartOut
  }

  /** Confirm the enrolment with a code; that completes the login. The recovery codes are
   * shown once. */
  async confirmEnrolment(mfaToken: string, code: string): Promise<string[]> {
    const response = await this.post('/api/v1/auth/mfa/enrolment/confirm', { code }, mfaToken)
    if (!response.ok) throw await this.readError(response)
    const confirmed = (await response.json()) as EnrolmentConfirmedOut
    if (confirmed.tokens) this.accept(confirmed.tokens)
    return confirmed.recovery_codes
  }

  /** Trade the refresh cookie for a new access token; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.refreshOnce().finally(() => {
        this.refreshing = null
      })
    }
    return this.refreshing
  }

  private async refreshOnce(): Promise<boolean> {
    const exchange = async (): Promise<boolean> => {
      let response: Response
      try {
        response = await this.post('/api/v1/auth/refresh', {})
      } catch {
        return false
      }
      if (!response.ok) return false
      this.accept((await response.json()) as TokensOut)
      return true
    }
    // Tabs share the cookie, and the gateway takes a refresh token that was already used as
    // stolen (it revokes the whole family): one tab at a time, so the next one sends the
    // cookie the previous one received.
    const locks = globalThis.navigator?.locks
    return locks ? locks.request(REFRESH_LOCK, exchange) : exchange()
  }

  /** After a page load: sign in again from the refresh cookie, if there is a live one. */
  async restore(): Promise<boolean> {
    if (this.accessToken && this.secondsLeft() > 0) return true
    return this.refresh()
  }

  /** Revoke the cookie's token family on the gateway and forget the access token. */
  async logout(): Promise<void> {
    try {
      await this.post('/api/v1/auth/logout', {})
    } finally {
      this.forget()
    }
  }

  private forget(): void {
    if (this.timer !== null) this.clearTimer(this.timer)
    this.timer = null
    this.accessToken = null
    this.expiresAt = 0
    this.signedIn.value = false
  }

  /** The sign-in is gone: forget it and let the app send the user to login. */
  private expire(): void {
    const wasSignedIn = this.signedIn.value
    this.forget()
    if (wasSignedIn) this.options.onSignedOut?.()
  }
}
