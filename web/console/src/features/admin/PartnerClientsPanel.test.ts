import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { json } from '@keyuan/shared/testing/answers.ts'
import { i18n } from '../../app'
import PartnerClientsPanel from './PartnerClientsPanel.vue'

const erp = {
  id: 'c-1',
  name: '用友ERP对接',
  role: 'admin',
  org_unit_id: 'o-1',
  key_hint: 'ky_abc123',
  rate_limit: null,
  scopes: ['customers:read'],
  active: true,
  created_at: '2026-12-03T09:00:00+08:00',
  revoked_at: null,
  last_used_at: '2026-12-03T10:30:00+08:00',
}

/** The gateway: records each request, answers by method and path. */
function gateway(answers: Record<string, (body: unknown) => Response>) {
  const sent: { route: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const route = `${request.method} ${new URL(request.url).pathname}`
      const text = await request.text()
      const body = text ? (JSON.parse(text) as unknown) : null
      sent.push({ route, body })
      const answer = answers[route]
      if (!answer) return json(200, { items: [] })
      return answer(body)
    }),
  )
  return sent
}

async function mountPanel() {
  const wrapper = mount(PartnerClientsPanel, { global: { plugins: [i18n, createPinia()] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

describe('PartnerClientsPanel', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('lists partner systems with their scopes and last token in Shanghai time', async () => {
    gateway({ 'GET /api/v1/api-clients': () => json(200, { items: [erp] }) })
    const wrapper = await mountPanel()
    const table = wrapper.find('[data-test="partner-table"]').text()
    expect(table).toContain('用友ERP对接')
    expect(table).toContain('读取客户')
    expect(table).toContain('2026-12-03 10:30')
    wrapper.unmount()
  })

  it('registers a client with its scopes and shows the key once', async () => {
    const sent = gateway({
      'GET /api/v1/api-clients': () => json(200, { items: [] }),
      'POST /api/v1/api-clients': () => json(201, { ...erp, scopes: ['customers:read', 'orders:write'], key: 'ky_secret-once' }),
    })
    const wrapper = await mountPanel()
    await wrapper.find('[data-test="partner-new"]').trigger('click')
    await flushPromises()
    await wrapper.find('input#partner-name').setValue('  用友ERP对接 ')
    const boxes = wrapper.findAll('[data-test="partner-scopes"] input[type="checkbox"]')
    await boxes[0]!.setValue(true) // customers:read
    await boxes[4]!.setValue(true) // orders:write
    document.querySelector<HTMLButtonElement>('[data-test="partner-save"]')!.click()
    await flushPromises()

    const registered = sent.find((request) => request.route === 'POST /api/v1/api-clients')
    expect(registered?.body).toEqual({
      name: '用友ERP对接',
      role: 'admin',
      org_unit_id: null,
      scopes: ['customers:read', 'orders:write'],
    })
    expect(document.querySelector('[data-test="partner-key"]')?.textContent).toBe('ky_secret-once')
    expect(document.querySelector('[data-test="partner-client-id"]')?.textContent).toBe('c-1')
    wrapper.unmount()
  })

  it('does not send a client without a name', async () => {
    const sent = gateway({ 'GET /api/v1/api-clients': () => json(200, { items: [] }) })
    const wrapper = await mountPanel()
    await wrapper.find('[data-test="partner-new"]').trigger('click')
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-test="partner-save"]')!.click()
    await flushPromises()
    expect(sent.some((request) => request.route === 'POST /api/v1/api-clients')).toBe(false)
    // Element Plus shows a form item's message 100 ms after it turns red.
    await vi.waitFor(() => expect(document.querySelector('[data-test="partner-dialog"] .el-form-item__error')?.textContent).toContain('必填'))
    wrapper.unmount()
  })
})
