import { describe, expect, it, vi } from 'vitest'
import { createSseParser, keepStreamOpen } from './sse'

function streamOf(...chunks: string[]): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } })
}

describe('createSseParser', () => {
  it('reads named events, multi-line data and ignores the ping comments', () => {
    const parse = createSseParser()
    const events = parse('event: ready\ndata: {}\n\n: ping - 2026-12-02\n\nevent: notification\ndata: {"a":1,\ndata: "b":2}\nid: 7\n\n')
    expect(events).toEqual([
      { event: 'ready', data: '{}' },
      { event: 'notification', data: '{"a":1,\n"b":2}', id: '7' },
    ])
  })

  it('puts together a frame split across chunks, even between CR and LF', () => {
    const parse = createSseParser()
    expect(parse('event: notif')).toEqual([])
    expect(parse('ication\r')).toEqual([])
    expect(parse('\ndata: {"id":"n1"}\r')).toEqual([])
    expect(parse('\n\r\n')).toEqual([{ event: 'notification', data: '{"id":"n1"}' }])
  })

  it('calls an unnamed frame a message and drops a frame without data', () => {
    const parse = createSseParser()
    expect(parse('data:x\n\nevent: empty\n\n')).toEqual([{ event: 'message', data: 'x' }])
  })
})

describe('keepStreamOpen', () => {
  it('reconnects with growing waits, starts again after a ready connection, and stops on stop()', async () => {
    const answers: (() => Response)[] = [
      () => {
        throw new TypeError('network down')
      },
      () => new Response('bad gateway', { status: 502 }),
      () => streamOf('event: ready\ndata: {}\n\n', 'event: notification\ndata: {"id":"n1"}\n\n'),
    ]
    const waits: number[] = []
    const events: string[] = []
    let connected = 0
    let handle: { stop: () => void; done: Promise<void> } | null = null
    const open = vi.fn(async () => {
      const answer = answers.shift()
      if (!answer) {
        handle?.stop()
        return new Response('', { status: 503 })
      }
      return answer()
    })
    handle = keepStreamOpen({
      open,
      onEvent: (event) => events.push(`${event.event}:${event.data}`),
      onConnected: () => (connected += 1),
      onDisconnected: (delay) => waits.push(delay),
      backoff: (attempt) => attempt * 1000,
      sleep: async () => undefined,
    })
    await handle.done
    expect(events).toEqual(['ready:{}', 'notification:{"id":"n1"}'])
    expect(connected).toBe(1)
    // failure 1 → 1 s, failure 2 → 2 s, a good connection that ended → back to 1 s
    expect(waits).toEqual([1000, 2000, 1000])
    expect(open).toHaveBeenCalledTimes(4)
  })

  it('names the last event id it received when it reconnects, as EventSource does', async () => {
    const connections = [
      () => streamOf('event: ready\ndata: {}\n\n', 'event: notification\nid: n1\ndata: {}\n\n', 'event: notification\nid: n2\ndata: {}\n\n'),
      // Nothing new on this one (its ready carries no id): the next reconnect still names n2.
      () => streamOf('event: ready\ndata: {}\n\n'),
      () => new Response('bad gateway', { status: 502 }),
    ]
    const named: string[] = []
    let handle: { stop: () => void; done: Promise<void> } | null = null
    handle = keepStreamOpen({
      open: async (_signal, lastEventId) => {
        named.push(lastEventId)
        const next = connections.shift()
        if (!next) {
          handle?.stop()
          return new Response('', { status: 503 })
        }
        return next()
      },
      onEvent: () => undefined,
      backoff: () => 0,
      sleep: async () => undefined,
    })
    await handle.done
    expect(named).toEqual(['', 'n2', 'n2', 'n2'])
  })

  it('stops for good when the API refuses the sign-in', async () => {
    const refused = vi.fn()
    const handle = keepStreamOpen({
      open: async () => new Response('', { status: 401 }),
      onEvent: () => undefined,
      onRefused: refused,
      sleep: async () => undefined,
    })
    await handle.done
    expect(refused).toHaveBeenCalledWith(401)
  })
})
