// Issue 13's quote journey in a real browser: a rep drafts a quote at 85% of the list price in the
// quote editor, sees that it needs approval and submits it; their supervisor finds it under
// 待我审批 and approves it; the rep downloads the PDF and turns the quote into a cash-on-delivery
// order with the quoted price. The catalogue (an admin's), the people and the rep's customer are
// set up through the API.
import { expect, test } from '@playwright/test'
import type { components } from '../shared/src/api/schema'
import { ADMIN_PASSWORD, apiCreateUser, apiHeadOffice, apiPost, apiRequiredFields, apiToken, BASE_URL, pageProblems, shot, signedIn } from './helpers'

type Customer = components['schemas']['CustomerOut']

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'quote-journey-2026'
const REP = { username: `quotes.rep.${run}`, name: `林晓${run}` }
const BOSS = { username: `quotes.sup.${run}`, name: `周敏${run}` }
const HOTEL = `西湖国宾馆后厨${run}`
const SKU = `YY-${run}`.toUpperCase()
const PRODUCT = `金龙鱼大豆油${run}`

test('issue 13 quotes: a quote at 85% waits for the supervisor, is approved and becomes an order', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')
  let quoteUrl = ''

  await test.step('the API holds a product, a rep and their supervisor, and the rep’s customer', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    await apiCreateUser(adminToken, { username: REP.username, display_name: REP.name, password: PASSWORD, role: 'sales', org_unit_id: hq.id })
    await apiCreateUser(adminToken, { username: BOSS.username, display_name: BOSS.name, password: PASSWORD, role: 'supervisor', org_unit_id: hq.id })
    const put = await fetch(`${BASE_URL}/api/v1/products/by-sku/${SKU}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: PRODUCT, unit: '桶', specification: '5L/桶', list_price: '80.00', cost: '61.00', category: '粮油/食用油' }),
    })
    expect(put.ok, await put.text()).toBe(true)
    const token = await apiToken(REP.username, PASSWORD)
    await apiPost<Customer>(token, '/api/v1/customers', {
      name: HOTEL,
      lifecycle_stage: 'signed',
      request_id: `quotes-customer-${run}`,
      custom_fields: await apiRequiredFields(token),
    })
  })

  const rep = await signedIn(browser, REP.username, PASSWORD)

  await test.step('the rep drafts a quote at 85%, is told it needs approval, and submits it', async () => {
    await rep.getByTestId('menu-quotes').click()
    await expect(rep.getByTestId('quote-list')).toBeVisible()
    await rep.getByTestId('quote-new').click()
    await expect(rep.getByTestId('quote-editor')).toBeVisible()

    const customer = rep.locator('#quote-customer')
    await customer.click()
    await customer.fill(HOTEL)
    await rep.getByRole('option', { name: HOTEL }).click()

    const product = rep.getByTestId('line-product-0')
    await product.click()
    await product.locator('input').fill(SKU)
    await rep.getByRole('option', { name: new RegExp(PRODUCT) }).click()
    await rep.locator('#line-quantity-0').fill('10')
    await rep.locator('#line-price-0').fill('68.00')
    await expect(rep.getByTestId('line-rate-0')).toContainText('85')
    await expect(rep.getByTestId('quote-total')).toContainText('¥680.00')
    await expect(rep.getByTestId('quote-needs-approval')).toBeVisible()
    await shot(rep, info, 'quote-editor')
    await rep.getByTestId('quote-submit').click()

    await expect(rep.getByTestId('quote-detail')).toBeVisible()
    await expect(rep.getByTestId('quote-status')).toHaveText('待审批')
    await expect(rep.getByTestId('quote-approve'), 'a rep may not approve').toHaveCount(0)
    quoteUrl = new URL(rep.url()).pathname
    await shot(rep, info, 'quote-submitted')
  })

  await test.step('the supervisor finds it under 待我审批 and approves it', async () => {
    const boss = await signedIn(browser, BOSS.username, PASSWORD)
    await boss.getByTestId('menu-quotes').click()
    await boss.getByRole('tab', { name: '待我审批' }).click()
    const link = boss.getByRole('row').filter({ hasText: HOTEL }).getByTestId('quote-link')
    await expect(link).toHaveCount(1)
    await link.click()
    await expect(boss.getByTestId('quote-status')).toHaveText('待审批')
    await boss.getByTestId('quote-approve').click()
    await expect(boss.getByTestId('quote-status')).toHaveText('已批准')
    await expect(boss.getByTestId('quote-approval')).toBeVisible()
    await shot(boss, info, 'quote-approved')
    await boss.context().close()
  })

  await test.step('the rep downloads the PDF and turns the approved quote into a COD order', async () => {
    await rep.goto(quoteUrl)
    await expect(rep.getByTestId('quote-status')).toHaveText('已批准')
    const [download] = await Promise.all([rep.waitForEvent('download'), rep.getByTestId('quote-pdf').click()])
    expect(download.suggestedFilename()).toMatch(/\.pdf$/)
    const pdf = await download.createReadStream()
    const chunks: Buffer[] = []
    for await (const chunk of pdf) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).subarray(0, 5).toString()).toBe('%PDF-')

    await rep.getByTestId('quote-convert').click()
    const dialog = rep.getByTestId('quote-convert-dialog')
    await expect(dialog).toBeVisible()
    await rep.getByTestId('quote-convert-confirm').click()
    await expect(rep.getByTestId('quote-status')).toHaveText('已转订单')
    await rep.getByTestId('quote-order').click()
    await expect(rep.getByTestId('order-detail')).toBeVisible()
    await expect(rep.getByTestId('order-state')).toHaveText('草稿')
    await expect(rep.getByTestId('order-mode')).toHaveText('货到付款')
    await expect(rep.getByTestId('order-total'), 'the order keeps the quoted price').toHaveText('¥680.00')
    await shot(rep, info, 'quote-order')
    await rep.context().close()
  })

  expect(pageProblems, pageProblems.join('\n')).toEqual([])
})
