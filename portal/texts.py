"""The portal's words in its two languages; the offence itself is worded by pipeline.offences."""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.offences import Language

TEXTS: Mapping[str, Mapping[Language, str]] = {
    "title": {"zh-CN": "交通违法查询", "en": "Traffic fine"},
    "intro": {
        "zh-CN": "请输入短信中的通知书编号和查询码。",
        "en": "Enter the notice number and PIN from your SMS.",
    },
    "notice_number": {"zh-CN": "通知书编号", "en": "Notice number"},
    "pin": {"zh-CN": "查询码", "en": "PIN"},
    "open": {"zh-CN": "查看", "en": "Open"},
    "wrong": {
        "zh-CN": "通知书编号或查询码不正确。",
        "en": "The notice number or PIN is not right.",
    },
    "wait": {
        "zh-CN": "尝试次数过多，请{seconds}秒后再试。",
        "en": "Too many tries: try again in {seconds} s.",
    },
    "logout": {"zh-CN": "退出", "en": "Log out"},
    "what": {"zh-CN": "违法情况", "en": "What was seen"},
    "where": {"zh-CN": "地点", "en": "Where"},
    "when": {"zh-CN": "时间", "en": "When"},
    "fine": {"zh-CN": "罚款", "en": "Fine"},
    "pay_by": {"zh-CN": "缴款期限", "en": "Pay by"},
    "appeal_by": {"zh-CN": "申诉期限", "en": "Contest by"},
    "status": {"zh-CN": "状态", "en": "Status"},
    "contest": {"zh-CN": "申诉", "en": "Contest this fine"},
    "reason": {"zh-CN": "申诉理由", "en": "Why you contest it"},
    "attach": {
        "zh-CN": "附件（照片或PDF，可选）",
        "en": "Attach a photo or PDF (optional)",
    },
    "send": {"zh-CN": "提交申诉", "en": "Send the appeal"},
    "appealed": {
        "zh-CN": "您的申诉已于{when}提交，正在由交警审核。",
        "en": "Your appeal of {when} is with a police supervisor.",
    },
    "filed": {"zh-CN": "申诉已提交。", "en": "Your appeal has been sent."},
    "pay": {"zh-CN": "缴纳罚款", "en": "Pay the fine"},
    "evidence": {"zh-CN": "违法过程录像和照片", "en": "The video and pictures"},
    "evidence_note": {
        "zh-CN": "红框为被记录的车辆或行人；其他人员和车牌已作模糊处理。",
        "en": "The red box marks what was recorded; other people and plates are blurred.",
    },
    "evidence_pending": {
        "zh-CN": "录像和照片正在准备中，请稍后再来查看。",
        "en": "The video and pictures are being prepared: please look again later.",
    },
    "key_frame:stop_line": {"zh-CN": "越过停止线", "en": "Crossing the stop line"},
    "key_frame:entry_line": {"zh-CN": "驶入路口", "en": "Entering the junction"},
    "key_frame:entered": {"zh-CN": "进入车行道", "en": "Stepping onto the road"},
    "key_frame:on_road": {"zh-CN": "在车行道上", "en": "On the road"},
    "nominate": {"zh-CN": "驾驶人不是我", "en": "Someone else was driving"},
    "nominee_name": {"zh-CN": "驾驶人姓名", "en": "Driver's name"},
    "nominee_id": {"zh-CN": "驾驶人身份证号", "en": "Driver's ID number"},
    "nominee_phone": {"zh-CN": "驾驶人电话", "en": "Driver's phone"},
    "nominate_send": {"zh-CN": "提交驾驶人信息", "en": "Name the driver"},
    "paid": {
        "zh-CN": "谢谢。支付机构确认后，状态将显示为已缴款。",
        "en": "Thank you. The status says paid once the payment provider confirms it.",
    },
    "no_payments": {
        "zh-CN": "本网站不受理缴款，请按通知书的方式缴纳。",
        "en": "This site takes no payments: pay as your notice says.",
    },
    "not_payable": {"zh-CN": "此案件无需缴款。", "en": "Nothing is to be paid on this case."},
    "pay_later": {
        "zh-CN": "暂时无法连接支付机构，请稍后再试。",
        "en": "The payment provider cannot be reached: please try again later.",
    },
}

STATUSES: Mapping[str, Mapping[Language, str]] = {
    "approved": {"zh-CN": "待缴款", "en": "To pay"},
    "notified": {"zh-CN": "待缴款", "en": "To pay"},
    "displayed": {"zh-CN": "待缴款", "en": "To pay"},
    "delivery_failed": {"zh-CN": "待缴款", "en": "To pay"},
    "appealed": {"zh-CN": "申诉审核中", "en": "Appeal under review"},
    "upheld": {"zh-CN": "申诉未获支持，待缴款", "en": "Appeal refused: to pay"},
    "dismissed": {"zh-CN": "已撤销", "en": "Cancelled"},
    "paid": {"zh-CN": "已缴款", "en": "Paid"},
}
