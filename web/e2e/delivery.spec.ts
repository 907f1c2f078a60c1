// Issue 13's delivery in a real browser: a dispatcher (客服) opens a paid cash-on-delivery order that
// is ready to ship, dispatches it with the vehicle, the driver and their mobile and a batch number
// for each line, then confirms the delivery with who signed and a photo; the order shows 已签收 with
// the batch numbers, the signer and the photo. The catalogue, the people, the customer and the paid
// order are set up through the API.
import { expect, test } from '@playwright/test'
import { fileURLToPath } from 'node:url'
import type { components } from '../shared/src/api/schema'
import {
  ADMIN_PASSWORD,
  apiCreateUser,
  apiHeadOffice,
  apiPlaceOrder,
  apiPost,
  apiPut,
  apiRequiredFields,
  apiToken,
  pageProblems,
  shanghaiDay,
  shot,
  signedIn,
} from './helpers'

type Customer = components['schemas']['CustomerOut']
type ProductUpserted = components['schemas']['ProductUpserted']

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'delivery-journey-2026'
const REP = { username: `delivery.rep.${run}`, name: `许静${run}` }
const DISPATCHER = { username: `delivery.disp.${run}`, name: `何军${run}` }
const CANTEEN = `萧山区第二中学食堂${run}`
// Two lines, each filled from its own batch.
const LINES = [
  { sku: `NR-${run}`.toUpperCase(), name: `冷冻牛腩${run}`, unit: '箱', list_price: '268.00', cost: '190.50', quantity: '3', batch: `NR20261201-${run}` },
  { sku: `MF-${run}`.toUpperCase(), name: `高筋面粉${run}`, unit: '袋', list_price: '96.00', cost: '70.00', quantity: '2', batch: `MF20261128-${run}` },
]
const PHOTO = fileURLToPath(new URL('./fixtures/signed-delivery.png', import.meta.url))

test('issue 13 delivery: a dispatcher dispatches a paid order with batch numbers and confirms its delivery with a photo', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')

  await test.step('the API holds two products, a rep’s customer and a COD order of both, paid and ready to ship', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    await apiCreateUser(adminToken, { username: REP.username, display_name: REP.name, password: PASSWORD, role: 'sales', org_unit_id: hq.id })
    await apiCreateUser(adminToken, { username: DISPATCHER.username, display_name: DISPATCHER.name, password: PASSWORD, role: 'service', org_unit_id: hq.id })
    const products = []
    for (const line of LINES) {
      const { sku, name, unit, list_price, cost } = line
      const body = { name, unit, list_price, cost, tax_rate: '0.09' }
      products.push((await apiPut<ProductUpserted>(adminToken, `/api/v1/products/by-sku/${sku}`, body)).product)
    }
    const token = await apiToken(REP.username, PASSWORD)
    const customer = await apiPost<Customer>(token, '/api/v1/customers', {
      name: CANTEEN,
      lifecycle_stage: 'signed',
      request_id: `delivery-customer-${run}`,
      custom_fields: await apiRequiredFields(token),
    })
    const order = await apiPlaceOrder(token, {
      customer_id: customer.id,
      payment_mode: 'cod',
      lines: products.map((product, index) => ({ product_id: product.id, quantity: LINES[index].quantity })),
      delivery_date: shanghaiDay(1),
      delivery_address: '杭州市萧山区市心北路2号',
      request_id: `delivery-order-${run}`,
    })
    await apiPost(token, `/api/v1/orders/${order.id}/confirm`, {})
    await apiPost(token, `/api/v1/orders/${order.id}/release`, {})
    await apiPost(adminToken, `/api/v1/orders/${order.id}/record_payment`, {})
  })

  const dispatcher = await signedIn(browser, DISPATCHER.username, PASSWORD)

  await test.step('the dispatcher opens the order ready to ship from the order list', async () => {
    await dispatcher.getByTestId('menu-orders').click()
    const row = dispatcher.getByTestId('order-table').getByRole('row').filter({ hasText: CANTEEN })
    await expect(row).toContainText('待出库')
    await row.getByRole('link').click()
    await expect(dispatcher.getByTestId('order-detail')).toBeVisible()
    await expect(dispatcher.getByTestId('order-state')).toHaveText('待出库')
  })

  await test.step('the dispatcher dispatches it with the vehicle, the driver and a batch number per line', async () => {
    await dispatcher.getByTestId('order-action-dispatch').click()
    const dialog = dispatcher.getByTestId('dispatch-dialog')
    await expect(dialog).toBeVisible()
    await dialog.getByLabel('车牌', { exact: true }).fill('浙A12345')
    await dialog.getByLabel('司机', { exact: true }).fill('陈师傅')
    await dialog.getByLabel('司机手机', { exact: true }).fill('13900139000')
    // One batch row per line, already holding the line's quantity.
    for (const [index, line] of LINES.entries()) {
      const batch = dialog.getByTestId(`dispatch-batch-${index}`)
      await expect(batch.getByRole('textbox', { name: '数量' })).toHaveValue(line.quantity)
      await batch.getByRole('textbox', { name: '批次号' }).fill(line.batch)
    }
    await shot(dispatcher, info, 'delivery-dispatch')
    await dialog.getByTestId('dispatch-submit').click()
    await expect(dialog).toBeHidden()
    await expect(dispatcher.getByTestId('order-state')).toHaveText('配送中')
    await expect(dispatcher.getByTestId('delivery-vehicle')).toHaveText('浙A12345')
  })

  await test.step('the dispatcher confirms the delivery with who signed and a photo', async () => {
    await dispatcher.getByTestId('order-action-deliver').click()
    const dialog = dispatcher.getByTestId('delivery-dialog')
    await expect(dialog).toBeVisible()
    await dialog.getByLabel('签收人', { exact: true }).fill('食堂周主任')
    await dialog.getByLabel('签收照片', { exact: true }).setInputFiles(PHOTO)
    await expect(dialog.getByTestId('delivery-photo-done')).toContainText('signed-delivery.png')
    await shot(dispatcher, info, 'delivery-confirm')
    await dialog.getByTestId('delivery-submit').click()
    await expect(dialog).toBeHidden()
  })

  await test.step('the order shows 已签收 with the batch numbers, the signer and the photo', async () => {
    // Read again from the server, not from the dialog's answer.
    await dispatcher.reload()
    await expect(dispatcher.getByTestId('order-state')).toHaveText('已签收')
    const batches = dispatcher.getByTestId('delivery-batches').getByRole('listitem')
    await expect(batches).toHaveCount(LINES.length)
    for (const [index, line] of LINES.entries()) await expect(batches.nth(index)).toContainText(`${line.name} · ${line.batch}`)
    await expect(dispatcher.getByTestId('delivery-signer')).toHaveText('食堂周主任')
    await expect(dispatcher.getByTestId('delivery-photo-image')).toBeVisible()
    await shot(dispatcher, info, 'delivery-delivered')
    await dispatcher.context().close()
  })

  expect(pageProblems, pageProblems.join('\n')).toEqual([])
})
