// The customer list both apps show: results as you type (debounced), filters, the server's sort,
// keyset pages that follow next_page_token, and answers that arrive out of order ignored.
import { onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import type { Customer, CustomerQuery, CustomerSort } from '../api/models'
import type { CustomersApi } from './api'

export const SEARCH_DEBOUNCE_MS = 300

export type CustomerFilters = Omit<CustomerQuery, 'q' | 'page_size' | 'page_token' | 'sort'>

export interface CustomerSearchOptions {
  pageSize?: number
  debounceMs?: number
  filters?: Ref<CustomerFilters>
  /** The order without a search (the API's default when absent); a search is ranked instead. */
  sort?: Ref<CustomerSort | undefined>
  /** Load the first page at once (default true). */
  immediate?: boolean
}

export function useCustomerSearch(api: Pick<CustomersApi, 'list'>, options: CustomerSearchOptions = {}) {
  const pageSize = options.pageSize ?? 20
  const debounceMs = options.debounceMs ?? SEARCH_DEBOUNCE_MS
  const filters = options.filters ?? ref<CustomerFilters>({})
  const sort = options.sort ?? ref<CustomerSort | undefined>()
  const query = ref('')
  const items = shallowRef<Customer[]>([])
  const nextPageToken = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = shallowRef<unknown>(null)
  const loaded = ref(false)
  /** The query the shown items answer (the box may already hold a newer one). */
  const shownQuery = ref('')
  let generation = 0
  let timer: ReturnType<typeof setTimeout> | null = null

  function currentQuery(pageToken = ''): CustomerQuery {
    const q = query.value.trim()
    // The filters narrow a search too; a search is ranked by relevance, so it takes no sort
    // (and the API does not search archived customers).
    const chosen: CustomerFilters = Object.fromEntries(
      Object.entries(filters.value).filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false),
    )
    const base: CustomerQuery = { ...chosen, page_size: pageSize, page_token: pageToken }
    if (q) {
      delete base.include_archived
      return { ...base, q }
    }
    return sort.value ? { ...base, sort: sort.value } : base
  }

  async function reload(): Promise<void> {
    if (timer) clearTimeout(timer)
    timer = null
    const mine = ++generation
    const request = currentQuery()
    loading.value = true
    error.value = null
    try {
      const page = await api.list(request)
      if (mine !== generation) return
      items.value = page.items
      nextPageToken.value = page.next_page_token
      shownQuery.value = request.q ?? ''
      loaded.value = true
    } catch (caught) {
      if (mine !== generation) return
      error.value = caught
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextPageToken.value || loadingMore.value || loading.value) return
    const mine = generation
    loadingMore.value = true
    error.value = null
    try {
      const page = await api.list(currentQuery(nextPageToken.value))
      if (mine !== generation) return
      items.value = [...items.value, ...page.items]
      nextPageToken.value = page.next_page_token
    } catch (caught) {
      if (mine === generation) error.value = caught
    } finally {
      loadingMore.value = false
    }
  }

  watch(query, () => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void reload(), debounceMs)
  })
  watch(filters, () => void reload(), { deep: true })
  // A new order starts again from the first page; while searching it changes nothing.
  watch(sort, () => {
    if (!query.value.trim()) void reload()
  })
  onScopeDispose(() => {
    if (timer) clearTimeout(timer)
    generation += 1
  })
  if (options.immediate !== false) void reload()

  return { query, filters, sort, items, nextPageToken, loading, loadingMore, error, loaded, shownQuery, reload, loadMore }
}
