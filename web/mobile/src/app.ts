// The H5's one sign-in and one i18n instance (the same shared pieces as the console).
import { createAuth, createAppI18n } from '@keyuan/shared'

export const i18n = createAppI18n()
/** The router (router.ts) registers where a lapsed sign-in goes: login with ?redirect. */
export const auth = createAuth({ language: () => i18n.global.locale.value })
export const api = auth.client
