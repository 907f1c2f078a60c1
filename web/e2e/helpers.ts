// What the journey does again and again: sign in, pick from a select, save a screenshot, and
// talk to the API directly where a person would not (seeding 500 customers).
import { expect, type Browser, type Page, type TestInfo } from '@playwright/test'
import type { components, paths } from '../shared/src/api/schema'

export const BASE_URL = (process.env.CRM_WEB_BASE_URL || 'http://127.0.0.1:8000').replace(/\/$/, '')
export const ADMIN_PASSWORD = process.env.CRM_ADMIN_PASSWORD || ''
export const DESKTOP = { width: 1366, height: 768 }
export const PHONE = { width: 375, height: 667 }

let shots = 0

/** Script errors and Content-Security-Policy refusals seen on any page of the journey. */
export const pageProblems: string[] = []

export function watchForProblems(page: Page): Page {
  page.on('pageerror', (error) => pageProblems.push(`${page.url()}: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      pageProblems.push(`${page.url()}: ${message.text()}`)
    }
  })
  return page
}

/** A numbered screenshot of this step in the test's output folder. */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  shots += 1
  await page.screenshot({ path: info.outputPath(`${String(shots).padStart(2, '0')}-${name}.png`), fullPage: true })
}

/** With CRM_WEB_DOC_SCREENSHOTS=<folder> (e.g. web/docs/screenshots), also refresh the
 * screenshots the README shows. */
export async function docShot(page: Page, name: string): Promise<void> {
  const folder = process.env.CRM_WEB_DOC_SCREENSHOTS
  if (folder) await page.screenshot({ path: `${folder}/${name}.png` })
}

export async function signInConsole(page: Page, username: string, password: string): Promise<void> {
  await expect(page.getByTestId('login-page')).toBeVisible()
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-page')).toBeHidden()
}

/** A new desktop browser context signed in to the console as `username`, its problems watched. */
export async function signedIn(browser: Browser, username: string, password: string): Promise<Page> {
  const page = watchForProblems(await (await browser.newContext({ viewport: DESKTOP })).newPage())
  await page.goto('/login')
  await signInConsole(page, username, password)
  await expect(page.getByTestId('main-menu')).toBeVisible()
  return page
}

/** Open a console page; sign in first if the browser holds no live sign-in for it. */
export async function openConsole(page: Page, path: string, username: string, password: string): Promise<void> {
  await page.goto(path)
  const login = page.getByTestId('login-page')
  const shell = page.getByTestId('main-menu')
  await expect(login.or(shell)).toBeVisible()
  if (await login.isVisible()) await signInConsole(page, username, password)
}

export async function signInMobile(page: Page, username: string, password: string): Promise<void> {
  await expect(page.getByTestId('login-page')).toBeVisible()
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-page')).toBeHidden()
}

/** Choose `option` in the Element Plus select labelled `label`. */
export async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  const select = page.getByLabel(label, { exact: true })
  // What the select shows once chosen (Element Plus draws the chosen label beside its input).
  const shown = select.locator(
    'xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " el-select__wrapper ")][1]',
  )
  // The select's placeholder lies over its input (the click still reaches the select), and a
  // click while another dropdown is closing can be lost: click until it says it is open. A click
  // on an option while the list still moves can land on its neighbour (a rep created as 财务
  // instead of 销售): choose again until the select shows the option asked for.
  await expect(async () => {
    if ((await select.getAttribute('aria-expanded')) !== 'true') await select.click({ force: true })
    await expect(select).toHaveAttribute('aria-expanded', 'true', { timeout: 2000 })
    await page.getByRole('option', { name: option, exact: true }).last().click()
    await expect(select).toHaveAttribute('aria-expanded', 'false', { timeout: 2000 })
    await expect(shown).toContainText(option, { timeout: 2000 })
  }).toPass({ timeout: 30_000 })
}

interface Tokens {
  access_token: string
}

async function api<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const response = await fetch(`${BASE_URL}${path}`, {
      ...init,
      headers: {
        'Content-Type': 'application/json',
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        ...(init.headers ?? {}),
      },
    })
    if (response.status === 429 || response.status === 503 || response.status === 504) {
      // Rate limited, or a service slow on the loaded machine: wait and send the same request
      // again (creates carry a request id, so a retry never creates twice).
      const wait = Number(response.headers.get('retry-after') ?? String(attempt + 1))
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 30) * 1000))
      continue
    }
    const text = await response.text()
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
  throw new Error(`${path}: still rate limited`)
}

/** An access token by the JSON login other clients use (no cookie involved). */
export async function apiToken(username: string, password: string): Promise<string> {
  const tokens = await api<Tokens>('/api/v1/auth/login', { method: 'POST', body: JSON.stringify({ username, password }) })
  return tokens.access_token
}

export async function apiCreateUser(
  adminToken: string,
  user: { username: string; display_name: string; password: string; role: string; org_unit_id: string },
): Promise<void> {
  await api('/api/v1/users', { method: 'POST', token: adminToken, body: JSON.stringify(user) })
}

export async function apiHeadOffice(adminToken: string): Promise<{ id: string; name: string }> {
  const units = await api<{ items: { id: string; name: string; kind: string }[] }>('/api/v1/org-units', { token: adminToken })
  const hq = units.items.find((u) => u.kind === 'hq')
  if (!hq) throw new Error('no head office')
  return hq
}

export async function apiCreateOrgUnit(adminToken: string, name: string, parentId: string): Promise<components['schemas']['OrgUnitOut']> {
  return api('/api/v1/org-units', { method: 'POST', token: adminToken, body: JSON.stringify({ name, parent_id: parentId }) })
}

/** One customer, owned by the user of `token`. */
export async function apiCreateCustomer(token: string, name: string): Promise<components['schemas']['CustomerOut']> {
  return api('/api/v1/customers', {
    method: 'POST',
    token,
    body: JSON.stringify({ name, lifecycle_stage: 'prospect', request_id: `customer-${name}` }),
  })
}

/** `count` customers, `concurrency` requests at a time, shared out over the users of `tokens`
 * (the rate limit counts writes per user). */
export async function apiCreateCustomers(tokens: string[], count: number, prefix: string, concurrency = 8): Promise<void> {
  let next = 0
  async function worker(): Promise<void> {
    while (next < count) {
      const n = next++
      await api('/api/v1/customers', {
        method: 'POST',
        token: tokens[n % tokens.length],
        body: JSON.stringify({
          name: `${prefix}客户${String(n).padStart(3, '0')}`,
          lifecycle_stage: ['lead', 'prospect', 'signed'][n % 3],
          request_id: `${prefix}-${n}`,
        }),
      })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

type CustomerQuery = NonNullable<paths['/api/v1/customers']['get']['parameters']['query']>

/** The names of the first customers the API lists for `query`, as `token`'s user sees them. */
export async function apiCustomerNames(token: string, query: CustomerQuery): Promise<string[]> {
  const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]))
  const page = await api<components['schemas']['CustomerPage']>(`/api/v1/customers?${params}`, { token })
  return page.items.map((customer) => customer.name)
}

export function randomMobile(): string {
  return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
}

/** A POST the journey makes through the API rather than the screens (setting up a pool, a release, a claim). */
export async function apiPost<T = unknown>(token: string, path: string, body: unknown): Promise<T> {
  return api<T>(path, { method: 'POST', token, body: JSON.stringify(body) })
}

/** A PUT the journey makes through the API (a product by its SKU). */
export async function apiPut<T = unknown>(token: string, path: string, body: unknown): Promise<T> {
  return api<T>(path, { method: 'PUT', token, body: JSON.stringify(body) })
}

/** A Shanghai calendar day, `days` from today. */
export function shanghaiDay(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10)
}

/** Answers for the tenant's required custom fields, whatever the tenant (the demo one has some). */
export async function apiRequiredFields(token: string): Promise<Record<string, unknown>> {
  const { items } = await api<components['schemas']['CustomFieldList']>('/api/v1/custom-fields', { token })
  const value = (field: components['schemas']['CustomFieldOut']): unknown =>
    ({ text: '—', number: 1, date: shanghaiDay(0), boolean: true, choice: field.options?.[0] ?? '' })[field.type]
  return Object.fromEntries(items.filter((f) => f.required).map((f) => [f.key, value(f)]))
}

/** Place an order through the API once the order service knows the customer: its facts arrive
 * by events, so the order is 404 until then. */
export async function apiPlaceOrder(token: string, body: Record<string, unknown>): Promise<components['schemas']['OrderOut']> {
  let placed: components['schemas']['OrderOut'] | null = null
  await expect
    .poll(
      async () => {
        const answer = await fetch(`${BASE_URL}/api/v1/orders`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        })
        if (answer.status === 201) placed = (await answer.json()) as components['schemas']['OrderOut']
        return answer.status
      },
      { timeout: 60_000, intervals: [300, 500, 1000] },
    )
    .toBe(201)
  return placed!
}
