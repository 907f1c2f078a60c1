import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { closeToast } from 'vant'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import CheckInView from './CheckInView.vue'

const customer = {
  id: 'c1',
  name: '清真兰州牛肉面馆',
  alerts: [
    { kind: 'halal', label: '清真', text: '清真，清真专用车' },
    { kind: 'allergens', label: '过敏原', text: '过敏原：花生、虾' },
  ],
  addresses: [{ label: '', province: '浙江', city: '杭州', district: '西湖区', detail: '文三路 90 号' }],
}

interface Sent {
  call: string
  body: unknown
}

/** The gateway of a check-in: the customer, its closures, photo uploads (each answered with a
 * new attachment, or by `upload`), and the visit (answered by `visit`). */
const appended: [string, string][] = []
const append = FormData.prototype.append
FormData.prototype.append = function (this: FormData, name: string, value: string | Blob, filename?: string) {
  appended.push([name, typeof value === 'string' ? value : (filename ?? '')])
  Reflect.apply(append, this, filename === undefined ? [name, value] : [name, value, filename])
} as typeof append

afterAll(() => {
  FormData.prototype.append = append
})

function gateway(options: { upload?: (n: number) => Response; visit?: (body: Record<string, unknown>) => Response } = {}) {
  const sent: Sent[] = []
  let uploads = 0
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      const call = `${request.method} ${url.pathname}`
      if (call === 'GET /api/v1/customers/c1') return json(200, customer)
      if (call === 'GET /api/v1/customers/c1/closures') {
        return json(200, {
          current: null,
          items: [{ id: 'cl1', start_date: '2099-02-01', end_date: '2099-02-10', reason: 'renovation', note: '' }],
        })
      }
      if (call === 'POST /api/v1/customers/c1/attachments') {
        // jsdom's File cannot be read back from a Request's multipart body: say what was appended.
        uploads += 1
        sent.push({ call, body: { type: request.headers.get('content-type')?.split(';')[0], parts: appended.splice(0) } })
        return options.upload?.(uploads) ?? json(201, { id: `att-${uploads}`, signed_thumbnail_url: `/thumb/${uploads}` })
      }
      const body = (await request.json()) as Record<string, unknown>
      sent.push({ call, body })
      const checkIn = body.check_in as { no_location?: boolean } | undefined
      const answered = checkIn ? { no_location: !!checkIn.no_location, distance_m: checkIn.no_location ? null : 86.4 } : null
      return options.visit?.(body) ?? json(201, { id: 'f1', kind: 'visit', check_in: answered, photos: [{}, {}] })
    }),
  )
  return sent
}

function geolocation(outcome: { latitude: number; longitude: number; accuracy: number } | { code: number }) {
  vi.stubGlobal('isSecureContext', true)
  vi.stubGlobal('navigator', {
    ...navigator,
    geolocation: {
      getCurrentPosition: (ok: PositionCallback, fail: PositionErrorCallback) =>
        'code' in outcome ? fail(outcome as GeolocationPositionError) : ok({ coords: outcome, timestamp: Date.now() } as GeolocationPosition),
    },
  })
}

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/:id/check-in', name: 'check-in', component: CheckInView, props: true },
      { path: '/customers/:id', name: 'customer', component: { template: '<p>card</p>' } },
    ],
  })
  await router.push('/customers/c1/check-in')
  const wrapper = mount(CheckInView, { props: { id: 'c1' }, global: { plugins: [i18n, router] } })
  await flushPromises()
  return wrapper
}

const photo = (name: string) => new File(['jpeg'], name, { type: 'image/jpeg' })

async function take(wrapper: Awaited<ReturnType<typeof mountView>>, file: File) {
  const input = wrapper.find('[data-test="check-in-photo-input"]')
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  // The upload reads the multipart body: more than one turn of the event loop.
  await vi.waitFor(() => {
    const statuses = wrapper.findAll('[data-test="check-in-photo"]').map((p) => p.attributes('data-status'))
    expect(statuses.filter((s) => s === 'waiting' || s === 'uploading')).toEqual([])
  })
}

describe('CheckInView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    closeToast(true)
  })

  it('shows the alerts and the coming closure, checks in with the position and two photos, and says how far the customer is', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }))
    geolocation({ latitude: 30.2591, longitude: 120.1314, accuracy: 12.4 })
    const sent = gateway()
    const wrapper = await mountView()
    expect(wrapper.findAll('[data-test="customer-alert"]').map((a) => a.text())).toEqual(['清真，清真专用车', '过敏原：花生、虾'])
    expect(wrapper.find('[data-test="closure-upcoming"]').text()).toContain('即将停工：2099-02-01 至 2099-02-10 装修')
    expect(wrapper.find('[data-test="check-in-coordinates"]').text()).toContain('30.25910, 120.13140')
    expect(wrapper.find('[data-test="check-in-coordinates"]').text()).toContain('精度约 12 米')
    const input = wrapper.find('[data-test="check-in-photo-input"]')
    expect(input.attributes()).toMatchObject({ type: 'file', accept: 'image/*', capture: 'environment' })
    await take(wrapper, photo('IMG_0001.jpg'))
    await take(wrapper, photo('IMG_0002.jpg'))
    expect(wrapper.findAll('[data-test="check-in-photo"]').map((p) => p.attributes('data-status'))).toEqual(['done', 'done'])
    expect(wrapper.findAll('[data-test="check-in-photo"] img').map((img) => img.attributes('src'))).toEqual(['/thumb/1', '/thumb/2'])
    await wrapper.find('[data-test="check-in-address"] input').setValue('杭州市西湖区文三路 90 号')
    await wrapper.find('[data-test="check-in-content"] textarea').setValue('到店拜访，确认寒假备货')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(sent.map((s) => s.call)).toEqual([
      'POST /api/v1/customers/c1/attachments',
      'POST /api/v1/customers/c1/attachments',
      'POST /api/v1/customers/c1/follow-ups',
    ])
    expect(sent[0]!.body).toEqual({ type: 'multipart/form-data', parts: [['kind', 'visit_photo'], ['file', 'IMG_0001.jpg']] })
    expect(sent[2]!.body).toMatchObject({
      kind: 'visit',
      content: '到店拜访，确认寒假备货',
      check_in: { latitude: 30.2591, longitude: 120.1314, accuracy_m: 12, address: '杭州市西湖区文三路 90 号' },
      photo_attachment_ids: ['att-1', 'att-2'],
    })
    expect(wrapper.find('[data-test="check-in-distance"]').text()).toBe('距客户位置约 86 米')
  })

  it('says a denied location plainly and still checks in, as no_location with the typed address', async () => {
    geolocation({ code: 1 })
    const sent = gateway()
    const wrapper = await mountView()
    expect(wrapper.find('[data-test="check-in-location-problem"]').text()).toContain('定位权限被拒绝')
    await wrapper.find('[data-test="check-in-address"] input').setValue('文三路 90 号')
    await wrapper.find('[data-test="check-in-content"] textarea').setValue('到店拜访')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const visit = sent.find((s) => s.call.endsWith('/follow-ups'))!.body as Record<string, unknown>
    expect(visit.check_in).toEqual({ no_location: true, address: '文三路 90 号' })
    expect(visit.content).toBe('到店拜访')
    expect(wrapper.find('[data-test="check-in-distance"]').text()).toContain('未定位')
  })

  it('keeps a refused photo to retry or remove, and saves only once every photo is up', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }))
    geolocation({ latitude: 30.2, longitude: 120.1, accuracy: 30 })
    const sent = gateway({ upload: (n) => (n === 1 ? problem(415, 'unsupported_media_type', '只能上传图片或 PDF') : json(201, { id: `att-${n}` })) })
    const wrapper = await mountView()
    await take(wrapper, new File(['%PDF'], 'notes.txt', { type: 'image/jpeg' }))
    const failed = wrapper.find('[data-test="check-in-photo"]')
    expect(failed.attributes('data-status')).toBe('failed')
    expect(failed.find('.overlay').attributes('title')).toBe('只能上传图片或 PDF')
    await wrapper.find('[data-test="check-in-content"] textarea').setValue('到店拜访')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(sent.filter((s) => s.call.endsWith('/follow-ups'))).toEqual([])
    await failed.find('[data-test="check-in-photo-remove"]').trigger('click')
    await take(wrapper, photo('IMG_0003.jpg'))
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    const visit = sent.find((s) => s.call.endsWith('/follow-ups'))!.body as Record<string, unknown>
    expect(visit.photo_attachment_ids).toEqual(['att-2'])
  })
})
