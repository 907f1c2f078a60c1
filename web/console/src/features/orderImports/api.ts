// 导入历史订单: the template, and the file's dry run or import (one synchronous call each: a
// file holds at most 5,000 rows).
import { ApiError, call, errorFromResponse, networkError, type components, type Role } from '@keyuan/shared'
import { api } from '../../app'
import { fileNameOf, type Download } from '../imports/api'

export type OrderImportReport = components['schemas']['OrderImportOut']
export type RowProblem = components['schemas']['RowProblemOut']
export type ImportedOrder = components['schemas']['ImportedOrderOut']
export type TemplateFormat = 'xlsx' | 'csv'

/** Who may import history (the gateway's IMPORTERS). */
export const ORDER_IMPORT_ROLES: readonly Role[] = ['admin', 'boss']
export const ORDER_IMPORT_EXTENSIONS = ['.xlsx', '.csv']

/** A file the console can send: an xlsx or CSV by its name (the gateway checks the content). */
export function isImportFile(file: File): boolean {
  const name = file.name.toLowerCase()
  return ORDER_IMPORT_EXTENSIONS.some((extension) => name.endsWith(extension))
}

export const orderImportsApi = {
  template: async (format: TemplateFormat): Promise<Download> => {
    let result: { data?: Blob; error?: unknown; response: Response }
    try {
      result = (await api.GET('/api/v1/order-imports/template', { params: { query: { format } }, parseAs: 'blob' })) as typeof result
    } catch (error) {
      if (error instanceof ApiError) throw error
      throw networkError(error)
    }
    if (!result.response.ok || !result.data) throw errorFromResponse(result.response.status, result.error, result.response.headers)
    return { blob: result.data, fileName: fileNameOf(result.response.headers.get('Content-Disposition'), `历史订单导入模板.${format}`) }
  },
  /** The file is the body itself; `dryRun` checks only. */
  send: (file: File, dryRun: boolean) =>
    call(
      api.POST('/api/v1/order-imports', {
        params: { query: { file_name: file.name, dry_run: dryRun } },
        body: '',
        bodySerializer: () => file,
        headers: { 'Content-Type': file.type || 'application/octet-stream' },
      }),
    ),
}
