import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auth, i18n } from '../../app'
import AgreementPricesTab from './AgreementPricesTab.vue'
import { checkAgreementPrice, thresholdProblem } from './agreementPriceForm'

const price = (overrides: Record<string, unknown>) => ({
  id: 'a1',
  customer_id: 'c7',
  customer_name: '华联超市西湖店',
  product_id: 'p1',
  sku: 'NR-001',
  product_name: '冷冻牛腩',
  unit: '箱',
  price: '250.00',
  list_price: '268.00',
  valid_from: '2026-12-01',
  valid_until: null,
  inherited: false,
  version: 1,
  updated_by: 'u1',
  updated_at: '2026-12-01T10:00:00+08:00',
  ...overrides,
})

function gateway() {
  const asked: URL[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      asked.push(new URL(request.url))
      return json(200, {
        items: [
          price({}),
          price({ id: 'a2', customer_id: 'group', customer_name: '华联超市集团', sku: 'ZR-001', product_name: '猪里脊', inherited: true }),
        ],
        next_page_token: null,
      })
    }),
  )
  return asked
}

async function mountTab(role: string) {
  auth.me.value = { role, id: 'u1' } as never
  const wrapper = mount(AgreementPricesTab, { props: { customerId: 'c7' }, global: { plugins: [i18n] } })
  await flushPromises()
  return wrapper
}

describe('AgreementPricesTab', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("lists the customer's own prices and its group's, marked inherited and not editable here", async () => {
    const asked = gateway()
    const wrapper = await mountTab('supervisor')

    expect(asked[0]!.searchParams.get('customer_id')).toBe('c7')
    expect(asked[0]!.searchParams.get('include_inherited')).toBe('true')
    const rows = wrapper.findAll('.el-table__body tr')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.text()).toContain('¥250.00')
    expect(rows[0]!.text()).toContain('长期')
    expect(rows[0]!.find('[data-test="agreement-price-edit"]').exists()).toBe(true)
    expect(rows[1]!.find('[data-test="agreement-price-inherited"]').exists()).toBe(true)
    expect(rows[1]!.text()).toContain('华联超市集团')
    expect(rows[1]!.find('[data-test="agreement-price-edit"]').exists()).toBe(false)
  })

  it('offers a rep no changes', async () => {
    gateway()
    const wrapper = await mountTab('sales')

    expect(wrapper.find('[data-test="agreement-price-add"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="agreement-price-edit"]').exists()).toBe(false)
  })
})

describe('pricing form checks', () => {
  it('names the fields an agreement price is missing or gets wrong', () => {
    expect(Object.keys(checkAgreementPrice({ product_id: '', price: '12.345', valid_from: '' })).sort()).toEqual([
      'price',
      'product_id',
      'valid_from',
    ])
    expect(checkAgreementPrice({ product_id: 'p1', price: '250', valid_from: '2026-12-01' })).toEqual({})
  })

  it('takes a threshold from 1 to 100 percent with two decimals at most', () => {
    expect(['90', '85.5', '100', '1.00'].map(thresholdProblem)).toEqual([null, null, null, null])
    expect(['0.5', '100.01', '90.001', 'abc', ''].map(thresholdProblem).every(Boolean)).toBe(true)
  })
})
