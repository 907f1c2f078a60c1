import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../../app'
import LicencesTab from './LicencesTab.vue'

const licence = (id: string, kind: string, status: string, daysLeft: number | null) => ({
  id,
  customer_id: 'c1',
  kind,
  number: `No-${id}`,
  issuer: '西湖区市场监督管理局',
  valid_from: '2024-01-01',
  valid_until: daysLeft === null ? null : '2027-01-01',
  days_left: daysLeft,
  status,
  notes: '',
  attachment_id: id === 'l1' ? 'att1' : null,
  version: 1,
  created_at: '2026-01-01T00:00:00+08:00',
  updated_at: '2026-01-01T00:00:00+08:00',
})

function gateway() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/licence-kinds') return json(200, { items: [{ name: '营业执照', required_for_types: [] }] })
      return json(200, {
        items: [licence('l1', '营业执照', 'valid', null), licence('l2', '食品经营许可证', 'expiring', 7), licence('l3', '卫生许可证', 'expired', -3)],
        summary: { status: 'missing', missing_kinds: ['清真认证'], expired_kinds: ['卫生许可证'], expiring_kinds: ['食品经营许可证'] },
      })
    }),
  )
}

describe('LicencesTab', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('badges each licence and sums up what is missing', async () => {
    gateway()
    const tab = mount(LicencesTab, { props: { customerId: 'c1', canEdit: true }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(tab.findAll('[data-test="licence-status"]').map((b) => b.text())).toEqual(['有效', '即将到期', '已过期'])
    expect(tab.find('[data-test="licence-summary-status"]').text()).toBe('缺少必需证照')
    expect(tab.find('[data-test="licence-missing"]').text()).toBe('缺少：清真认证')
    expect(tab.text()).toContain('还有 7 天到期')
    expect(tab.text()).toContain('长期有效')
    expect(tab.find('[data-test="licence-add"]').exists()).toBe(true)
    expect(tab.findAll('[data-test="licence-edit"]')).toHaveLength(3)
  })

  it('is read-only for finance: no adding, changing or deleting', async () => {
    gateway()
    const tab = mount(LicencesTab, { props: { customerId: 'c1', canEdit: false }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(tab.findAll('[data-test="licence-status"]')).toHaveLength(3)
    expect(tab.find('[data-test="licence-add"]').exists()).toBe(false)
    expect(tab.find('[data-test="licence-edit"]').exists()).toBe(false)
    expect(tab.find('[data-test="licence-scan"]').exists()).toBe(true)
  })
})
