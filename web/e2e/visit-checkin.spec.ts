// Issue 12's visit check-in on the H5, in a phone-sized Chromium that is allowed to locate
// itself: a rep opens a halal customer with allergens and a renovation coming up, sees its
// alerts, checks in (the browser's position, two photos from the "camera" input, the address
// typed), saves, gets the server's distance, and the card lists the visit with both photos,
// whose thumbnails load for the rep. The rep and the customer are set up through the API.
import { expect, test, type Page } from '@playwright/test'
import {
  ADMIN_PASSWORD,
  apiCreateUser,
  apiHeadOffice,
  apiPost,
  apiToken,
  BASE_URL,
  pageProblems,
  PHONE,
  shot,
  signInMobile,
  watchForProblems,
} from './helpers'

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'visit-pass-2026'
const REP = { username: `visit.rep.${run}`, name: `赵磊${run}` }
const CUSTOMER = `清真兰州牛肉面馆${run}`
// The customer's pin, and where the phone says it is: about 135 m east of it.
const CUSTOMER_AT = { latitude: 30.259, longitude: 120.13 }
const PHONE_AT = { latitude: 30.2591, longitude: 120.1314, accuracy: 12 }

/** A small JPEG drawn by the browser itself (the gateway judges files by their content). */
async function photo(page: Page, colour: string): Promise<Buffer> {
  const dataUrl = await page.evaluate((fill) => {
    const canvas = document.createElement('canvas')
    canvas.width = 320
    canvas.height = 240
    const context = canvas.getContext('2d')!
    context.fillStyle = fill
    context.fillRect(0, 0, 320, 240)
    context.fillStyle = '#fff'
    context.fillRect(40, 40, 120, 80)
    return canvas.toDataURL('image/jpeg', 0.8)
  }, colour)
  return Buffer.from(dataUrl.split(',')[1]!, 'base64')
}

interface CustomField {
  key: string
  type: string
  required: boolean
  options?: string[]
}

/** A value for each custom field the tenant requires (none on a fresh stack; the demo tenant's
 * 结算方式 on `make run`), so the journey runs against either. */
async function requiredCustomFields(token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${BASE_URL}/api/v1/custom-fields`, { headers: { Authorization: `Bearer ${token}` } })
  const fields = ((await response.json()) as { items: CustomField[] }).items
  const sample = (field: CustomField) =>
    ({ number: 1, date: day(0), boolean: false, choice: field.options?.[0] })[field.type] ?? '月结'
  return Object.fromEntries(fields.filter((f) => f.required).map((f) => [f.key, sample(f)]))
}

/** Shanghai's calendar day `days` from today. */
const day = (days: number) => new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10)

test('issue 12: a rep checks in at a visit on the H5 with two photos and sees it on the card', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')
  const started = Date.now()
  let customerId = ''

  await test.step('the API holds a rep and their halal customer with allergens, a pin and a renovation coming', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    await apiCreateUser(adminToken, { username: REP.username, display_name: REP.name, password: PASSWORD, role: 'sales', org_unit_id: hq.id })
    const repToken = await apiToken(REP.username, PASSWORD)
    const customer = await apiPost<{ id: string }>(repToken, '/api/v1/customers', {
      name: CUSTOMER,
      lifecycle_stage: 'signed',
      type: '中餐',
      addresses: [{ province: '浙江', city: '杭州', district: '西湖区', detail: '文三路 90 号' }],
      special_requirements: [
        { kind: 'halal', note: '清真专用车' },
        { kind: 'allergens', details: ['花生', '虾'] },
      ],
      ...CUSTOMER_AT,
      custom_fields: await requiredCustomFields(repToken),
      request_id: `visit-customer-${run}`,
    })
    customerId = customer.id
    await apiPost(repToken, `/api/v1/customers/${customerId}/closures`, {
      start_date: day(10),
      end_date: day(20),
      reason: 'renovation',
      note: '后厨装修',
      request_id: `visit-closure-${run}`,
    })
  })

  const context = await browser.newContext({
    viewport: PHONE,
    isMobile: true,
    hasTouch: true,
    geolocation: PHONE_AT,
    permissions: ['geolocation'],
  })
  const page = watchForProblems(await context.newPage())

  await test.step('the rep opens the customer on the H5 and sees its alerts and the closure coming', async () => {
    await page.goto(`/m/customers/${customerId}`)
    await signInMobile(page, REP.username, PASSWORD)
    await expect(page.getByTestId('customer-name')).toContainText(CUSTOMER)
    const alerts = page.getByTestId('customer-alerts')
    await expect(alerts).toContainText('清真')
    await expect(alerts).toContainText('过敏原：花生、虾')
    await expect(page.getByTestId('closure-upcoming')).toContainText(`即将停工：${day(10)} 至 ${day(20)}`)
    await shot(page, info, 'h5-customer-alerts')
  })

  await test.step('checks in: the position with its accuracy, two photos from the camera input, the address', async () => {
    await page.getByTestId('check-in-start').click()
    await expect(page.getByTestId('check-in-customer')).toContainText(CUSTOMER)
    await expect(page.getByTestId('customer-alerts')).toContainText('清真')
    const coordinates = page.getByTestId('check-in-coordinates')
    await expect(coordinates).toContainText('30.25910, 120.13140')
    await expect(coordinates).toContainText('精度约 12 米')
    const camera = page.getByLabel('拍照')
    await expect(camera).toHaveAttribute('capture', 'environment')
    await camera.setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: await photo(page, '#c0392b') })
    await camera.setInputFiles({ name: 'IMG_0002.jpg', mimeType: 'image/jpeg', buffer: await photo(page, '#2471a3') })
    const photos = page.getByTestId('check-in-photo')
    await expect(photos).toHaveCount(2)
    await expect(photos.nth(0)).toHaveAttribute('data-status', 'done')
    await expect(photos.nth(1)).toHaveAttribute('data-status', 'done')
    await page.getByTestId('check-in-address').getByRole('textbox').fill('杭州市西湖区文三路 90 号')
    await page.getByTestId('check-in-content').getByRole('textbox').fill('到店拜访后厨，确认清真专用车配送')
    await shot(page, info, 'h5-check-in-form')
  })

  await test.step('saves the visit and is told how far from the customer’s pin it was', async () => {
    await page.getByTestId('check-in-save').click()
    await expect(page.getByTestId('check-in-done')).toBeVisible()
    await expect(page.getByTestId('check-in-distance')).toHaveText(/距客户位置约 1[2-4]\d 米/)
    await expect(page.getByTestId('check-in-done')).toContainText('2 张照片')
    await shot(page, info, 'h5-check-in-done')
  })

  await test.step('the card lists the visit with its check-in and both photos, which load', async () => {
    await page.getByTestId('check-in-back').click()
    const visit = page.getByTestId('visit').first()
    await expect(visit).toContainText('到店拜访后厨')
    await expect(visit.getByTestId('visit-distance')).toHaveText(/距客户位置约 1[2-4]\d 米/)
    const thumbnails = visit.getByTestId('visit-photo')
    await expect(thumbnails).toHaveCount(2)
    for (const thumbnail of await thumbnails.all()) {
      await thumbnail.scrollIntoViewIfNeeded()
      await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true)
    }
    await shot(page, info, 'h5-visit-with-photos')
  })

  expect(pageProblems).toEqual([])
  console.log(`issue 12 visit check-in in the browser: ${Math.round((Date.now() - started) / 1000)} s`)
  await context.close()
})
