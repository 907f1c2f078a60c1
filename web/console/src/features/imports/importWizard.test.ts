import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { fileNameOf, type CustomerImport } from './api'
import { anImport, counts } from './fixtures'
import { exportFilters, fileProblem, shownCounts, stepIndex, stepOf, useImportProblems, useImportProgress } from './importWizard'

describe('the wizard’s step for an import', () => {
  it('follows the import’s status: checking, report, importing, result, or how it ended', () => {
    expect(stepOf(null)).toBe('upload')
    expect(stepOf(anImport({ status: 'uploading' }))).toBe('checking')
    expect(stepOf(anImport({ status: 'checking' }))).toBe('checking')
    expect(stepOf(anImport({ status: 'checked' }))).toBe('report')
    expect(stepOf(anImport({ status: 'importing' }))).toBe('importing')
    expect(stepOf(anImport({ status: 'completed' }))).toBe('result')
    expect(stepOf(anImport({ status: 'failed' }))).toBe('failed')
    expect(stepOf(anImport({ status: 'cancelled' }))).toBe('cancelled')
  })

  it('puts a dry run under way on the upload step, a completed import past the last and a failed one on it', () => {
    expect(stepIndex('checking')).toBe(0)
    expect(stepIndex('report')).toBe(1)
    expect(stepIndex('importing')).toBe(2)
    expect(stepIndex('result')).toBe(4)
    expect(stepIndex('failed')).toBe(3)
  })

  it('counts the dry run until the import is confirmed, then what the import did', () => {
    const report = anImport({ status: 'checked', dry_run: counts({ created: 7 }), result: counts({ created: 1 }) })
    expect(shownCounts(report).created).toBe(7)
    const imported = { ...report, status: 'completed' as const, confirmed_at: '2026-12-03T10:05:00+08:00' }
    expect(shownCounts(imported).created).toBe(1)
  })
})

describe('the file a user picks', () => {
  it('must be xlsx or CSV, not empty and at most 50 MB', () => {
    expect(fileProblem({ name: '客户.XLSX', size: 10 })).toBeNull()
    expect(fileProblem({ name: 'customers.csv', size: 10 })).toBeNull()
    expect(fileProblem({ name: '客户.xls', size: 10 })).toBe('imports.wrongType')
    expect(fileProblem({ name: '照片.jpg', size: 10 })).toBe('imports.wrongType')
    expect(fileProblem({ name: '客户.csv', size: 0 })).toBe('imports.emptyFile')
    expect(fileProblem({ name: '客户.xlsx', size: 50 * 1024 * 1024 + 1 })).toBe('imports.tooLarge')
  })
})

describe('the export of the list as shown', () => {
  it('sends the filters that are set and the order', () => {
    const filters = { lifecycle_stage: 'signed' as const, type: '', owner_id: undefined, tag: '重点', include_archived: true }
    expect(exportFilters(filters, '  ', '-updated_at')).toEqual({
      lifecycle_stage: 'signed',
      tag: '重点',
      include_archived: true,
      sort: '-updated_at',
    })
  })

  it('sends a search instead of an order, without archived customers as the list shows it', () => {
    expect(exportFilters({ include_archived: true, type: '学校食堂' }, ' 西湖 ', 'name')).toEqual({ type: '学校食堂', q: '西湖' })
  })

  it('saves the file under the gateway’s Chinese name', () => {
    const header = "attachment; filename=\"___-20261203-1000.xlsx\"; filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%AF%BC%E5%87%BA-20261203-1000.xlsx"
    expect(fileNameOf(header, 'x.xlsx')).toBe('客户导出-20261203-1000.xlsx')
    expect(fileNameOf('attachment; filename="rejects.xlsx"', 'x.xlsx')).toBe('rejects.xlsx')
    expect(fileNameOf(null, 'x.xlsx')).toBe('x.xlsx')
  })
})

/** Mounts a component that follows an import with `fetchImport` every 5 ms. */
function following(fetchImport: () => Promise<CustomerImport>) {
  let progress!: ReturnType<typeof useImportProgress>
  const wrapper = mount(
    defineComponent({
      setup() {
        progress = useImportProgress(fetchImport, 5)
        return () => h('div')
      },
    }),
  )
  return { wrapper, progress }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('useImportProgress', () => {
  it('asks again while the dry run runs and stops once the report is ready', async () => {
    const answers = [anImport({ percent: 10 }), anImport({ percent: 60 }), anImport({ status: 'checked', percent: 100 })]
    const fetchImport = vi.fn(async () => answers.shift() ?? anImport({ status: 'checked' }))
    const { wrapper, progress } = following(fetchImport)
    await progress.poll()
    await vi.waitFor(() => expect(progress.current.value?.status).toBe('checked'))
    await pause(30)
    expect(fetchImport).toHaveBeenCalledTimes(3)
    wrapper.unmount()
  })

  it('follows a confirmed import it was handed until it completes', async () => {
    const fetchImport = vi.fn(async () => anImport({ status: 'completed', percent: 100 }))
    const { wrapper, progress } = following(fetchImport)
    progress.show(anImport({ status: 'checked' }))
    await pause(30)
    expect(fetchImport).not.toHaveBeenCalled()
    progress.show(anImport({ status: 'importing' }))
    await vi.waitFor(() => expect(progress.current.value?.status).toBe('completed'))
    expect(fetchImport).toHaveBeenCalledTimes(1)
    wrapper.unmount()
  })

  it('keeps asking through a failed request, and stops when the page goes', async () => {
    const fetchImport = vi.fn(async () => {
      if (fetchImport.mock.calls.length === 1) throw new Error('offline')
      return anImport({ status: 'importing' })
    })
    const { wrapper, progress } = following(fetchImport)
    await progress.poll()
    expect(progress.failure.value).toBeInstanceOf(Error)
    await vi.waitFor(() => expect(progress.current.value?.status).toBe('importing'))
    expect(progress.failure.value).toBeNull()
    wrapper.unmount()
    const calls = fetchImport.mock.calls.length
    await pause(30)
    expect(fetchImport.mock.calls.length).toBeLessThanOrEqual(calls + 1)
  })
})

describe('useImportProblems', () => {
  it('reads the report a page at a time', async () => {
    const problem = (row: number) => ({
      row,
      column: '联系人手机',
      reason: '手机号格式不对',
      code: 'invalid',
      severity: 'error' as const,
      existing_customer_id: null,
      existing_customer_name: null,
      existing_visible: false,
    })
    const fetchPage = vi.fn(async (token: string) =>
      token ? { items: [problem(9)], next_page_token: null } : { items: [problem(2), problem(5)], next_page_token: 'p2' },
    )
    const report = useImportProblems(fetchPage)
    await report.load()
    expect(report.problems.value.map((p) => p.row)).toEqual([2, 5])
    expect(report.nextPageToken.value).toBe('p2')
    await report.loadMore()
    expect(fetchPage).toHaveBeenLastCalledWith('p2')
    expect(report.problems.value.map((p) => p.row)).toEqual([2, 5, 9])
    expect(report.nextPageToken.value).toBeNull()
  })
})
