// 导入导出: the import's template, upload (its dry run starts at once), progress, report,
// confirm and cancel, the rejected rows, and the customer list's export. Files come back as
// blobs with the name the gateway gives them.
import { ApiError, call, errorFromResponse, networkError, newRequestId, type components, type paths } from '@keyuan/shared'
import { api } from '../../app'

export type CustomerImport = components['schemas']['CustomerImportOut']
export type ImportCounts = components['schemas']['ImportCountsOut']
export type ImportProblem = components['schemas']['ImportProblemOut']
export type ImportStatus = CustomerImport['status']
export type FileFormat = CustomerImport['format']
/** The list's filters, search and order, as the export takes them (those of GET /customers). */
export type ExportFilters = Omit<NonNullable<paths['/api/v1/exports/customers']['get']['parameters']['query']>, 'format'>

/** A file the gateway sent: its content and the name to save it under. */
export interface Download {
  blob: Blob
  fileName: string
}

interface BlobResult {
  data?: Blob
  error?: unknown
  response: Response
}

/** The name in Content-Disposition: RFC 6266's UTF-8 `filename*` first, else `filename`. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (encoded?.[1]) {
    try {
      return decodeURIComponent(encoded[1].trim())
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain?.[1]?.trim() || fallback
}

async function download(pending: Promise<BlobResult>, fallback: string): Promise<Download> {
  let result: BlobResult
  try {
    result = await pending
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw networkError(error)
  }
  if (!result.response.ok || !result.data) throw errorFromResponse(result.response.status, result.error, result.response.headers)
  return { blob: result.data, fileName: fileNameOf(result.response.headers.get('Content-Disposition'), fallback) }
}

export const importsApi = {
  template: (format: FileFormat) =>
    download(
      api.GET('/api/v1/customer-imports/template', { params: { query: { format } }, parseAs: 'blob' }) as Promise<BlobResult>,
      `客户导入模板.${format}`,
    ),
  /** The file is the body itself, as it is; the gateway reads its type from its content. */
  upload: (file: File, updateExisting: boolean, requestId = newRequestId()) =>
    call(
      api.POST('/api/v1/customer-imports', {
        params: { query: { file_name: file.name, update_existing: updateExisting, request_id: requestId } },
        body: '',
        bodySerializer: () => file,
        headers: { 'Content-Type': file.type || 'application/octet-stream' },
      }),
    ),
  get: (id: string) => call(api.GET('/api/v1/customer-imports/{import_id}', { params: { path: { import_id: id } } })),
  list: (pageToken = '') =>
    call(api.GET('/api/v1/customer-imports', { params: { query: { page_size: 10, page_token: pageToken } } })),
  problems: (id: string, pageToken = '') =>
    call(
      api.GET('/api/v1/customer-imports/{import_id}/problems', {
        params: { path: { import_id: id }, query: { page_size: 200, page_token: pageToken } },
      }),
    ),
  confirm: (id: string) => call(api.POST('/api/v1/customer-imports/{import_id}/confirm', { params: { path: { import_id: id } } })),
  cancel: (id: string) => call(api.POST('/api/v1/customer-imports/{import_id}/cancel', { params: { path: { import_id: id } } })),
  rejectedRows: (id: string) =>
    download(
      api.GET('/api/v1/customer-imports/{import_id}/rejected-rows', {
        params: { path: { import_id: id } },
        parseAs: 'blob',
      }) as Promise<BlobResult>,
      '未通过的行.xlsx',
    ),
  exportCustomers: (format: FileFormat, filters: ExportFilters) =>
    download(
      api.GET('/api/v1/exports/customers', { params: { query: { ...filters, format } }, parseAs: 'blob' }) as Promise<BlobResult>,
      `客户导出.${format}`,
    ),
}

/** Hands a downloaded file to the browser to save. */
export function saveDownload({ blob, fileName }: Download): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.style.display = 'none'
  document.body.appendChild(link)
  link.click()
  link.remove()
  // The click has handed the URL over; revoke it once the browser has started the save.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
