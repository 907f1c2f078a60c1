import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import DispatchDialog from './DispatchDialog.vue'
import { order } from './fixtures'

function gateway(answer: () => Response) {
  const sent: { body?: Record<string, unknown> } = {}
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      if (new URL(request.url).pathname === '/api/v1/orders/o1/delivery/dispatch') {
        sent.body = await request.json()
        return answer()
      }
      return json(200, {})
    }),
  )
  return sent
}

async function open() {
  const wrapper = mount(DispatchDialog, {
    props: { order: order({ state: 'ready_to_ship', version: 4 }), modelValue: true },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  await flushPromises()
  return wrapper
}

const field = (name: string) => document.querySelector<HTMLInputElement>(`[data-test="${name}"] input, input[data-test="${name}"]`)!

async function type(name: string, value: string) {
  const input = field(name)
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('DispatchDialog', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('refuses batches that add up to more than the line before sending anything', { timeout: 30_000 }, async () => {
    const sent = gateway(() => json(200, {}))
    await open()
    await type('dispatch-vehicle', '浙A12345')
    await type('dispatch-driver', '王师傅')
    await type('dispatch-phone', '13800138000')
    await type('batch-no', 'B20261128-01')
    await type('batch-quantity', '10.5')
    document.querySelector<HTMLButtonElement>('[data-test="dispatch-submit"]')!.click()
    await flushPromises()
    expect(document.body.textContent).toContain('该行各批次数量之和超过订货数量')
    expect(sent.body).toBeUndefined()
  })

  it('sends the vehicle, driver, planned time and batches with the order version, and shows a refusal', { timeout: 30_000 }, async () => {
    const sent = gateway(() => problem(409, 'illegal_transition', '订单当前状态为待付款，不能发货'))
    const wrapper = await open()
    await type('dispatch-vehicle', '浙A12345')
    await type('dispatch-driver', '王师傅')
    await type('dispatch-phone', '138 0013 8000')
    await type('batch-no', 'B20261128-01')
    document.querySelector<HTMLButtonElement>('[data-test="dispatch-submit"]')!.click()
    await flushPromises()
    expect(sent.body).toMatchObject({
      vehicle: '浙A12345',
      driver_name: '王师傅',
      driver_phone: '138 0013 8000',
      batches: [{ line_no: 1, batch_no: 'B20261128-01', quantity: '10' }],
      expected_version: 4,
    })
    expect(String(sent.body?.planned_at)).toMatch(/\+08:00$/)
    expect(document.querySelector('[data-test="dispatch-refusal"]')?.textContent).toContain('不能发货')
    expect(wrapper.emitted('dispatched')).toBeUndefined()
  })
})
