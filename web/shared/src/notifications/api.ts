// The notification inbox both apps read (the gateway's /notifications): the list (unread first),
// the unread count, marking read, and the live stream.
import { call, type ApiClient } from '../api/client'
import type { BrowserSession } from '../auth/session'
import type { Notification } from '../api/models'
import { keepStreamOpen, type StreamOptions } from './sse'

export const STREAM_PATH = '/api/v1/notifications/stream'

export const notificationsApi = (client: ApiClient) => ({
  list: (pageToken = '', pageSize = 20) =>
    call(client.GET('/api/v1/notifications', { params: { query: { page_size: pageSize, page_token: pageToken } } })),
  unreadCount: async () => (await call(client.GET('/api/v1/notifications/unread-count'))).unread,
  markRead: (id: string) =>
    call(client.POST('/api/v1/notifications/{notification_id}/read', { params: { path: { notification_id: id } } })),
  markAllRead: () => call(client.POST('/api/v1/notifications/read-all')),
})

export type NotificationsApi = ReturnType<typeof notificationsApi>

export interface NotificationStreamHandlers extends Pick<StreamOptions, 'onConnected' | 'onDisconnected' | 'backoff' | 'sleep'> {
  onNotification: (notification: Notification) => void
  /** The sign-in is gone (the session's own refresh failed too): the stream stops. */
  onRefused?: () => void
}

/** The caller's live notifications through the session's fetch (bearer token, one refresh on a
 * 401), reconnecting until `stop()`; a reconnect names the last notification received
 * (`Last-Event-ID`) and the gateway sends the ones written since, before `ready`. */
export function openNotificationStream(session: BrowserSession, handlers: NotificationStreamHandlers, baseUrl = '') {
  const origin = baseUrl || globalThis.location?.origin || ''
  return keepStreamOpen({
    open: (signal, lastEventId) => {
      const headers: Record<string, string> = { Accept: 'text/event-stream' }
      if (lastEventId) headers['Last-Event-ID'] = lastEventId
      return session.fetch(new Request(`${origin}${STREAM_PATH}`, { headers, signal }))
    },
    onEvent: (event) => {
      if (event.event !== 'notification') return
      try {
        handlers.onNotification(JSON.parse(event.data) as Notification)
      } catch {
        // A frame that is not a notification's JSON: the list reloaded on reconnect has it.
      }
    },
    onConnected: handlers.onConnected,
    onDisconnected: handlers.onDisconnected,
    onRefused: () => handlers.onRefused?.(),
    backoff: handlers.backoff,
    sleep: handlers.sleep,
  })
}
