import { flushPromises, mount } from '@vue/test-utils'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auth, i18n } from '../../app'
import ProductsView from './ProductsView.vue'

const product = (sku: string, name: string, cost: string | null, extra: Record<string, unknown> = {}) => ({
  id: `p-${sku}`,
  sku,
  name,
  category: '肉禽/牛肉',
  specification: '5kg/箱',
  unit: '箱',
  list_price: '1234.5',
  cost,
  tax_rate: '0.09',
  attributes: { halal: true, organic: false, contains_pork: false, cold_chain: true, allergens: [] },
  active: true,
  version: 3,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-01T10:00:00+08:00',
  ...extra,
})

function gateway(list: unknown[], onPut: (body: unknown) => Response = () => json(200, {})) {
  const asked: URL[] = []
  const puts: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      asked.push(url)
      if (request.method === 'PUT') {
        const body = await request.json()
        puts.push(body)
        return onPut(body)
      }
      return json(200, { items: list, next_page_token: null })
    }),
  )
  return { asked, puts }
}

async function mountAs(role: string) {
  auth.me.value = { role } as never
  const wrapper = mount(ProductsView, { global: { plugins: [i18n] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

describe('ProductsView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
    document.body.innerHTML = ''
  })

  it('lists products with CNY prices and attribute tags, and no cost column for sales', async () => {
    gateway([product('NR-001', '冷冻牛腩', null, { attributes: { halal: true, organic: false, contains_pork: false, cold_chain: true, allergens: ['花生', '牛奶'] } })])
    const wrapper = await mountAs('sales')
    const text = wrapper.find('[data-test="product-table"]').text()
    expect(text).toContain('冷冻牛腩')
    expect(text).toContain('¥1,234.50')
    expect(wrapper.find('[data-test="attr-halal"]').text()).toBe('清真')
    expect(wrapper.find('[data-test="attr-cold_chain"]').text()).toBe('冷链')
    expect(wrapper.find('[data-test="attr-allergens"]').text()).toBe('过敏原：花生、牛奶')
    expect(text).not.toContain('成本')
    expect(wrapper.find('[data-test="product-new"]').exists()).toBe(false)
  })

  it('shows the cost column when the API sends costs', async () => {
    gateway([product('NR-001', '冷冻牛腩', '900')])
    const wrapper = await mountAs('boss')
    expect(wrapper.find('[data-test="product-cost-cell"]').text()).toBe('¥900.00')
  })

  it('searches by what is typed', async () => {
    vi.useFakeTimers()
    const { asked } = gateway([])
    const wrapper = await mountAs('sales')
    await wrapper.find('input[data-test="product-search"]').setValue('nn')
    await vi.advanceTimersByTimeAsync(300)
    await flushPromises()
    expect(asked.at(-1)?.searchParams.get('q')).toBe('nn')
  })

  it('checks a new product before sending it, then shows the API refusal beside its field', async () => {
    const { puts } = gateway([], () => refusal([{ field: 'unit', message: '单位过长' }]))
    const wrapper = await mountAs('admin')
    await wrapper.find('[data-test="product-new"]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-test="product-dialog"]')!
    const fill = (test: string, value: string) => {
      const input = dialog().querySelector(`[data-test="${test}"] input, input[data-test="${test}"]`) as HTMLInputElement
      input.value = value
      input.dispatchEvent(new Event('input'))
    }
    fill('product-sku', 'NR-009')
    fill('product-name', '冷冻牛腱')
    fill('product-unit', '箱')
    fill('product-price', '12.345')
    await flushPromises()
    ;(dialog().querySelector('[data-test="product-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(puts).toHaveLength(0)
    const priceItem = dialog().querySelector('#product-price')!.closest('.el-form-item')!
    await vi.waitFor(() =>
      expect(priceItem.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('请输入不小于 0、最多两位小数的金额'),
    )

    fill('product-price', '12.5')
    await flushPromises()
    ;(dialog().querySelector('[data-test="product-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(puts[0]).toMatchObject({ name: '冷冻牛腱', unit: '箱', list_price: '12.5', cost: '0' })
    const unitItem = dialog().querySelector('#product-unit')!.closest('.el-form-item')!
    await vi.waitFor(() => expect(unitItem.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('单位过长'))
  })
})
