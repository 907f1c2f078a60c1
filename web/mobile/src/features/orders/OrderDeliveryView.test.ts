import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import OrderDeliveryView from './OrderDeliveryView.vue'

const ORDER = {
  id: 'o1',
  customer_id: 'c1',
  customer_name: '杭州实验小学食堂',
  payment_mode: 'cod',
  state: 'dispatched',
  total_amount: '685',
  delivery_date: '2026-12-08',
  delivery_address: '杭州市西湖区文三路 1 号',
  urgent: false,
  version: 5,
  lines: [{ line_no: 1, product_name: '冷冻牛腩', unit: '箱', quantity: '10', unit_price: '68.5', amount: '685' }],
}
const DISPATCH = {
  vehicle: '浙A12345',
  driver_name: '王师傅',
  driver_phone: '13800138000',
  planned_at: '2026-12-08T07:00:00+08:00',
  dispatched_at: '2026-12-08T05:00:00+08:00',
  dispatched_by: 'u9',
  batches: [{ line_no: 1, batch_no: 'B20261128-01', quantity: '10' }],
}

interface Sent {
  photos: number
  confirm?: Record<string, unknown>
}

function gateway(photoAnswer: () => Response = () => json(201, { id: 'p1' })): Sent {
  const sent: Sent = { photos: 0 }
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/orders/o1') return json(200, { order: ORDER, revisions: [] })
      if (path === '/api/v1/orders/o1/delivery') return json(200, { order_id: 'o1', dispatch: DISPATCH, confirmation: null, photos: [] })
      if (path === '/api/v1/orders/o1/delivery/photos') {
        // jsdom's File cannot be read back from a Request's multipart body: count the uploads.
        sent.photos += 1
        return photoAnswer()
      }
      if (path === '/api/v1/orders/o1/delivery/confirm') {
        sent.confirm = await request.json()
        const confirmation = { signed_by: '李阿姨', signed_at: '2026-12-08T07:20:00+08:00', photo_id: 'p1', exception: null, exception_reason: '', exception_lines: [], confirmed_by: 'u1', confirmed_at: '2026-12-08T07:21:00+08:00' }
        return json(200, { order: { ...ORDER, state: 'delivered' }, delivery: { order_id: 'o1', dispatch: DISPATCH, confirmation, photos: [] } })
      }
      return json(200, {})
    }),
  )
  return sent
}

async function mountAs(role: string) {
  auth.me.value = { role, id: 'u1' } as never
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders/:id', name: 'order', component: OrderDeliveryView, props: true },
      { path: '/orders', name: 'orders', component: { template: '<p/>' } },
    ],
  })
  await router.push('/orders/o1')
  const wrapper = mount(OrderDeliveryView, { props: { id: 'o1' }, global: { plugins: [i18n, router] } })
  await flushPromises()
  return wrapper
}

async function takePhoto(wrapper: Awaited<ReturnType<typeof mountAs>>, file: File) {
  const input = wrapper.find('[data-test="confirm-photo-input"]')
  Object.defineProperty(input.element, 'files', { value: [file] })
  await input.trigger('change')
  await vi.waitFor(() => expect(wrapper.find('[data-test="confirm-take-photo"]').text()).not.toContain('上传中'))
}

describe('the order detail on the H5', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('shows how the order left, with its batch numbers; a rep cannot confirm the delivery', async () => {
    gateway()
    const wrapper = await mountAs('sales')
    const dispatch = wrapper.find('[data-test="order-delivery-dispatch"]').text()
    expect(dispatch).toContain('浙A12345')
    expect(dispatch).toContain('B20261128-01')
    expect(wrapper.find('[data-test="confirm-delivery"]').exists()).toBe(false)
  })

  it('takes the photo from the camera, uploads it and confirms the delivery with it', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:photo', revokeObjectURL: () => undefined }))
    const sent = gateway()
    const wrapper = await mountAs('service')
    const input = wrapper.find('[data-test="confirm-photo-input"]')
    expect(input.attributes('capture')).toBe('environment')

    await wrapper.find('[data-test="confirm-submit"]').trigger('submit')
    expect(wrapper.text()).toContain('必填')
    expect(wrapper.text()).toContain('请上传签收照片')
    expect(sent.confirm).toBeUndefined()

    await wrapper.find('[data-test="confirm-signed-by"] input').setValue('李阿姨')
    await takePhoto(wrapper, new File([new Uint8Array([0xff, 0xd8, 0xff])], 'pod.jpg', { type: 'image/jpeg' }))
    expect(sent.photos).toBe(1)
    expect(wrapper.find('[data-test="confirm-photo-preview"]').attributes('src')).toBe('blob:photo')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(sent.confirm).toMatchObject({ signed_by: '李阿姨', photo_id: 'p1', exception: null, expected_version: 5 })
    expect(String(sent.confirm?.signed_at)).toMatch(/\+08:00$/)
    expect(wrapper.find('[data-test="order-delivery-confirmation"]').text()).toContain('李阿姨')
    expect(wrapper.find('[data-test="confirm-delivery"]').exists()).toBe(false)
  })

  it('shows why a photo was refused', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:photo', revokeObjectURL: () => undefined }))
    gateway(() => problem(415, 'unsupported_media_type', '仅支持 JPEG、PNG、WebP 照片'))
    const wrapper = await mountAs('service')
    await takePhoto(wrapper, new File(['text'], 'note.txt', { type: 'text/plain' }))
    await vi.waitFor(() => expect(wrapper.find('[data-test="confirm-refusal"]').exists()).toBe(true))
  })
})
