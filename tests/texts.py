"""Sample articles for the comparison tests, written for these tests (not copied from any page)."""

from __future__ import annotations

EN = [
    "A new computing centre opened on Monday in the port district, the city government said.",
    "The centre is designed for a peak capacity of several thousand petaflops and will serve "
    "universities, hospitals and small firms that cannot afford machines of their own.",
    "Officials said the project had taken three years to plan and two years to build, and that "
    "its running costs would be shared between the district and the operator.",
    "Critics pointed to the electricity the centre will draw in summer, when the regional grid is "
    "already close to its limits, and asked for the cooling plans to be published.",
    "The operator answered that waste heat would warm nearby offices in winter and that a solar "
    "farm on the harbour roofs would cover part of the daytime load.",
    "A second phase, twice the size of the first, is planned for the end of next year if demand "
    "from local companies grows as expected.",
]

EN_OTHER = [
    "The harbour ferry will run every twenty minutes during the summer festival, the port authority "
    "announced on Friday, after complaints about crowded boats last year.",
    "Tickets can be bought on board or at the kiosks near the fish market, and children under six "
    "travel free when accompanied by an adult.",
    "The authority also said that two older boats will be retired in autumn and replaced by electric "
    "vessels built at a yard further up the coast.",
    "Residents of the islands welcomed the news but asked for the last evening crossing to leave later "
    "than nine o'clock on weekends.",
]

ZH = [
    "本市港区的一座新计算中心于周一正式启用，市政府表示，这是该地区规模最大的计算设施之一。",
    "该中心设计的峰值算力达到数千千万亿次，将为大学、医院以及无力自建机房的小企业提供服务。",
    "官员介绍，项目规划用了三年，建设用了两年，运营费用将由区政府和运营方共同承担。",
    "也有人担心夏季用电高峰时电网负荷紧张，要求公开冷却方案和能耗数据。",
    "运营方回应说，冬季余热将用于附近办公楼供暖，港口屋顶的太阳能电站也将分担部分白天用电。",
    "如果本地企业的需求如预期增长，规模是一期两倍的二期工程计划于明年年底开工。",
]

ZH_OTHER = [
    "港务局周五宣布，夏季节日期间轮渡将每二十分钟一班，以缓解去年游客拥挤的问题。",
    "乘客可以在船上或鱼市附近的售票亭购票，六岁以下儿童在成人陪同下免费乘坐。",
    "港务局还表示，两艘旧船将于秋季退役，由沿海船厂建造的电动船只替代。",
    "岛上居民对此表示欢迎，但希望周末最后一班轮渡能推迟到晚上九点以后。",
]


def text(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)
