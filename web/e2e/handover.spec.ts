// Issue 11's remaining screens in a real browser: a supervisor shares a rep's customer read-only
// with a colleague (a sales owner cannot list colleagues: GET /users shows a rep only themselves),
// who sees it badged and cannot edit it; a supervisor's bell lights up live when a rep
// claims from a pool that needs approval, and the notice opens 待我审批; an admin hands a rep's
// customers evenly to two colleagues with the wizard and watches the transfer complete. People,
// customers and the pool are set up through the API.
import { expect, test, type Browser } from '@playwright/test'
import {
  ADMIN_PASSWORD,
  apiCreateCustomer,
  apiCreateOrgUnit,
  apiCreateUser,
  apiHeadOffice,
  apiPost,
  apiToken,
  choose,
  pageProblems,
  shot,
  signedIn as signedInAs,
} from './helpers'

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'journey-pass-2026'
const SUBSIDIARY = `温州分公司${run}`
const SHOP = `鹿城门店${run}`
const OWNER = { username: `ho.owner.${run}`, name: `黄敏${run}` }
const COLLEAGUE = { username: `ho.mate.${run}`, name: `吴迪${run}` }
const OTHER = { username: `ho.other.${run}`, name: `郑凯${run}` }
const LEAVER = { username: `ho.leaver.${run}`, name: `孙丽${run}` }
const SUPERVISOR = { username: `ho.sup.${run}`, name: `何军${run}` }
const SHARED = `温州第一中学食堂${run}`
const POOLED = `鹿城酒店${run}`

/** Signed in with the journey's password unless another is given. */
const signedIn = (browser: Browser, username: string, password = PASSWORD) => signedInAs(browser, username, password)

test('issue 11 handover journey: a read-only collaborator, a live claim notice, an even transfer', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')
  const started = Date.now()
  let sharedId = ''
  let pooledId = ''
  let poolId = ''

  await test.step('the API holds a subsidiary with a shop, four reps, their supervisor, customers and a pool needing approval', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    const subsidiary = await apiCreateOrgUnit(adminToken, SUBSIDIARY, hq.id)
    const shop = await apiCreateOrgUnit(adminToken, SHOP, subsidiary.id)
    for (const [user, role, unit] of [
      [OWNER, 'sales', shop.id],
      [COLLEAGUE, 'sales', shop.id],
      [OTHER, 'sales', shop.id],
      [LEAVER, 'sales', shop.id],
      [SUPERVISOR, 'supervisor', subsidiary.id],
    ] as const) {
      await apiCreateUser(adminToken, { username: user.username, display_name: user.name, password: PASSWORD, role, org_unit_id: unit })
    }
    const ownerToken = await apiToken(OWNER.username, PASSWORD)
    sharedId = (await apiCreateCustomer(ownerToken, SHARED)).id
    pooledId = (await apiCreateCustomer(ownerToken, POOLED)).id
    const leaverToken = await apiToken(LEAVER.username, PASSWORD)
    for (const n of [1, 2, 3, 4]) await apiCreateCustomer(leaverToken, `瓯海食品厂${run}-${n}`)
    const pool = await apiPost<{ id: string }>(adminToken, '/api/v1/pools', {
      name: `温州公海${run}`,
      org_unit_id: subsidiary.id,
      requires_approval: true,
    })
    poolId = pool.id
    await apiPost(ownerToken, `/api/v1/customers/${pooledId}/release`, { reason: '暂无采购计划', pool_id: poolId })
  })

  const supervisor = await signedIn(browser, SUPERVISOR.username)

  await test.step("the supervisor adds a colleague as a read-only collaborator of the owner's customer", async () => {
    const page = supervisor
    await page.goto(`/customers/${sharedId}`)
    await expect(page.getByTestId('customer-name')).toHaveText(SHARED)
    await page.getByRole('tab', { name: '协作人' }).click()
    await page.getByTestId('collaborator-add').click()
    const dialog = page.getByTestId('collaborator-dialog')
    await choose(page, '同事', new RegExp(COLLEAGUE.name))
    await expect(dialog.getByLabel('只读')).toBeChecked()
    await dialog.getByTestId('collaborator-save').click()
    await expect(dialog).toBeHidden()
    const row = page.getByTestId('collaborator-table').getByRole('row', { name: new RegExp(COLLEAGUE.name) })
    await expect(row).toContainText('只读')
    await expect(row).toContainText(SUPERVISOR.name)
    await shot(page, info, 'supervisor-collaborators')
  })

  await test.step('the colleague sees the customer badged read-only, without edit or follow-up buttons', async () => {
    const page = await signedIn(browser, COLLEAGUE.username)
    await page.goto(`/customers/${sharedId}`)
    await expect(page.getByTestId('customer-name')).toHaveText(SHARED)
    await expect(page.getByTestId('customer-collaboration')).toHaveText('协作（只读）')
    await expect(page.getByTestId('customer-edit')).toHaveCount(0)
    await expect(page.getByTestId('customer-release')).toHaveCount(0)
    await page.getByRole('tab', { name: '跟进记录' }).click()
    await expect(page.getByTestId('follow-up-add')).toHaveCount(0)
    await shot(page, info, 'colleague-read-only')
    await page.context().close()
  })

  await test.step("the supervisor's bell shows a rep's claim live, and the notice opens 待我审批", async () => {
    const page = supervisor
    await page.getByTestId('menu-workbench').click()
    const badge = page.getByTestId('notification-badge')
    await expect(page.getByTestId('notification-bell')).toBeVisible()
    await expect(badge.locator('sup')).toBeHidden()
    await apiPost(await apiToken(OTHER.username, PASSWORD), `/api/v1/pools/${poolId}/claims`, {
      customer_id: pooledId,
      reason: '客户来电询价',
      request_id: `claim-${run}`,
    })
    // No reload: the stream brings it.
    await expect(badge.locator('sup')).toHaveText('1', { timeout: 30_000 })
    await shot(page, info, 'supervisor-bell')
    await page.getByTestId('notification-bell').click()
    const item = page.getByTestId('notification-list').getByTestId('notification-pool_claim_submitted').first()
    await expect(item).toContainText(POOLED)
    await shot(page, info, 'supervisor-notifications')
    await item.click()
    await expect(page.getByRole('tab', { name: '待我审批', selected: true })).toBeVisible()
    await expect(page.getByTestId('claims-to_decide').getByRole('row', { name: new RegExp(POOLED) })).toBeVisible()
    await expect(badge.locator('sup')).toBeHidden()
    await shot(page, info, 'supervisor-to-decide')
    await page.context().close()
  })

  await test.step("the admin hands a rep's customers evenly to two colleagues and sees it completed", async () => {
    const page = await signedIn(browser, 'admin', ADMIN_PASSWORD)
    await page.getByTestId('menu-transfers').click()
    await page.getByTestId('transfer-new').click()
    await choose(page, '交出人', new RegExp(LEAVER.name))
    await page.getByTestId('transfer-next').click()
    await page.getByText('平均分给多位同事').click()
    const receivers = page.getByLabel('接收人', { exact: true })
    await receivers.click({ force: true })
    for (const person of [COLLEAGUE, OTHER]) await page.getByRole('option', { name: new RegExp(person.name) }).click()
    await page.keyboard.press('Escape')
    await page.getByLabel('交接原因').fill('员工离职')
    await shot(page, info, 'admin-transfer-how')
    await page.getByTestId('transfer-next').click()
    await expect(page.getByTestId('transfer-summary')).toContainText(LEAVER.name)
    await page.getByTestId('transfer-start').click()
    await expect(page.getByTestId('transfer-progress')).toBeVisible()
    // The customer service's job moves the book every few seconds; the page polls.
    await expect(page.getByTestId('transfer-status-completed')).toBeVisible({ timeout: 90_000 })
    await expect(page.getByTestId('transfer-counts')).toHaveText('已交接 4 位，跳过 0 位，共 4 位')
    await shot(page, info, 'admin-transfer-completed')
    await page.context().close()
    console.log(`issue 11 handover journey in the browser: ${Math.round((Date.now() - started) / 1000)} s`)
  })

  await test.step('no page threw a script error or hit the Content-Security-Policy', async () => {
    expect(pageProblems).toEqual([])
  })
})
