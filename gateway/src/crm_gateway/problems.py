"""Every error leaves the gateway as application/problem+json with a stable `code`."""

from __future__ import annotations

import logging
import math
import re
from typing import Any, cast

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_gateway.orders.codes import ORDER_STATUS_BY_CODE
from crmkit.errors import DomainError, ResourceExhausted, kind_of_status
from crmkit.grpc_server import ERROR_CODE_KEY, ERROR_FIELD_KEY, decode_field, error_details
from crmkit.telemetry import current_trace_id
from crmkit.uploads import HTTP_STATUS_BY_CODE

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_HAN = re.compile(r"[\u4e00-\u9fff]")

TITLES = {
    400: ("请求参数有误", "Invalid request"),
    401: ("未认证", "Unauthenticated"),
    403: ("无权限", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("方法不允许", "Method not allowed"),
    409: ("冲突", "Conflict"),
    412: ("前置条件不满足", "Precondition failed"),
    413: ("请求过大", "Request too large"),
    415: ("不支持的文件类型", "Unsupported media type"),
    422: ("请求参数有误", "Invalid request"),
    429: ("请求过多", "Too many requests"),
    500: ("内部错误", "Internal error"),
    502: ("上游服务错误", "Bad gateway"),
    503: ("服务暂不可用", "Service unavailable"),
    504: ("上游服务超时", "Gateway timeout"),
}


# What a caller is told when gRPC itself failed the call, by HTTP status.
TRANSPORT_DETAILS = {
    413: "request too large / 请求过大",
    503: "service unavailable, try again shortly / 服务暂不可用，请稍后重试",
    504: "the service did not answer in time / 服务响应超时",
    502: "upstream service error / 上游服务错误",
}


class FieldError(BaseModel):
    field: str
    message: str = Field(description="In the reader's language (Accept-Language)")
    type: str = Field(description="Pydantic's error type, e.g. string_too_long")


class UserRef(BaseModel):
    id: str
    name: str


class Problem(BaseModel):
    """An error, as every error leaves the gateway (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable, machine-readable: invalid_argument, not_found, account_locked, ...")
    detail: str
    field: str | None = Field(None, description="The request field at fault, as the client named it")
    trace_id: str | None = None
    errors: list[FieldError] | None = Field(None, description="Every field error of a 422")
    existing_id: str | None = Field(
        None, description="On a duplicate (409 already_exists): the existing record, when the caller may see it"
    )
    existing_owner: UserRef | None = Field(None, description="On a duplicate: who owns the existing record")
    cap: int | None = Field(None, description="On customer_cap_reached: the owner's cap")
    limit: int | None = Field(None, description="On claim_limit_reached: the pool's claims per day")
    until: str | None = Field(None, description="On claim_cooldown: when the rep may claim the customer again")
    held: int | None = Field(None, description="On handover_required: how many customers the user still holds")
    current_state: str | None = Field(None, description="On illegal_transition: the order's state now")


# Every status an operation may answer with besides its success, with the problem body.
ERROR_STATUSES = {
    400: "Invalid request / 请求参数有误",
    401: "Not signed in, or the token expired / 未认证",
    403: "Not allowed for your role / 无权限",
    404: "Not found, or not yours to see / 未找到",
    409: "Conflict: a duplicate or a concurrent change / 冲突",
    412: "Precondition failed / 前置条件不满足",
    413: "Request too large / 请求过大",
    415: "Unsupported file type / 不支持的文件类型",
    422: "Invalid request body or parameters / 请求参数有误",
    429: "Too many requests / 请求过多",
    500: "Internal error / 内部错误",
    502: "Upstream service error / 上游服务错误",
    503: "A service is unavailable / 服务暂不可用",
    504: "A service did not answer in time / 上游服务超时",
}


def document_problems(schema: dict[str, Any]) -> None:
    """Declare on every operation of an OpenAPI document each error status it may answer, with
    its application/problem+json body (FastAPI declares only the success and a plain-JSON 422)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    body = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                declared = responses.get(str(status), {})
                own = declared.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
                if own and not own.endswith("/HTTPValidationError"):
                    continue  # the operation answers this status with a body of its own (OAuth's RFC 6749 errors)
                # An operation's own response headers (Set-Cookie on a refused refresh) stay.
                headers = {"headers": declared["headers"]} if "headers" in declared else {}
                responses[str(status)] = {"description": description, "content": body, **headers}
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


class RetryLater(ResourceExhausted):
    """429 with `Retry-After`: the caller may try again after `retry_after` seconds. Features
    subclass it for their own `code` (rate_limited, account_locked, ...)."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


def wants_english(request: Request) -> bool:
    return request.headers.get("accept-language", "zh").lower().startswith("en")


def _han_share(text: str) -> float:
    han = len(_HAN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return han / (han + latin) if han + latin else 0.0


def localize(message: str, english: bool) -> str:
    """Our messages are "English / 中文" or "中文 / English": pick the reader's half."""
    parts = [p.strip() for p in message.split(" / ")]
    if len(parts) < 2:
        return message
    if len(parts) == 2:
        # The English half may quote a Chinese name ("customer '杭州食堂'"), so "contains Han"
        # does not tell the halves apart; the half that is more Chinese is the Chinese one.
        zh, en = sorted(parts, key=_han_share, reverse=True)
        if _han_share(zh) == _han_share(en):
            return message
        return en if english else zh
    chinese = [p for p in parts if _HAN.search(p)]
    other = [p for p in parts if not _HAN.search(p)]
    chosen = other if english else chinese
    return " / ".join(chosen) if chosen else message


# Pydantic's messages are English; these are their Chinese, by error type, with its context.
CHINESE_VALIDATION = {
    "missing": "必填",
    "string_too_short": "至少{min_length}个字符",
    "string_too_long": "最多{max_length}个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "须为文本",
    "literal_error": "须为以下之一：{expected}",
    "enum": "须为以下之一：{expected}",
    "too_short": "至少{min_length}项",
    "too_long": "最多{max_length}项",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "greater_than": "须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_type": "须为日期（YYYY-MM-DD）",
    "datetime_parsing": "须为日期时间（ISO 8601）",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "不是有效的 JSON",
    "dict_type": "须为对象",
    "list_type": "须为列表",
    "model_attributes_type": "须为对象",
}


def validation_message(error: Any, english: bool) -> str:
    """One field error of a 422 in the reader's language. Our own checks raise "English / 中文"
    messages (pydantic reports them as value errors); pydantic's own have a Chinese above."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in context:
        return localize(str(context["error"]), english)
    if english or kind not in CHINESE_VALIDATION:
        return str(error.get("msg", ""))
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "不能为空"
    try:
        return CHINESE_VALIDATION[kind].format(**{key: str(value) for key, value in context.items()})
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    english = wants_english(request)
    zh_title, en_title = TITLES.get(status, ("错误", "Error"))
    body: dict[str, Any] = {
        "type": f"https://keyuan.dev/problems/{code}",
        "title": en_title if english else zh_title,
        "status": status,
        "code": code,
        "detail": localize(detail, english),
    }
    if field:
        body["field"] = field
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(location: tuple[Any, ...], error_type: str = "") -> str:
    if error_type == "json_invalid":
        # Its location ends in a character offset into the body, not in a field.
        return "body"
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or ".".join(str(p) for p in location)


# Services name a field by its path in the gRPC request ("customer.contacts[0].mobile"). A REST
# body is the resource itself, and a few parameters are spelled differently at the edge.
UPSTREAM_FIELD_NAMES = {
    "customer.id": "customer_id",
    "contact.id": "contact_id",
    "contact.customer_id": "customer_id",
    "interaction.id": "follow_up_id",
    "interaction.customer_id": "customer_id",
    "interaction.occur_time": "occurred_at",
    "interaction.check_in.check_in_time": "check_in.checked_in_at",
    # UploadAttachment's bytes are the multipart form's file.
    "content": "file",
    "pool.org_unit_id": "org_unit_id",
    "query": "q",
    "from_date": "from",
    "to_date": "to",
    "order_by": "sort",
    "expire_time": "expires_at",
}
UPSTREAM_FIELD_PREFIXES = (
    "customer.",
    "contact.",
    "filter.",
    "interaction.",
    "pool.",
    "closure.",
    "template.",
    "licence.",
    "list.",
    "product.",
)
# Lists whose REST name differs from the proto field (SetCustomerTypes.types is the body's items).
UPSTREAM_LIST_NAMES = {"types": "items", "definitions": "items", "kinds": "items"}


def rest_field(upstream: str) -> str:
    """The name a REST client knows for a field a service reported."""
    if upstream in UPSTREAM_FIELD_NAMES:
        return UPSTREAM_FIELD_NAMES[upstream]
    for prefix in UPSTREAM_FIELD_PREFIXES:
        if upstream.startswith(prefix):
            return upstream.removeprefix(prefix)
    head, bracket, rest = upstream.partition("[")
    if bracket and head in UPSTREAM_LIST_NAMES:
        return f"{UPSTREAM_LIST_NAMES[head]}[{rest}"
    return UPSTREAM_LIST_NAMES.get(upstream, upstream)


async def _owner_name(request: Request, owner_id: str) -> str:
    """Display name of a duplicate's owner, for the caller's tenant (the caller may see it)."""
    identity = getattr(request.state, "identity", None)
    state = getattr(request.app.state, "gateway", None)
    if identity is None or state is None:
        return ""
    names: dict[str, str] = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={owner_id})
    return names.get(owner_id, "")


def _with_owner(detail: str, owner: str) -> str:
    """Add the owner to both halves of a bilingual "中文 / English" message."""
    halves = detail.split(" / ", 1)
    if len(halves) != 2:
        return f"{detail}（负责人：{owner}）"
    return f"{halves[0]}（负责人：{owner}） / {halves[1]} (owner: {owner})"


def domain_problem(request: Request, error: DomainError) -> JSONResponse:
    """The answer to a domain error: its kind's status and code, with `WWW-Authenticate` on a 401
    and `Retry-After` on a `RetryLater`."""
    status = error.http_status
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    extra = {key: int(value) for key, value in error.details.items() if key in NUMERIC_DETAILS and value.isdigit()}
    return problem(
        request, status, error.code, error.message, field=error.field, headers=headers or None, extra=extra or None
    )


# Details of our own errors that the problem body carries as numbers.
NUMERIC_DETAILS = ("cap", "limit", "held")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(request, error)

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _rpc(request: Request, error: grpc.aio.AioRpcError) -> JSONResponse:
        # grpc.aio yields (key, value) pairs; the stubs describe the sync API's objects.
        trailers: dict[str, Any] = dict(cast(Any, error.trailing_metadata() or ()))
        # The service's error comes back as the kind it raised; a status no kind declares
        # (UNKNOWN, INTERNAL, ...) is the upstream's failure, not the caller's.
        kind = kind_of_status(error.code())
        status, code = (kind.http_status, kind.code) if kind is not None else (502, "upstream_error")
        if ERROR_CODE_KEY not in trailers:
            # Not raised by a service but by gRPC itself (a message over the size limit, no
            # connection, a deadline): its text is transport detail, for our logs only.
            log.warning("upstream transport %s: %s", error.code(), error.details())
            if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                status, code = 413, "payload_too_large"
            return problem(request, status, code, TRANSPORT_DETAILS.get(status, TRANSPORT_DETAILS[502]))
        upstream_code = str(trailers[ERROR_CODE_KEY])
        status = HTTP_STATUS_BY_CODE.get(upstream_code, ORDER_STATUS_BY_CODE.get(upstream_code, status))
        if status >= 500:
            log.warning("upstream %s: %s", error.code(), error.details())
        extra: dict[str, Any] = {}
        details = error_details({str(k): str(v) for k, v in trailers.items()})
        if details.get("existing-id"):
            extra["existing_id"] = details["existing-id"]
        for number in ("cap", "limit"):
            if details.get(number, "").isdigit():
                extra[number] = int(details[number])
        if details.get("until"):
            extra["until"] = details["until"]
        if details.get("current-state"):
            extra["current_state"] = details["current-state"]
        detail = error.details() or code
        owner_id = details.get("existing-owner-id", "")
        if owner_id:
            owner = await _owner_name(request, owner_id)
            extra["existing_owner"] = {"id": owner_id, "name": owner}
            detail = _with_owner(detail, owner or owner_id)
        if status == 502:
            detail = "upstream service error / 上游服务错误"
        field = None
        if trailers.get(ERROR_FIELD_KEY):
            upstream_field = decode_field(str(trailers[ERROR_FIELD_KEY]))
            field = rest_field(upstream_field)
            if detail.startswith(f"{upstream_field}: "):
                detail = f"{field}: {detail.removeprefix(f'{upstream_field}: ')}"
        return problem(request, status, str(trailers.get(ERROR_CODE_KEY, code)), detail, field=field, extra=extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        english = wants_english(request)
        errors = [
            {
                "field": _field_name(tuple(e.get("loc", ())), str(e.get("type", ""))),
                "message": validation_message(e, english),
                "type": str(e.get("type", "")),
            }
            for e in error.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        return problem(
            request,
            422,
            "validation_failed",
            f"{first['field']}: {first['message']}",
            field=first["field"] or None,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
        code = codes.get(error.status_code, "http_error")
        return problem(request, error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, 500, "internal", "internal error / 内部错误")
