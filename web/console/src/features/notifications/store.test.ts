import type { Notification } from '@keyuan/shared'
import { json } from '@keyuan/shared/testing/answers.ts'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import { notificationRoute } from './links'
import { useNotificationsStore } from './store'

const notice = (over: Partial<Notification> = {}): Notification => ({
  id: 'n1',
  kind: 'pool_claim_submitted',
  title: '新的领取申请',
  body: '刘洋申请领取 鄞州人民医院食堂',
  link_type: 'claim',
  link_id: 'claim-1',
  read: false,
  read_at: null,
  created_at: '2026-12-02T10:00:00+08:00',
  ...over,
})

/** A stream of `frames`; closed after them, or left open (as the gateway keeps it) with `open`. */
function sse(frames: string[], open = false): Response {
  const encoder = new TextEncoder()
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const frame of frames) controller.enqueue(encoder.encode(frame))
        if (!open) controller.close()
      },
    }),
    { headers: { 'Content-Type': 'text/event-stream' } },
  )
}

describe('the notifications store (the bell)', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => vi.unstubAllGlobals())

  it('counts a live notification, reloads the count on every reconnect, and stops on reset', async () => {
    const store = useNotificationsStore()
    const counts = [2, 2, 7]
    const languages: string[] = []
    const lastSeen: (string | null)[] = []
    let streams = 0
    let reconnected!: () => void
    const secondConnection = new Promise<void>((resolve) => (reconnected = resolve))
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const path = new URL(request.url).pathname
        languages.push(request.headers.get('Accept-Language') ?? '')
        if (path === '/api/v1/notifications/unread-count') return json(200, { unread: counts.shift() ?? 0 })
        if (path === '/api/v1/notifications/stream') {
          streams += 1
          lastSeen.push(request.headers.get('Last-Event-ID'))
          if (streams === 1) return sse(['event: ready\ndata: {}\n\n', `event: notification\nid: n1\ndata: ${JSON.stringify(notice())}\n\n`])
          reconnected()
          return sse(['event: ready\ndata: {}\n\n: ping\n\n'], true)
        }
        return json(404, {})
      }),
    )
    store.start({ backoff: () => 0, sleep: async () => undefined })
    await secondConnection
    await vi.waitFor(() => expect(counts).toEqual([]))
    // 2 at start and on ready, +1 live, then 7 after the reconnect (the list is the record)
    await vi.waitFor(() => expect(store.unread).toBe(7))
    expect(languages.every((language) => language === 'zh-CN')).toBe(true)
    // The reconnect names the last notification it got, so the gateway sends what came since.
    expect(lastSeen).toEqual([null, 'n1'])
    store.$reset()
    expect(store.unread).toBe(0)
  })

  it('adds a live notification on top of an open list, and marks one read', async () => {
    const store = useNotificationsStore()
    const sent: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        sent.push(`${request.method} ${new URL(request.url).pathname}`)
        if (request.method === 'POST') return json(200, notice({ id: 'n0', read: true }))
        return json(200, { items: [notice({ id: 'n0', title: '旧的' })], next_page_token: null })
      }),
    )
    store.unread = 1
    await store.loadList()
    store.received(notice())
    expect(store.items.map((n) => n.id)).toEqual(['n1', 'n0'])
    expect(store.unread).toBe(2)
    store.received(notice()) // the same one again (a reload raced the stream): counted once
    expect(store.unread).toBe(2)
    await store.markRead(store.items[1]!)
    expect(sent).toContain('POST /api/v1/notifications/n0/read')
    expect(store.unread).toBe(1)
    expect(store.items[1]!.read).toBe(true)
  })
})

describe('notificationRoute', () => {
  it('leads a supervisor to 待我审批, a claimant to 我的申请, a customer to its page', () => {
    expect(notificationRoute(notice(), 'supervisor')).toEqual({ name: 'pools', query: { tab: 'to_decide' } })
    expect(notificationRoute(notice({ kind: 'pool_claim_approved' }), 'sales')).toEqual({ name: 'pools', query: { tab: 'mine' } })
    expect(notificationRoute(notice({ link_type: 'customer', link_id: 'c9', kind: 'follow_up_reminder' }), 'sales')).toEqual({
      name: 'customer',
      params: { id: 'c9' },
    })
  })

  it("opens a transfer's page for those who may see transfers, the customer list for a receiving rep", () => {
    const transfer = notice({ link_type: 'transfer', link_id: 't1', kind: 'transfer_received' })
    expect(notificationRoute(transfer, 'admin')).toEqual({ name: 'transfer', params: { id: 't1' } })
    expect(notificationRoute(transfer, 'sales')).toEqual({ name: 'customers' })
  })

  it('opens the quote for an approver asked to decide it and for the submitter told the decision', () => {
    const asked = notice({ link_type: 'quote', link_id: 'q9', kind: 'quote_awaiting_approval' })
    expect(notificationRoute(asked, 'supervisor')).toEqual({ name: 'quote', params: { id: 'q9' } })
    const decided = notice({ link_type: 'quote', link_id: 'q9', kind: 'quote_rejected' })
    expect(notificationRoute(decided, 'sales')).toEqual({ name: 'quote', params: { id: 'q9' } })
  })

  it("opens a recalled batch's customers for the owner told of the recall", () => {
    const recalled = notice({ link_type: 'recall', link_id: 'r9', kind: 'batch_recalled' })
    expect(notificationRoute(recalled, 'sales')).toEqual({ name: 'batches', query: { recall: 'r9' } })
  })
})
