"""Report vocabulary as data: the lexicon, English→Chinese glossary, variants and stop words.

Question analysis (``rag.question``) matches questions against these lists instead of loading a word
segmenter: a Chinese question is cut by forward maximum matching over ``ZH_LEXICON`` ∪ ``ZH_STOP``, an
English one is mapped to Chinese through ``EN_GLOSSARY``. Every Chinese word here was taken from the
sample reports in ``data/samples`` (税收收入, 规模工业总产值, 限上批零销售额 ...), so a term found in a
question is a string that can occur verbatim in a report.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text."""
    return frozenset(text.split())


# Canonical bodies of the sample corpus with their aliases. Chinese aliases match as substrings,
# English ones as words (case-insensitive, optional spaces inside the pinyin).
BODIES: dict[str, tuple[str, ...]] = {
    "精武镇": ("精武镇", "精武"),
    "西青区": ("西青区", "西青"),
    "张家窝镇": ("张家窝镇", "张家窝"),
}
BODY_EN_PATTERNS: dict[str, str] = {
    "精武镇": r"jing\s?wu(?:\s+town(?:ship)?)?",
    "西青区": r"xi\s?qing(?:\s+district)?",
    "张家窝镇": r"zhang\s?jia\s?wo(?:\s+town(?:ship)?)?",
}
BODY_EN_NAMES: dict[str, str] = {
    "精武镇": "Jingwu Town",
    "西青区": "Xiqing District",
    "张家窝镇": "Zhangjiawo Town",
}
# Other towns and subdistricts of 西青区, named in English (pinyin, matched as words, an optional Town /
# Subdistrict after it): the Chinese name the reports would use (街 as they write it: 西营门街) and the
# English name a refusal uses. A question about one is scoped like the same question in Chinese.
OTHER_PLACES_EN: dict[str, tuple[str, str]] = {
    "大寺镇": (r"da\s?si", "Dasi Town"),
    "杨柳青镇": (r"yang\s?liu\s?qing", "Yangliuqing Town"),
    "中北镇": (r"zhong\s?bei", "Zhongbei Town"),
    "辛口镇": (r"xin\s?kou", "Xinkou Town"),
    "王稳庄镇": (r"wang\s?wen\s?zhuang", "Wangwenzhuang Town"),
    "李七庄街": (r"li\s?qi\s?zhuang", "Liqizhuang Subdistrict"),
    "西营门街": (r"xi\s?ying\s?men", "Xiyingmen Subdistrict"),
    "赤龙南街": (r"chi\s?long\s?nan", "Chilongnan Subdistrict"),
}
# What an English place name ends with, and capitalised words before one that are no name (Which town).
PLACE_SUFFIXES_EN = r"town(?:ship)?|sub-?district|street|district|county|village"
NOT_PLACE_NAMES_EN: frozenset[str] = _words(
    """The This That These Those Which What Whose Each Every Other Another Any All Some Our Their Its His Her
    Whole Same New Old Rural Urban Central Home Neighbouring Neighboring Nearby Per Small Large University
    Industrial Economic Development Business Commercial Historic Ancient Town Township District County
    Village Street Subdistrict Tianjin"""
)

# Proper names that contain a body alias but are not that body (天开西青园 is a park in several towns).
NOT_BODIES: tuple[str, ...] = ("天开西青园", "西青园", "西青开发区", "西青经济技术开发区")
BODY_SUFFIXES: tuple[str, ...] = ("街道", "镇", "区", "乡")

# English phrase (regex, matched case-insensitively between word boundaries) → Chinese report terms.
# Longer phrases win over the shorter ones they contain ("high-tech enterprises" over "enterprises").
EN_GLOSSARY: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"tax(?:ation)?\s+(?:revenues?|income|receipts)|tax(?:es)?", ("税收收入", "税收")),
    (
        r"(?:general\s+)?(?:public\s+)?budget(?:ary)?\s+revenues?|fiscal\s+revenues?",
        ("一般公共预算收入", "预算收入"),
    ),
    (
        r"(?:large|above|designated)[\s-]+(?:scale|size)\s+industrial\s+output(?:\s+value)?",
        ("规模工业总产值", "工业总产值"),
    ),
    (
        r"(?:gross\s+|total\s+)?industrial\s+(?:output|production)(?:\s+value)?",
        ("工业总产值", "规模工业总产值"),
    ),
    (
        r"(?:gross\s+)?output\s+(?:value\s+)?of\s+(?:the\s+)?industr(?:y|ies)(?:\s+above\s+designated\s+size)?"
        r"|industr(?:y|ies)\s+above\s+designated\s+size",
        ("规模工业总产值", "工业总产值"),
    ),
    (r"(?:above|large)[\s-]+scale\s+(?:industrial\s+)?(?:enterprises|companies|firms)", ("规模以上企业",)),
    (
        r"(?:wholesale\s+and\s+retail|retail\s+and\s+wholesale)(?:\s+sales)?|(?:wholesale|retail)\s+sales",
        ("限上批零销售额", "批零销售额"),
    ),
    (
        r"retail\s+sales\s+of\s+consumer\s+goods|consumer\s+(?:goods\s+)?retail(?:\s+sales)?",
        ("社会消费品零售总额",),
    ),
    (r"fixed[\s-]+assets?(?:\s+investment)?|investment\s+in\s+fixed\s+assets", ("固定资产投资", "固定资产")),
    (r"gdp|gross\s+(?:domestic|regional)\s+product", ("地区生产总值",)),
    (
        r"(?:per[\s-]+capita\s+)?disposable\s+income|income\s+per[\s-]+capita|per[\s-]+capita\s+income",
        ("人均可支配收入",),
    ),
    (r"per[\s-]+capita|per\s+(?:person|head)", ("人均",)),
    (r"foreign\s+(?:investment|capital)|fdi", ("外资到位额", "外资")),
    (r"domestic\s+(?:investment|capital)", ("内资到位额", "内资")),
    (r"value[\s-]+added|added\s+value", ("增加值",)),
    (r"growth\s+rate|year[\s-]+on[\s-]+year|yoy", ("同比增长", "增速")),
    (r"investments?", ("投资",)),
    (r"populations?|inhabitants|residents", ("人口", "居民")),
    (r"jobs?|employment|unemployment|job\s+creation", ("就业",)),
    (r"roads?|streets?", ("道路",)),
    (r"primary\s+schools?|elementary\s+schools?", ("小学",)),
    (r"(?:middle|high|secondary)\s+schools?", ("中学",)),
    (r"schools?", ("学校", "小学")),
    (r"kindergartens?|pre-?schools?|nurser(?:y|ies)", ("幼儿园",)),
    (r"education(?:al)?", ("教育",)),
    (r"hospitals?|clinics?", ("医院", "卫生")),
    (r"health\s*care|medical(?:\s+care)?|public\s+health", ("医疗", "卫生")),
    (r"pension\s+insurance", ("养老保险",)),
    (r"elderly(?:\s+care)?|elder\s+care|aged\s+care|old[\s-]+age\s+care|pensions?", ("养老",)),
    (r"high[\s-]*tech(?:nology)?\s+(?:enterprises|companies|firms|businesses)", ("高新技术企业",)),
    (r"tech(?:nology)?[\s-]+based\s+smes?|(?:technology|tech)\s+smes?", ("科技型中小企业",)),
    (r"enterprises?|compan(?:y|ies)|firms?|businesses", ("企业",)),
    (r"patents?", ("专利",)),
    (
        r"market\s+(?:entities|players)|(?:newly\s+)?registered\s+(?:companies|enterprises)",
        ("市场主体", "注册企业"),
    ),
    (r"key\s+projects?", ("重点项目",)),
    (r"projects?", ("项目",)),
    (r"investment\s+(?:attraction|promotion)|attract(?:ing)?\s+investment", ("招商引资", "招商")),
    (r"business\s+environment", ("营商环境",)),
    (r"beijing[\s-]+tianjin[\s-]+hebei", ("京津冀", "协同发展")),
    (r"(?:town(?:ship)?\s+)?mayor|town(?:ship)?\s+head|head\s+of\s+the\s+town", ("镇长",)),
    (r"district\s+(?:head|mayor|governor)|head\s+of\s+the\s+district", ("区长",)),
    (r"(?:government\s+)?work\s+reports?", ("政府工作报告",)),
    (r"people'?s\s+congress", ("人民代表大会", "人大")),
    (r"rural\s+revitali[sz]ation", ("乡村振兴",)),
    (r"high[\s-]+standard\s+farmland", ("高标准农田",)),
    (r"farmland|arable\s+land|cultivated\s+land", ("耕地", "农田")),
    (r"agricultur(?:e|al)|farming", ("农业",)),
    (r"environment(?:al)?(?:\s+protection)?", ("环境", "环保")),
    (r"pollution", ("污染",)),
    (r"air\s+quality|pm\s?2\.?5", ("PM", "空气")),
    (r"water\s+quality", ("水质",)),
    (r"river\s+chiefs?|rivers?", ("河长", "河道")),
    (r"garbage(?:\s+sorting)?|waste\s+sorting|trash|rubbish", ("垃圾分类", "垃圾")),
    (r"greening|afforestation|tree\s+planting|trees", ("绿化", "造林")),
    (r"parks?", ("公园",)),
    (r"culture|cultural", ("文化",)),
    (r"touris[mt]", ("旅游", "文旅")),
    (r"sports?|fitness", ("体育", "健身")),
    (r"martial\s+arts?|wushu", ("武术",)),
    (r"huo\s+yuanjia", ("霍元甲",)),
    (r"grand\s+canal", ("大运河",)),
    (r"old\s+(?:residential\s+)?(?:neighbou?rhoods|compounds|buildings|housing)", ("老旧小区", "旧楼")),
    (r"sewage|wastewater", ("污水",)),
    (r"heating|natural\s+gas", ("燃气", "供热")),
    (r"metro|subway", ("地铁",)),
    (r"traffic|transport(?:ation)?", ("交通",)),
    (r"(?:work|production)\s+safety", ("安全生产",)),
    (r"fire(?:\s+safety|\s+protection)?", ("消防",)),
    (r"epidemic|pandemic|covid(?:-19)?", ("疫情", "新冠")),
    (r"petitions?", ("信访",)),
    (r"social\s+assistance|subsistence\s+allowance|relief", ("救助", "低保")),
    (r"poverty(?:\s+alleviation)?", ("扶贫", "帮扶")),
    (r"veterans?", ("退役军人",)),
    (r"volunteers?|volunteering", ("志愿",)),
    (r"communit(?:y|ies)", ("社区",)),
    (r"villages?", ("村",)),
    (r"collective\s+economy", ("集体经济",)),
    (r"industrial\s+parks?", ("产业园", "园区")),
    (r"tiankai", ("天开",)),
    (r"university\s+town", ("大学城",)),
    (r"(?:tianjin\s+)?south\s+(?:railway\s+)?station", ("南站",)),
    (r"biomedicine|bio-?medical|pharmaceutical", ("生物医药", "医药")),
    (r"new\s+energy", ("新能源",)),
    (r"integrated\s+circuits?|semiconductors?|chips?", ("集成电路",)),
    (r"automo(?:bile|tive)s?|cars?", ("汽车",)),
    (r"strategic\s+emerging\s+industr(?:y|ies)", ("战略性新兴产业",)),
    (r"service\s+(?:industry|sector)|services", ("服务业",)),
    (r"manufacturing", ("制造业",)),
    (r"14th\s+five[\s-]+year\s+plan", ("十四五",)),
    (r"five[\s-]+year\s+(?:plan|goals?|targets?)", ("五年",)),
    (r"goals?|targets?", ("目标",)),
    (r"spending|expenditures?", ("支出",)),
    (r"finance|fiscal", ("财政",)),
    (r"food\s+safety", ("食品安全",)),
    (r"flood\s+control", ("防汛",)),
    (r"rule\s+of\s+law", ("法治",)),
    (r"newly\s+built|new(?:ly)?\s+construct(?:ed|ion)|build(?:s|ing)?\s+new", ("新建",)),
    (r"new(?:ly)?\s+(?:registered\s+)?(?:enterprises|companies|businesses|firms)", ("注册企业", "新增")),
    (r"urbani[sz]ation(?:\s+rate)?", ("城镇化率", "城镇化")),
    (r"(?:days\s+of\s+)?good\s+air(?:\s+quality)?(?:\s+days)?", ("优良天数", "空气")),
    (r"grain(?:\s+output|\s+production)?|food\s+crops?", ("粮食",)),
    (r"vegetables?", ("蔬菜",)),
    (r"zhao\s+lin", ("赵林",)),
    (r"xu\s+haiquan", ("徐海权",)),
    (r"qiao\s+jinxing", ("乔金星",)),
    (r"yin\s+xuewu", ("殷学武",)),
    (r"zhang\s+yanhong", ("张艳红",)),
)

# Content words of the reports (besides the glossary's Chinese terms). Matching takes the longest word.
ZH_LEXICON_WORDS = """
税收收入 税收 一般预算收入 一般公共预算收入 预算收入 规模工业总产值 规上工业总产值 工业总产值 总产值
限上批零销售额 批零销售额 销售额 限上社会消费品零售总额 社会消费品零售总额 零售总额 固定资产投资 固定资产投入
固定资产 地区生产总值 生产总值 人均可支配收入 可支配收入 津外内资到位额 内资到位额 外资到位额 投资到位额
产业项目到位额 到位额 增加值 同比增长 增长 增速 年均 累计 比重 占比 财政 支出 收入 投资
规模以上企业 规模以上工业企业 高新技术企业 国家高新技术企业 科技型中小企业 中小企业 专精特新 雏鹰 瞪羚 领军企业
市场主体 注册企业 注册资本 企业 项目 重点项目 亿元以上项目 招商引资 招商 营商环境 京津冀 协同发展
人口 居民 就业 稳岗 招聘会 道路 学校 小学 中学 中小学 幼儿园 学位 教育 高校 大学城 医院 卫生 医疗
养老 养老保险 养老服务 社会保障 参保 低保 救助 残疾人 退役军人 志愿 老年人 儿童 妇女
镇长 区长 代表 政府工作报告 人民代表大会 人大 人大代表 政协
乡村振兴 农业 耕地 农田 高标准农田 设施农业 集体经济 帮扶 扶贫 东西部 对口支援
环境 环保 生态 污染 空气 水质 河道 河长 污水 燃气 供热 垃圾分类 垃圾 绿化 造林 植树 公园 文化公园
文化 旅游 文旅 体育 健身 武术 霍元甲 精武门 大运河 运河 文明 文明创建
老旧小区 旧楼区 旧楼 小区 社区 村居 行政村 网格 网格化 信访 安全生产 消防 疫情 新冠 防汛 食品安全 法治
交通 地铁 公交 路网 停车 充电
产业园 园区 载体 天开 南站 学府 商圈 总部 产业链 生物医药 医药 新能源 集成电路 汽车 智能制造 制造业
战略性新兴产业 新兴产业 高技术制造业 服务业 现代服务业 数字经济 专利 人才 创新 科技
十四五 五年 目标 任务 主要目标 民生 民心工程 实事 措施 举措 成绩 成效 问题 不足 短板
社会 社会事业 社会治理 治理 高质量发展 高质量 经济 经济发展 发展 中心 服务中心 国有企业 国企 公共服务 比例
城市更新 重点 重点工作 大学 会议 合作 条例 种业 专家 国家 国家级 提高 下降
新建 建成 建设 完成 实现 新增 提升 推进 开工 竣工 引进 改造 落地 投产 盘活
粮食 面积 播种面积 成立 复工复产 政府 镇政府 区政府 人民政府 天气 优良天数 优良 达标 浓度 总额 外贸 失业率 调查
称号 挂牌 出让 挂牌出让 地块 土地 融资 贷款 资金 经费 巡查 播种 收获 蔬菜 产量 消费 安置 还迁 村民 闲置 储备
前期 百大 直播带岗 文件 印发 开学 投用 第一小学 实验基地 科技园 城镇化率 城镇化 总数 体量 街镇 清单 减排 应急
重污染天气 涉气企业 受援地 协作 拨付 获评 智慧平安社区 网格员 专职 违法建设 拆除 城镇 投入 总投资 投资总额
民生实事 照料中心 日间照料 大棚 增收 预期 预期目标 完成率 京冀 东西部协作 帮扶资金 落户 专利拥有量 有效专利 网络
经营性 科技创新企业 科技创新 传统产业 改造项目 重污染 三公 比率 基地 天开西青园 网格化管理 武林园
"""

ZH_LEXICON: frozenset[str] = _words(ZH_LEXICON_WORDS) | frozenset(
    t for _, terms in EN_GLOSSARY for t in terms
)

# Verbs among the terms: in a follow-up the topic to replace is a noun, not one of these.
PREDICATE_TERMS: frozenset[str] = _words(
    "新建 建成 建设 完成 实现 新增 提升 推进 开工 竣工 引进 改造 落地 投产 盘活 增长 同比增长 累计 提高 减少 下降"
    " 投入 成立 落户 印发 获评 拆除 出让 挂牌出让 开学 投用 播种 收获 增收 减排 巡查 拨付 安置 还迁"
)

# Quantities the reports state as figures: a question about one of these wants a number.
METRIC_TERMS: frozenset[str] = _words(
    """税收收入 税收 一般预算收入 一般公共预算收入 预算收入 规模工业总产值 规上工业总产值 工业总产值 总产值
    限上批零销售额 批零销售额 销售额 限上社会消费品零售总额 社会消费品零售总额 零售总额 固定资产投资 固定资产投入
    固定资产 地区生产总值 生产总值 人均可支配收入 可支配收入 津外内资到位额 内资到位额 外资到位额 投资到位额
    产业项目到位额 到位额 增加值 增速 增幅 人口 收入 支出"""
)

# A term found in a Chinese question also brings its shorter common form, so that a report writing
# 规上工业总产值 or 固定资产投入 still matches verbatim. Only substrings-in-common, never rival forms.
# Words a report uses for what a question calls by another name: a question term counts as found in a
# passage that holds one of these (学校 → 第一小学, 新建 → 建成). Used by rag.rerank.term_found: term
# coverage, and the bigram feature of rag.extractive.
ZH_SYNONYMS: dict[str, tuple[str, ...]] = {
    "学校": ("小学", "中学", "幼儿园", "学校"),
    "新建": ("建成", "新建"),
}

ZH_VARIANTS: dict[str, tuple[str, ...]] = {
    "税收收入": ("税收",),
    "规模工业总产值": ("工业总产值",),
    "规上工业总产值": ("工业总产值",),
    "固定资产投资": ("固定资产",),
    "固定资产投入": ("固定资产",),
    "限上批零销售额": ("批零销售额",),
    "一般公共预算收入": ("预算收入",),
    "一般预算收入": ("预算收入",),
    "限上社会消费品零售总额": ("社会消费品零售总额",),
}

# Cues with no single word to match, in either language: who delivered the report → the speaker's title
# and the 代表 of "我代表…向大会报告". Matched anywhere in the question (years and names may sit inside).
CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"谁.{0,8}(?:作|做|宣读|发表|代表).{0,6}报告|报告.{0,4}谁|报告人|(?:作|做)报告的是"
        r"|\b(?:deliver|present|gave|give|read)(?:s|ed|ing)?\b.{0,60}\breport|\bspeaker\b|\bwho\s+(?:reported|spoke)",
        ("镇长", "区长", "代表"),
    ),
)

# Question words, function words and units dropped from a Chinese question's terms.
ZH_STOP: frozenset[str] = _words(
    """多少 是多少 有多少 为多少 多少个 多少家 多少亿 多少元 什么 是什么 有什么 为什么 为何 哪些 有哪些 哪个 哪一个
    哪里 哪儿 哪一年 哪年 哪位 怎么样 怎样 怎么 如何 是否 有没有 是不是 能否 多大 多高 多长 多快 多远
    请问 告诉 告诉我 介绍 介绍一下 一下 说说 讲讲 列举 分别 各自 比较 对比 相比 相较 比起 较之 变化 情况
    方面 一共 总共 共计 合计 总计 大约 大概 左右 那么 那个 这个 它的 它们 我们 你们 以及 还有 还是 或者 关于
    对于 根据 报告 报告中 提到 提及 提出 里面 之中 期间 时候 当年 全年 今年 去年 明年 计划 预计 打算 准备 主要
    有关 相关 具体 工作 超过 达到 高于 低于 不到 以上 以下 亿元 万元 亿 万 元 平米 平方米 亩 万人 人次
    更高 更多 更大 更快 最高 最多 最大 最快 最低 最少 较高 较多 增加了 减少了 下降了 提高了 多了 少了
    几 几个 几所 几家 几座 几条 几项 几位 几名 几次 几种 几年 全镇 全区 本镇 本区 该镇 该区 当地 这里 那里
    其中 同期 同比 呢 吗 吧 啊 呀 么 了 的 地 得 是 在 有 和 与 及 跟 或 把 被 对 从 到 至 为 于 将 又 还 也 都
    让 各 每 啥 谁 哪 个 所 座 项 位 次 年 那 这 它 其 该 此 多 少 高 低 更 最 比 做 说 讲 请
    过去 今后 截至 两份 两年 作 上 由 哪天 哪次 何时 多久"""
)
ZH_MAX_WORD = max(len(w) for w in ZH_LEXICON | ZH_STOP)

# Intent cues (regex alternations, matched case-insensitively on the folded question).
NUMBER_CUES = (  # the question asks for a figure
    r"多少|几|多大|多高|多长|多快|多重|多远|数量|数额|金额|总额|占比|比重|比例|增速|增幅|增长率|百分"
    r"|\bhow\s+(?:much|many|big|large|high|fast)\b|\bby\s+how\s+much\b"
    r"|\b(?:amount|number|total|percentage|percent|share|rate|growth|figure|count)\b"
)
OPEN_CUES = (  # the question asks for an account, not a figure (even about a metric)
    r"哪些|如何|怎么|怎样|为什么|为何|举措|措施|做法"
    r"|\b(?:which|why)\b|\bwhat\s+(?:measures|steps|actions|projects|plans|did|does|will)\b"
    r"|\bhow\s+(?:will|to|can|should|does|do|is|are)\b"
)
COMPARE_CUES = (  # the question compares years or bodies, or asks for several figures at once
    r"比较|对比|相比|相较|比起|较之|变化|变动|增长了多少|增加了多少|减少了多少|下降了多少|提高了多少|多了多少|少了多少"
    r"|分别|各自|区别|差别|差异|差距|哪个.{0,4}(?:更|最)|谁.{0,3}(?:更|最)|还是.{0,12}(?:高|多|大|低|少)"
    r"|(?<![对相较占同无])比(?![重例较起率])[^，,。？?]{1,15}?(?:高|低|多|少|大|小|快|慢)"
    r"|\b(?:compare[sd]?|comparing|comparison|change[sd]?|changing|differ|difference|differences|versus|vs\.?"
    r"|respectively|grow|grew|grown|increase[sd]?|decrease[sd]?|decline[sd]?|rose|risen|fell|fallen|trend)\b"
    r"|\bwhich\s+(?:one\s+|town\s+|district\s+)?(?:is|was|had|has)\s+(?:higher|lower|bigger|larger|more|less)\b"
)
CUMULATIVE_CUES = r"累计|合计|总共|一共|共计|总计|\bin\s+total\b|\bcumulative(?:ly)?\b|\baltogether\b"
