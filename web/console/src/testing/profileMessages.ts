// The component tests mount views without the router that loads issue 12's messages on the
// first signed-in page: give the app's i18n those messages up front.
import { mergeProfileMessages } from '@keyuan/shared'
import profileEn from '@keyuan/shared/i18n/profile.en.ts'
import profileZhCN from '@keyuan/shared/i18n/profile.zh-CN.ts'
import { i18n } from '../app'

mergeProfileMessages(i18n, profileZhCN, profileEn)
