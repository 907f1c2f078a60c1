"""What each kind of notification says, in Chinese and English: stored as a kind and its
parameters, rendered in the reader's language when read (and in Chinese for group robots)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

NotificationKind = Literal[
    "pool_claim_submitted",
    "pool_claim_approved",
    "pool_claim_rejected",
    "pool_claim_expired",
    "customer_return_warning",
    "customer_returned_to_pool",
    "customer_returned_to_pool_supervisor",
    "transfer_received",
    "transfer_completed",
    "customer_handed_over",
    "follow_up_reminder",
    "licence_expiring",
    "licence_expired",
    "revisit_task_overdue",
    "import_checked",
    "import_completed",
    "import_failed",
    "quote_awaiting_approval",
    "quote_approved",
    "quote_rejected",
    "batch_recalled",
    "after_sale_awaiting_approval",
    "after_sale_approved",
    "after_sale_rejected",
    "urgent_order",
]


@dataclass(frozen=True)
class Text:
    title: str
    body: str


# kind -> language -> (title, body); parameters in braces.
_TEXTS: dict[str, dict[str, Text]] = {
    "pool_claim_submitted": {
        "zh": Text("公海领取申请待审批", "{claimant}申请领取客户「{customer}」：{reason}"),
        "en": Text("A pool claim awaits your decision", "{claimant} asks to claim {customer}: {reason}"),
    },
    "pool_claim_approved": {
        "zh": Text("领取申请已通过", "你对客户「{customer}」的领取申请已通过。{comment}"),
        "en": Text("Claim approved", "Your claim of {customer} was approved. {comment}"),
    },
    "pool_claim_rejected": {
        "zh": Text("领取申请被驳回", "你对客户「{customer}」的领取申请被驳回。{comment}"),
        "en": Text("Claim rejected", "Your claim of {customer} was rejected. {comment}"),
    },
    "pool_claim_expired": {
        "zh": Text("领取申请已过期", "你对客户「{customer}」的领取申请已过期。"),
        "en": Text("Claim expired", "Your claim of {customer} expired."),
    },
    "customer_return_warning": {
        "zh": Text("客户即将退回公海", "客户「{customer}」将于{return_date}退回公海，请及时跟进。{reason}"),
        "en": Text("A customer returns to the pool soon", "{customer} returns to the pool on {return_date}. {reason}"),
    },
    "customer_returned_to_pool": {
        "zh": Text("客户已退回公海", "你的客户「{customer}」已退回公海。{reason}"),
        "en": Text("Customer returned to the pool", "Your customer {customer} returned to the pool. {reason}"),
    },
    "customer_returned_to_pool_supervisor": {
        "zh": Text("客户已退回公海", "客户「{customer}」已从{previous_owner}退回公海。{reason}"),
        "en": Text("Customer returned to the pool", "{customer} returned to the pool from {previous_owner}. {reason}"),
    },
    "transfer_received": {
        "zh": Text("客户交接", "{customers}位客户已交接给你（来自{from_owner}）。"),
        "en": Text("Customers handed over", "{customers} customers were handed over to you (from {from_owner})."),
    },
    "transfer_completed": {
        "zh": Text("交接完成", "{from_owner}的{customers}位客户已交接完成。"),
        "en": Text("Handover completed", "{customers} customers of {from_owner} were handed over."),
    },
    "customer_handed_over": {
        "zh": Text("客户交接", "{actor}将客户「{customer}」交接给你。{reason}"),
        "en": Text("A customer handed over to you", "{actor} handed {customer} over to you. {reason}"),
    },
    "import_checked": {
        "zh": Text(
            "导入预检完成",
            "「{file_name}」预检完成：可新建{created}个、更新{updated}个，{problems}个问题，请查看报告后确认导入。",
        ),
        "en": Text(
            "Import checked",
            "{file_name} was checked: {created} to create, {updated} to update, {problems} problems. "
            "Read the report, then confirm.",
        ),
    },
    "import_completed": {
        "zh": Text("导入完成", "「{file_name}」导入完成：新建{created}个、更新{updated}个，{rejected_rows}行未导入。"),
        "en": Text(
            "Import completed",
            "{file_name} was imported: {created} created, {updated} updated, {rejected_rows} rows not imported.",
        ),
    },
    "import_failed": {
        "zh": Text("导入失败", "「{file_name}」无法导入，原因见导入记录。"),
        "en": Text("Import failed", "{file_name} could not be imported; the import says why."),
    },
    "follow_up_reminder": {
        "zh": Text("今日待跟进", "今天（{due_date}）计划跟进客户「{customer}」。"),
        "en": Text("Follow-up due today", "You planned to follow up {customer} today ({due_date})."),
    },
    "licence_expiring": {
        "zh": Text(
            "资质证照即将到期",
            "客户「{customer}」的{kind}（{number}）将于{valid_until}到期（{days}天后），请提醒客户及时换证。",
        ),
        "en": Text(
            "A licence expires soon", "{customer}'s {kind} ({number}) expires on {valid_until}, in {days} days."
        ),
    },
    "licence_expired": {
        "zh": Text("资质证照已过期", "客户「{customer}」的{kind}（{number}）已于{valid_until}到期，请尽快补充新证。"),
        "en": Text("A licence has expired", "{customer}'s {kind} ({number}) expired after {valid_until}."),
    },
    "revisit_task_overdue": {
        "zh": Text("回访已逾期", "客户「{customer}」的定期回访应于{due_date}完成，已逾期，请尽快回访。"),
        "en": Text("Revisit overdue", "The revisit of {customer} was due on {due_date} and is overdue."),
    },
    "quote_awaiting_approval": {
        "zh": Text("报价单待审批", "{submitter}提交的报价单{number}（客户「{customer}」，折扣率{rate}%）等待你审批。"),
        "en": Text("Quote awaiting your approval", "{submitter}'s quote {number} for {customer} ({rate}%) awaits you."),
    },
    "quote_approved": {
        "zh": Text("报价单已批准", "你的报价单{number}（客户「{customer}」）已批准。{comment}"),
        "en": Text("Quote approved", "Your quote {number} for {customer} was approved. {comment}"),
    },
    "quote_rejected": {
        "zh": Text("报价单被驳回", "你的报价单{number}（客户「{customer}」）被驳回：{comment}"),
        "en": Text("Quote rejected", "Your quote {number} for {customer} was rejected: {comment}"),
    },
    "batch_recalled": {
        "zh": Text(
            "批次召回：{batch_no}",
            "批次{batch_no}已召回（{reason}），你的{count}位客户收到过该批次：{customers}。请尽快联系。",
        ),
        "en": Text(
            "Batch recalled: {batch_no}",
            "Batch {batch_no} was recalled ({reason}); {count} of your customers received it: {customers}. "
            "Call them soon.",
        ),
    },
    "after_sale_awaiting_approval": {
        "zh": Text(
            "售后申请待审批", "{requester}提交的{type_zh}售后{number}（客户「{customer}」，退款{amount}元）等待你审批。"
        ),
        "en": Text(
            "After-sale awaiting your approval",
            "{requester}'s {type_en} after-sale {number} for {customer} (refund CNY {amount}) awaits you.",
        ),
    },
    "after_sale_approved": {
        "zh": Text("售后申请已批准", "你的{type_zh}售后{number}（客户「{customer}」）已批准。{comment}"),
        "en": Text("After-sale approved", "Your {type_en} after-sale {number} for {customer} was approved. {comment}"),
    },
    "after_sale_rejected": {
        "zh": Text("售后申请被驳回", "你的{type_zh}售后{number}（客户「{customer}」）被驳回：{comment}"),
        "en": Text("After-sale rejected", "Your {type_en} after-sale {number} for {customer} was rejected: {comment}"),
    },
    # Deliveries (crm_gateway.deliveries.notifications): told to the dispatchers once per order.
    "urgent_order": {
        "zh": Text("紧急订单待发货", "客户「{customer}」的紧急订单需于{delivery_date}送达，请优先安排配送。{address}"),
        "en": Text("Urgent order to dispatch", "An urgent order of {customer} is due on {delivery_date}. {address}"),
    },
}

KINDS: tuple[str, ...] = tuple(_TEXTS)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, params: Mapping[str, Any], language: str) -> Text:
    """The notice in `language` ("zh" or "en"), its parameters filled in (missing ones blank)."""
    texts = _TEXTS[kind]
    text = texts.get(language, texts["zh"])
    values = _Blank(params)
    return Text(text.title.format_map(values), text.body.format_map(values).strip())
