"""Deterministic demo tenant for `make run`: a Shanghai food distributor and its customers."""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from crmkit.clock import shanghai_date, utcnow
from crmkit.cn import CREDIT_CODE_CHARSET, make_credit_code, pinyin_full

__all__ = [
    "CUSTOMER_TYPES",
    "DEMO_TODAY",
    "LIFECYCLE_STAGES",
    "ROLES",
    "TENANT_NAME",
    "AddressSeed",
    "ClosureSeed",
    "ClosureTemplateSeed",
    "ContactSeed",
    "CustomerSeed",
    "DemoTenant",
    "FollowUpSeed",
    "GroupSeed",
    "LicenceSeed",
    "OrgUnitSeed",
    "PoolSeed",
    "RelationSeed",
    "TierChangeSeed",
    "UserSeed",
    "demo_tenant",
]

TENANT_NAME = "鲜达食品供应链有限公司"
ROLES = ("admin", "boss", "supervisor", "sales", "service", "finance")
LIFECYCLE_STAGES = ("lead", "prospect", "signed", "dormant", "lost")
CUSTOMER_TYPES = (
    "中餐",
    "西餐",
    "团膳",
    "学校食堂",
    "企业食堂",
    "连锁酒店",
    "养殖场",
    "经销商",
    "网店客户",
)
# What a food distributor sells, as its customers' product lines.
PRODUCT_LINES = ("冷冻肉品", "新鲜蔬菜", "粮油米面", "调味干货", "水产海鲜", "乳品饮料")
# Dates are spread backwards from this day. Fixed so a seed always gives the same tenant;
# the loader passes the real date so a fresh `make run` does not show two-year-old data.
DEMO_TODAY = date(2026, 11, 1)


@dataclass(frozen=True, slots=True)
class OrgUnitSeed:
    """A node of the org tree: headquarters -> subsidiary -> shop/branch."""

    key: str
    name: str
    parent_key: str | None
    kind: str  # "hq", "subsidiary" or "shop"


@dataclass(frozen=True, slots=True)
class UserSeed:
    """A staff login; the demo password is the loader's business."""

    username: str
    display_name: str
    role: str
    org_unit_key: str


@dataclass(frozen=True, slots=True)
class ContactSeed:
    """A person at the customer, with their part in the purchase decision."""

    name: str
    mobile: str
    wechat_id: str
    email: str
    decision_role: str  # "decision_maker", "purchaser", "user" or "payer"
    title: str = ""
    primary: bool = False


@dataclass(frozen=True, slots=True)
class AddressSeed:
    """A postal address; label is e.g. 收货地址 or 注册地址."""

    label: str
    province: str
    city: str
    district: str
    detail: str


@dataclass(frozen=True, slots=True)
class PoolSeed:
    """A public pool (公海) of an org unit, with the rules that differ from the defaults."""

    name: str
    org_unit_key: str
    requires_approval: bool = False
    rules: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssignmentRuleSeed:
    """An assignment rule (自动分配): conditions as the REST body names them, and its target —
    listed usernames or an org unit's reps."""

    name: str
    strategy: str  # "round_robin", "least_loaded" or "fixed"
    conditions: dict[str, list[str]] = field(default_factory=dict)
    usernames: tuple[str, ...] = ()
    org_unit_key: str = ""


@dataclass(frozen=True, slots=True)
class CheckInSeed:
    """Where the rep's phone was when they checked in at a visit (拜访签到)."""

    latitude: float
    longitude: float
    accuracy_m: float
    address: str


@dataclass(frozen=True, slots=True)
class FollowUpSeed:
    """A follow-up the customer's owner logged, `days_ago` days before the load at `hour`."""

    kind: str  # "phone", "wechat", "visit", "email", "meeting" or "other"
    days_ago: int
    hour: int
    content: str
    outcome: str = ""
    # The latest entry asks for the next follow-up this many days after the load (today or
    # later, as the API requires); None for none.
    next_in_days: int | None = None
    # A visit's check-in, and how many photos were taken (uploaded as small generated JPEGs).
    check_in: CheckInSeed | None = None
    photos: int = 0


@dataclass(frozen=True, slots=True)
class ClosureSeed:
    """Days a customer is closed (停工/放假), counted from the load day, both ends included."""

    start_in_days: int
    end_in_days: int
    reason: str  # winter_break, summer_break, spring_festival, factory_shutdown, renovation, other
    note: str = ""


@dataclass(frozen=True, slots=True)
class LicenceSeed:
    """A licence (资质证照) a customer holds; its validity counted from the load day."""

    kind: str
    number: str
    issuer: str
    valid_from_days: int
    # The last valid day; None never expires (长期有效).
    valid_until_days: int | None


@dataclass(frozen=True, slots=True)
class ClosureTemplateSeed:
    """A tenant calendar (校历) with ISO-dated ranges, applied to the customers of `customer_type`
    whose first address is in `city`."""

    name: str
    ranges: list[dict[str, str]]
    customer_type: str
    city: str


@dataclass(frozen=True, slots=True)
class CustomerSeed:
    """A customer organisation as the demo loader creates it."""

    name: str
    short_name: str
    type: str
    credit_code: str
    addresses: list[AddressSeed]
    contacts: list[ContactSeed]
    contract_start: str  # ISO date, "" before signing
    contract_end: str
    tags: list[str]
    lifecycle_stage: str
    owner_username: str
    created_on: str
    # The owner's org unit: customers sit where the rep who serves them sits.
    org_unit_key: str = ""
    # Values of the tenant's custom fields (CUSTOM_FIELDS), by key.
    custom_fields: dict[str, Any] = field(default_factory=dict)
    # Oldest first, as they are logged.
    follow_ups: list[FollowUpSeed] = field(default_factory=list)
    tier: str = "normal"
    product_lines: list[str] = field(default_factory=list)
    source: str = ""
    # Released to its pool by its owner after loading, with this reason ("" stays owned).
    release_reason: str = ""
    # Its own closures and its licences, recorded by its owner after loading.
    closures: list[ClosureSeed] = field(default_factory=list)
    licences: list[LicenceSeed] = field(default_factory=list)
    # Profile (issue 12): the grade given at creation, preferences and special requirements as
    # the REST body names them.
    grade: str = ""
    preferences: dict[str, Any] = field(default_factory=dict)
    special_requirements: list[dict[str, Any]] = field(default_factory=list)
    # Its own location (a map pin), WGS-84 degrees; None when nobody has set one.
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class GroupSeed:
    """A group account (集团): the parent customer and its branches, by name."""

    parent: str
    branches: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RelationSeed:
    """`related` is `customer`'s <kind> (upstream_supplier, referred_by, same_group, …)."""

    customer: str
    related: str
    kind: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class TierChangeSeed:
    """A manual tier or grade a person set after loading, with the reason."""

    customer: str
    dimension: str  # "tier" or "grade"
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class DemoTenant:
    """Everything `make run` loads into a fresh stack."""

    tenant_name: str
    org_units: list[OrgUnitSeed]
    users: list[UserSeed]
    customers: list[CustomerSeed]
    pools: list[PoolSeed] = field(default_factory=list)
    assignment_rules: list[AssignmentRuleSeed] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=lambda: list(PRODUCT_LINES))
    customer_types: list[str] = field(default_factory=lambda: list(CUSTOMER_TYPES))
    custom_fields: list[dict[str, Any]] = field(default_factory=lambda: [dict(f) for f in CUSTOM_FIELDS])
    closure_templates: list[ClosureTemplateSeed] = field(default_factory=list)
    groups: list[GroupSeed] = field(default_factory=list)
    relations: list[RelationSeed] = field(default_factory=list)
    tier_changes: list[TierChangeSeed] = field(default_factory=list)
    revisit_plans: list[dict[str, Any]] = field(default_factory=lambda: [dict(p) for p in REVISIT_PLANS])
    # The order service (issue 13): its catalogue, and a few orders in different states.
    products: list[ProductSeed] = field(default_factory=lambda: list(DEMO_PRODUCTS))
    orders: list[OrderSeed] = field(default_factory=list)
    # Agreement prices (协议价): the group's parent's (its branches inherit them) and a few customers'.
    agreement_prices: list[AgreementPriceSeed] = field(default_factory=list)


# --- geography ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _District:
    province: str
    city: str
    city_short: str
    name: str
    region_code: str
    roads: tuple[str, ...]


def _districts(province: str, city: str, city_short: str, rows: list[tuple[str, str, str]]) -> tuple[_District, ...]:
    return tuple(_District(province, city, city_short, name, code, tuple(roads.split())) for name, code, roads in rows)


_HANGZHOU_WEST = _districts(
    "浙江省",
    "杭州市",
    "杭州",
    [
        ("西湖区", "330106", "文三路 文二路 天目山路 教工路 古墩路"),
        ("上城区", "330102", "解放路 延安路 庆春路 建国南路 秋涛路"),
        ("拱墅区", "330105", "莫干山路 湖墅南路 上塘路 登云路"),
    ],
)
_HANGZHOU_EAST = _districts(
    "浙江省",
    "杭州市",
    "杭州",
    [
        ("滨江区", "330108", "江南大道 滨盛路 江陵路 长河路"),
        ("萧山区", "330109", "市心路 金城路 通惠路 人民路"),
        ("余杭区", "330110", "文一西路 五常大道 良睦路 荆长大道"),
    ],
)
_SUZHOU_SIP = _districts(
    "江苏省",
    "苏州市",
    "苏州",
    [
        ("苏州工业园区", "320571", "星湖街 现代大道 金鸡湖大道 星海街 苏州大道东"),
        ("吴中区", "320506", "东吴北路 宝带西路 吴中大道"),
        ("相城区", "320507", "相城大道 华元路 富元路"),
    ],
)
_SUZHOU_OLD_TOWN = _districts(
    "江苏省",
    "苏州市",
    "苏州",
    [
        ("姑苏区", "320508", "人民路 干将西路 十全街 凤凰街"),
        ("虎丘区", "320505", "长江路 狮山路 竹园路 金山路"),
        ("吴江区", "320509", "中山南路 鲈乡北路 开平路"),
    ],
)
_SHANGHAI = _districts(
    "上海市",
    "上海市",
    "上海",
    [
        ("黄浦区", "310101", "南京东路 西藏中路 淮海中路"),
        ("徐汇区", "310104", "漕溪北路 衡山路 虹桥路 田林路"),
        ("长宁区", "310105", "延安西路 天山路 仙霞路"),
        ("静安区", "310106", "南京西路 延平路 共和新路"),
        ("普陀区", "310107", "长寿路 真北路 曹杨路"),
        ("虹口区", "310109", "四川北路 曲阳路 大连路"),
        ("杨浦区", "310110", "国定路 控江路 黄兴路"),
        ("闵行区", "310112", "七莘路 都市路 虹井路"),
        ("宝山区", "310113", "牡丹江路 友谊路 淞滨路"),
        ("嘉定区", "310114", "博乐路 塔城路 洪德路"),
        ("浦东新区", "310115", "世纪大道 张杨路 川沙路 张江路"),
        ("松江区", "310117", "人民北路 荣乐东路 广富林路"),
        ("青浦区", "310118", "公园路 盈港东路"),
    ],
)
_CITY_REGION_CODES = {"杭州": "330100", "苏州": "320500", "上海": "310000"}


# --- organisation ------------------------------------------------------------------------

_ORG_UNITS = [
    OrgUnitSeed("hq", "上海总部", None, "hq"),
    OrgUnitSeed("hangzhou", "杭州分公司", "hq", "subsidiary"),
    OrgUnitSeed("hz-xihu", "杭州西湖营业部", "hangzhou", "shop"),
    OrgUnitSeed("hz-binjiang", "杭州滨江营业部", "hangzhou", "shop"),
    OrgUnitSeed("suzhou", "苏州分公司", "hq", "subsidiary"),
    OrgUnitSeed("sz-yuanqu", "苏州园区营业部", "suzhou", "shop"),
    OrgUnitSeed("sz-gusu", "苏州姑苏营业部", "suzhou", "shop"),
]

# Which districts each unit's reps serve; a subsidiary's own reps take key accounts
# anywhere in their city.
_TERRITORIES: dict[str, tuple[_District, ...]] = {
    "hq": _SHANGHAI,
    "hangzhou": _HANGZHOU_WEST + _HANGZHOU_EAST,
    "hz-xihu": _HANGZHOU_WEST,
    "hz-binjiang": _HANGZHOU_EAST,
    "suzhou": _SUZHOU_SIP + _SUZHOU_OLD_TOWN,
    "sz-yuanqu": _SUZHOU_SIP,
    "sz-gusu": _SUZHOU_OLD_TOWN,
}

_USERS = [
    UserSeed("admin", "系统管理员", "admin", "hq"),
    UserSeed("chen.jianguo", "陈建国", "boss", "hq"),
    UserSeed("zhou.min", "周敏", "finance", "hq"),
    UserSeed("gu.haiyan", "顾海燕", "sales", "hq"),
    UserSeed("shen.jie", "沈杰", "sales", "hq"),
    UserSeed("wang.lei", "王磊", "supervisor", "hangzhou"),
    UserSeed("sun.li", "孙丽", "service", "hangzhou"),
    UserSeed("fang.yu", "方宇", "sales", "hangzhou"),
    UserSeed("zhang.wei", "张伟", "sales", "hz-xihu"),
    UserSeed("li.na", "李娜", "sales", "hz-xihu"),
    UserSeed("he.tao", "何涛", "sales", "hz-binjiang"),
    UserSeed("xu.jing", "徐静", "sales", "hz-binjiang"),
    UserSeed("liu.yang", "刘洋", "supervisor", "suzhou"),
    UserSeed("ma.jing", "马静", "service", "suzhou"),
    UserSeed("lu.qiang", "陆强", "sales", "suzhou"),
    UserSeed("zhu.yan", "朱艳", "sales", "sz-yuanqu"),
    UserSeed("wu.chao", "吴超", "sales", "sz-yuanqu"),
    UserSeed("qian.ming", "钱明", "sales", "sz-gusu"),
    UserSeed("jiang.fang", "蒋芳", "sales", "sz-gusu"),
]


# --- word lists --------------------------------------------------------------------------

_BRAND_FIRST = "聚福鑫和悦德锦华金盛嘉瑞祥恒润荣顺兴泰美佳鸿新宏永"
_BRAND_SECOND = "丰源泰隆和顺福味香满园轩阁鼎记缘"
_CHINESE_CUISINES = ("酒楼", "菜馆", "饭店", "大酒店", "小厨", "食府", "面馆", "土菜馆")
_CHINESE_STYLES = ("杭帮菜", "本帮菜", "苏帮菜", "湘菜", "川菜", "粤菜", "徽菜", "")
_WESTERN_BRANDS = (
    "蓝湾", "橡树", "圣塔", "米兰", "波尔多", "托斯卡", "枫丹", "塞纳", "维也纳",
    "普罗旺斯", "海德堡", "里斯本", "巴塞罗", "卡萨", "奥斯汀",
)  # fmt: skip
_WESTERN_KINDS = ("西餐厅", "牛排馆", "意式餐厅", "法式餐厅", "披萨坊", "咖啡西餐厅")
_SCHOOL_PLACES = (
    "文晖", "翠苑", "星洲", "金沙", "东湖", "莲花", "青枫", "湖滨", "新民", "育才",
    "明德", "博文", "启航", "崇文", "春晖", "凤凰", "朝阳", "振华", "胜利", "城南",
)  # fmt: skip
_SCHOOL_KINDS = (
    "小学", "实验小学", "中学", "初级中学", "实验学校", "外国语学校", "高级中学",
    "职业高级中学", "幼儿园",
)  # fmt: skip
_COLLEGE_WORDS = ("经贸", "信息", "交通", "艺术", "工商", "科技", "旅游", "建设")
_COMPANY_WORDS = (
    "星辰", "远航", "华创", "博远", "中科", "汇通", "天成", "新锐", "卓越", "明泰",
    "瑞达", "恒信", "凯博", "同创", "万象", "立德", "银河", "长风",
)  # fmt: skip
_INDUSTRIES = (
    "科技", "电子", "精密机械", "新材料", "生物医药", "物流", "纺织", "汽车零部件",
    "光电", "智能装备",
)  # fmt: skip
_HOTEL_BRANDS = ("锦程", "悦途", "云栖", "逸居", "华庭", "旅悦", "橙果", "青禾", "栖舍")
_FARM_KINDS = ("生态养殖场", "生猪养殖场", "家禽养殖场", "水产养殖场", "奶牛场")
_DEALER_KINDS = ("食品商行", "副食品经营部", "粮油批发部", "冻品商行", "调味品经营部")
_SHOP_KINDS = ("生鲜旗舰店", "食品专营店", "烘焙原料店", "干货专卖店")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江"
    "尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "涛", "明", "超", "秀英", "桂英", "建华", "建国", "志强", "海燕", "晓东", "晓燕",
    "丽娟", "红梅", "文杰", "子涵", "浩然", "宇轩", "雪梅", "春华", "玉兰", "国强",
    "建平", "小龙", "振华", "佳怡", "欣怡", "俊杰", "思远", "嘉豪", "婷婷", "慧敏",
    "立新", "卫东", "永刚", "少华", "美玲", "志刚",
)  # fmt: skip
# Prefixes of the three carriers' number blocks in common use.
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177",
    "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
    "198", "199",
)  # fmt: skip
_EMAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "139.com")

# Per type: relative frequency, who is usually in the decision chain, and fitting tags.
_TYPE_WEIGHTS = {
    "中餐": 22,
    "西餐": 8,
    "团膳": 12,
    "学校食堂": 18,
    "企业食堂": 16,
    "连锁酒店": 10,
    "养殖场": 3,
    "经销商": 6,
    "网店客户": 5,
}
_CONTACT_TITLES: dict[str, list[tuple[str, str]]] = {
    "canteen": [
        ("decision_maker", "后勤主任"),
        ("purchaser", "食堂采购"),
        ("user", "厨师长"),
        ("payer", "财务"),
    ],
    "restaurant": [
        ("decision_maker", "老板"),
        ("purchaser", "采购经理"),
        ("user", "厨师长"),
        ("payer", "出纳"),
    ],
    "company": [
        ("decision_maker", "总经理"),
        ("purchaser", "采购主管"),
        ("user", "仓库主管"),
        ("payer", "财务经理"),
    ],
}
_TYPE_CONTACT_KIND = {
    "中餐": "restaurant",
    "西餐": "restaurant",
    "团膳": "company",
    "学校食堂": "canteen",
    "企业食堂": "canteen",
    "连锁酒店": "restaurant",
    "养殖场": "company",
    "经销商": "company",
    "网店客户": "company",
}
_COMMON_TAGS = ("月结", "现结", "需开专票", "需开普票", "价格敏感", "重点客户")
_TYPE_TAGS = {
    "中餐": ("每日配送", "早市配送", "海鲜需求大"),
    "西餐": ("进口冻品", "冷链", "乳制品需求大"),
    "团膳": ("团餐大单", "每日配送", "账期60天"),
    "学校食堂": ("寒暑假停送", "食安资料齐全", "账期60天"),
    "企业食堂": ("节假日停送", "每日配送", "账期30天"),
    "连锁酒店": ("多门店配送", "早餐配送", "账期30天"),
    "养殖场": ("整车配送", "季节性采购"),
    "经销商": ("整件批发", "账期30天"),
    "网店客户": ("小批量多批次", "代发"),
}
_STAGE_WEIGHTS = {"lead": 10, "prospect": 12, "signed": 60, "dormant": 12, "lost": 6}

_WECHAT_RE = re.compile(r"[a-zA-Z][-_a-zA-Z0-9]{5,19}")
# A seed must never loop forever hunting for an unused value when word lists run dry.
_MAX_ATTEMPTS = 200


# --- generation --------------------------------------------------------------------------


def _brand(rng: random.Random) -> str:
    first = rng.choice(_BRAND_FIRST)
    second = rng.choice(_BRAND_SECOND.replace(first, ""))
    return first + second


def _district_short(district: _District) -> str:
    # Shop names drop the administrative suffix: 西湖区 -> 西湖店, 苏州工业园区 -> 园区店.
    if district.name == "苏州工业园区":
        return "园区"
    if district.name == "浦东新区":
        return "浦东"
    return district.name.removesuffix("区")


def _customer_names(rng: random.Random, type_: str, district: _District) -> tuple[str, str]:
    """Return (legal or commonly used name, short name) for a customer of this type."""
    city = district.city_short
    area = _district_short(district)
    if type_ == "中餐":
        brand = _brand(rng)
        kind = rng.choice(_CHINESE_CUISINES)
        style = rng.choice(_CHINESE_STYLES)
        if rng.random() < 0.5:
            return f"{city}{brand}餐饮管理有限公司", f"{brand}{kind}"
        return f"{brand}{style}{kind}（{area}店）", f"{brand}{kind}"
    if type_ == "西餐":
        brand = rng.choice(_WESTERN_BRANDS)
        kind = rng.choice(_WESTERN_KINDS)
        if rng.random() < 0.4:
            return f"{city}{brand}餐饮有限公司", f"{brand}{kind}"
        return f"{brand}{kind}（{area}店）", f"{brand}{kind}"
    if type_ == "团膳":
        brand = _brand(rng)
        suffix = rng.choice(("团膳管理有限公司", "餐饮服务有限公司", "膳食管理有限公司"))
        return f"{city}{brand}{suffix}", f"{brand}团膳"
    if type_ == "学校食堂":
        if rng.random() < 0.15:
            word = rng.choice(_COLLEGE_WORDS)
            canteen = rng.choice(("第一食堂", "第二食堂", "第三食堂", "教工食堂"))
            college = f"{city}{word}职业技术学院"
            return f"{college}{canteen}", f"{word}学院{canteen}"
        place = rng.choice(_SCHOOL_PLACES) if rng.random() < 0.85 else ""
        school = rng.choice(_SCHOOL_KINDS)
        return (
            f"{district.city}{district.name}{place}{school}食堂",
            f"{place or area}{school}",
        )
    if type_ == "企业食堂":
        company = rng.choice(_COMPANY_WORDS)
        industry = rng.choice(_INDUSTRIES)
        location = district.name if district.name == "苏州工业园区" else city
        return (
            f"{location}{company}{industry}有限公司员工食堂",
            f"{company}{industry}食堂",
        )
    if type_ == "连锁酒店":
        brand = rng.choice(_HOTEL_BRANDS)
        road = rng.choice(district.roads)
        kind = rng.choice(("酒店", "精选酒店", "商务酒店", "公寓酒店"))
        return f"{brand}{kind}（{city}{area}{road}店）", f"{brand}{area}{road}店"
    if type_ == "养殖场":
        owner = rng.choice(_SURNAMES)
        return f"{city}{area}{owner}氏{rng.choice(_FARM_KINDS)}", f"{owner}氏养殖场"
    if type_ == "经销商":
        brand = _brand(rng)
        return f"{city}{area}{brand}{rng.choice(_DEALER_KINDS)}", f"{brand}商行"
    brand = _brand(rng)
    kind = rng.choice(_SHOP_KINDS)
    return f"{brand}{kind}", f"{brand}网店"


def _org_code_check(body8: str) -> str:
    # GB 11714: the embedded organisation code carries its own check digit, so a code
    # generated without it would look fake to anyone who knows the format.
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(ch, 36) * w for ch, w in zip(body8, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _credit_code(rng: random.Random, type_: str, district: _District) -> str:
    if type_ == "学校食堂":
        # Public schools are 事业单位 registered by the staffing office: 12 + numeric code.
        prefix = "12"
        body8 = f"{rng.randrange(10**8):08d}"
    else:
        # Small restaurants and farms are often 个体工商户 (92); the rest are companies (91).
        sole_trader = type_ in ("中餐", "养殖场", "经销商") and rng.random() < 0.3
        prefix = "92" if sole_trader else "91"
        # Drawn from the credit-code charset so the result stays a valid credit code.
        body8 = "MA" + "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(6))
    check = _org_code_check(body8)
    region = _CITY_REGION_CODES[district.city_short] if rng.random() < 0.3 else district.region_code
    return make_credit_code(prefix + region + body8 + check)


class _Uniques:
    """Draws values a tenant may hold only once (names, codes, mobiles, WeChat ids)."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.codes: set[str] = set()
        self.mobiles: set[str] = set()
        self.wechat_ids: set[str] = set()

    def mobile(self, rng: random.Random) -> str:
        for _ in range(_MAX_ATTEMPTS):
            mobile = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if mobile not in self.mobiles:
                self.mobiles.add(mobile)
                return mobile
        raise RuntimeError("demo data ran out of mobile numbers")

    def wechat_id(self, rng: random.Random, person_name: str, mobile: str) -> str:
        spelled = pinyin_full(person_name)
        for _ in range(_MAX_ATTEMPTS):
            style = rng.randrange(4)
            if style == 0:
                candidate = f"{spelled}{rng.randrange(10, 10000)}"
            elif style == 1:
                candidate = f"wx_{spelled}{rng.randrange(60, 100)}"
            elif style == 2:
                candidate = f"{spelled}_{mobile[-4:]}"
            else:
                candidate = f"{spelled}{rng.randrange(1965, 2001)}"
            if _WECHAT_RE.fullmatch(candidate) and candidate not in self.wechat_ids:
                self.wechat_ids.add(candidate)
                return candidate
        raise RuntimeError("demo data ran out of WeChat ids")


def _person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN_NAMES)


def _email(rng: random.Random, person_name: str, mobile: str) -> str:
    domain = rng.choice(_EMAIL_DOMAINS)
    if domain == "qq.com":
        return f"{rng.randrange(10**7, 10**10)}@qq.com"
    if domain == "139.com":
        # China Mobile's mailbox is addressed by the subscriber's own number.
        return f"{mobile}@139.com"
    return f"{pinyin_full(person_name)}{rng.randrange(10, 100)}@{domain}"


def _contacts(rng: random.Random, type_: str, uniques: _Uniques) -> list[ContactSeed]:
    chain = _CONTACT_TITLES[_TYPE_CONTACT_KIND[type_]]
    count = rng.choices((1, 2, 3), weights=(35, 40, 25))[0]
    # Someone who can decide or who places orders is always reachable first.
    roles = [chain[rng.randrange(2)], *rng.sample(chain, k=len(chain))]
    picked: list[tuple[str, str]] = []
    for role in roles:
        if role not in picked:
            picked.append(role)
        if len(picked) == count:
            break
    contacts = []
    for i, (decision_role, title) in enumerate(picked):
        name = _person_name(rng)
        mobile = uniques.mobile(rng)
        email = _email(rng, name, mobile) if rng.random() < 0.4 else ""
        contacts.append(
            ContactSeed(
                name=name,
                mobile=mobile,
                wechat_id=uniques.wechat_id(rng, name, mobile),
                email=email,
                decision_role=decision_role,
                title=title,
                primary=i == 0,
            )
        )
    return contacts


def _addresses(rng: random.Random, type_: str, district: _District) -> list[AddressSeed]:
    def detail() -> str:
        road = rng.choice(district.roads)
        number = rng.randrange(1, 900)
        extra = {
            "学校食堂": "食堂后门",
            "企业食堂": f"{rng.randrange(1, 9)}号楼食堂",
            "连锁酒店": "地下一层后厨收货口",
            "养殖场": "",
        }.get(type_, rng.choice(("", "一楼", "后门收货")))
        return f"{road}{number}号{extra}"

    delivery = AddressSeed("收货地址", district.province, district.city, district.name, detail())
    if rng.random() < 0.5:
        return [delivery]
    registered = AddressSeed("注册地址", district.province, district.city, district.name, detail())
    return [delivery, registered]


def _add_years(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year + years)


def _lifecycle(rng: random.Random, today: date) -> tuple[str, date, str, str]:
    """Return (stage, created_on, contract_start, contract_end) consistent with each other."""
    stage = rng.choices(list(_STAGE_WEIGHTS), weights=list(_STAGE_WEIGHTS.values()))[0]
    if stage == "lead":
        return stage, today - timedelta(days=rng.randrange(0, 120)), "", ""
    if stage == "prospect":
        return stage, today - timedelta(days=rng.randrange(15, 300)), "", ""
    # Lost customers are old enough that their contract ran at least a few months.
    created = today - timedelta(days=rng.randrange(400 if stage == "lost" else 200, 730))
    start = created + timedelta(days=rng.randrange(7, 90))
    term = rng.choice((1, 1, 2))
    end = _add_years(start, term) - timedelta(days=1)
    if stage == "lost":
        # Contract ended, or was cut short, some time ago.
        end = min(end, today - timedelta(days=rng.randrange(20, 150)))
    else:
        # Signed and dormant customers renew, so their current contract covers today.
        while end < today:
            start = end + timedelta(days=1)
            end = _add_years(start, 1) - timedelta(days=1)
    return stage, created, start.isoformat(), end.isoformat()


def _tags(rng: random.Random, type_: str, stage: str) -> list[str]:
    pool = list(_TYPE_TAGS[type_]) + list(_COMMON_TAGS)
    tags = rng.sample(pool, k=rng.choices((0, 1, 2, 3), weights=(20, 35, 30, 15))[0])
    if "月结" in tags and "现结" in tags:
        tags.remove("现结")
    if stage == "lead" and rng.random() < 0.5:
        tags.append("展会线索")
    return tags


# The fields a food distributor keeps on every customer beyond the standard profile.
CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {
        "key": "settlement",
        "label": "结算方式",
        "type": "choice",
        "options": ["月结", "半月结", "现结"],
        "required": True,
    },
    {"key": "delivery_window", "label": "送货时段", "type": "text", "options": [], "required": False},
    {"key": "daily_meals", "label": "日供餐人数", "type": "number", "options": [], "required": False},
)
_CANTEENS = ("学校食堂", "企业食堂", "团膳")
_DELIVERY_WINDOWS = ("05:30-07:00", "06:00-08:00", "09:00-10:30", "14:00-16:00")


def _custom_fields(rng: random.Random, type_: str, stage: str) -> dict[str, Any]:
    values: dict[str, Any] = {"settlement": "现结" if stage in ("lead", "prospect") else rng.choice(["月结", "半月结"])}
    if stage not in ("lead", "lost"):
        values["delivery_window"] = rng.choice(_DELIVERY_WINDOWS)
    if type_ in _CANTEENS:
        values["daily_meals"] = rng.randrange(200, 3000, 50)
    return values


_FOLLOW_UP_NOTES: dict[str, tuple[tuple[str, str], ...]] = {
    "phone": (
        ("电话确认下周菜单和用量", "下周一按新用量配送"),
        ("回访上批冻品质量，反馈解冻后出水偏多", "已登记，下批换供应商批次"),
        ("询问节前备货计划", "客户月底前报数量"),
    ),
    "wechat": (
        ("微信发送本月报价单", "客户已读，待回复"),
        ("微信沟通对账差额", "客户同意按我方单据核对"),
    ),
    "visit": (
        ("上门拜访后勤主任，带样品试吃", "同意试用两周"),
        ("拜访食堂，查看冷库和收货流程", "建议改早班送货"),
        ("陪同经理拜访采购负责人，谈年度框架", "等待对方内部审批"),
    ),
    "email": (("邮件发送资质文件和检测报告", "对方确认收到"),),
    "meeting": (("参加客户季度供应商会议", "评分良好，续约意向明确"),),
}
_FOLLOW_UP_KINDS = ("phone", "phone", "wechat", "visit", "visit", "email", "meeting")


def _with_a_follow_up_due_today(seeds: list[CustomerSeed], today: date) -> list[CustomerSeed]:
    """Every sales rep opens the H5 to at least one follow-up due today: the first customer of
    theirs still in their book (not released, created two days or more ago) asks for it — its
    latest follow-up's next date becomes today, or, without one, a call yesterday asks for it."""
    due_today = {
        s.owner_username for s in seeds if not s.release_reason and s.follow_ups and s.follow_ups[-1].next_in_days == 0
    }
    shown: list[CustomerSeed] = []
    for seed in seeds:
        owner = seed.owner_username
        if owner in due_today or seed.release_reason or (today - date.fromisoformat(seed.created_on)).days < 2:
            shown.append(seed)
            continue
        due_today.add(owner)
        if seed.follow_ups:
            follow_ups = [*seed.follow_ups[:-1], replace(seed.follow_ups[-1], next_in_days=0)]
        else:
            follow_ups = [FollowUpSeed("phone", 1, 15, "电话确认下周菜单和到货时间", "约定今天再确认一次数量", 0)]
        shown.append(replace(seed, follow_ups=follow_ups))
    return shown


def _follow_ups(rng: random.Random, created: date, today: date) -> list[FollowUpSeed]:
    """Two customers in five have been followed up a few times since they were created; the
    latest entry of most asks for the next one within a week, so reps see today's tasks."""
    age = (today - created).days
    if age < 2 or rng.random() > 0.4:
        return []
    days = sorted(rng.sample(range(1, min(age, 90)), k=min(rng.randint(1, 3), min(age, 90) - 1)), reverse=True)
    entries = []
    for index, days_ago in enumerate(days):
        kind = rng.choice(_FOLLOW_UP_KINDS)
        content, outcome = rng.choice(_FOLLOW_UP_NOTES[kind])
        last = index == len(days) - 1
        next_in = rng.choice((0, 0, 1, 2, 3, 5, None)) if last else None
        entries.append(FollowUpSeed(kind, days_ago, rng.randint(9, 17), content, outcome, next_in))
    return entries


# 定期回访: VIP customers by their owner every two weeks, 重点 by the subsidiaries' customer service
# (孙丽, 马静) monthly, 一般 by their owner every two months.
REVISIT_PLANS: tuple[dict[str, Any], ...] = (
    {"tier": "vip", "interval_days": 14, "assignee": "owner"},
    {"tier": "key", "interval_days": 30, "assignee": "service"},
    {"tier": "normal", "interval_days": 60, "assignee": "owner"},
)
# Roughly where each city's customers are; a pin falls within about 8 km of it.
_CITY_CENTRES = {"杭州": (30.2741, 120.1551), "苏州": (31.2990, 120.5853), "上海": (31.2304, 121.4737)}
# Visit photos across the whole demo: enough to show them, few enough to keep `make run` quick.
_DEMO_PHOTOS = 12


def _location(rng: random.Random, district: _District, stage: str) -> tuple[float, float] | None:
    """Most signed customers, and some prospects, have been pinned on the map."""
    if rng.random() > {"signed": 0.7, "prospect": 0.3}.get(stage, 0.0):
        return None
    lat, lng = _CITY_CENTRES[district.city_short]
    return round(lat + rng.uniform(-0.07, 0.07), 6), round(lng + rng.uniform(-0.08, 0.08), 6)


def _with_check_ins(
    rng: random.Random,
    entries: list[FollowUpSeed],
    location: tuple[float, float] | None,
    address: str,
    photos_left: list[int],
) -> list[FollowUpSeed]:
    """Visits of the last month carry a check-in: near the customer's pin (20–400 m off) when it
    has one, else near nothing in particular; a few carry photos."""
    checked: list[FollowUpSeed] = []
    for entry in entries:
        if entry.kind != "visit" or entry.days_ago > 30:
            checked.append(entry)
            continue
        lat, lng = location or (30.2741 + rng.uniform(-0.05, 0.05), 120.1551 + rng.uniform(-0.05, 0.05))
        metres = rng.uniform(20, 400)
        # ~111 km per degree of latitude; east-west offsets scaled for these latitudes.
        point = CheckInSeed(
            latitude=round(lat + metres / 111_000 * rng.choice((-1, 1)) * rng.random(), 6),
            longitude=round(lng + metres / 96_000 * rng.choice((-1, 1)) * rng.random(), 6),
            accuracy_m=float(rng.choice((5, 8, 10, 15, 20, 35, 50))),
            address=address,
        )
        photos = min(photos_left[0], rng.choice((0, 1, 2)))
        photos_left[0] -= photos
        checked.append(dataclasses.replace(entry, check_in=point, photos=photos))
    return checked


_POOLS = (
    PoolSeed("总部公海", "hq"),
    # Hangzhou's supervisor approves every claim, so the demo shows claims awaiting a decision.
    PoolSeed("杭州公海", "hangzhou", requires_approval=True),
    PoolSeed(
        "苏州公海",
        "suzhou",
        # Issue 13: a customer without a confirmed order for 60 days goes back too.
        rules={"claims_per_day": 5, "no_follow_up_days": {"vip": 45, "key": 30, "normal": 20}, "no_order_days": 60},
    ),
)
# Customers an admin or a partner system creates without an owner: frozen meat to a named rep,
# then anything in Zhejiang to the Hangzhou branch's reps in turn.
_ASSIGNMENT_RULES = (
    AssignmentRuleSeed("冷冻肉品客户给张伟", "fixed", {"product_lines": ["冷冻肉品"]}, usernames=("zhang.wei",)),
    AssignmentRuleSeed("浙江客户杭州轮流", "round_robin", {"provinces": ["浙江"]}, org_unit_key="hangzhou"),
)
_SOURCES = ("trade_show", "online", "referral", "phone", "other")
_SOURCE_WEIGHTS = (15, 20, 35, 20, 10)


def _product_lines(rng: random.Random) -> list[str]:
    return sorted(rng.sample(PRODUCT_LINES, k=rng.choices((1, 2, 3), weights=(30, 45, 25))[0]))


_RELEASE_REASONS = ("客户已停业", "连续三个月无订单", "客户改为自行采购", "原负责人调岗，暂无人跟进", "报价多次未成交")


def _tier(rng: random.Random, stage: str) -> str:
    if stage != "signed":
        return "normal"
    return rng.choices(("vip", "key", "normal"), weights=(10, 25, 65))[0]


def _release_reason(rng: random.Random, stage: str) -> str:
    """Most lost customers and a few dormant ones went back to the pool."""
    chance = {"lost": 0.7, "dormant": 0.15}.get(stage, 0.0)
    return rng.choice(_RELEASE_REASONS) if rng.random() < chance else ""


def _school_calendar(today: date) -> ClosureTemplateSeed:
    """The coming school year's winter and summer breaks in Hangzhou (杭州中小学校历)."""
    year = today.year + 1 if today.month >= 3 else today.year
    return ClosureTemplateSeed(
        name=f"{year} 杭州中小学校历",
        ranges=[
            {"start_date": f"{year}-01-23", "end_date": f"{year}-02-20", "reason": "winter_break", "note": "寒假"},
            {"start_date": f"{year}-07-03", "end_date": f"{year}-08-31", "reason": "summer_break", "note": "暑假"},
        ],
        customer_type="学校食堂",
        city="杭州市",
    )


_ISSUERS = {
    "杭州": "杭州市{district}市场监督管理局",
    "苏州": "苏州市{district}市场监督管理局",
    "上海": "上海市{district}市场监督管理局",
}
# Where a signed food business's food licence stands on the load day, in days to its last valid
# day: most valid, some expiring within 30 days (two within a week), a few expired.
_FOOD_LICENCE_DAYS = (420, 300, 200, 150, 90, 60, 25, 12, 5, 3, -8, -40)


def _licences(rng: random.Random, seed: CustomerSeed, until: int) -> list[LicenceSeed]:
    """Papers of a signed food business: a business licence that never expires (营业执照 are 长期
    for most companies; schools have none) and a 食品经营许可证 of five years ending `until` days
    from the load day."""
    first = seed.addresses[0]
    issuer = _ISSUERS.get(first.city.removesuffix("市"), "{district}市场监督管理局").format(district=first.district)
    found = [LicenceSeed("食品经营许可证", f"JY1{rng.randrange(10**13):013d}", issuer, until - 5 * 365 + 1, until)]
    if seed.type != "学校食堂":
        found.insert(0, LicenceSeed("营业执照", seed.credit_code, issuer, -rng.randrange(400, 2000), None))
    return found


_FOOD_BUSINESSES = ("中餐", "西餐", "团膳", "学校食堂", "企业食堂", "连锁酒店")
# Customers whose papers the demo records; the other food businesses show their food licence missing.
_WITH_PAPERS = 24


def _with_papers_and_closures(customers: list[CustomerSeed], rng: random.Random) -> list[CustomerSeed]:
    """Licences for the first signed food businesses, their food licences cycling through
    valid, expiring and expired; a factory shutdown (工厂停工) for the first two company canteens
    and a renovation (装修) under way at one restaurant. Drawn from their own generator, after
    everything else, so the rest of the tenant stays as it was."""
    signed = [i for i, c in enumerate(customers) if c.lifecycle_stage == "signed" and c.type in _FOOD_BUSINESSES]
    papers = {index: _FOOD_LICENCE_DAYS[n % len(_FOOD_LICENCE_DAYS)] for n, index in enumerate(signed[:_WITH_PAPERS])}
    canteens = [i for i in signed if customers[i].type == "企业食堂"][:2]
    restaurants = [i for i in signed if customers[i].type == "中餐"][:1]
    changed = list(customers)
    for index, customer in enumerate(customers):
        extra: dict[str, Any] = {}
        if index in papers:
            extra["licences"] = _licences(rng, customer, papers[index])
        if index in canteens:
            start = rng.randrange(3, 20)
            extra["closures"] = [ClosureSeed(start, start + 9, "factory_shutdown", "工厂设备年检，停产十天")]
        if index in restaurants:
            extra["closures"] = [ClosureSeed(-2, 12, "renovation", "后厨改造")]
        if extra:
            changed[index] = replace(customer, **extra)
    return changed


def demo_tenant(seed: int = 7, customers: int = 500, *, today: date = DEMO_TODAY) -> DemoTenant:
    """Build the demo tenant; the same seed, count and date always give the same data."""
    if customers < 0:
        raise ValueError("customers must not be negative")
    rng = random.Random(seed)
    # Custom-field values and follow-ups draw from their own generators, so adding either left
    # the rest of the tenant as it was.
    field_rng = random.Random(seed + 1)
    follow_up_rng = random.Random(seed + 2)
    pool_rng = random.Random(seed + 3)
    line_rng = random.Random(seed + 4)
    visit_rng = random.Random(seed + 5)
    photos_left = [_DEMO_PHOTOS]
    uniques = _Uniques()
    sales = [user for user in _USERS if user.role == "sales"]
    types = list(_TYPE_WEIGHTS)
    type_weights = list(_TYPE_WEIGHTS.values())

    seeds: list[CustomerSeed] = []
    for _ in range(customers):
        owner = rng.choice(sales)
        type_ = rng.choices(types, weights=type_weights)[0]
        for _attempt in range(_MAX_ATTEMPTS):
            district = rng.choice(_TERRITORIES[owner.org_unit_key])
            name, short_name = _customer_names(rng, type_, district)
            if name not in uniques.names:
                uniques.names.add(name)
                break
        else:
            raise RuntimeError(f"demo data ran out of {type_} names; lower customers")
        for _attempt in range(_MAX_ATTEMPTS):
            code = _credit_code(rng, type_, district)
            if code not in uniques.codes:
                uniques.codes.add(code)
                break
        else:
            raise RuntimeError("demo data ran out of credit codes")
        stage, created, contract_start, contract_end = _lifecycle(rng, today)
        addresses = _addresses(rng, type_, district)
        location = _location(visit_rng, district, stage)
        place = f"{addresses[0].province}{addresses[0].city}{addresses[0].district}{addresses[0].detail}"
        seeds.append(
            CustomerSeed(
                name=name,
                short_name=short_name,
                type=type_,
                credit_code=code,
                addresses=addresses,
                contacts=_contacts(rng, type_, uniques),
                contract_start=contract_start,
                contract_end=contract_end,
                tags=_tags(rng, type_, stage),
                lifecycle_stage=stage,
                owner_username=owner.username,
                created_on=created.isoformat(),
                org_unit_key=owner.org_unit_key,
                custom_fields=_custom_fields(field_rng, type_, stage),
                follow_ups=_with_check_ins(
                    visit_rng, _follow_ups(follow_up_rng, created, today), location, place, photos_left
                ),
                tier=_tier(pool_rng, stage),
                product_lines=_product_lines(line_rng),
                source=line_rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0],
                release_reason=_release_reason(pool_rng, stage),
                latitude=location[0] if location else None,
                longitude=location[1] if location else None,
            )
        )
    # Loading in creation order makes ids, events and "new this month" charts read naturally.
    seeds.sort(key=lambda c: (c.created_on, c.name))
    seeds = _with_papers_and_closures(seeds, random.Random(seed + 5))
    # The profile draws from its own generator, so adding it left the rest of the tenant as it was.
    profile_rng = random.Random(seed + 6)
    seeds = [_with_profile(profile_rng, customer) for customer in seeds]
    seeds = _with_a_follow_up_due_today(seeds, today)
    return DemoTenant(
        tenant_name=TENANT_NAME,
        org_units=list(_ORG_UNITS),
        users=list(_USERS),
        customers=seeds,
        pools=list(_POOLS),
        assignment_rules=list(_ASSIGNMENT_RULES),
        closure_templates=[_school_calendar(today)],
        groups=_groups(seeds),
        relations=_relations(seeds),
        tier_changes=_tier_changes(seeds),
        orders=_demo_orders(seeds, today),
        agreement_prices=_agreement_prices(_groups(seeds), _demo_orders(seeds, today)),
    )


# --- profile (issue 12): preferences, special requirements, grades, groups, relations ---------

# When each kind of customer takes deliveries: (weekdays, start, end).
_WINDOWS_BY_TYPE: dict[str, list[tuple[range, str, str]]] = {
    "学校食堂": [(range(1, 6), "06:00", "07:30")],
    "企业食堂": [(range(1, 6), "07:00", "08:30"), (range(1, 6), "14:00", "15:00")],
    "团膳": [(range(1, 7), "05:30", "07:00")],
    "中餐": [(range(1, 8), "09:00", "10:30")],
    "西餐": [(range(1, 8), "10:00", "11:30")],
    "连锁酒店": [(range(1, 8), "05:30", "07:00")],
}
_SPECIFICATIONS = ("5kg/箱", "10kg/箱", "整件", "去皮去骨", "小包装500g", "真空包装")
_QUALITY = ("特级", "一级", "一级", "二级")
_BRANDS = ("金龙鱼", "福临门", "双汇", "雨润", "光明", "伊利", "太太乐", "海天")
_DELIVERY_NOTES = ("后门卸货，提前电话联系", "送货到食堂仓库，需过磅签收", "地下车库卸货，限高2.2米", "")
_HALAL_TYPES = ("学校食堂", "企业食堂", "中餐", "团膳")
_GRADES = ("S", "A", "B", "C")


def _with_profile(rng: random.Random, customer: CustomerSeed) -> CustomerSeed:
    requirements: list[dict[str, Any]] = []
    if customer.type in _HALAL_TYPES and rng.random() < 0.07:
        requirements.append({"kind": "halal", "note": "清真专用器具与车辆"})
        if rng.random() < 0.5:
            requirements.append({"kind": "no_pork"})
    elif customer.type == "学校食堂" and "幼儿园" in customer.name and rng.random() < 0.6:
        requirements.append({"kind": "allergens", "details": ["花生", "坚果"]})
    if customer.type in ("西餐", "连锁酒店") and rng.random() < 0.3:
        requirements.append({"kind": "cold_chain"})
    if customer.type in ("西餐", "学校食堂") and rng.random() < 0.05:
        requirements.append({"kind": "organic"})
    preferences: dict[str, Any] = {}
    if customer.lifecycle_stage in ("signed", "prospect") and rng.random() < 0.6:
        windows = [
            {"weekday": day, "start": start, "end": end}
            for days, start, end in _WINDOWS_BY_TYPE.get(customer.type, [])
            for day in days
        ]
        preferences = {
            "categories": list(customer.product_lines),
            "specifications": sorted(rng.sample(_SPECIFICATIONS, k=rng.randint(0, 2))),
            "quality_grade": rng.choice(_QUALITY),
            "brands": sorted(rng.sample(_BRANDS, k=rng.randint(0, 2))),
            "delivery_windows": windows,
            "delivery_notes": rng.choice(_DELIVERY_NOTES),
        }
    grade = rng.choices(_GRADES, weights=(5, 20, 45, 30))[0] if customer.lifecycle_stage == "signed" else ""
    return dataclasses.replace(customer, grade=grade, preferences=preferences, special_requirements=requirements)


def _owned(customers: list[CustomerSeed], *types: str) -> list[CustomerSeed]:
    return [c for c in customers if c.type in types and not c.release_reason]


def _groups(customers: list[CustomerSeed]) -> list[GroupSeed]:
    """A catering company (团膳) runs staff canteens in its city: the canteens are its branches."""
    for company in _owned(customers, "团膳"):
        city = company.addresses[0].city
        canteens = [c for c in _owned(customers, "企业食堂") if c.addresses[0].city == city]
        if company.lifecycle_stage == "signed" and len(canteens) >= 3:
            return [GroupSeed(company.name, tuple(c.name for c in canteens[:3]))]
    return []


def _relations(customers: list[CustomerSeed]) -> list[RelationSeed]:
    """Farms supply dealers; one restaurant was referred by another; two hotels share a group."""
    relations = []
    farms, dealers = _owned(customers, "养殖场"), _owned(customers, "经销商")
    for farm, dealer in zip(farms[:2], dealers[:2], strict=False):
        relations.append(RelationSeed(dealer.name, farm.name, "upstream_supplier", "长期供货"))
    restaurants = _owned(customers, "中餐")
    if len(restaurants) >= 2:
        relations.append(RelationSeed(restaurants[1].name, restaurants[0].name, "referred_by", "老板是朋友，介绍过来"))
    hotels = _owned(customers, "连锁酒店")
    brands: dict[str, CustomerSeed] = {}
    for hotel in hotels:
        first = brands.setdefault(hotel.name[:2], hotel)
        if first is not hotel:
            relations.append(RelationSeed(hotel.name, first.name, "same_group", "同一酒店品牌"))
            break
    return relations


def _tier_changes(customers: list[CustomerSeed]) -> list[TierChangeSeed]:
    """The boss's annual review raised a few signed customers, with reasons."""
    signed = [c for c in customers if c.lifecycle_stage == "signed" and not c.release_reason]
    changes = [TierChangeSeed(c.name, "tier", "vip", "年度评审：年采购额超百万") for c in signed[:3] if c.tier != "vip"]
    changes += [TierChangeSeed(c.name, "grade", "A", "回款及时，升为A级") for c in signed[3:5] if c.grade != "A"]
    return changes


# --- an import waiting for confirmation --------------------------------------------------

IMPORT_HEADERS = [
    "客户名称",
    "客户类型",
    "统一社会信用代码",
    "省",
    "市",
    "区",
    "详细地址",
    "客户等级",
    "结算方式",
    "联系人姓名",
    "联系人手机",
    "联系人职务",
    "负责人",
    "负责起始日期",
    "最近跟进日期",
]
# The history the two new customers bring from the old sheet (负责人, days since the owner got
# them, days since their last follow-up): confirming the import makes both due a revisit today
# (重点 every 30 days by customer service, 一般 every 60 by the owner).
IMPORT_HISTORY = {"杭州市拱墅区大关小学食堂": ("li.na", 40, 5), "宁波鄞州区老味道酒楼": ("li.na", 70, 10)}
IMPORT_ROWS = [
    [
        "杭州市拱墅区大关小学食堂",
        "学校食堂",
        "",
        "浙江",
        "杭州",
        "拱墅区",
        "大关路88号",
        "重点",
        "月结",
        "陈晓燕",
        "13758120001",
        "后勤主任",
    ],
    ["杭州市拱墅区大关小学食堂", "", "", "", "", "", "", "", "", "周建华", "13758120002", "采购"],
    [
        "宁波鄞州区老味道酒楼",
        "中餐",
        "",
        "浙江",
        "宁波",
        "鄞州区",
        "天童南路210号",
        "一般",
        "现结",
        "林海",
        "13958120003",
        "店长",
    ],
    [
        "绍兴柯桥纺织园职工食堂",
        "企业食堂",
        "",
        "浙江",
        "绍兴",
        "柯桥区",
        "柯北大道66号",
        "VIP",
        "月结",
        "王志强",
        "1395812",
        "行政经理",
    ],
    [
        "嘉兴南湖区禾城快餐",
        "火星餐厅",
        "",
        "浙江",
        "嘉兴",
        "南湖区",
        "中山东路12号",
        "一般",
        "现结",
        "沈丽",
        "13858120005",
        "老板",
    ],
]


def import_file(tenant: DemoTenant) -> bytes:
    """A CSV as Excel on a Chinese Windows saves it (GB18030): two new customers (one with two
    contacts) with their history from the old sheet (owner, since when, last follow-up), a row
    updating a demo customer (same credit code), and two rows with problems (a mobile too short,
    a customer type the tenant does not have) — for the import wizard's report."""
    today = shanghai_date(utcnow())
    rows, seen = [], set()
    for row in IMPORT_ROWS:
        history = IMPORT_HISTORY.get(row[0]) if row[0] not in seen else None
        seen.add(row[0])
        owner, held_days, followed_days = history or ("", None, None)
        rows.append(
            [
                *row,
                owner,
                "" if held_days is None else (today - timedelta(days=held_days)).isoformat(),
                "" if followed_days is None else (today - timedelta(days=followed_days)).isoformat(),
            ]
        )
    if tenant.customers:
        known = tenant.customers[0]
        rows.append([known.name, "", known.credit_code, "", "", "", "", "重点", "", "", "", "", "", "", ""])
    text = "\r\n".join(",".join(row) for row in [IMPORT_HEADERS, *rows]) + "\r\n"
    return text.encode("gb18030")


# --- orders (issue 13): a light catalogue and a few orders ------------------------------------


@dataclass(frozen=True, slots=True)
class ProductSeed:
    """A product as PUT /api/v1/products/by-sku/{sku} takes it."""

    sku: str
    name: str
    category: str
    specification: str
    unit: str
    list_price: str
    cost: str
    tax_rate: str
    attributes: dict[str, Any] = field(default_factory=dict)


DEMO_PRODUCTS: tuple[ProductSeed, ...] = (
    ProductSeed(
        "NR-1001",
        "清真冷冻牛腩",
        "冷冻肉品/牛肉",
        "10kg/箱",
        "箱",
        "568.00",
        "432.50",
        "0.09",
        {"halal": True, "cold_chain": True},
    ),
    ProductSeed(
        "YR-1002",
        "清真羊肉卷",
        "冷冻肉品/羊肉",
        "5kg/箱",
        "箱",
        "398.00",
        "301.00",
        "0.09",
        {"halal": True, "cold_chain": True},
    ),
    ProductSeed(
        "ZR-1003",
        "猪里脊",
        "冷冻肉品/猪肉",
        "10kg/箱",
        "箱",
        "329.00",
        "255.00",
        "0.09",
        {"contains_pork": True, "cold_chain": True},
    ),
    ProductSeed(
        "SC-2001", "有机西兰花", "新鲜蔬菜", "散装", "公斤", "12.80", "8.60", "0.09", {"organic": True, "halal": True}
    ),
    ProductSeed("SC-2002", "土豆", "新鲜蔬菜", "散装", "公斤", "3.20", "2.10", "0.09", {"halal": True}),
    ProductSeed(
        "LY-3001", "金龙鱼大豆油", "粮油米面/食用油", "20L/桶", "桶", "235.00", "198.00", "0.09", {"halal": True}
    ),
    ProductSeed("LY-3002", "东北大米", "粮油米面/大米", "25kg/袋", "袋", "142.00", "118.00", "0.09", {"halal": True}),
    ProductSeed(
        "HX-4001",
        "冻虾仁",
        "水产海鲜",
        "1kg/袋",
        "袋",
        "86.00",
        "61.00",
        "0.09",
        {"allergens": ["虾"], "cold_chain": True},
    ),
)


@dataclass(frozen=True, slots=True)
class OrderSeed:
    """An order a rep places for their customer, then moved by `actions` (the boss records the
    payment and the deliveries); lines are (sku, quantity)."""

    customer: str
    owner_username: str
    lines: tuple[tuple[str, str], ...]
    delivery_date: str
    urgent: bool
    actions: tuple[str, ...]


# The states the demo orders end in: from delivered and completed down to a draft.
_ORDER_PATHS: tuple[tuple[str, ...], ...] = (
    ("confirm", "release", "record_payment", "dispatch", "deliver", "complete"),
    ("confirm", "release", "record_payment", "dispatch", "deliver"),
    ("confirm", "release", "record_payment", "dispatch"),
    ("confirm", "release", "record_payment"),
    ("confirm", "release"),
    ("confirm",),
    (),
)
# Goods no special requirement of the demo refuses (halal, no pork, cold chain): all halal, no pork.
_PLAIN_LINES = (("LY-3002", "2"), ("SC-2002", "30"), ("LY-3001", "1"), ("NR-1001", "1.5"))


@dataclass(frozen=True, slots=True)
class AfterSaleSeed:
    """An after-sale (售后) a rep asks for on one of the demo orders (by its index in
    `DemoTenant.orders`; the first is completed, the second delivered), decided by the boss when
    `decision` is set; lines are (order line no, quantity)."""

    order_index: int
    type: str
    lines: tuple[tuple[int, str], ...]
    reason: str
    reissue_invoice: bool
    decision: str
    comment: str


# One approved refund on the completed order, one return waiting for approval on the delivered one.
DEMO_AFTER_SALES: tuple[AfterSaleSeed, ...] = (
    AfterSaleSeed(
        0, "refund_only", ((1, "1"),), "一件外包装破损，客户同意折价留用", True, "approve", "照片属实，同意退款"
    ),
    AfterSaleSeed(1, "return_refund", ((1, "5"),), "到货时冷链温度超标，客户拒收部分商品", False, "", ""),
)


def _demo_orders(customers: list[CustomerSeed], today: date) -> list[OrderSeed]:
    """Orders for signed customers that are not schools (the school calendar may close them),
    have no closures of their own and stay owned, delivered on a day of their delivery windows."""
    chosen = [
        c
        for c in customers
        if c.lifecycle_stage == "signed" and c.type != "学校食堂" and not c.closures and not c.release_reason
    ][: len(_ORDER_PATHS)]
    orders = []
    for index, (customer, path) in enumerate(zip(chosen, _ORDER_PATHS, strict=False)):
        weekdays = {int(w["weekday"]) for w in customer.preferences.get("delivery_windows", [])}
        day = today + timedelta(days=2)
        while weekdays and day.isoweekday() not in weekdays:
            day += timedelta(days=1)
        orders.append(
            OrderSeed(
                customer=customer.name,
                owner_username=customer.owner_username,
                lines=(_PLAIN_LINES[index % len(_PLAIN_LINES)], _PLAIN_LINES[(index + 1) % len(_PLAIN_LINES)]),
                delivery_date=day.isoformat(),
                urgent=index == len(_ORDER_PATHS) - 1,
                actions=path,
            )
        )
    return orders


@dataclass(frozen=True, slots=True)
class AgreementPriceSeed:
    """An agreement price (协议价) of a customer for a product, as a share of its list price,
    valid from the seeding day for `days` (None: no end)."""

    customer: str
    sku: str
    rate: str
    days: int | None = None


def _agreement_prices(groups: list[GroupSeed], orders: list[OrderSeed]) -> list[AgreementPriceSeed]:
    """The group's parent gets yearly prices on two staples (its canteens inherit them); the
    first two ordering customers one each, so their orders and past prices show them."""
    seeds = [
        AgreementPriceSeed(group.parent, sku, rate, 365)
        for group in groups
        for sku, rate in (("LY-3002", "0.92"), ("SC-2002", "0.90"))
    ]
    seeds += [AgreementPriceSeed(order.customer, order.lines[0][0], "0.95") for order in orders[:2]]
    return seeds


# --- deliveries (issue 13, delivery): dispatch details with batch numbers, a confirmation -------

# Batch numbers the batch-recall demo looks up: several customers received each of them.
DEMO_BATCHES = ("B20261128-01", "B20261128-02", "B20261128-03")
_VEHICLES = (("浙A3K721", "王建军", "13805710001"), ("浙A8M265", "李国平", "13805710002"))


def demo_dispatch(index: int, order: OrderSeed, planned_at: str) -> dict[str, Any]:
    """The body of POST /api/v1/orders/{id}/delivery/dispatch for the demo's order `index`: its
    vehicle and driver, and each line filled from one of DEMO_BATCHES (the first line from two)."""
    vehicle, driver, phone = _VEHICLES[index % len(_VEHICLES)]
    batches: list[dict[str, Any]] = []
    for line_no, (_, quantity) in enumerate(order.lines, start=1):
        batch = DEMO_BATCHES[(index + line_no) % len(DEMO_BATCHES)]
        batches.append({"line_no": line_no, "batch_no": batch, "quantity": quantity})
    return {
        "vehicle": vehicle,
        "driver_name": driver,
        "driver_phone": phone,
        "planned_at": planned_at,
        "batches": batches,
    }


def demo_confirmation(signed_at: str, photo_id: str) -> dict[str, Any]:
    """The body of POST /api/v1/orders/{id}/delivery/confirm: delivered in full, signed for."""
    return {"signed_by": "食堂负责人 刘芳", "signed_at": signed_at, "photo_id": photo_id}
