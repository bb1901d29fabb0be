"""The demo: one policy from the sample district plan, end to end to the outbox.

The data is written here (not read from ../shared at run time): Kế hoạch
06/KH-UBND (16/01/2024) of a district People's Committee, which asks that at
least 70% of high-impact draft policies be communicated from consultation to
issue, on the portal and on fanpages.  Its dates are moved to today, so the
rendered post reads as a live consultation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from . import posts, resources, service
from .dispatch import Dispatcher
from .errors import ConfigError, NotFound
from .models import Delivery, Policy, utcnow
from .render.infographic import InfographicData
from .store import deliveries as store_deliveries
from .store.engine import read

if TYPE_CHECKING:
    from .context import App

AUTHOR = "can-bo-truyen-thong"
APPROVER = "lanh-dao-phe-duyet"
CODE = "06/KH-UBND"
TITLE = ("Kế hoạch thực hiện Đề án “Tổ chức truyền thông chính sách có tác động lớn đến xã hội trong quá trình "
         "xây dựng văn bản quy phạm pháp luật giai đoạn 2022 - 2027” năm 2024")
DRAFT_URL = "https://example.gov.vn/du-thao/06-kh-ubnd"
KEY_POINTS = (
    "Ít nhất 70% chính sách có tác động lớn được truyền thông từ khi lấy ý kiến đến khi ban hành",
    "Nội dung dự thảo đăng ngắn gọn, dễ hiểu trên Trang Thông tin điện tử và Fanpage",
    "Bố trí công chức chuyên trách và kinh phí cho truyền thông chính sách",
    "Tập huấn kỹ năng truyền thông dự thảo chính sách cho cán bộ cơ sở",
)
AFFECTED = "Nhân dân, tổ chức, doanh nghiệp và cán bộ, công chức trên địa bàn huyện"
COMMENT_HOW = "Gửi ý kiến qua Trang Thông tin điện tử của huyện hoặc trực tiếp tại UBND xã, thị trấn"
SUMMARY = ("Bảo đảm từ 70% chính sách có tác động lớn đến xã hội được truyền thông từ khi lấy ý kiến đối với đề "
           "nghị xây dựng văn bản quy phạm pháp luật đến khi thông qua, ban hành; nội dung dự thảo được đăng đầy "
           "đủ, ngắn gọn, dễ hiểu trên Trang Thông tin điện tử và Fanpage của cơ quan, ban, ngành, địa phương.")


def infographic_sample() -> InfographicData:
    """The demo's infographic data, fixed: golden images and the render benchmark draw it."""
    return InfographicData(
        title=TITLE,
        points=(
            "Bảo đảm từ 70% chính sách có tác động lớn đến xã hội được truyền thông từ khi lấy ý kiến "
            "đến khi ban hành.",
            "Đăng đầy đủ dự thảo trên Trang Thông tin điện tử và Fanpage của cơ quan.",
            "Nội dung ngắn gọn, dễ hiểu; có infographic, video, hỏi – đáp.",
            "Tiếp nhận, giải trình ý kiến góp ý của Nhân dân đúng hạn.",
        ),
        affected="Cơ quan, tổ chức, cá nhân trên địa bàn huyện; cán bộ làm công tác xây dựng văn bản "
                 "quy phạm pháp luật.",
        how_to_comment="Gửi ý kiến trên Trang Thông tin điện tử của huyện (mục Lấy ý kiến dự thảo) hoặc gửi văn bản "
                       "về Phòng Tư pháp.",
        deadline="Hạn góp ý: hết ngày 31 tháng 12 năm 2026",
        agency="Ủy ban nhân dân huyện Thử Nghiệm",
        logo=resources.assets() / "logos" / "logo-mau.png",
        qr_url=DRAFT_URL,
    )


@dataclass(frozen=True)
class DemoResult:
    policy: Policy
    post_id: int
    deliveries: list[Delivery]


def run(app: App) -> DemoResult:
    """Register, write, approve, queue and publish one post; returns what happened."""
    agency, channels = _outbox_channels(app)
    policy = _policy(app, agency)
    post = posts.new_post(app, AUTHOR, {"policy": policy.code, "agency": agency, "template": "moi-gop-y",
                                        "channels": channels, "at": "now", "infographics": ["vuong"]},
                          source="demo")
    ids = posts.approve(app, APPROVER, post.id)
    Dispatcher(app, "demo").run_once()
    with read(app.engine) as conn:
        found = [store_deliveries.get(conn, i) for i in ids]
    return DemoResult(policy=policy, post_id=post.id, deliveries=[d for d in found if d])


def _outbox_channels(app: App) -> tuple[str, list[str]]:
    for agency in app.config.agencies:
        names = [c.name for c in app.config.channels.values()
                 if c.agency == agency and c.type == "outbox" and c.enabled]
        if names:
            return agency, names
    raise ConfigError("demo.no_outbox", path="channels")


def _policy(app: App, agency: str) -> Policy:
    try:
        return service.get_policy(app, CODE, agency)
    except NotFound:
        today = utcnow().astimezone(app.config.timezone).date()
        return service.add_policy(app, AUTHOR, {
            "agency": agency, "code": CODE, "title": TITLE, "summary": SUMMARY, "impact": "high",
            "consultation_opens": today, "consultation_closes": today + timedelta(days=30),
            "draft_url": DRAFT_URL, "key_points": list(KEY_POINTS), "affected": AFFECTED,
            "comment_how": COMMENT_HOW,
        }, source="demo")
