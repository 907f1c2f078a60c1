// Partner systems (接口客户端): an ERP or a dispatch system that calls the API with a key, or the
// services' gRPC with a client-credentials token carrying the scopes granted here.
import { call, type components } from '@keyuan/shared'
import { api } from '../../app'

type Schemas = components['schemas']
export type PartnerClient = Schemas['ApiClientOut']
export type NewPartnerClient = Schemas['NewApiClientOut']
export type PartnerClientInput = Schemas['ApiClientIn']
export type PartnerScope = Schemas['PartnerScope']

export const PARTNER_SCOPES: readonly PartnerScope[] = [
  'customers:read',
  'customers:write',
  'catalogue:write',
  'orders:read',
  'orders:write',
  'deliveries:write',
]

const byId = (clientId: string) => ({ params: { path: { client_id: clientId } } })

export const partnerApi = {
  list: () => call(api.GET('/api/v1/api-clients')),
  register: (body: PartnerClientInput) => call(api.POST('/api/v1/api-clients', { body })),
  grantScopes: (clientId: string, scopes: PartnerScope[]) =>
    call(api.PUT('/api/v1/api-clients/{client_id}/scopes', { ...byId(clientId), body: { scopes } })),
  rotate: (clientId: string) => call(api.POST('/api/v1/api-clients/{client_id}/rotate', byId(clientId))),
  revoke: async (clientId: string): Promise<void> => {
    await call(api.DELETE('/api/v1/api-clients/{client_id}', byId(clientId)))
  },
}
