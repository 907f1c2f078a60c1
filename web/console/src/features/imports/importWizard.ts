// The import wizard's logic: which step an import is at, the file a user may pick, its
// progress polled until the pass under way ends, the report's problems page by page, and the
// filters of the customer list an export takes.
import type { CustomerFilters, CustomerSort, Role } from '@keyuan/shared'
import { onBeforeUnmount, ref, shallowRef } from 'vue'
import type { CustomerImport, ExportFilters, ImportProblem, ImportStatus } from './api'

/** Who may import (the customer service's IMPORTERS): into their scope, a rep into their own book. */
export const IMPORT_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales']
/** The gateway's default upload limit (a larger file is refused with 413 anyway). */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024
export const IMPORT_EXTENSIONS = ['.xlsx', '.csv']

export type ImportStep = 'upload' | 'checking' | 'report' | 'importing' | 'result' | 'failed' | 'cancelled'

/** The wizard's steps in order, as the step bar shows them. */
export const STEP_BAR: readonly ImportStep[] = ['upload', 'report', 'importing', 'result']

const STEP_OF_STATUS: Record<ImportStatus, ImportStep> = {
  uploading: 'checking',
  checking: 'checking',
  checked: 'report',
  importing: 'importing',
  completed: 'result',
  failed: 'failed',
  cancelled: 'cancelled',
}

export function stepOf(found: CustomerImport | null): ImportStep {
  return found ? STEP_OF_STATUS[found.status] : 'upload'
}

/** Where the step bar stands for a step: a dry run under way is still the upload step's work, a
 * completed import has every step done, a failed or cancelled one stops on the last. */
export function stepIndex(step: ImportStep): number {
  if (step === 'checking') return 0
  if (step === 'result') return STEP_BAR.length
  if (step === 'failed' || step === 'cancelled') return STEP_BAR.length - 1
  return STEP_BAR.indexOf(step)
}

/** A pass is under way: the import's progress is worth asking again. */
export const isRunning = (found: CustomerImport) =>
  found.status === 'uploading' || found.status === 'checking' || found.status === 'importing'

/** The i18n key of what is wrong with a picked file, or null when it may be sent. The gateway
 * judges the content; this only spares an upload that cannot succeed. */
export function fileProblem(file: Pick<File, 'name' | 'size'>): string | null {
  const name = file.name.toLowerCase()
  if (!IMPORT_EXTENSIONS.some((extension) => name.endsWith(extension))) return 'imports.wrongType'
  if (file.size === 0) return 'imports.emptyFile'
  if (file.size > MAX_IMPORT_BYTES) return 'imports.tooLarge'
  return null
}

/** The counts of the pass the import is at: the dry run's report until confirmed, the import's after. */
export const shownCounts = (found: CustomerImport) => (found.confirmed_at ? found.result : found.dry_run)

/** What the export sends for the list as it is shown: its filters (those set), the search, and
 * the order when no search ranks it. */
export function exportFilters(filters: CustomerFilters, query: string, sort: CustomerSort | undefined): ExportFilters {
  const chosen = Object.fromEntries(
    Object.entries(filters).filter(([, value]) => value !== undefined && value !== null && value !== '' && value !== false),
  ) as ExportFilters
  const q = query.trim()
  if (q) {
    // A search leaves archived customers out, as the list does.
    delete chosen.include_archived
    return { ...chosen, q }
  }
  return sort ? { ...chosen, sort } : chosen
}

/** An import as it goes: fetched now and every `intervalMs` while a pass is under way, and no
 * longer once the page is gone. A failed request is tried again at the next tick. */
export function useImportProgress(fetchImport: () => Promise<CustomerImport>, intervalMs = 1000) {
  const current = shallowRef<CustomerImport | null>(null)
  const failure = shallowRef<unknown>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  function schedule(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (stopped || (current.value && !isRunning(current.value))) return
    timer = setTimeout(() => void poll(), intervalMs)
  }

  async function poll(): Promise<void> {
    if (timer !== null) clearTimeout(timer)
    timer = null
    try {
      current.value = await fetchImport()
      failure.value = null
    } catch (error) {
      failure.value = error
    }
    schedule()
  }

  /** An answer from another call (upload, confirm, cancel): shown, and followed if it runs. */
  function show(found: CustomerImport): void {
    current.value = found
    failure.value = null
    schedule()
  }

  function stop(): void {
    stopped = true
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  onBeforeUnmount(stop)
  return { current, failure, poll, show, stop }
}

interface ProblemPage {
  items: ImportProblem[]
  next_page_token: string | null
}

/** The report's problems, a page at a time (by row, then column). */
export function useImportProblems(fetchPage: (pageToken: string) => Promise<ProblemPage>) {
  const problems = shallowRef<ImportProblem[]>([])
  const nextPageToken = ref<string | null>(null)
  const loading = ref(false)
  const failure = shallowRef<unknown>(null)
  let generation = 0

  async function load(more = false): Promise<void> {
    const mine = more ? generation : ++generation
    loading.value = true
    failure.value = null
    try {
      const page = await fetchPage(more ? (nextPageToken.value ?? '') : '')
      if (mine !== generation) return
      problems.value = more ? [...problems.value, ...page.items] : page.items
      nextPageToken.value = page.next_page_token
    } catch (error) {
      if (mine === generation) failure.value = error
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  return { problems, nextPageToken, loading, failure, load, loadMore: () => load(true) }
}

/** A file's size as people read it (KB below a megabyte, MB above). */
export function formatFileSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
