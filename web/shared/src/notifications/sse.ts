// Server-sent events read with fetch: EventSource cannot send the Authorization header, and the
// access token lives only in the page's memory. A frame parser (the WHATWG rules the gateway's
// frames need: event, data over several lines, id, comments, CR/LF/CRLF) and a connection that
// comes back with backoff, naming the last event id it saw as EventSource would.

export interface SseEvent {
  /** "message" when the frame names none. */
  event: string
  data: string
  id?: string
}

/** Feed text as it arrives; each call returns the events its frames completed. Frames may be
 * split anywhere, even between a CR and its LF. */
export function createSseParser(): (chunk: string) => SseEvent[] {
  let buffer = ''
  let event = ''
  let data: string[] = []
  let id: string | undefined
  let pendingCr = false

  function line(text: string, out: SseEvent[]): void {
    if (text === '') {
      if (data.length) out.push({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) })
      event = ''
      data = []
      return
    }
    if (text.startsWith(':')) return // a comment: the server's ping
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    else if (field === 'id') id = value
    // "retry" and unknown fields: ignored, the reconnect has its own backoff
  }

  return (chunk: string) => {
    const out: SseEvent[] = []
    let text = chunk
    // A CR ended the last chunk: an LF starting this one belongs to it.
    if (pendingCr && text.startsWith('\n')) text = text.slice(1)
    pendingCr = false
    buffer += text
    let start = 0
    for (let i = 0; i < buffer.length; i += 1) {
      const ch = buffer[i]
      if (ch !== '\n' && ch !== '\r') continue
      line(buffer.slice(start, i), out)
      if (ch === '\r') {
        if (i + 1 < buffer.length) {
          if (buffer[i + 1] === '\n') i += 1
        } else {
          pendingCr = true
        }
      }
      start = i + 1
    }
    buffer = buffer.slice(start)
    return out
  }
}

export interface StreamOptions {
  /** Opens the stream: a fetch that adds the bearer token (the session's), and `Last-Event-ID`
   * when `lastEventId` is not empty (the last id an earlier connection received). */
  open: (signal: AbortSignal, lastEventId: string) => Promise<Response>
  onEvent: (event: SseEvent) => void
  /** Each time a connection is up (its `ready` event): reload what a gap may have missed. */
  onConnected?: () => void
  /** The connection dropped or could not open; the next attempt waits `delayMs`. */
  onDisconnected?: (delayMs: number) => void
  /** Waits before attempt n (1, 2, …): 1 s, 2 s, 4 s … up to 30 s, with a little jitter. */
  backoff?: (attempt: number) => number
  /** A 401/403 that the session's own refresh could not mend: stop, the sign-in is gone. */
  onRefused?: (status: number) => void
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export const defaultBackoff = (attempt: number): number =>
  Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1)) + Math.floor(Math.random() * 250)

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Keep a stream open until `stop()`: read its frames, reconnect with backoff when it ends or
 * fails (the attempt count starts again after a connection that said `ready`), each reconnect
 * naming the last event id received so the server can send what was missed. */
export function keepStreamOpen(options: StreamOptions): { stop: () => void; done: Promise<void> } {
  const controller = new AbortController()
  const { signal } = controller
  const backoff = options.backoff ?? defaultBackoff
  const sleep = options.sleep ?? abortableSleep
  // Kept across connections, as EventSource keeps it; an empty id field clears it.
  let lastEventId = ''

  async function readOnce(): Promise<{ ready: boolean; refused?: number }> {
    let ready = false
    const response = await options.open(signal, lastEventId)
    if (response.status === 401 || response.status === 403) return { ready, refused: response.status }
    if (!response.ok || !response.body) return { ready }
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    const parse = createSseParser()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        for (const event of parse(decoder.decode(value, { stream: true }))) {
          if (event.id !== undefined) lastEventId = event.id
          if (event.event === 'ready' && !ready) {
            ready = true
            options.onConnected?.()
          }
          options.onEvent(event)
        }
      }
    } finally {
      reader.releaseLock()
    }
    return { ready }
  }

  async function run(): Promise<void> {
    let attempt = 0
    while (!signal.aborted) {
      let outcome: { ready: boolean; refused?: number } = { ready: false }
      try {
        outcome = await readOnce()
      } catch {
        // a network failure or the abort: decided below
      }
      if (signal.aborted) return
      if (outcome.refused) {
        options.onRefused?.(outcome.refused)
        return
      }
      attempt = outcome.ready ? 1 : attempt + 1
      const delay = backoff(attempt)
      options.onDisconnected?.(delay)
      await sleep(delay, signal)
    }
  }

  const done = run()
  return { stop: () => controller.abort(), done }
}
