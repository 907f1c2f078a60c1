import { flushPromises, mount } from '@vue/test-utils'
import type { Contact, FollowUp } from '@keyuan/shared'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auth, i18n } from '../../../app'
import FollowUpsTab from './FollowUpsTab.vue'

const contacts = [{ id: 'k1', name: '王芳' }, { id: 'k2', name: '李强' }] as Contact[]
const entry = (over: Partial<FollowUp>): FollowUp => ({
  id: 'f1',
  customer_id: 'c1',
  kind: 'visit',
  occurred_at: '2026-12-02T06:30:00Z',
  contact_ids: ['k2', 'k1'],
  content: '上门拜访，试吃新品',
  outcome: '同意下周试单',
  next_follow_up_date: '2026-12-09',
  author_id: 'u1',
  author_name: '张伟',
  corrects_id: null,
  created_at: '2026-12-02T14:30:00+08:00',
  updated_at: '2026-12-02T14:30:00+08:00',
  editable_until: '2099-01-01T00:00:00+08:00',
  ...over,
})

function gateway(answers: { list: FollowUp[]; post?: () => Response }) {
  const posted: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      if (request.method === 'POST') {
        posted.push(await request.json())
        return answers.post?.() ?? json(201, entry({ id: 'f9' }))
      }
      return json(200, { items: answers.list, next_page_token: null })
    }),
  )
  return posted
}

/** The message beside the input `selector`, once the form item shows one. */
async function errorBeside(selector: string): Promise<string> {
  const item = () => document.querySelector(selector)?.closest('.el-form-item')
  await vi.waitFor(() => expect(item()?.querySelector('.el-form-item__error')).not.toBeNull())
  return item()!.querySelector('.el-form-item__error')!.textContent!.trim()
}

async function mountTab() {
  const tab = mount(FollowUpsTab, {
    props: { customerId: 'c1', contacts, canLog: true },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  await flushPromises()
  return tab
}

describe('FollowUpsTab', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('shows an entry with its kind, Shanghai time, author, contacts by name, outcome and next date', async () => {
    gateway({ list: [entry({})] })
    auth.me.value = { id: 'u2', role: 'sales' } as never
    const tab = await mountTab()
    const text = tab.find('[data-test="follow-up-timeline"]').text()
    expect(text).toContain('拜访')
    expect(text).toContain('2026-12-02 14:30')
    expect(text).toContain('张伟')
    expect(tab.find('[data-test="follow-up-contact-names"]').text()).toContain('李强、王芳')
    expect(text).toContain('同意下周试单')
    expect(tab.find('[data-test="follow-up-next-date"]').text()).toContain('2026-12-09')
    // someone else's entry: no edit
    expect(tab.find('[data-test="follow-up-edit"]').exists()).toBe(false)
  })

  it('asks the server for one kind when a kind is chosen, and for all again when cleared', async () => {
    const asked: (string | null)[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const kind = new URL(request.url).searchParams.get('kind')
        asked.push(kind)
        return json(200, { items: kind === 'wechat' ? [entry({ kind: 'wechat', content: '微信发菜单' })] : [entry({})], next_page_token: null })
      }),
    )
    const tab = await mountTab()
    const select = tab.find('[data-test="follow-up-kind-filter"]').findComponent({ name: 'ElSelect' })
    select.vm.$emit('update:modelValue', 'wechat')
    await flushPromises()
    expect(tab.find('[data-test="follow-up-timeline"]').text()).toContain('微信发菜单')
    select.vm.$emit('update:modelValue', '')
    await flushPromises()
    expect(asked).toEqual([null, 'wechat', null])
  })

  it('offers to edit only the signed-in author’s entry while it is editable', async () => {
    gateway({ list: [entry({ id: 'a' }), entry({ id: 'b', editable_until: '2020-01-01T00:00:00+08:00' })] })
    auth.me.value = { id: 'u1', role: 'sales' } as never
    const tab = await mountTab()
    expect(tab.findAll('[data-test="follow-up-edit"]')).toHaveLength(1)
  })

  it('refuses to log a follow-up without content, before asking the API', async () => {
    const posted = gateway({ list: [] })
    const tab = await mountTab()
    await tab.find('[data-test="follow-up-add"]').trigger('click')
    await flushPromises()
    ;(document.querySelector('[data-test="follow-up-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(posted).toHaveLength(0)
    expect(await errorBeside('#follow-up-content')).toBe('必填')
  })

  it('logs a follow-up and shows the API’s refusal beside its field', async () => {
    const posted = gateway({
      list: [],
      post: () => refusal([{ field: 'next_follow_up_date', message: '下次跟进日期不能早于今天' }]),
    })
    const tab = await mountTab()
    await tab.find('[data-test="follow-up-add"]').trigger('click')
    await flushPromises()
    const content = document.querySelector('#follow-up-content') as HTMLTextAreaElement
    content.value = '电话询价'
    content.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(document.querySelector('[data-test="follow-up-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatchObject({ kind: 'phone', content: '电话询价' })
    expect((posted[0] as { request_id: string }).request_id).toBeTruthy()
    expect(await errorBeside('#follow-up-next')).toBe('下次跟进日期不能早于今天')
  })
})
