import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import type { Customer, CustomerPage, CustomerQuery, CustomerSort } from '../api/models'
import { useCustomerSearch, type CustomerFilters } from './useCustomerSearch'

const customer = (id: string) => ({ id, name: `客户${id}` }) as Customer

function fakeApi(answer: (query: CustomerQuery) => CustomerPage | Promise<CustomerPage>) {
  const calls: CustomerQuery[] = []
  return {
    calls,
    list: vi.fn(async (query: CustomerQuery) => {
      calls.push(query)
      return answer(query)
    }),
  }
}

describe('useCustomerSearch', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('searches 300 ms after the last keystroke, once', async () => {
    const api = fakeApi(() => ({ items: [customer('1')], next_page_token: null }))
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { immediate: false }))!
    search.query.value = 'b'
    await nextTick()
    vi.advanceTimersByTime(200)
    search.query.value = 'bj'
    await nextTick()
    vi.advanceTimersByTime(200)
    search.query.value = 'bjsy'
    await nextTick()
    expect(api.calls).toHaveLength(0)
    vi.advanceTimersByTime(300)
    await vi.runAllTimersAsync()
    expect(api.calls).toEqual([{ q: 'bjsy', page_size: 20, page_token: '' }])
    expect(search.shownQuery.value).toBe('bjsy')
    scope.stop()
  })

  it('follows next_page_token and appends the next page', async () => {
    const api = fakeApi((query) =>
      query.page_token ? { items: [customer('3')], next_page_token: null } : { items: [customer('1'), customer('2')], next_page_token: 'T2' },
    )
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { pageSize: 2 }))!
    await vi.runAllTimersAsync()
    expect(search.nextPageToken.value).toBe('T2')
    await search.loadMore()
    expect(search.items.value.map((c) => c.id)).toEqual(['1', '2', '3'])
    expect(search.nextPageToken.value).toBeNull()
    expect(api.calls[1]).toMatchObject({ page_token: 'T2', page_size: 2 })
    scope.stop()
  })

  it('ignores an answer that arrives after a newer one', async () => {
    const resolvers: ((page: CustomerPage) => void)[] = []
    const api = fakeApi(() => new Promise<CustomerPage>((resolve) => resolvers.push(resolve)))
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { immediate: false }))!
    const first = search.reload()
    const second = search.reload()
    resolvers[1]!({ items: [customer('new')], next_page_token: null })
    resolvers[0]!({ items: [customer('old')], next_page_token: null })
    await Promise.all([first, second])
    expect(search.items.value.map((c) => c.id)).toEqual(['new'])
    scope.stop()
  })

  it('sends the chosen filters when not searching, and keeps the error for a retry', async () => {
    let fail = true
    const api = fakeApi(() => {
      if (fail) throw new Error('offline')
      return { items: [], next_page_token: null }
    })
    const filters = ref<CustomerFilters>({ lifecycle_stage: 'signed', type: '', owner_id: undefined })
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { filters }))!
    await vi.runAllTimersAsync()
    expect(api.calls[0]).toEqual({ page_size: 20, page_token: '', lifecycle_stage: 'signed' })
    expect(search.error.value).toBeInstanceOf(Error)
    fail = false
    await search.reload()
    expect(search.error.value).toBeNull()
    expect(search.loaded.value).toBe(true)
    scope.stop()
  })

  it('asks the server for the chosen order and starts again from the first page', async () => {
    const api = fakeApi((query) =>
      query.page_token ? { items: [customer('2')], next_page_token: null } : { items: [customer('1')], next_page_token: 'T2' },
    )
    const sort = ref<CustomerSort | undefined>()
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { sort }))!
    await vi.runAllTimersAsync()
    await search.loadMore()
    expect(search.items.value.map((c) => c.id)).toEqual(['1', '2'])
    expect(api.calls[0]).not.toHaveProperty('sort')

    sort.value = 'name'
    await vi.runAllTimersAsync()
    expect(api.calls[2]).toEqual({ page_size: 20, page_token: '', sort: 'name' })
    expect(search.items.value.map((c) => c.id)).toEqual(['1'])
    expect(search.nextPageToken.value).toBe('T2')
    await search.loadMore()
    expect(api.calls[3]).toEqual({ page_size: 20, page_token: 'T2', sort: 'name' })
    scope.stop()
  })

  it('narrows a search by the filters but sends no sort with it (the results are ranked)', async () => {
    const api = fakeApi(() => ({ items: [], next_page_token: null }))
    const filters = ref<CustomerFilters>({ lifecycle_stage: 'signed', tag: '重点', include_archived: true })
    const sort = ref<CustomerSort | undefined>('-name')
    const scope = effectScope()
    const search = scope.run(() => useCustomerSearch(api, { filters, sort, immediate: false }))!
    search.query.value = 'xhsy'
    await vi.runAllTimersAsync()
    expect(api.calls).toEqual([{ q: 'xhsy', lifecycle_stage: 'signed', tag: '重点', page_size: 20, page_token: '' }])

    sort.value = 'name'
    await vi.runAllTimersAsync()
    expect(api.calls).toHaveLength(1)
    filters.value = { ...filters.value, owner_id: 'u-2' }
    await vi.runAllTimersAsync()
    expect(api.calls[1]).toMatchObject({ q: 'xhsy', owner_id: 'u-2', lifecycle_stage: 'signed' })
    expect(api.calls[1]).not.toHaveProperty('sort')
    scope.stop()
  })
})
