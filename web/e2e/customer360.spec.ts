// Issue 12's customer 360 page in a real browser: a rep opens a halal, allergen-sensitive school
// canteen and sees the special-requirement banner, its licences badged valid / expiring / expired,
// a renovation closure marked in the calendar, a visit's check-in plot with its photo thumbnail
// loaded through a signed link, and the requirement tags on the customer list's search results.
// The customer, its licences, closure and visit (with a photo) are set up through the API, as a
// rep's phone would have recorded them; the journey itself only reads, to stay short.
import { expect, test } from '@playwright/test'
import type { components } from '../shared/src/api/schema'
import {
  ADMIN_PASSWORD,
  apiCreateUser,
  apiHeadOffice,
  apiPost,
  apiToken,
  BASE_URL,
  pageProblems,
  shot,
  signedIn,
} from './helpers'

type Customer = components['schemas']['CustomerOut']
type Attachment = components['schemas']['AttachmentOut']

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'journey-pass-2026'
const REP = { username: `c360.rep.${run}`, name: `冯婷${run}` }
const CANTEEN = `西湖清真小学食堂${run}`
// 杭州 西湖区: the canteen's pin, and a check-in ~250 m north-east of it.
const PIN = { latitude: 30.274085, longitude: 120.15507 }
const CHECK_IN = { latitude: 30.2756, longitude: 120.1571, accuracy_m: 18, address: '杭州市西湖区文三路 90 号' }

/** A Shanghai calendar day, `days` from today. */
function day(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10)
}

/** Values for the tenant's required custom fields (the demo tenant has some; a fresh one none). */
async function requiredCustomFields(token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${BASE_URL}/api/v1/custom-fields`, { headers: { Authorization: `Bearer ${token}` } })
  const { items } = (await response.json()) as components['schemas']['CustomFieldList']
  const sample = (field: components['schemas']['CustomFieldOut']): unknown =>
    ({ text: '—', number: 1, date: day(0), boolean: true, choice: field.options?.[0] ?? '' })[field.type]
  return Object.fromEntries(items.filter((field) => field.required).map((field) => [field.key, sample(field)]))
}

/** A file upload the way the H5 sends a photo: multipart `file` and `kind`. */
async function upload(token: string, customerId: string, png: Buffer, kind: string): Promise<Attachment> {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'visit.png')
  form.append('kind', kind)
  form.append('request_id', `c360-${kind}-${run}`)
  const response = await fetch(`${BASE_URL}/api/v1/customers/${customerId}/attachments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  })
  if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`)
  return (await response.json()) as Attachment
}

test('issue 12 customer 360: alert banner, licence badges, closure calendar, visit photo', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')
  let customerId = ''
  const closureStart = day(3)

  const page = await signedIn(browser, 'admin', ADMIN_PASSWORD)

  await test.step('the API holds a rep’s halal canteen with allergens, three licences, a closure and a visit with a photo', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    await apiCreateUser(adminToken, { username: REP.username, display_name: REP.name, password: PASSWORD, role: 'sales', org_unit_id: hq.id })
    const token = await apiToken(REP.username, PASSWORD)
    const customer = await apiPost<Customer>(token, '/api/v1/customers', {
      name: CANTEEN,
      lifecycle_stage: 'signed',
      request_id: `c360-customer-${run}`,
      ...PIN,
      custom_fields: await requiredCustomFields(token),
      special_requirements: [
        { kind: 'halal', note: '清真专用器具与车辆' },
        { kind: 'allergens', details: ['花生', '虾'] },
      ],
      preferences: {
        categories: ['新鲜蔬菜', '牛羊肉'],
        delivery_windows: [
          { weekday: 1, start: '06:00', end: '07:30' },
          { weekday: 3, start: '06:00', end: '07:30' },
        ],
        delivery_notes: '走食堂后门',
      },
    })
    customerId = customer.id
    const licences = [
      { kind: '营业执照', number: `91330106MA${run}01`, valid_from: day(-800), valid_until: null },
      { kind: '食品经营许可证', number: `JY133010600${run}`, valid_from: day(-700), valid_until: day(10) },
      { kind: '卫生许可证', number: `WS-${run}`, valid_from: day(-900), valid_until: day(-5) },
    ]
    for (const licence of licences) {
      await apiPost(token, `/api/v1/customers/${customerId}/licences`, { ...licence, request_id: `c360-${licence.kind}-${run}` })
    }
    await apiPost(token, `/api/v1/customers/${customerId}/closures`, {
      start_date: closureStart,
      end_date: day(12),
      reason: 'renovation',
      note: '后厨改造',
      request_id: `c360-closure-${run}`,
    })
    // Any PNG will do as the photo: a corner of the console's own page.
    const png = await page.screenshot({ clip: { x: 0, y: 0, width: 96, height: 96 } })
    const photo = await upload(token, customerId, png, 'visit_photo')
    await apiPost(token, `/api/v1/customers/${customerId}/follow-ups`, {
      kind: 'visit',
      content: '上门拜访，确认清真配送要求',
      check_in: CHECK_IN,
      photo_attachment_ids: [photo.id],
      request_id: `c360-visit-${run}`,
    })
    await page.context().close()
  })

  const rep = await signedIn(browser, REP.username, PASSWORD)

  await test.step('the customer page shows the special requirements as a banner at the top', async () => {
    await rep.goto(`/customers/${customerId}`)
    await expect(rep.getByTestId('customer-name')).toHaveText(CANTEEN)
    const banner = rep.getByRole('note', { name: '特殊要求' })
    await expect(banner).toContainText('清真')
    await expect(banner).toContainText('过敏原：花生、虾')
    await shot(rep, info, 'c360-banner')
  })

  await test.step('the licences tab badges each licence and the summary', async () => {
    await rep.getByRole('tab', { name: '资质证照' }).click()
    const table = rep.getByTestId('licence-table')
    await expect(table.getByRole('row', { name: /营业执照/ }).getByTestId('licence-status')).toHaveText('有效')
    await expect(table.getByRole('row', { name: /食品经营许可证/ }).getByTestId('licence-status')).toHaveText('即将到期')
    await expect(table.getByRole('row', { name: /卫生许可证/ }).getByTestId('licence-status')).toHaveText('已过期')
    await expect(rep.getByTestId('licence-summary-status')).toBeVisible()
    await shot(rep, info, 'c360-licences')
  })

  await test.step('the closures tab marks the closed days in the calendar and lists the range', async () => {
    await rep.getByRole('tab', { name: '停工/放假' }).click()
    const calendar = rep.getByTestId('closure-calendar')
    await expect(calendar.locator(`[data-day="${closureStart}"]`)).toHaveAttribute('data-closed', 'true')
    await expect(calendar.locator(`[data-day="${closureStart}"]`)).toContainText('装修')
    await expect(rep.getByTestId('closure-item')).toContainText('后厨改造')
    await shot(rep, info, 'c360-closures')
  })

  await test.step('the visits tab shows the check-in plot and the photo thumbnail, loaded by a signed link', async () => {
    await rep.getByRole('tab', { name: '拜访' }).click()
    const visit = rep.getByTestId('visit-entry')
    await expect(visit).toContainText('杭州市西湖区文三路 90 号')
    await expect(visit.getByRole('img', { name: /签到点距客户位置/ })).toBeVisible()
    const thumb = visit.getByRole('img', { name: '拜访照片 1' })
    await expect(thumb).toBeVisible()
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true)
    await shot(rep, info, 'c360-visit')
  })

  await test.step('a search on the customer list tags the result with its requirements', async () => {
    await rep.goto('/customers')
    await rep.getByLabel('搜索客户').fill(CANTEEN)
    const row = rep.getByTestId('customer-table').getByRole('row', { name: new RegExp(CANTEEN) })
    await expect(row.getByTestId('customer-alert-tags')).toContainText('过敏原：花生、虾')
    await shot(rep, info, 'c360-search')
    await rep.context().close()
  })

  expect(pageProblems, pageProblems.join('\n')).toEqual([])
})
