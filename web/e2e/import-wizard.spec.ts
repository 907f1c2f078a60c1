// Issue 12's import wizard and the list's export in the console, against the running stack: a
// sales rep downloads the template, uploads a small xlsx (made by fixtures/import_workbook.py)
// with five planted problems, sees exactly those in the dry-run report (one naming the rep's own
// existing customer, one another rep's customer it may not see), reloads the import's page,
// confirms, watches the progress reach 100%, downloads the rejected rows (those five, each with
// its reason) and exports their customer list as CSV and xlsx (their own book only).
import { expect, test, type Download, type Page } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  ADMIN_PASSWORD,
  apiCreateUser,
  apiHeadOffice,
  apiPost,
  apiToken,
  BASE_URL,
  pageProblems,
  randomMobile,
  shot,
  signedIn,
} from './helpers'

const run = Date.now().toString(36).slice(-5)
const PASSWORD = 'import-pass-2026'
const REP = { username: `import.rep.${run}`, name: `钱进${run}` }
const OTHER_REP = { username: `import.other.${run}`, name: `孙悦${run}` }
const GENERATOR = fileURLToPath(new URL('./fixtures/import_workbook.py', import.meta.url))
const VENV_PYTHON = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url))
const PYTHON = process.env.CRM_PYTHON || (existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3')

const name = (base: string) => `${base}${run}`
const OWN_EXISTING = name('既有客户食堂')
const OTHERS_EXISTING = name('他人客户酒店')

interface CustomField {
  key: string
  label: string
  type: string
  required: boolean
  options?: string[]
}

/** The custom fields the tenant requires (none on a fresh stack; the demo tenant's 结算方式 on
 * `make run`), with a value each: as the file's columns and as an API body, so the journey runs
 * against either. */
async function requiredFields(token: string): Promise<{ headers: string[]; cells: string[]; body: Record<string, unknown> }> {
  const response = await fetch(`${BASE_URL}/api/v1/custom-fields`, { headers: { Authorization: `Bearer ${token}` } })
  const fields = ((await response.json()) as { items: CustomField[] }).items.filter((f) => f.required)
  // The cell as the file says it, the value as the API takes it.
  const sample = (field: CustomField): [string, unknown] => {
    if (field.type === 'number') return ['1', 1]
    if (field.type === 'date') return ['2027-01-01', '2027-01-01']
    if (field.type === 'boolean') return ['否', false]
    if (field.type === 'choice') return [field.options?.[0] ?? '', field.options?.[0]]
    return ['月结', '月结']
  }
  return {
    headers: fields.map((f) => f.label),
    cells: fields.map((f) => sample(f)[0]),
    body: Object.fromEntries(fields.map((f) => [f.key, sample(f)[1]])),
  }
}

function writeWorkbook(path: string, headers: string[], rows: string[][]): void {
  execFileSync(PYTHON, [GENERATOR, path], { input: JSON.stringify({ headers, rows }) })
}

function readWorkbook(path: string): string[][] {
  return JSON.parse(execFileSync(PYTHON, [GENERATOR, '--dump', path]).toString()) as string[][]
}

/** The file a click starts downloading, saved in the test's output folder. */
async function downloadOf(page: Page, click: () => Promise<void>, folder: string): Promise<{ download: Download; path: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()])
  const path = `${folder}/${download.suggestedFilename()}`
  await download.saveAs(path)
  return { download, path }
}

test('issue 12: a rep imports customers through the wizard, sees the planted problems, gets the rejected rows and exports', async ({ browser }, info) => {
  expect(ADMIN_PASSWORD, 'set CRM_ADMIN_PASSWORD').not.toBe('')
  const workbook = info.outputPath(`客户导入-${run}.xlsx`)
  const planted = new Map<number, { column: string; text: RegExp }>()

  await test.step('the API holds two reps, each with a customer whose mobile the file reuses', async () => {
    const adminToken = await apiToken('admin', ADMIN_PASSWORD)
    const hq = await apiHeadOffice(adminToken)
    for (const rep of [REP, OTHER_REP]) {
      await apiCreateUser(adminToken, { username: rep.username, display_name: rep.name, password: PASSWORD, role: 'sales', org_unit_id: hq.id })
    }
    const repToken = await apiToken(REP.username, PASSWORD)
    const otherToken = await apiToken(OTHER_REP.username, PASSWORD)
    const custom = await requiredFields(repToken)
    const ownMobile = randomMobile()
    const othersMobile = randomMobile()
    for (const [token, customer, mobile] of [
      [repToken, OWN_EXISTING, ownMobile],
      [otherToken, OTHERS_EXISTING, othersMobile],
    ] as const) {
      await apiPost(token, '/api/v1/customers', {
        name: customer,
        lifecycle_stage: 'prospect',
        contacts: [{ name: '陈主任', mobile, primary: true }],
        custom_fields: custom.body,
        request_id: `import-${customer}`,
      })
    }

    // Rows 2–3: one customer with two contacts; rows 4 and 7 good customers; five planted problems.
    const headers = ['客户名称', '生命周期', '联系人姓名', '联系人手机', '联系人职务', ...custom.headers]
    const row = (customer: string, stage: string, contact: string, mobile: string, title = '') => [customer, stage, contact, mobile, title, ...custom.cells]
    const rows = [
      row(name('甲实验小学食堂'), '意向', '王建国', randomMobile(), '后勤主任'),
      row(name('甲实验小学食堂'), '', '李梅', randomMobile(), '采购'),
      row(name('乙大酒店'), '已签约', '张伟', randomMobile()),
      row(name('丙中学食堂'), '线索', '赵强', '1380013800'),
      row(name('丁川菜馆'), '大客户', '孙丽', randomMobile()),
      row(name('戊海鲜饭店'), '意向', '周杰', randomMobile()),
      row(name('己生鲜超市'), '意向', '吴芳', ownMobile),
      row(name('庚商务宾馆'), '意向', '郑华', othersMobile),
      row(name('戊海鲜饭店'), '意向', '冯磊', randomMobile()),
    ]
    planted.set(5, { column: '联系人手机', text: /手机/ })
    planted.set(6, { column: '生命周期', text: /./ })
    planted.set(8, { column: '联系人手机', text: new RegExp(`已有客户：${OWN_EXISTING}`) })
    planted.set(9, { column: '联系人手机', text: /已有客户（你无权查看）/ })
    planted.set(10, { column: '客户名称', text: /第7行/ })
    writeWorkbook(workbook, headers, rows)
  })

  const page = await signedIn(browser, REP.username, PASSWORD)

  await test.step('the customer list opens the import wizard, whose template downloads', async () => {
    await page.getByTestId('menu-customers').click()
    await expect(page.getByTestId('customer-list')).toBeVisible()
    await page.getByTestId('customer-import').click()
    await expect(page).toHaveURL(/\/customers\/import$/)
    await expect(page.getByRole('heading', { name: '导入客户' })).toBeVisible()
    const { download, path } = await downloadOf(page, () => page.getByTestId('import-template-xlsx').click(), info.outputPath())
    expect(download.suggestedFilename()).toMatch(/\.xlsx$/)
    expect(readWorkbook(path)[0]).toContain('客户名称*')
    await shot(page, info, 'import-upload')
  })

  let importUrl = ''
  await test.step('uploading the workbook runs the dry run, whose report lists exactly the planted problems', async () => {
    await page.getByLabel('导入文件').setInputFiles(workbook)
    await expect(page.getByTestId('import-file-name')).toContainText(`客户导入-${run}.xlsx`)
    await page.getByTestId('import-upload-submit').click()
    await expect(page).toHaveURL(/\/customers\/import\/[0-9a-f-]{36}$/)
    importUrl = page.url()
    const report = page.getByTestId('import-step-report')
    await expect(report).toBeVisible({ timeout: 60_000 })
    await expect(report.getByTestId('import-count-created')).toContainText('3')
    await expect(report.getByTestId('import-count-rejected_rows')).toContainText('5')
    await expect(report.getByTestId('import-would-do')).toHaveText('确认后将新建 3 个客户、更新 0 个，跳过 5 个。')
    const errors = report.getByTestId('import-problem-table').locator('tbody tr').filter({ hasText: '错误' })
    await expect(errors).toHaveCount(planted.size)
    for (const [rowNumber, { column, text }] of planted) {
      const line = errors.filter({ has: page.getByRole('cell', { name: String(rowNumber), exact: true }) })
      await expect(line, `row ${rowNumber}`).toHaveCount(1)
      await expect(line).toContainText(column)
      await expect(line).toContainText(text)
    }
    await shot(page, info, 'import-report')
  })

  await test.step('the import’s page survives a reload', async () => {
    await page.reload()
    await expect(page.getByTestId('import-step-report')).toBeVisible()
    expect(page.url()).toBe(importUrl)
  })

  await test.step('confirming imports the rest, the progress reaches 100% and the result counts them', async () => {
    await page.getByTestId('import-confirm').click()
    const result = page.getByTestId('import-step-result')
    await expect(result).toBeVisible({ timeout: 60_000 })
    await expect(result.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100')
    await expect(result.getByText('导入完成')).toBeVisible()
    await expect(result.getByTestId('import-result-summary')).toHaveText('新建 3 个客户、更新 0 个，跳过 5 个。')
    await shot(page, info, 'import-result')
  })

  await test.step('the rejected rows download as an xlsx with the five rows and their reasons', async () => {
    const { download, path } = await downloadOf(page, () => page.getByTestId('import-rejected-rows').click(), info.outputPath())
    expect(download.suggestedFilename()).toMatch(/\.xlsx$/)
    const [headers, ...rows] = readWorkbook(path)
    const reason = headers!.indexOf('错误原因')
    expect(reason).toBeGreaterThanOrEqual(0)
    expect(rows).toHaveLength(5)
    expect(rows.map((r) => r[0]).sort()).toEqual(
      [name('丙中学食堂'), name('丁川菜馆'), name('己生鲜超市'), name('庚商务宾馆'), name('戊海鲜饭店')].sort(),
    )
    for (const values of rows) expect(values[reason]).not.toBe('')
  })

  await test.step('the list shows the imported customers and exports the rep’s own book as CSV and xlsx', async () => {
    await page.getByTestId('menu-customers').click()
    const table = page.getByTestId('customer-table')
    await expect(table).toContainText(name('甲实验小学食堂'))
    await page.getByTestId('customer-export').click()
    const csv = await downloadOf(page, () => page.getByRole('menuitem', { name: '导出 CSV' }).click(), info.outputPath())
    expect(csv.download.suggestedFilename()).toMatch(/^客户导出-.*\.csv$/)
    const text = readFileSync(csv.path, 'utf-8')
    for (const customer of [name('甲实验小学食堂'), name('乙大酒店'), name('戊海鲜饭店'), OWN_EXISTING]) expect(text).toContain(customer)
    expect(text).not.toContain(OTHERS_EXISTING)
    await page.getByTestId('customer-export').click()
    const xlsx = await downloadOf(page, () => page.getByRole('menuitem', { name: '导出 Excel（xlsx）' }).click(), info.outputPath())
    expect(xlsx.download.suggestedFilename()).toMatch(/^客户导出-.*\.xlsx$/)
    const names = readWorkbook(xlsx.path).map((r) => r[0])
    expect(names).toContain(name('乙大酒店'))
    await shot(page, info, 'customer-export')
  })

  expect(pageProblems).toEqual([])
})
