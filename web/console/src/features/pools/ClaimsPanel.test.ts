import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import ClaimsPanel from './ClaimsPanel.vue'

const pending = {
  id: 'cl1',
  pool_id: 'p1',
  customer_id: 'c7',
  customer_name: '西湖大酒店',
  claimant_id: 'u1',
  claimant_name: '张伟',
  reason: '客户来电',
  status: 'pending',
  decider_id: null,
  decider_name: '',
  comment: '',
  created_at: '2026-12-02T10:00:00+08:00',
  decided_at: null,
}

describe('ClaimsPanel', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('rejects a claim only with a comment, and sends it', async () => {
    const decisions: unknown[] = []
    const lists: URLSearchParams[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (request.method === 'POST') {
          decisions.push(await request.json())
          return json(200, { ...pending, status: 'rejected' })
        }
        lists.push(url.searchParams)
        return json(200, { items: [pending], next_page_token: null })
      }),
    )
    const panel = mount(ClaimsPanel, { props: { view: 'to_decide' }, global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    expect(lists[0]!.get('view')).toBe('to_decide')
    expect(lists[0]!.get('status')).toBe('pending')
    expect(panel.text()).toContain('张伟')
    await panel.find('[data-test="claim-reject"]').trigger('click')
    await flushPromises()
    ;(document.querySelector('[data-test="reject-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(decisions).toHaveLength(0)
    await vi.waitFor(() =>
      expect(document.querySelector('[data-test="reject-dialog"] .el-form-item__error')?.textContent?.trim()).toBe('驳回须填写审批意见'),
    )
    const comment = document.querySelector('#reject-comment') as HTMLTextAreaElement
    comment.value = '该客户已由老王跟进'
    comment.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(document.querySelector('[data-test="reject-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(decisions).toEqual([{ approve: false, comment: '该客户已由老王跟进' }])
  })
})
