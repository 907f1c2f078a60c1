import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../../app'
import AttachmentsTab from './AttachmentsTab.vue'

const confirm = vi.hoisted(() => vi.fn(async () => 'confirm'))
vi.mock('element-plus', async (original) => {
  const actual = await original<typeof import('element-plus')>()
  return { ...actual, ElMessageBox: { confirm } }
})

const file = (id: string, filename: string) => ({
  id,
  customer_id: 'c1',
  kind: 'contract',
  content_type: 'application/pdf',
  size: 2048,
  filename,
  has_thumbnail: false,
  uploader_id: 'u1',
  uploader_name: '张伟',
  created_at: '2026-12-02T14:30:00+08:00',
  content_url: `/api/v1/attachments/${id}/content`,
  thumbnail_url: null,
  signed_thumbnail_url: null,
  signed_until: '2026-12-02T14:35:00+08:00',
})

function gateway(deleteAnswer: () => Response): string[] {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const call = `${request.method} ${new URL(request.url).pathname}`
      calls.push(call)
      if (request.method === 'DELETE') return deleteAnswer()
      return json(200, { items: [file('a1', '合同.pdf'), file('a2', '旧合同.pdf')], next_page_token: null })
    }),
  )
  return calls
}

describe('AttachmentsTab', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    confirm.mockClear()
  })

  it('deletes a file after confirming and takes it off the list', async () => {
    const calls = gateway(() => new Response(null, { status: 204 }))
    const tab = mount(AttachmentsTab, { props: { customerId: 'c1', canUpload: true }, global: { plugins: [i18n] } })
    await flushPromises()
    await tab.findAll('[data-test="attachment-delete"]')[1]!.trigger('click')
    await flushPromises()
    expect(confirm).toHaveBeenCalledOnce()
    expect(calls).toContain('DELETE /api/v1/attachments/a2')
    expect(tab.findAll('[data-test="attachment-open"]').map((b) => b.text())).toEqual(['合同.pdf'])
  })

  it('keeps a file the server refuses to delete, and offers no delete to whoever may not upload', async () => {
    gateway(() =>
      json(412, { type: 'about:blank', title: '前置条件不满足', status: 412, code: 'attachment_in_use', detail: '该照片属于一次拜访记录，不能删除' }),
    )
    const tab = mount(AttachmentsTab, { props: { customerId: 'c1', canUpload: true }, global: { plugins: [i18n] } })
    await flushPromises()
    await tab.findAll('[data-test="attachment-delete"]')[0]!.trigger('click')
    await flushPromises()
    expect(tab.findAll('[data-test="attachment-open"]')).toHaveLength(2)
    const readOnly = mount(AttachmentsTab, { props: { customerId: 'c1', canUpload: false }, global: { plugins: [i18n] } })
    await flushPromises()
    expect(readOnly.find('[data-test="attachment-delete"]').exists()).toBe(false)
  })
})
