// The quote (报价单) calls of the console: list, read, draft, change, submit, decide, convert
// into an order, the PDF, and the product search the editor picks lines from.
import {
  call,
  errorFromResponse,
  networkError,
  ApiError,
  newRequestId,
  type ApiClient,
  type components,
  type paths,
  type Role,
} from '@keyuan/shared'
import { fileNameOf, type Download } from '../imports/api'

type Schemas = components['schemas']

export type Quote = Schemas['QuoteOut']
export type QuoteLine = Schemas['QuoteLineOut']
export type QuoteStatus = Quote['status']
export type QuoteInput = Schemas['QuoteIn']
export type QuotePatch = Schemas['QuotePatch']
export type QuoteDecision = Schemas['QuoteDecisionIn']['decision']
export type ConvertInput = Schemas['ConvertIn']
export type Product = Schemas['ProductOut']
export type QuoteQuery = NonNullable<paths['/api/v1/quotes']['get']['parameters']['query']>

/** Every status, in the order a quote goes through them. */
export const QUOTE_STATUSES: readonly QuoteStatus[] = ['draft', 'pending_approval', 'approved', 'rejected', 'converted', 'expired']
/** Who may draft quotes, and who may decide them (the order service's SELLING and APPROVERS). */
export const QUOTE_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales']
export const QUOTE_APPROVER_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']
/** A draft, or a rejected quote (which goes back to draft), may still be changed. */
export const EDITABLE: readonly QuoteStatus[] = ['draft', 'rejected']

interface BlobResult {
  data?: Blob
  error?: unknown
  response: Response
}

export const quotesApi = (client: ApiClient) => ({
  list: (query: QuoteQuery) => call(client.GET('/api/v1/quotes', { params: { query: { page_size: 50, ...query } } })),
  get: (id: string) => call(client.GET('/api/v1/quotes/{quote_id}', { params: { path: { quote_id: id } } })),
  create: (body: Omit<QuoteInput, 'request_id'>) =>
    call(client.POST('/api/v1/quotes', { body: { ...body, request_id: newRequestId() } })),
  update: (id: string, body: QuotePatch) =>
    call(client.PATCH('/api/v1/quotes/{quote_id}', { params: { path: { quote_id: id } }, body })),
  submit: (id: string, version: number) =>
    call(client.POST('/api/v1/quotes/{quote_id}/submit', { params: { path: { quote_id: id } }, body: { expected_version: version } })),
  decide: (id: string, decision: QuoteDecision, comment: string, version: number) =>
    call(
      client.POST('/api/v1/quotes/{quote_id}/decision', {
        params: { path: { quote_id: id } },
        body: { decision, comment: comment.trim(), expected_version: version },
      }),
    ),
  convert: (id: string, body: ConvertInput) =>
    call(client.POST('/api/v1/quotes/{quote_id}/convert', { params: { path: { quote_id: id } }, body })),
  /** The PDF through the signed-in client (it carries the bearer token a plain link would not). */
  pdf: async (id: string, number: string): Promise<Download> => {
    let result: BlobResult
    try {
      result = (await client.GET('/api/v1/quotes/{quote_id}/pdf', {
        params: { path: { quote_id: id } },
        parseAs: 'blob',
      })) as BlobResult
    } catch (error) {
      if (error instanceof ApiError) throw error
      throw networkError(error)
    }
    if (!result.response.ok || !result.data) throw errorFromResponse(result.response.status, result.error, result.response.headers)
    return { blob: result.data, fileName: fileNameOf(result.response.headers.get('Content-Disposition'), `报价单-${number}.pdf`) }
  },
  products: (q: string) =>
    call(client.GET('/api/v1/products', { params: { query: { q: q.trim(), page_size: 20 } } })),
})

export type QuotesApi = ReturnType<typeof quotesApi>
