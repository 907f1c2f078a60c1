// The unread count on the H5's 我的 tab. Polled (every minute and on each page change) rather
// than streamed: a phone page in the background drops long connections anyway, and one small GET
// a minute costs less battery than keeping a stream alive.
import { notificationsApi } from '@keyuan/shared'
import { ref } from 'vue'
import { api } from '../../app'

export const POLL_MS = 60_000
export const unread = ref(0)
const inbox = notificationsApi(api)
let timer: ReturnType<typeof setInterval> | null = null

export async function refreshUnread(): Promise<void> {
  try {
    unread.value = await inbox.unreadCount()
  } catch {
    // Offline or signed out: keep the last count; the next poll tries again.
  }
}

export function startUnreadPolling(): void {
  if (timer !== null) return
  void refreshUnread()
  timer = setInterval(() => void refreshUnread(), POLL_MS)
}

export function stopUnreadPolling(): void {
  if (timer !== null) clearInterval(timer)
  timer = null
  unread.value = 0
}
