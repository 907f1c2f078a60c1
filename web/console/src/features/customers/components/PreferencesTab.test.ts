import { flushPromises, mount } from '@vue/test-utils'
import type { Customer } from '@keyuan/shared'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../../app'
import PreferencesTab from './PreferencesTab.vue'

const KINDS = [
  { key: 'halal', label: '清真', description: '专用器具与车辆', details_label: '', takes_details: false },
  { key: 'allergens', label: '过敏原', description: '', details_label: '过敏原', takes_details: true },
]

const customer = {
  id: 'c1',
  version: 3,
  alerts: [{ kind: 'halal', label: '清真', text: '清真' }],
  preferences: {
    categories: ['冷冻肉品'],
    specifications: [],
    quality_grade: '',
    brands: [],
    delivery_windows: [
      { weekday: 1, start: '06:00', end: '08:00' },
      { weekday: 1, start: '14:00', end: '15:00' },
    ],
    delivery_notes: '走后门，联系食堂王师傅',
  },
  special_requirements: [{ kind: 'halal', label: '清真', details: [], details_label: '', note: '' }],
} as unknown as Customer

function gateway(patch: (body: Record<string, unknown>) => Response) {
  const sent: Record<string, unknown>[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      if (request.method === 'PATCH') {
        const body = (await request.json()) as Record<string, unknown>
        sent.push(body)
        return patch(body)
      }
      return json(200, { items: KINDS })
    }),
  )
  return sent
}

/** The message beside the input `selector`, once the form item shows one. */
async function errorBeside(selector: string): Promise<string> {
  const item = () => document.querySelector(selector)?.closest('.el-form-item')
  await vi.waitFor(() => expect(item()?.querySelector('.el-form-item__error')).not.toBeNull())
  return item()!.querySelector('.el-form-item__error')!.textContent!.trim()
}

async function mountTab() {
  const tab = mount(PreferencesTab, { props: { customer, canEdit: true }, global: { plugins: [i18n] }, attachTo: document.body })
  await flushPromises()
  return tab
}

describe('PreferencesTab', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('shows the windows by weekday and the requirements', async () => {
    gateway(() => json(200, customer))
    const tab = await mountTab()
    expect(tab.find('[data-test="delivery-windows"]').text()).toContain('周一')
    expect(tab.find('[data-test="delivery-windows"]').text()).toContain('06:00–08:00')
    expect(tab.find('[data-test="requirements-list"]').text()).toContain('清真')
  })

  it('adds a window on Wednesday and sends the preferences whole with the version read', async () => {
    const sent = gateway(() => json(200, customer))
    const tab = await mountTab()
    await tab.find('[data-test="preferences-edit"]').trigger('click')
    await tab.find('[data-test="add-window-3"]').trigger('click')
    await tab.find('[data-test="preferences-save"]').trigger('submit')
    await flushPromises()
    expect(sent).toHaveLength(1)
    expect(sent[0]).toEqual({
      expected_version: 3,
      preferences: expect.objectContaining({
        delivery_windows: [
          { weekday: 1, start: '06:00', end: '08:00' },
          { weekday: 1, start: '14:00', end: '15:00' },
          { weekday: 3, start: '08:00', end: '10:00' },
        ],
      }),
    })
    expect(tab.emitted('updated')).toHaveLength(1)
  })

  it('stops an overlapping window before sending, beside its input', async () => {
    const sent = gateway(() => json(200, customer))
    const tab = await mountTab()
    await tab.find('[data-test="preferences-edit"]').trigger('click')
    const inputs = tab.findAll('[data-weekday="1"] input')
    await inputs[2]!.setValue('07:30') // the second Monday window now starts inside the first
    await tab.find('[data-test="preferences-save"]').trigger('submit')
    await flushPromises()
    expect(sent).toHaveLength(0)
    await vi.waitFor(() => expect(tab.find('[data-weekday="1"]').text()).toContain('与同一天的 06:00–08:00 重叠'))
  })

  it('shows the service’s refusal of a requirement beside its input', async () => {
    gateway(() => problem(400, 'invalid_argument', 'special_requirements[0].note: 说明含有不允许的字符', { field: 'special_requirements[0].note' }))
    const tab = await mountTab()
    await tab.find('[data-test="preferences-edit"]').trigger('click')
    await tab.find('#requirement-halal-note').setValue('清真\u0000')
    await tab.find('[data-test="preferences-save"]').trigger('submit')
    await flushPromises()
    expect(await errorBeside('#requirement-halal-note')).toBe('说明含有不允许的字符')
    expect(tab.find('[data-test="form-error"]').text()).toContain('请先修正标红的字段')
  })
})
