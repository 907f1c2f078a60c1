import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import type { OrderImportReport } from './api'
import OrderImportView from './OrderImportView.vue'

function report(dryRun: boolean, overrides: Partial<OrderImportReport> = {}): OrderImportReport {
  return {
    dry_run: dryRun,
    rows: 4,
    orders: 3,
    created: 1,
    already_imported: 0,
    failed: 2,
    problems: [
      { row: 4, column: '数量', reason: '须大于0 / must be more than 0' },
      { row: 5, column: '客户', reason: '客户未找到 / customer not found' },
    ],
    items: [],
    ...overrides,
  }
}

function gateway() {
  const sent: URLSearchParams[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      if (url.pathname === '/api/v1/order-imports') {
        sent.push(url.searchParams)
        const dryRun = url.searchParams.get('dry_run') === 'true'
        return json(200, dryRun ? report(true) : report(false, { problems: [] }))
      }
      return json(404, { code: 'not_found' })
    }),
  )
  return sent
}

async function pick(wrapper: ReturnType<typeof mount>, name: string): Promise<void> {
  const input = wrapper.get('[data-test="order-import-file"]')
  Object.defineProperty(input.element, 'files', { value: [new File(['外部单号'], name, { type: 'text/csv' })] })
  await input.trigger('change')
}

describe('导入历史订单', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('checks the file first, shows each problem with its row and column, then imports', async () => {
    const sent = gateway()
    const wrapper = mount(OrderImportView, { global: { plugins: [i18n] } })
    await pick(wrapper, '历史订单.csv')
    expect(wrapper.get('[data-test="order-import-run"]').attributes('disabled')).toBeDefined()

    await wrapper.get('[data-test="order-import-check"]').trigger('click')
    await flushPromises()

    expect(sent.at(-1)!.get('dry_run')).toBe('true')
    expect(sent.at(-1)!.get('file_name')).toBe('历史订单.csv')
    const table = wrapper.get('[data-test="order-import-problems"]').text()
    expect(table).toContain('须大于0')
    expect(table).toContain('数量')
    expect(wrapper.get('[data-test="order-import-counts"]').text()).toContain('可新建1个')

    await wrapper.get('[data-test="order-import-run"]').trigger('click')
    await flushPromises()

    expect(sent.at(-1)!.get('dry_run')).toBe('false')
    expect(wrapper.get('[data-test="order-import-counts"]').text()).toContain('新建1个')
    expect(wrapper.find('[data-test="order-import-clean"]').exists()).toBe(true)
  })

  it('refuses a file that is not xlsx or CSV before sending it', async () => {
    const sent = gateway()
    const wrapper = mount(OrderImportView, { global: { plugins: [i18n] } })
    await pick(wrapper, '订单.pdf')

    await wrapper.get('[data-test="order-import-check"]').trigger('click')
    await flushPromises()

    expect(sent).toHaveLength(0)
    expect(wrapper.get('[data-test="order-import-problem"]').text()).toContain('xlsx')
  })
})
