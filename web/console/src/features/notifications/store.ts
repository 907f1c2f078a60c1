// The signed-in user's notifications: the unread count in the header, the list in the drawer,
// kept live by the gateway's SSE stream (read with fetch: the bearer token cannot go on an
// EventSource). A reconnect gets the notices written while the stream was down (the newest 100,
// before `ready`), and every (re)connection still reloads the count, and the list when it was
// open: more may have been missed, and some read in another tab.
import {
  describeError,
  notificationsApi,
  openNotificationStream,
  type Notification,
  type NotificationStreamHandlers,
} from '@keyuan/shared'
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api, auth, i18n } from '../../app'

const inbox = notificationsApi(api)

export const useNotificationsStore = defineStore('notifications', () => {
  const unread = ref(0)
  const items = shallowRef<Notification[]>([])
  const nextPage = ref<string | null>(null)
  const listLoaded = ref(false)
  const loading = ref(false)
  const failure = ref('')
  /** The stream is down and a reconnect is waiting. */
  const reconnecting = ref(false)
  let stream: { stop: () => void } | null = null

  async function loadCount(): Promise<void> {
    unread.value = await inbox.unreadCount()
  }

  async function loadList(more = false): Promise<void> {
    loading.value = true
    failure.value = ''
    try {
      const page = await inbox.list(more ? (nextPage.value ?? '') : '')
      items.value = more ? [...items.value, ...page.items] : page.items
      nextPage.value = page.next_page_token
      listLoaded.value = true
    } catch (error) {
      failure.value = describeError(i18n.global.t, error)
    } finally {
      loading.value = false
    }
  }

  function received(notification: Notification): void {
    if (items.value.some((n) => n.id === notification.id)) return
    if (!notification.read) unread.value += 1
    // Unread first, newest first: a new one goes on top.
    if (listLoaded.value) items.value = [notification, ...items.value]
  }

  async function markRead(notification: Notification): Promise<void> {
    if (notification.read) return
    const updated = await inbox.markRead(notification.id)
    items.value = items.value.map((n) => (n.id === notification.id ? updated : n))
    unread.value = Math.max(0, unread.value - 1)
  }

  async function markAllRead(): Promise<void> {
    await inbox.markAllRead()
    items.value = items.value.map((n) => ({ ...n, read: true }))
    unread.value = 0
  }

  /** Open the live stream (once); `handlers` are for tests (backoff, sleep). */
  function start(handlers: Partial<NotificationStreamHandlers> = {}): void {
    if (stream) return
    stream = openNotificationStream(auth.session, {
      onNotification: received,
      onConnected: () => {
        reconnecting.value = false
        void loadCount().catch(() => undefined)
        if (listLoaded.value) void loadList()
      },
      onDisconnected: () => (reconnecting.value = true),
      onRefused: () => stop(),
      ...handlers,
    })
    // The count before the stream says ready, so the badge shows at once.
    void loadCount().catch(() => undefined)
  }

  function stop(): void {
    stream?.stop()
    stream = null
    reconnecting.value = false
  }

  function $reset(): void {
    stop()
    unread.value = 0
    items.value = []
    nextPage.value = null
    listLoaded.value = false
    failure.value = ''
  }

  return { unread, items, nextPage, listLoaded, loading, failure, reconnecting, loadCount, loadList, received, markRead, markAllRead, start, stop, $reset }
})
