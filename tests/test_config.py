"""The settings object: the sample config loads; every kind of bad config names its key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CONFIG
from tracker.config import ConfigError, cron_fields, load_settings


def test_the_sample_config_loads_with_six_districts_and_five_indicators():
    s = load_settings(SAMPLE_CONFIG, env={})
    assert [d.code for d in s.districts] == ["HBT", "HM", "BD", "LB", "HK", "DD"]
    assert [i.key for i in s.indicators] == ["new_unions", "agreements", "congresses", "new_members",
                                             "union_fees"]
    assert s.indicator("congresses").deadline == "05-31"
    assert s.indicator("union_fees").kind == "amount"
    assert set(s.targets) == {"HBT", "HM", "BD", "LB", "HK", "DD"}
    assert all(len(v) == 5 for v in s.targets.values())
    assert s.cluster.deadline[0] == 5  # Friday


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    path = tmp_path / "sub" / "c.toml"
    path.parent.mkdir()
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    s = load_settings(path, env={})
    assert s.paths.inbox == path.parent / "data" / "inbox"
    assert s.paths.outbox == path.parent / "reports" / "outbox"
    assert s.database.url == f"sqlite:///{path.parent / 'data' / 'tracker.db'}"
    assert s.backup.dir == path.parent / "data" / "backups"


def test_backups_default_to_data_backups_kept_14_nightly_at_23_30(tmp_path):
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text[:text.index("[backup]")].replace('backup = "30 23 * * *"', "")
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    s = load_settings(path, env={})
    assert (s.backup.dir, s.backup.keep) == (tmp_path / "data" / "backups", 14)
    assert s.schedule.crons("backup") == ["30 23 * * *"]
    absolute = text + '\n[backup]\ndir = "/mnt/usb/sao-luu"\nkeep = 30\n'
    path.write_text(absolute, encoding="utf-8")
    s = load_settings(path, env={})
    assert (s.backup.dir, s.backup.keep) == (Path("/mnt/usb/sao-luu"), 30)


def test_environment_overrides_database_and_mail():
    env = {"TRACKER_DATABASE_URL": "postgresql+psycopg://u@h/db", "TRACKER_SMTP_HOST": "smtp.example.org",
           "TRACKER_SMTP_PORT": "587", "TRACKER_SMTP_SECURITY": "starttls", "TRACKER_SMTP_USER": "me",
           "TRACKER_SMTP_PASSWORD": "secret", "TRACKER_IMAP_HOST": "imap.example.org",
           "TRACKER_IMAP_PASSWORD": "pw2"}
    s = load_settings(SAMPLE_CONFIG, env=env)
    assert s.database.url == "postgresql+psycopg://u@h/db"
    assert (s.mail.host, s.mail.port, s.mail.security, s.mail.user) == ("smtp.example.org", 587, "starttls", "me")
    assert s.mail.password == "secret" and s.mailbox.password == "pw2" and s.mailbox.host == "imap.example.org"
    assert "secret" not in repr(s.mail)


def test_the_config_path_comes_from_tracker_config(tmp_path):
    path = tmp_path / "other.toml"
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_settings(None, env={"TRACKER_CONFIG": str(path)}).source == path.resolve()


def _bad(tmp_path: Path, old: str, new: str) -> ConfigError:
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "key", "vi_fragment"),
    [
        ('id = "cum-1"\n', "", "cluster.id", "thiếu khoá"),
        ("year = 2023", 'year = "năm nay"', "cluster.year", "số nguyên"),
        ('code = "HM"', 'code = "HBT"', "districts[1].code", "bị trùng"),
        ("[targets.DD]", "[targets.XX]", "targets.XX", "không có đơn vị"),
        ("new_unions = 30\nagreements = 20\ncongresses = 55", "new_unionz = 30\nagreements = 20\ncongresses = 55",
         "targets.DD.new_unionz", "không có chỉ tiêu"),
        ('weekly-report = "0 8 * * mon"', 'weekly-report = "0 25 * * mon"', "schedule.weekly-report", ""),
        ('weekly-report = "0 8 * * mon"', 'weekly-report = "every monday"', "schedule.weekly-report", ""),
        ('security = "ssl"                     # ssl | starttls | none\nuser = ""\nsender',
         'security = "tls"\nuser = ""\nsender', "mail.security", "không hợp lệ"),
        ('kind = "amount"', 'kind = "money"', "indicators[4].kind", "không hợp lệ"),
        ('deadline = "05-31"', 'deadline = "31/05"', "indicators[2].deadline", "MM-DD"),
        ('report_deadline = "fri 17:00"', 'report_deadline = "friday at five"', "cluster.report_deadline", ""),
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi_City"', "cluster.timezone", ""),
        ("behind_ratio = 0.8", "behind_ratio = 1.5", "thresholds.behind_ratio", "quá lớn"),
        ('user = ""\nsender', 'user = ""\npassword = "x"\nsender', "mail.password", "mật khẩu"),
        ('[database]', '[databse]', "databse", "không được hỗ trợ"),
        ('method = "capped"', 'method = "best"', "scoring.method", "không hợp lệ"),
        ("keep = 14", "keep = 0", "backup.keep", "quá nhỏ"),
        ('dir = "data/backups"', "dir = 5", "backup.dir", "không hợp lệ"),
        ('backup = "30 23 * * *"', 'backup = "30 24 * * *"', "schedule.backup", ""),
        ("[backup]", "[backups]", "backups", "không được hỗ trợ"),
        ('source = "indicator:agreements"', 'source = "computed"', "assessment.criteria[1].source", "không hợp lệ"),
        ('source = "indicator:agreements"', 'source = "indicator:agreementz"', "assessment.criteria[1].source",
         "không có chỉ tiêu"),
        ('code = "2.2"', 'code = "1.1"', "assessment.criteria[7].code", "bị trùng"),
        ('code = "T1"', 'code = "2.1"', "assessment.bonus[0].code", "bị trùng"),
        ("points = 10\nsource", "points = 0\nsource", "assessment.criteria[5].points", "quá nhỏ"),
        ("max = 2", "max = -1", "assessment.penalty[0].max", "quá nhỏ"),
        ('count = 2 }', 'count = 0 }', "assessment.awards[1].count", "quá nhỏ"),
    ],
)
def test_a_bad_config_names_the_key_and_the_file(tmp_path, old, new, key, vi_fragment):
    error = _bad(tmp_path, old, new)
    assert error.key == key
    message = str(error)
    assert f"`{key}`" in message and str(tmp_path / "config.toml") in message
    assert message.startswith("Lỗi cấu hình") and "Configuration error" in message
    assert vi_fragment in error.vi


def test_a_missing_or_broken_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="không tìm thấy"):
        load_settings(tmp_path / "nope.toml", env={})
    (tmp_path / "x.toml").write_text("[cluster\nid=", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(tmp_path / "x.toml", env={})


def test_a_fractional_target_for_a_count_is_refused(tmp_path):
    error = _bad(tmp_path, "[targets.HBT]\nnew_unions = 30", "[targets.HBT]\nnew_unions = 30.5")
    assert error.key == "targets.HBT.new_unions"


@pytest.mark.parametrize(
    ("expr", "dow"),
    [("0 8 * * 1", "mon"), ("0 8 * * 0", "sun"), ("0 8 * * 7", "sun"), ("0 8 * * 1-5", "mon-fri"),
     ("0 8 * * mon", "mon"), ("0 8 * * 1,3", "mon,wed"), ("0 8 5 1,7 *", "*")],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(expr, dow):
    assert cron_fields(expr)["day_of_week"] == dow


def test_a_monday_cron_fires_on_monday():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    trigger = CronTrigger(**cron_fields("0 8 * * 1"), timezone=tz)
    fire = trigger.get_next_fire_time(None, datetime(2023, 6, 27, 9, 0, tzinfo=tz))  # a Tuesday
    assert fire == datetime(2023, 7, 3, 8, 0, tzinfo=tz) and fire.isoweekday() == 1


def test_the_smtp_ca_file_comes_from_the_environment_and_resolves_against_the_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    s = load_settings(path, env={"TRACKER_SMTP_CA_FILE": "certs/ca.pem"})
    assert s.mail.ca_file == tmp_path / "certs" / "ca.pem"
    assert load_settings(path, env={}).mail.ca_file is None


def test_english_output_is_not_built_yet_and_the_setting_says_so(tmp_path, caplog):
    from tracker.context import open_context

    path = tmp_path / "config.toml"
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace('language = "vi"', 'language = "en"'),
                    encoding="utf-8")
    with caplog.at_level("WARNING", logger="tracker"):
        open_context(path)
    assert "English output is not available yet" in caplog.text


def test_a_bad_value_from_the_environment_names_the_variable_not_the_file():
    with pytest.raises(ConfigError) as info:
        load_settings(SAMPLE_CONFIG, env={"TRACKER_SMTP_PORT": "cổng 25"})
    assert info.value.key == "mail.port" and info.value.env == "TRACKER_SMTP_PORT"
    assert str(info.value).startswith("Lỗi cấu hình trong biến môi trường `TRACKER_SMTP_PORT` (thay cho khoá "
                                      "`mail.port`")
    with pytest.raises(ConfigError) as info:
        load_settings(SAMPLE_CONFIG, env={"TRACKER_DATABASE_URL": "mysql://u:s3cret@h/db"})
    assert info.value.env == "TRACKER_DATABASE_URL" and "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("folder", "processed"),
    [("INBOX", "INBOX"), ("INBOX", "inbox"), ("inbox", "Inbox"), ("Báo cáo", "Báo cáo"), ("INBOX", " INBOX ")],
)
def test_processed_folder_equal_to_the_folder_read_is_refused(tmp_path, folder, processed):
    error = _bad(tmp_path, 'folder = "INBOX"\nprocessed_folder = "Processed"',
                 f'folder = "{folder}"\nprocessed_folder = "{processed}"')
    assert error.key == "mailbox.processed_folder"
    assert "phải khác thư mục đọc thư `folder`" in error.vi and "repeats the rejections" in error.en


@pytest.mark.parametrize(("folder", "processed"), [("Reports", "reports"), ("INBOX", "INBOX/Processed"),
                                                   ("INBOX", "Processed")])
def test_processed_folder_differing_only_in_case_from_a_folder_other_than_inbox_is_accepted(tmp_path, folder,
                                                                                            processed):
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'folder = "INBOX"\nprocessed_folder = "Processed"', f'folder = "{folder}"\nprocessed_folder = "{processed}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert load_settings(path, env={}).mailbox.processed_folder == processed


def test_the_sample_scoring_table_adds_up_and_a_table_that_does_not_is_accepted_with_a_warning(tmp_path, caplog):
    from tracker.context import open_context

    sample = load_settings(SAMPLE_CONFIG, env={})
    assert sample.assessment.enabled and sample.assessment.points_sum == sample.assessment.total_points == 100
    assert [c.source for c in sample.assessment.criteria][:2] == ["indicator:new_unions", "indicator:agreements"]
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("points = 10\nsource", "points = 8\nsource", 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    with caplog.at_level("WARNING", logger="tracker"):
        open_context(settings=load_settings(tmp_path / "config.toml", env={}))
    assert "điểm các tiêu chí cộng lại 98, khác total_points = 100" in caplog.text


WEB_SAMPLE = '# base_url = "https://thidua.example.org"'


def test_the_portal_address_comes_from_the_file_or_the_environment_without_a_trailing_slash(tmp_path):
    assert load_settings(SAMPLE_CONFIG, env={}).web.base_url == ""  # the sample leaves it unset
    path = tmp_path / "config.toml"
    path.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        WEB_SAMPLE, 'base_url = "https://thidua.example.org/portal/"'), encoding="utf-8")
    assert load_settings(path, env={}).web.base_url == "https://thidua.example.org/portal"
    env = {"TRACKER_WEB_BASE_URL": "http://10.0.0.5:8000"}
    assert load_settings(path, env=env).web.base_url == "http://10.0.0.5:8000"
    assert load_settings(path, env={"TRACKER_WEB_BASE_URL": ""}).web.base_url == ""  # set empty: no links


@pytest.mark.parametrize("value", ["thidua.example.org", "ftp://thidua.example.org", "https://",
                                   "https://thidua.example.org/?a=1", "https://thidua.example.org/#x"])
def test_a_portal_address_that_is_not_an_http_url_is_refused_naming_the_key_or_the_variable(tmp_path, value):
    error = _bad(tmp_path, WEB_SAMPLE, f'base_url = "{value}"')
    assert error.key == "web.base_url" and "http://" in error.vi and "http://" in error.en
    with pytest.raises(ConfigError) as info:
        load_settings(SAMPLE_CONFIG, env={"TRACKER_WEB_BASE_URL": value})
    assert info.value.key == "web.base_url" and info.value.env == "TRACKER_WEB_BASE_URL"
    assert str(info.value).startswith("Lỗi cấu hình trong biến môi trường `TRACKER_WEB_BASE_URL`")
