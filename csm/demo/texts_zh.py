"""The demo's words in Simplified Chinese (`seed_demo --locale zh-hans`): every English name,
comment and note the generators draw, and its Chinese counterpart. csm.demo.localise swaps them
after the draw, so the Chinese demo tells the very same story (same accounts, money, usage,
churns and scores). tests/test_seed_demo_zh.py checks that every English text has one here."""

# ruff: noqa: E501 — a Chinese character counts as two columns: the pairs read best one a line.
from __future__ import annotations

# --- Companies: "{word}{trade}{form}" ------------------------------------------------------

COMPANY_WORDS = {
    "Acme": "顶峰", "Alder": "青桤", "Atlas": "擎天", "Beacon": "灯塔", "Bluefin": "蓝鳍",
    "Bramble": "荆棘", "Brightline": "明线", "Cedar": "雪松", "Cobalt": "钴蓝", "Copperleaf": "铜叶",
    "Crescent": "新月", "Driftwood": "浮木", "Ember": "余烬", "Evergreen": "长青", "Falcon": "猎鹰",
    "Fieldstone": "田石", "Fjord": "峡湾", "Foxglove": "紫铃", "Glacier": "冰川", "Granite": "花岗",
    "Harbor": "港湾", "Helix": "螺旋", "Highland": "高原", "Horizon": "地平线", "Indigo": "靛青",
    "Ironwood": "铁木", "Juniper": "杜松", "Kestrel": "红隼", "Keystone": "基石", "Lakeside": "湖畔",
    "Lantern": "灯笼", "Lumen": "流明", "Magnolia": "玉兰", "Maple": "枫叶", "Meridian": "子午",
    "Moonrise": "月升", "Nimbus": "云端", "Northwind": "北风", "Nova": "新星", "Oakridge": "橡岭",
    "Onyx": "玛瑙", "Orchid": "兰花", "Pinnacle": "巅峰", "Pioneer": "先锋", "Polaris": "北辰",
    "Prairie": "草原", "Quartz": "石英", "Quill": "羽笔", "Redwood": "红杉", "Riverbend": "河湾",
    "Rookery": "鸦巢", "Sable": "紫貂", "Saffron": "藏红", "Sequoia": "巨杉", "Silverline": "银线",
    "Skyward": "向天", "Starling": "椋鸟", "Summit": "峰会", "Sunflower": "向日葵",
    "Tandem": "同行", "Tidewater": "潮汐", "Timberline": "林线", "Trident": "三叉戟",
    "Vantage": "优势", "Verdant": "翠绿", "Wildflower": "野花", "Willow": "垂柳", "Yarrow": "蓍草",
    "Zephyr": "西风", "Bayview": "湾景",
}  # fmt: skip
COMPANY_TRADES = {
    "Analytics": "数据分析", "Apparel": "服饰", "Architects": "建筑设计", "Aviation": "航空",
    "Biotech": "生物科技", "Brewing": "酿造", "Clinics": "诊所", "Construction": "建设",
    "Consulting": "咨询", "Dental": "口腔", "Energy": "能源", "Farms": "农业", "Fitness": "健身",
    "Foods": "食品", "Freight": "货运", "Health": "健康", "Hospitality": "酒店管理",
    "Insurance": "保险", "Labs": "实验室", "Learning": "教育", "Legal": "法律服务",
    "Logistics": "物流", "Marine": "海洋", "Media": "传媒", "Motors": "汽车", "Networks": "网络",
    "Outfitters": "户外用品", "Payments": "支付", "Pharma": "医药", "Publishing": "出版",
    "Realty": "地产", "Retail": "零售", "Robotics": "机器人", "Security": "安防",
    "Software": "软件", "Studios": "工作室", "Systems": "系统", "Telecom": "通信", "Travel": "旅行",
}  # fmt: skip
COMPANY_FORMS = {
    "Group": "集团", "Inc": "股份有限公司", "Co": "有限公司", "Partners": "合伙企业",
    "Holdings": "控股", "Collective": "联合体", "Global": "国际", "Digital": "数字",
}  # fmt: skip

# --- People: family name first; the pinyin makes their email address --------------------------

FIRST_NAMES = {
    "Alex": ("晓东", "xiaodong"), "Amara": ("雅琳", "yalin"), "Ana": ("安娜", "anna"),
    "Ben": ("斌", "bin"), "Carla": ("佳乐", "jiale"), "Chloe": ("可欣", "kexin"),
    "David": ("大伟", "dawei"), "Diego": ("迪", "di"), "Elena": ("怡然", "yiran"),
    "Farah": ("芳", "fang"), "Felix": ("飞", "fei"), "Grace": ("雅静", "yajing"),
    "Hana": ("涵", "han"), "Hugo": ("浩宇", "haoyu"), "Ines": ("依诺", "yinuo"),
    "Isaac": ("以晨", "yichen"), "Jamal": ("建明", "jianming"), "Jin": ("瑾", "jin"),
    "Julia": ("佳丽", "jiali"), "Karim": ("凯", "kai"), "Laura": ("露", "lu"),
    "Leo": ("磊", "lei"), "Lina": ("丽娜", "lina"), "Marco": ("明轩", "mingxuan"),
    "Mei": ("梅", "mei"), "Mila": ("米兰", "milan"), "Nadia": ("娜", "na"),
    "Nathan": ("楠", "nan"), "Noah": ("诺", "nuo"), "Omar": ("鸥", "ou"),
    "Paula": ("宝莉", "baoli"), "Rafael": ("睿", "rui"), "Rosa": ("蓉", "rong"),
    "Ruth": ("如", "ru"), "Sara": ("思睿", "sirui"), "Sofia": ("书菲", "shufei"),
    "Stefan": ("世峰", "shifeng"), "Tara": ("婷", "ting"), "Theo": ("天佑", "tianyou"),
    "Valeria": ("婉", "wan"), "Victor": ("维", "wei"), "Wei": ("文", "wen"),
    "Yusuf": ("宇", "yu"), "Zoe": ("紫怡", "ziyi"),
}  # fmt: skip
LAST_NAMES = {
    "Adams": ("王", "wang"), "Alvarez": ("李", "li"), "Bauer": ("张", "zhang"),
    "Brooks": ("刘", "liu"), "Campbell": ("陈", "chen"), "Castillo": ("杨", "yang"),
    "Dubois": ("赵", "zhao"), "Eriksen": ("黄", "huang"), "Fischer": ("周", "zhou"),
    "Garcia": ("吴", "wu"), "Gupta": ("徐", "xu"), "Hansen": ("孙", "sun"), "Hughes": ("胡", "hu"),
    "Ito": ("朱", "zhu"), "Jensen": ("高", "gao"), "Kowalski": ("林", "lin"), "Kim": ("何", "he"),
    "Larsen": ("郭", "guo"), "Lopez": ("马", "ma"), "Mensah": ("罗", "luo"),
    "Moreno": ("梁", "liang"), "Murphy": ("宋", "song"), "Nguyen": ("郑", "zheng"),
    "Novak": ("谢", "xie"), "Olsen": ("韩", "han"), "Park": ("唐", "tang"), "Patel": ("冯", "feng"),
    "Quinn": ("于", "yu"), "Rossi": ("董", "dong"), "Santos": ("萧", "xiao"),
    "Schmidt": ("程", "cheng"), "Singh": ("曹", "cao"), "Sato": ("袁", "yuan"),
    "Silva": ("邓", "deng"), "Tanaka": ("石", "shi"), "Turner": ("傅", "fu"), "Varga": ("沈", "shen"),
    "Wagner": ("曾", "zeng"), "Walsh": ("彭", "peng"), "Wong": ("吕", "lv"),
    "Yilmaz": ("苏", "su"), "Zhang": ("卢", "lu"),
}  # fmt: skip
ROLES = {
    "Head of Operations": "运营负责人", "VP Customer Experience": "客户体验副总裁",
    "Director of Analytics": "数据分析总监", "COO": "首席运营官", "Head of Digital": "数字化负责人",
    "Operations Manager": "运营经理", "Product Lead": "产品负责人", "IT Administrator": "IT 管理员",
    "Finance Manager": "财务经理", "Data Analyst": "数据分析师", "Procurement Lead": "采购负责人",
    "CTO": "首席技术官", "Team Lead": "团队主管", "Office Manager": "行政经理",
    "Head of Sales Ops": "销售运营负责人",
}  # fmt: skip
# The demo logins keep their addresses (the command prints them); their names change.
USERS = {
    "Maya Chen": "陈美雅", "Daniel Okafor": "欧丹宁", "Priya Natarajan": "林佩雅",
    "Lucas Moreau": "莫鲁卡", "Emma Lindqvist": "林艾玛", "Tomás Herrera": "贺同默",
    "Aisha Bello": "白爱霞", "Kenji Watanabe": "王健吉", "Sam Rivera": "李善明",
    "Olivia Brandt": "白奥丽",
}  # fmt: skip

# --- What customers, CSMs and the records say ------------------------------------------------

TEXTS = {
    # Survey comments (csm/demo/surveys.py)
    "Too expensive for what we actually use.": "就我们实际用到的功能来说，太贵了。",
    "The price went up again and the value did not.": "价格又涨了，价值却没有提升。",
    "Reports are far too slow, we wait minutes for a dashboard.": "报表太慢了，一个仪表盘要等好几分钟。",
    "The app is slow and times out every Monday morning.": "系统很慢，每周一早上都会超时。",
    "Still missing the Salesforce integration we were promised.": "答应我们的 Salesforce 集成到现在还没有。",
    "Missing features we need: no bulk export, no custom fields.": "缺少我们需要的功能：不能批量导出，也没有自定义字段。",
    "Support takes days to answer and tickets get closed unsolved.": "客服要好几天才回复，工单没解决就被关闭了。",
    "Nobody from support followed up on our outage.": "我们遇到故障后，客服没有任何人跟进。",
    "Onboarding was confusing, half the team never got set up.": "上手过程很混乱，一半的同事一直没配置好。",
    "We never got proper training during onboarding.": "上手阶段我们从没得到像样的培训。",
    "Retainly does the same for half the price.": "Retainly 功能一样，价格只有一半。",
    "Looking at Gainwise, their reporting is better.": "我们在看 Gainwise，他们的报表更好。",
    "Vitalsuite offered us a free migration.": "Vitalsuite 提出免费帮我们迁移。",
    "The interface is clunky and hard to find anything in.": "界面很笨重，什么都很难找到。",
    "No real updates in a year; the product feels abandoned.": "一年没有像样的更新，感觉产品没人管了。",
    "Does the job, but the reports could be faster.": "能用，但报表可以再快一点。",
    "Good product, a bit pricey for a team our size.": "产品不错，对我们这种规模的团队来说有点贵。",
    "Fine overall; the mobile view needs work.": "整体还行，手机端还需要改进。",
    "Useful, though we still miss a proper API.": "挺有用的，不过还缺一个像样的 API。",
    "Support is friendly but slow.": "客服态度很好，就是慢。",
    "Okay. We compared it with Gainwise last quarter.": "还可以。上个季度我们和 Gainwise 做过对比。",
    "Getting started took longer than expected.": "上手花的时间比预期长。",
    "Our CSM is great, always quick to help.": "我们的客户成功经理很棒，总是很快就来帮忙。",
    "The health dashboards changed how we run our week.": "健康度仪表盘改变了我们每周的工作方式。",
    "Easy to use and the team loves the reports.": "简单好用，团队很喜欢这些报表。",
    "Support solved our problem the same day.": "客服当天就解决了我们的问题。",
    "Onboarding was smooth, we were live in a week.": "上手很顺利，一周就上线了。",
    "Great value for the price.": "物超所值。",
    "Switched from Retainly and never looked back.": "从 Retainly 换过来之后就再也没想过回去。",
    # The surveys the survey demo makes when the starting ones are missing (csm/demo/surveys.py)
    "How likely are you to recommend us to a friend?": "您向朋友推荐我们的可能性有多大？",
    "How satisfied are you with the help you got?": "您对得到的帮助满意吗？",
    "Why?": "为什么？",
    # Touches (csm/demo/workflow.py)
    "Weekly check-in: usage steady, no open issues.": "每周例行沟通：使用情况稳定，没有未解决的问题。",
    "Walked through the new reporting features.": "讲解了新的报表功能。",
    "Discussed their rollout to a second team.": "讨论了推广到第二个团队的计划。",
    "Followed up on a support ticket; resolved.": "跟进了一个客服工单，已解决。",
    "Online meeting: product updates and roadmap.": "线上会议：产品更新与路线图。",
    "Tailored training session for new users.": "为新用户做了定制培训。",
    "Quarterly review of goals and results.": "季度目标与成果回顾。",
    "Sent the product update notes.": "发送了产品更新说明。",
    "Shared best practices for dashboards.": "分享了仪表盘的最佳实践。",
    "Usage tips email sent.": "已发送使用建议邮件。",
    # Risk items worked (csm/demo/workflow.py)
    "Outreach worked; usage back on track.": "主动联系奏效，使用情况已恢复正常。",
    "Seasonal dip, nothing to do.": "季节性下滑，无需处理。",
    # Churn notes (csm/demo/churns.py)
    "Budget cut for next year; could not justify the cost.": "明年预算削减，无法说服内部继续付费。",
    "Said the price went up faster than the value.": "客户说价格涨得比价值快。",
    "Team found the dashboards confusing and stopped logging in.": "团队觉得仪表盘看不懂，就不再登录了。",
    "Too many clicks for daily work, per their ops lead.": "据他们的运营负责人说，日常操作点击步骤太多。",
    "Two escalations answered late; lost trust in support.": "两次升级问题都回复得很晚，对客服失去了信任。",
    "Felt they never had a named contact after onboarding.": "感觉上手之后就再没有固定的对接人。",
    "Needed a Salesforce integration we do not have.": "需要我们没有的 Salesforce 集成。",
    "Reports too slow on their data volume.": "在他们的数据量下报表太慢。",
    "Moved to Retainly: bundled with their CRM.": "转投 Retainly：与他们的 CRM 捆绑销售。",
    "Moved to Gainwise: bundled with their CRM.": "转投 Gainwise：与他们的 CRM 捆绑销售。",
    "Moved to Vitalsuite: bundled with their CRM.": "转投 Vitalsuite：与他们的 CRM 捆绑销售。",
    "Retainly offered a year at half price.": "Retainly 给出了首年半价。",
    "Gainwise offered a year at half price.": "Gainwise 给出了首年半价。",
    "Vitalsuite offered a year at half price.": "Vitalsuite 给出了首年半价。",
    "Moved to : bundled with their CRM.": "转投其他产品：与他们的 CRM 捆绑销售。",
    " offered a year at half price.": "竞争对手给出了首年半价。",
    "Small team; needed a spreadsheet, not a platform.": "团队很小，需要的是电子表格，而不是一个平台。",
    "Bought for a project that was cancelled.": "为一个项目采购的，项目后来取消了。",
    "Said nothing new shipped for what they asked for in a year.": "客户说一年来他们提的需求一个都没上线。",
    "Never finished the setup; the champion left in week three.": "一直没完成配置；内部推动人第三周就离职了。",
    "Data import stalled; first report never delivered.": "数据导入卡住了，首份报告一直没交付。",
    "Company acquired; the parent uses another tool.": "公司被收购，母公司用的是另一款工具。",
    "Card expired; three payment reminders unanswered.": "信用卡过期，三次付款提醒都没有回应。",
    "Payment failed twice; finance never updated the card.": "两次扣款失败，财务一直没有更新付款卡。",
}
