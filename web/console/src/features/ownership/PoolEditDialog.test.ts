import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import type { OrgUnit, Pool } from '@keyuan/shared'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import { useDirectoryStore } from '../directory/store'
import PoolEditDialog from './PoolEditDialog.vue'
import { DEFAULT_RULES } from './rules'

const units: OrgUnit[] = [
  { id: 'o-hq', name: '上海总部', kind: 'hq', parent_id: null, path: '/o-hq/' },
  { id: 'o-hz', name: '杭州分公司', kind: 'subsidiary', parent_id: 'o-hq', path: '/o-hq/o-hz/' },
] as OrgUnit[]
const pool: Pool = {
  id: 'p1',
  name: '杭州公海',
  org_unit_id: 'o-hz',
  org_unit_name: '杭州分公司',
  requires_approval: false,
  rules: { no_follow_up_days: { vip: 30, key: 20, normal: 15 }, warn_days_before: 3 },
  version: 4,
  customer_count: 2,
}

function gateway(answer: (body: Record<string, unknown>) => Response) {
  const sent: { call: string; body: Record<string, unknown> }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const body = (await request.json()) as Record<string, unknown>
      sent.push({ call: `${request.method} ${new URL(request.url).pathname}`, body })
      return answer(body)
    }),
  )
  return sent
}

async function open(editing: Pool | null) {
  const pinia = createPinia()
  setActivePinia(pinia)
  useDirectoryStore().units = units
  const wrapper = mount(PoolEditDialog, {
    props: { pool: editing, open: true, taken: new Set(['o-hq']) },
    global: { plugins: [i18n, pinia] },
  })
  await flushPromises()
  return wrapper
}

/** The message Element Plus shows under the form item of `input` (100 ms after it turns red). */
const errorBeside = (wrapper: VueWrapper, input: string) =>
  wrapper.find(input).element.closest('.el-form-item')?.querySelector('.el-form-item__error')?.textContent?.trim() ?? ''

const save = async (wrapper: VueWrapper) => {
  await wrapper.find('[data-test="pool-save"]').trigger('click')
  await flushPromises()
}

describe('PoolEditDialog', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => vi.unstubAllGlobals())

  it('creates a pool for the chosen org unit with its rules, labelled with their units', async () => {
    const sent = gateway((body) => json(201, { ...pool, ...body, id: 'p2' }))
    const wrapper = await open(null)
    expect(wrapper.text()).toContain('VIP客户未跟进')
    expect(wrapper.text()).toContain('次/天')
    await wrapper.find('input#pool-name').setValue(' 杭州公海 ')
    wrapper.findComponent({ name: 'ElTreeSelect' }).vm.$emit('update:modelValue', 'o-hz')
    await wrapper.find('[data-test="pool-approval"] input').setValue(true)
    await save(wrapper)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.call).toBe('POST /api/v1/pools')
    expect(sent[0]!.body).toEqual({
      name: '杭州公海',
      org_unit_id: 'o-hz',
      requires_approval: true,
      rules: DEFAULT_RULES,
    })
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ id: 'p2' })
  })

  it('checks before sending: a name and an org unit, the warning shorter than the return limits', async () => {
    const sent = gateway(() => json(201, pool))
    const wrapper = await open(null)
    await wrapper.find('input#pool-rules-warn-days-before').setValue('20')
    await save(wrapper)
    expect(sent).toEqual([])
    await vi.waitFor(() => {
      expect(errorBeside(wrapper, 'input#pool-name')).toBe('必填')
      expect(errorBeside(wrapper, 'input#pool-org-unit')).toBe('必填')
      expect(errorBeside(wrapper, 'input#pool-rules-warn-days-before')).toBe('须短于最短的回收天数（15 天）')
    })
  })

  it("puts the API's refusals beside their fields, nested rules included", async () => {
    gateway(() =>
      refusal([
        { field: 'org_unit_id', message: '该组织已有公海' },
        { field: 'rules.no_follow_up_days.vip', message: '须在0到3650天之间' },
      ]),
    )
    const wrapper = await open(null)
    await wrapper.find('input#pool-name').setValue('杭州公海')
    wrapper.findComponent({ name: 'ElTreeSelect' }).vm.$emit('update:modelValue', 'o-hz')
    await save(wrapper)
    await vi.waitFor(() => {
      expect(errorBeside(wrapper, 'input#pool-org-unit')).toBe('该组织已有公海')
      expect(errorBeside(wrapper, 'input#pool-rules-no-follow-up-days-vip')).toBe('须在0到3650天之间')
    })
    expect(wrapper.find('[data-test="pool-failure"]').exists()).toBe(false)
    expect(wrapper.emitted('saved')).toBeUndefined()
  })

  it('changes an existing pool with PUT and its version, its org unit fixed', async () => {
    const sent = gateway((body) => json(200, { ...pool, ...body, version: 5 }))
    const wrapper = await open(pool)
    expect(wrapper.findComponent({ name: 'ElTreeSelect' }).exists()).toBe(false)
    expect(wrapper.find('[data-test="pool-org-unit-name"]').text()).toBe('杭州分公司')
    await wrapper.find('input#pool-rules-claims-per-day').setValue('5')
    await save(wrapper)
    expect(sent[0]!.call).toBe('PUT /api/v1/pools/p1')
    expect(sent[0]!.body).toMatchObject({ name: '杭州公海', expected_version: 4, rules: { claims_per_day: 5 } })
    expect(sent[0]!.body).not.toHaveProperty('org_unit_id')
  })
})
