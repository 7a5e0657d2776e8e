"""The settings object: config.toml, validated once, with the environment overrides of docs/config.md §12.

``load_settings(path)`` is the only way in. A bad file raises :class:`ConfigError` naming the key and
the file, in Vietnamese then English; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tracker.calendar import cluster_short_name
from tracker.errors import ConfigError
from tracker.text import nfc

DEFAULT_CONFIG = "config.toml"
JOB_NAMES = ("pull", "weekly-report", "reminders", "review-pack", "backup")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Head(_Strict):
    name: str
    emails: list[str] = Field(min_length=1)


class Cluster(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")]
    name: str = Field(min_length=1)
    year: int = Field(ge=2000, le=2100)
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    report_deadline: str = "fri 17:00"
    head: Head

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("report_deadline")
    @classmethod
    def _deadline_shape(cls, v: str) -> str:
        parse_weekly_deadline(v)
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def deadline(self) -> tuple[int, time]:
        """(ISO weekday 1–7, local time) of the weekly reporting deadline."""
        return parse_weekly_deadline(self.report_deadline)


class District(_Strict):
    code: str
    name: str = Field(min_length=1)
    emails: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code_shape(cls, v: str) -> str:
        if not _CODE.match(v):
            raise ValueError("a district code is 1–20 letters, digits, '-' or '_'")
        return v


class Indicator(_Strict):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    unit: str = ""
    kind: Literal["count", "amount"] = "count"
    weight: float = Field(default=1.0, gt=0)
    deadline: str | None = None

    @field_validator("deadline")
    @classmethod
    def _month_day(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = re.fullmatch(r"(\d{2})-(\d{2})", v)
        if not m:
            raise ValueError("deadline is written MM-DD, e.g. 05-31")
        from datetime import date

        try:
            date(2024, int(m.group(1)), int(m.group(2)))  # a leap year admits 02-29
        except ValueError as exc:
            raise ValueError(f"no such day {v}") from exc
        return v


class Thresholds(_Strict):
    behind_ratio: float = Field(default=0.8, gt=0, le=1)
    score_cap: float = Field(default=1.2, ge=1)


class Scoring(_Strict):
    method: Literal["capped", "leader"] = "capped"


class Database(_Strict):
    url: str = "sqlite:///data/tracker.db"

    @field_validator("url")
    @classmethod
    def _usable_url(cls, v: str) -> str:
        from tracker.db import url_problem  # sqlalchemy: only when a config is validated

        if problem := url_problem(v):
            # Keyed, so the message never repeats the URL (it may hold a password).
            raise _KeyedError("database.url", *problem)
        return v


class Paths(_Strict):
    inbox: Path = Path("data/inbox")
    archive: Path = Path("data/archive")
    quarantine: Path = Path("data/quarantine")
    reports: Path = Path("reports")

    @property
    def outbox(self) -> Path:
        return self.reports / "outbox"


Security = Literal["ssl", "starttls", "none"]


class Mail(_Strict):
    host: str = ""
    port: int = Field(default=465, ge=1, le=65535)
    security: Security = "ssl"
    user: str = ""
    sender: str = "tracker@example.org"
    timeout: float = Field(default=30, gt=0)
    ca_file: Path | None = None  # PEM bundle to trust for ssl/starttls (a private or self-signed CA)
    password: str | None = Field(default=None, exclude=True, repr=False)  # env/keyring only

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class Mailbox(_Strict):
    host: str = ""
    port: int = Field(default=993, ge=1, le=65535)
    security: Security = "ssl"
    user: str = ""
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    password: str | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _processed_elsewhere(self) -> Mailbox:
        if same_folder(self.folder, self.processed_folder):
            raise _KeyedError(
                "mailbox.processed_folder",
                f"phải khác thư mục đọc thư `folder` ({self.folder!r}): nếu trùng, mỗi lần nhận lại đọc đúng các "
                f"thư đó và từ chối lại", f"must differ from `folder` ({self.folder!r}): otherwise every pull "
                f"reads the same messages again and repeats the rejections")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def same_folder(a: str, b: str) -> bool:
    """Whether two IMAP folder names are one folder: INBOX in any case is the inbox (RFC 3501 §5.1); other
    names are compared as written, as servers may tell them apart by case."""
    return a.upper() == b.upper() == "INBOX" or a == b


class Schedule(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    pull: list[str] = Field(default_factory=lambda: ["0 6 * * *", "30 7 * * mon"])
    weekly_report: list[str] = Field(default_factory=lambda: ["0 8 * * mon"], alias="weekly-report")
    reminders: list[str] = Field(default_factory=lambda: ["0 9 * * fri"])
    review_pack: list[str] = Field(default_factory=lambda: ["0 8 5 1,7 *"], alias="review-pack")
    backup: list[str] = Field(default_factory=lambda: ["30 23 * * *"])
    misfire_grace_time: int = Field(default=6 * 3600, ge=1)  # seconds

    @field_validator("pull", "weekly_report", "reminders", "review_pack", "backup", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("pull", "weekly_report", "reminders", "review_pack", "backup")
    @classmethod
    def _valid_cron(cls, v: list[str]) -> list[str]:
        for expr in v:
            cron_fields(expr)
        return v

    def crons(self, job: str) -> list[str]:
        return getattr(self, job.replace("-", "_"))


class Backup(_Strict):
    """``[backup]``: where ``tracker backup`` writes (relative to the config's folder) and how many it keeps."""

    dir: Path = Path("data/backups")
    keep: int = Field(default=14, ge=1)


class Web(_Strict):
    """``[web]``: where the portal is reached from outside (docs/config.md §18), so messages can carry links."""

    base_url: str = ""  # e.g. https://thidua.example.org; empty: messages carry no portal link

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        from urllib.parse import urlsplit

        if not v:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise _KeyedError("web.base_url", "phải là địa chỉ http:// hoặc https:// của cổng web (ví dụ "
                              f"https://thidua.example.org), hoặc để trống; nhận được {v!r}",
                              "must be the portal's http:// or https:// address (e.g. https://thidua.example.org), "
                              f"or empty; got {v!r}")
        return v.rstrip("/")  # links are built as base_url + "/d/<token>"


class Documents(_Strict):
    """Who issues and signs the official documents (docs/config.md §15). Every key is optional: a blank
    ``issuer`` is the cluster's short name, a blank ``signer_name`` a dotted line to fill in."""

    issuer_parent: str = ""
    issuer: str = ""
    place: str = ""
    number_code: str = "BC"
    signer_on_behalf: str = ""
    signer_title: str = "CỤM TRƯỞNG"
    signer_name: str = ""
    recipients: list[str] = Field(default_factory=list)

    @field_validator("issuer_parent", "issuer", "place", "number_code", "signer_on_behalf", "signer_title",
                     "signer_name")
    @classmethod
    def _nfc(cls, v: str) -> str:
        return nfc(v)

    @field_validator("number_code")
    @classmethod
    def _code_shape(cls, v: str) -> str:
        if not re.fullmatch(r"[^\s/]{1,30}", v):
            raise _KeyedError("documents.number_code", "ký hiệu viết liền, không có dấu cách hay '/', ví dụ BC-CTĐ1",
                              "the number code is written without spaces or '/', e.g. BC-CTĐ1")
        return v

    @field_validator("recipients")
    @classmethod
    def _recipient_lines(cls, v: list[str]) -> list[str]:
        out = []
        for line in v:
            line = nfc(line).strip().lstrip("-").strip().rstrip(";.").strip()
            if not line:
                raise _KeyedError("documents.recipients", "có một nơi nhận để trống", "a recipient is blank")
            if line.casefold().startswith("lưu"):
                raise _KeyedError("documents.recipients", "dòng `Lưu: VT.` được thêm vào mọi văn bản, không ghi "
                                  "vào danh sách", "'Lưu: VT.' is added to every document; leave it out of the list")
            out.append(line)
        return out


class AssessmentAward(_Strict):
    name: str = Field(min_length=1)
    count: int = Field(ge=1)


class AssessmentCriterion(_Strict):
    code: str = Field(min_length=1, max_length=20)
    group: str = ""
    label: str = Field(min_length=1)
    points: float = Field(gt=0)
    source: str = "manual"  # manual | reporting | indicator:<key> (checked with the indicators, below)


class AssessmentExtra(_Strict):
    """A bonus (điểm thưởng) or penalty (điểm trừ) line, scored 0..max by hand."""

    code: str = Field(min_length=1, max_length=20)
    label: str = Field(min_length=1)
    max: float = Field(gt=0)


class Assessment(_Strict):
    """The cluster's scoring table (thang điểm) for the year-end assessment (docs/assessment.md §1)."""

    total_points: float = Field(default=100, gt=0)
    awards: list[AssessmentAward] = Field(default_factory=list)
    criteria: list[AssessmentCriterion] = Field(default_factory=list)
    bonus: list[AssessmentExtra] = Field(default_factory=list)
    penalty: list[AssessmentExtra] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.criteria)

    @property
    def points_sum(self) -> float:
        return sum(c.points for c in self.criteria)


class Settings(_Strict):
    cluster: Cluster
    districts: list[District] = Field(min_length=1)
    indicators: list[Indicator] = Field(min_length=1)
    targets: dict[str, dict[str, float]] = Field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    scoring: Scoring = Scoring()
    database: Database = Database()
    paths: Paths = Paths()
    mail: Mail = Mail()
    mailbox: Mailbox = Mailbox()
    schedule: Schedule = Schedule()
    backup: Backup = Backup()
    documents: Documents = Documents()
    web: Web = Web()
    assessment: Assessment = Assessment()
    # Where the file was read from; relative paths were resolved against its folder.
    source: Path = Field(default=Path(DEFAULT_CONFIG), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _issuer_from_cluster(cls, raw: Any) -> Any:
        """A blank ``documents.issuer`` is the cluster's short name in upper case (``CỤM THI ĐUA SỐ 1``)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("cluster"), dict):
            return raw
        documents = raw.get("documents", {})
        if isinstance(documents, dict) and not str(documents.get("issuer") or "").strip():
            issuer = cluster_short_name(str(raw["cluster"].get("name") or "")).upper()
            raw = {**raw, "documents": {**documents, "issuer": issuer}}
        return raw

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        seen: dict[str, int] = {}
        for i, d in enumerate(self.districts):
            if d.code.upper() in seen:
                raise _KeyedError(f"districts[{i}].code", f"mã đơn vị {d.code!r} bị trùng",
                                  f"duplicate district code {d.code!r}")
            seen[d.code.upper()] = i
        keys: set[str] = set()
        for i, ind in enumerate(self.indicators):
            if ind.key in keys:
                raise _KeyedError(f"indicators[{i}].key", f"mã chỉ tiêu {ind.key!r} bị trùng",
                                  f"duplicate indicator key {ind.key!r}")
            keys.add(ind.key)
        codes = {d.code for d in self.districts}
        for code, values in self.targets.items():
            if code not in codes:
                raise _KeyedError(f"targets.{code}", f"không có đơn vị mã {code!r} trong [[districts]]",
                                  f"no district with code {code!r} in [[districts]]")
            for key, value in values.items():
                if key not in keys:
                    raise _KeyedError(f"targets.{code}.{key}",
                                      f"không có chỉ tiêu mã {key!r} trong [[indicators]]",
                                      f"no indicator with key {key!r} in [[indicators]]")
                if value < 0:
                    raise _KeyedError(f"targets.{code}.{key}", "chỉ tiêu phải là số không âm",
                                      "a target must be a number ≥ 0")
                if self.indicator(key).kind == "count" and not float(value).is_integer():
                    raise _KeyedError(f"targets.{code}.{key}", "chỉ tiêu đếm phải là số nguyên",
                                      "a count target must be a whole number")
        _check_assessment(self.assessment, keys)
        return self

    # Lookups used everywhere
    def district(self, code: str) -> District:
        for d in self.districts:
            if d.code == code:
                return d
        raise KeyError(code)

    def indicator(self, key: str) -> Indicator:
        for ind in self.indicators:
            if ind.key == key:
                return ind
        raise KeyError(key)

    @property
    def tz(self) -> ZoneInfo:
        return self.cluster.tz


def _check_assessment(a: Assessment, indicator_keys: set[str]) -> None:
    """Codes unique across criteria, bonus and penalty; indicator sources name a configured indicator."""
    seen: set[str] = set()
    lines = [("criteria", i, c.code) for i, c in enumerate(a.criteria)]
    lines += [(part, i, e.code) for part in ("bonus", "penalty") for i, e in enumerate(getattr(a, part))]
    for part, i, code in lines:
        if code in seen:
            raise _KeyedError(f"assessment.{part}[{i}].code", f"mã tiêu chí {code!r} bị trùng",
                              f"duplicate criterion code {code!r}")
        seen.add(code)
    for i, c in enumerate(a.criteria):
        key = c.source.removeprefix("indicator:") if c.source.startswith("indicator:") else None
        if key is None and c.source not in ("manual", "reporting"):
            raise _KeyedError(f"assessment.criteria[{i}].source",
                              f"nguồn điểm {c.source!r} không hợp lệ "
                              "(ghi manual, reporting hoặc indicator:<mã chỉ tiêu>)",
                              f"unknown source {c.source!r} (write manual, reporting or indicator:<key>)")
        if key is not None and key not in indicator_keys:
            raise _KeyedError(f"assessment.criteria[{i}].source", f"không có chỉ tiêu mã {key!r} trong [[indicators]]",
                              f"no indicator with key {key!r} in [[indicators]]")


class _KeyedError(ValueError):
    """A cross-field error that knows which key it is about."""

    def __init__(self, key: str, vi: str, en: str):
        self.key, self.vi, self.en = key, vi, en
        super().__init__(en)


def parse_weekly_deadline(text: str) -> tuple[int, time]:
    """``"fri 17:00"`` → (5, 17:00)."""
    m = re.fullmatch(r"\s*([A-Za-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*", text)
    if not m or m.group(1).lower() not in _WEEKDAYS:
        raise ValueError("write the weekly deadline as a weekday and a time, e.g. 'fri 17:00'")
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(f"no such time {m.group(2)}:{m.group(3)}")
    return _WEEKDAYS.index(m.group(1).lower()) + 1, time(hour, minute)


_CRON_NUM_DOW = re.compile(r"\d")


def cron_fields(expr: str) -> dict[str, str]:
    """A standard 5-field crontab line as APScheduler 3.x CronTrigger keyword arguments.

    Numeric weekdays are read the crontab way (0 or 7 = Sunday, 1 = Monday) and written as names,
    because APScheduler 3.x counts 0 = Monday (``from_crontab("0 8 * * 1")`` fires on Tuesday).
    Raises ValueError for anything APScheduler would not accept.
    """
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError(f"{expr!r} is not a 5-field cron expression (minute hour day month weekday)")
    minute, hour, day, month, dow = parts
    crontab_days = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def name(tok: str) -> str:
        if tok.isdigit():
            n = int(tok)
            if n > 7:
                raise ValueError(f"weekday {n} out of range 0–7 in {expr!r}")
            return crontab_days[n]
        return tok

    def translate(item: str) -> str:
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if "-" in item:
            a, b = item.split("-", 1)
            return f"{name(a)}-{name(b)}{step}"
        return name(item) + step

    if _CRON_NUM_DOW.search(dow) and dow != "*":
        dow = ",".join(translate(item) for item in dow.split(","))
    fields = {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow}
    from apscheduler.triggers.cron import CronTrigger  # light; only when a config is validated

    try:
        CronTrigger(**fields, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from exc
    return fields


def _env_overrides(raw: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """Apply the environment overrides; returns {config key: the variable that set it}, for error messages."""
    used: dict[str, str] = {}
    if url := env.get("TRACKER_DATABASE_URL"):
        raw.setdefault("database", {})["url"] = url
        used["database.url"] = "TRACKER_DATABASE_URL"
    for prefix, section in (("TRACKER_SMTP_", "mail"), ("TRACKER_IMAP_", "mailbox")):
        sect = raw.setdefault(section, {})
        for name in ("host", "port", "security", "user", "password"):
            value = env.get(prefix + name.upper())
            if value is not None:
                sect[name] = value
                used[f"{section}.{name}"] = prefix + name.upper()
    if (ca_file := env.get("TRACKER_SMTP_CA_FILE")) is not None:
        raw.setdefault("mail", {})["ca_file"] = ca_file
        used["mail.ca_file"] = "TRACKER_SMTP_CA_FILE"
    if (base_url := env.get("TRACKER_WEB_BASE_URL")) is not None:
        raw.setdefault("web", {})["base_url"] = base_url
        used["web.base_url"] = "TRACKER_WEB_BASE_URL"
    return used


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_VI_ERRORS = {
    "missing": "thiếu khoá bắt buộc",
    "extra_forbidden": "khoá không được hỗ trợ (gõ sai tên?)",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "string_type": "phải là chuỗi ký tự",
    "list_type": "phải là danh sách",
    "dict_type": "phải là một bảng",
    "model_type": "phải là một bảng",
    "literal_error": "giá trị không hợp lệ",
    "string_pattern_mismatch": "sai định dạng",
    "too_short": "không được để trống",
    "greater_than": "giá trị quá nhỏ",
    "greater_than_equal": "giá trị quá nhỏ",
    "less_than_equal": "giá trị quá lớn",
    "bool_parsing": "phải là true hoặc false",
}


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, override from the environment, resolve paths, validate. Raises ConfigError."""
    env = dict(os.environ) if env is None else env
    path = Path(path or env.get("TRACKER_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "-", "không tìm thấy tệp cấu hình", "the config file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", f"tệp không đúng cú pháp TOML ({exc})",
                          f"the file is not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "-", f"không đọc được tệp ({exc})", f"cannot read the file ({exc})") from None
    for section in ("mail", "mailbox"):
        if isinstance(raw.get(section), dict) and "password" in raw[section]:
            which = "TRACKER_SMTP_PASSWORD" if section == "mail" else "TRACKER_IMAP_PASSWORD"
            raise ConfigError(path, f"{section}.password",
                              f"không ghi mật khẩu trong tệp cấu hình; đặt biến môi trường {which}",
                              f"passwords are not kept in the config file; set {which}")
    from_env = _env_overrides(raw, env)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _KeyedError):
            raise ConfigError(path, ctx_error.key, ctx_error.vi, ctx_error.en, env=from_env.get(ctx_error.key)
                              ) from None
        key = _loc(err["loc"]) or "-"
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
        vi = _VI_ERRORS.get(err["type"], "giá trị không hợp lệ")
        if err["type"] not in _VI_ERRORS or err["type"] == "value_error":
            vi = f"{vi}: {err['msg']}"
        raise ConfigError(path, key, vi, f"{err['msg']}{got}", env=from_env.get(key)) from None
    return _resolve(settings, path.resolve())


def _resolve(settings: Settings, path: Path) -> Settings:
    base = path.parent

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    paths = Paths(**{k: absolute(v) for k, v in settings.paths.model_dump().items()})
    url = settings.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = "sqlite:///" + str(absolute(Path(url.removeprefix("sqlite:///"))))
    mail = settings.mail
    if mail.ca_file is not None:
        mail = mail.model_copy(update={"ca_file": absolute(mail.ca_file)})
    backup = settings.backup.model_copy(update={"dir": absolute(settings.backup.dir)})
    return settings.model_copy(update={"paths": paths, "database": Database(url=url), "mail": mail, "backup": backup,
                                       "source": path})
