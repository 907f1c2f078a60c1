import { mount } from '@vue/test-utils'
import { errorFromResponse, type Transfer } from '@keyuan/shared'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { checkHow, checkWho, handoverRoute, transferBody, transferDraft, useTransferProgress } from './transfer'

const transfer = (over: Partial<Transfer>): Transfer =>
  ({
    id: 't1',
    status: 'running',
    total: 10,
    moved: 0,
    skipped: 0,
    skips: [],
    mode: 'evenly',
    from_user_id: 'u1',
    from_user_name: '陈静',
    to_user_ids: ['u2', 'u3'],
    to_user_names: ['刘洋', '周强'],
    ...over,
  }) as Transfer

describe('the transfer wizard’s checks and body', () => {
  it('asks whose customers, then receivers and a reason as the mode needs them', () => {
    const draft = transferDraft()
    expect(checkWho(draft)).toEqual({ from_user_id: { key: 'transfers.fromRequired' } })
    draft.from_user_id = 'u1'
    expect(checkHow(draft)).toEqual({ to_user_ids: { key: 'transfers.receiversRequired' }, reason: { key: 'transfers.reasonRequired' } })
    Object.assign(draft, { mode: 'one_user', to_user_ids: ['u2', 'u3'], reason: '离职' })
    expect(checkHow(draft)).toEqual({ to_user_ids: { key: 'transfers.oneReceiver' } })
    Object.assign(draft, { mode: 'evenly', to_user_ids: ['u2', 'u1'] })
    expect(checkHow(draft)).toEqual({ to_user_ids: { key: 'transfers.notSelf' } })
    Object.assign(draft, { mode: 'pool', to_user_ids: [] })
    expect(checkHow(draft)).toEqual({})
  })

  it('sends only the filters filled in, and no receivers for a pool', () => {
    const draft = { ...transferDraft('u1'), mode: 'pool' as const, to_user_ids: ['u2'], city: ' 宁波 ', reason: ' 离职 ' }
    expect(transferBody(draft)).toEqual({
      from_user_id: 'u1',
      filter: { lifecycle_stage: null, type: null, province: null, city: '宁波', tag: null },
      mode: 'pool',
      to_user_ids: [],
      pool_id: null,
      reason: '离职',
    })
  })
})

/** Mounts a component that polls with `fetchTransfer` every 5 ms. */
function polling(fetchTransfer: () => Promise<Transfer>) {
  let progress!: ReturnType<typeof useTransferProgress>
  const wrapper = mount(
    defineComponent({
      setup() {
        progress = useTransferProgress(fetchTransfer, 5)
        void progress.poll()
        return () => h('div')
      },
    }),
  )
  return { wrapper, progress }
}

describe('useTransferProgress', () => {
  it('polls until the transfer is completed, then stops', async () => {
    const answers = [transfer({}), transfer({ moved: 6 }), transfer({ status: 'completed', moved: 10 })]
    const fetchTransfer = vi.fn(async () => answers.shift() ?? transfer({ status: 'completed', moved: 10 }))
    const { wrapper, progress } = polling(fetchTransfer)
    await vi.waitFor(() => expect(progress.transfer.value?.status).toBe('completed'))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(fetchTransfer).toHaveBeenCalledTimes(3)
    wrapper.unmount()
  })

  it('keeps polling through a failed request and stops when the page goes', async () => {
    const fetchTransfer = vi.fn(async () => {
      if (fetchTransfer.mock.calls.length === 1) throw new Error('offline')
      return transfer({})
    })
    const { wrapper, progress } = polling(fetchTransfer)
    await vi.waitFor(() => expect(progress.transfer.value?.status).toBe('running'))
    wrapper.unmount()
    const calls = fetchTransfer.mock.calls.length
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(fetchTransfer.mock.calls.length).toBeLessThanOrEqual(calls + 1)
  })
})

describe('停用 a user who still holds customers', () => {
  it("opens the wizard's handover step for them when the API asks for a handover", () => {
    const refusal = errorFromResponse(412, { type: 'x', title: 'x', status: 412, code: 'handover_required', detail: '仍有客户', held: 37 })
    expect(handoverRoute(refusal, 'u7')).toEqual({ name: 'transfer-new', query: { deactivate: 'u7', held: '37' } })
    const other = errorFromResponse(403, { type: 'x', title: 'x', status: 403, code: 'permission_denied', detail: '无权限' })
    expect(handoverRoute(other, 'u7')).toBeNull()
  })
})
