"""How close a sync stays to the cost of the file itself, at 10k … 1,048,575 follow-up rows.

    python benchmarks/bench.py                          # 10,000 and 100,000 follow-ups
    python benchmarks/bench.py --sizes 10000,100000,1048575 --out benchmarks/out/latest.json
    python benchmarks/bench.py --google                 # and through the Google backend
    python benchmarks/bench.py --sizes 1048575 --repeat 3   # medians of three rounds

For each size it writes a realistic workbook (the demo's vocabulary: 12 reps in three regions,
industrial customers, leads through every stage; follow-ups at the given count, leads about a
fifth of that, contracts, collections, tickets, targets, and a few mistakes per thousand rows
so that flags are written), then measures, each in a fresh subprocess so that peak memory is
its own:

- `check`: `sync_workbook(XlsxBackend(path), write=False)`, what `salesync check` does;
- `run`: the same with `write=True` on a fresh copy, what `salesync run` does;
- `commands`: `salesync check` and `salesync run` (on another fresh copy) as a user types
  them, timed from the interpreter's start to its exit: imports, the sync, the report printed
  to a pipe, and freeing the workbook's objects are in them;
- the floor, the unavoidable cost of the file: `read`, every tab read with the fastest reader
  installed (fastexcel into Arrow, else python-calamine into Python lists), the tabs side by
  side on the machine's cores (both readers work without the GIL; the one-tab-after-the-other
  time is recorded too, as `read_sequential`, and, when fastexcel is the floor's reader,
  python-calamine's time as `read_calamine`: the library the sync reads with), plus `rezip`, the
  package rewritten with the sheets that `run` changed decompressed and recompressed (zip work
  only, no XML changes; every other member copied raw; zipfile with zlib-ng, the sync's zlib,
  at the sync's level) and fsync'ed;
- the ratios run / (read + rezip) and check / read, and each step's peak RSS; with
  `--repeat N`, `check`, `run`, `read` and `rezip` are taken in N rounds, one after the other
  in each, and each is reported as its median measurement, every round's times and ratios
  beside (`rounds`): on a shared machine a single round's ratio moves by a tenth or more;
- `later`: the sync of the next day on the workbook `run` wrote (what a team runs every
  day: its owned columns exist, a few thousand values change, the Issues tab is rewritten),
  against its own floor (that workbook read, its changed sheets rezipped);
- `stray`: `check` of the workbook with "待定" typed into the follow-ups' next-step date column,
  what a real log holds: a column of two kinds of cell, near the top (row 100) and far down
  (nine tenths of the way), where a reader that gives each column one type first meets it;
- `formulas`: `check` of the workbook with a column of formulas beside the follow-ups
  (`=LEN(B2)` on every row), as a team adds one to its log, and (`lookups`) with a third of
  them `=VLOOKUP(…)` showing #N/A, error values fastexcel reports after its parse, and
  (`spill`) with a single `#SPILL!` half way down instead, a code calamine refuses a sheet for.

With `--google`, `run` also goes through the Google backend (the real gspread and google-auth)
against the tests' loopback Sheets API v4 server, the workbook's tabs loaded into it, at
10,000 follow-ups and at the most that fit in Google's 10 million cells once synced
(`--google-sizes`): HTTP requests, body bytes sent and received, seconds, and the peak RSS of
the sync and, apart, of the server (which runs in a process of its own, holding every cell).

With `--saved-by-libreoffice`, each generated workbook is first opened and saved by LibreOffice
(`soffice`, cached beside it) and measured in that form: the generator writes its text inline,
as a streaming writer does, while Excel and LibreOffice keep every text in a shared-strings
table that each reader must load first.

A table is printed and the figures are written as JSON with the machine they came from.
Generated workbooks are cached in the output folder's `work/` (delete it to regenerate). The
1,048,575-row workbook takes a few minutes to generate and each measurement about a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

AS_OF = datetime(2026, 11, 20, 18, 0)
START = datetime(2025, 12, 1, 9, 0)
DEFAULT_SIZES = "10000,100000"
SEED = 2026
GENERATOR_VERSION = 4  # bump when the workbook changes, so cached files are rebuilt

# --------------------------------------------------------------------------- the workbook

METHODS = ("电话", "拜访", "邮件", "微信", "会议")
SOURCES = ("官网注册", "行业展会", "转介绍", "线上广告", "客户推荐", "其他")
STAGES = (
    ("线索", 0.30),
    ("已筛选", 0.15),
    ("需求分析", 0.12),
    ("方案", 0.10),
    ("商务谈判", 0.08),
    ("赢单", 0.13),
    ("输单", 0.12),
)
TITLES = ("采购经理", "设备部经理", "生产总监", "技术负责人", "总经理", "工程师")
FEEDBACK = ("价格偏高，需再议", "认可方案，等待预算审批", "需要内部评估", "关注交付周期", "")
NEXT_STEPS = ("发送报价单", "安排技术交流", "再次电话跟进", "提交方案", "邀请参观样板线")
LOST = ("价格偏高", "选择了竞争对手", "项目预算取消", "需求延期")


def _serial(t: datetime | date) -> float:
    if isinstance(t, datetime):
        delta = t - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    return float((t - date(1899, 12, 30)).days)


def row_counts(n_follow_ups: int) -> dict[str, int]:
    """The data rows of each generated table at `n_follow_ups` follow-ups."""
    n_leads = max(50, n_follow_ups // 5)
    n_contracts = max(10, n_leads // 8)
    return {
        "leads": n_leads,
        "follow_ups": n_follow_ups,
        "contracts": n_contracts,
        "collections": n_contracts * 3 // 2,
        "tickets": max(5, n_contracts // 4),
    }


# the generated tabs, by the key of `row_counts` (reps and targets have a fixed size)
TABS = {
    "线索跟踪": "leads",
    "跟进记录": "follow_ups",
    "合同订单": "contracts",
    "回款": "collections",
    "售后问题": "tickets",
}


def generate(path: Path, n_follow_ups: int, seed: int = SEED) -> dict[str, int]:
    """Write the benchmark workbook; returns the data rows per tab."""
    import xlsxwriter

    from sync.demo import BUSINESSES, CITIES, CORES, GIVEN, PRODUCTS, REPS, SURNAMES

    rng = random.Random(seed)
    counts = row_counts(n_follow_ups)
    n_leads, n_contracts = counts["leads"], counts["contracts"]
    n_collections, n_tickets = counts["collections"], counts["tickets"]
    reps = [r[0] for r in REPS]
    regions = {r[0]: r[2] for r in REPS}
    products = list(PRODUCTS)
    span_days = (AS_OF - START).days

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0"})
    pct = wb.add_format({"num_format": "0%"})

    def sheet(name: str, headers: list[str], widths: int = 12) -> Any:
        ws = wb.add_worksheet(name)
        ws.set_column(0, len(headers) - 1, widths)
        ws.freeze_panes(1, 0)
        ws.write_row(0, 0, headers, head)
        return ws

    def moment(lo: int = 0, hi: int = span_days) -> datetime:
        d = START + timedelta(days=rng.randint(lo, hi))
        return d.replace(hour=rng.randint(9, 17), minute=rng.choice((0, 15, 30, 45)))

    def person() -> str:
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))

    # Leads ----------------------------------------------------------------------------
    ws = sheet(
        "线索跟踪",
        [
            "线索编号",
            "来源类型",
            "客户名称",
            "联系人",
            "职位",
            "联系方式",
            "区域",
            "行业",
            "产品线",
            "初步需求",
            "预算",
            "决策权",
            "需求匹配",
            "时间线",
            "筛选结果",
            "负责人",
            "创建时间",
            "分配时间",
            "首次跟进时间",
            "当前阶段",
            "预计金额",
            "赢率",
            "预计成交",
            "跟进记录摘要",
        ],
    )
    # One lead per customer, as in the demo, but for a few per thousand that approach a company
    # another lead already holds (flagged as duplicates). Brands are pairs of distinct
    # characters of the demo's names, so a million rows get distinct companies.
    brand_chars = sorted({ch for core in CORES for ch in core})
    n_names = len(brand_chars) * (len(brand_chars) - 1)
    n_kinds = sum(len(v) for v in CITIES.values()) * len(BUSINESSES) * n_names
    picks = iter(rng.sample(range(n_kinds), n_leads))

    def company(region: str) -> tuple[str, str, str]:
        pick = next(picks)
        pick, brand = divmod(pick, n_names)
        pick, kind = divmod(pick, len(BUSINESSES))
        business, industry = BUSINESSES[kind]
        first, second = divmod(brand, len(brand_chars) - 1)
        second += second >= first
        city, area = CITIES[region][pick % len(CITIES[region])]
        name = f"{brand_chars[first]}{brand_chars[second]}"
        return f"{city}{name}{business}有限公司", area, industry

    lead_rows: list[tuple[str, str, datetime, datetime]] = []
    customers: list[str] = []
    stage_names = [s for s, _ in STAGES]
    stage_weights = [w for _, w in STAGES]
    for i in range(n_leads):
        r = i + 1
        lead_id = f"L{i + 1:07d}"
        owner = rng.choice(reps)
        region = regions[owner]
        customer, area, industry = company(region)
        if customers and rng.random() < 0.003:
            customer = rng.choice(customers)  # a company another lead already holds: flagged
        customers.append(customer)
        product = rng.choice(products)
        created = moment(0, span_days - 5)
        assigned = created + timedelta(hours=rng.randint(0, 8))
        hours = rng.choices((2, 5, 12, 20, 30, 50), weights=(30, 30, 20, 12, 5, 3))[0]
        first = assigned + timedelta(hours=hours)
        stage = rng.choices(stage_names, stage_weights)[0]
        lo, hi = PRODUCTS[product][0]
        bant = [rng.random() < 0.6 for _ in range(4)]
        source = rng.choice(SOURCES)
        if rng.random() < 0.002:
            source = "地推"  # not a source type: flagged
        ws.write_string(r, 0, lead_id)
        ws.write_string(r, 1, source)
        ws.write_string(r, 2, customer)
        ws.write_string(r, 3, person())
        ws.write_string(r, 4, rng.choice(TITLES))
        ws.write_string(r, 5, f"{area}-{rng.randint(6000000, 8999999)}")
        ws.write_string(r, 6, region)
        ws.write_string(r, 7, industry)
        ws.write_string(r, 8, product)
        ws.write_string(r, 9, rng.choice(PRODUCTS[product][1]))
        for c, yes in enumerate(bant, start=10):
            ws.write_string(r, c, "是" if yes else "否")
        if rng.random() < 0.5:  # half the classes left for the job to fill
            yes = sum(bant) + (rng.random() < 0.002)  # now and then one that contradicts
            ws.write_string(r, 14, "A" if yes >= 4 else "B" if yes >= 2 else "C")
        ws.write_string(r, 15, owner)
        ws.write_number(r, 16, _serial(created), dt)
        ws.write_number(r, 17, _serial(assigned), dt)
        if first < AS_OF:
            ws.write_number(r, 18, _serial(first), dt)
        ws.write_string(r, 19, stage)
        ws.write_number(r, 20, rng.randrange(lo, hi, 10_000), money)
        ws.write_number(r, 21, rng.choice((0.1, 0.3, 0.5, 0.7, 0.9)), pct)
        close = (created + timedelta(days=rng.randint(30, 180))).date()
        ws.write_number(r, 22, _serial(close), day)
        ws.write_string(r, 23, f"{product}：{rng.choice(FEEDBACK) or '跟进中'}")
        lead_rows.append((lead_id, owner, created, first))

    # Follow-ups --------------------------------------------------------------------------
    ws = sheet(
        "跟进记录",
        [
            "日期",
            "线索编号",
            "跟进方式",
            "沟通对象",
            "沟通内容摘要",
            "客户反馈/异议",
            "下一步计划",
            "下一步日期",
            "跟进人",
            "纪要发送时间",
        ],
    )
    # Each lead's follow-ups form a chain: every one promises a next step that the next one
    # keeps, now and then late; a lead's last follow-up promises one that may still be open.
    per_lead = [n_follow_ups // n_leads] * n_leads
    for i in rng.sample(range(n_leads), n_follow_ups % n_leads):
        per_lead[i] += 1
    events: list[tuple[datetime, str, str, date | None]] = []
    for (lead_id, owner, _, first), k in zip(lead_rows, per_lead, strict=True):
        t = min(first, AS_OF - timedelta(hours=1))
        span = max(1, (AS_OF - t).days)
        for j in range(k):
            gap = timedelta(days=rng.randint(1, max(1, min(10, span // (k + 1)))), hours=2)
            nxt = min(t + gap, AS_OF - timedelta(minutes=k - j))
            if j < k - 1:
                late = rng.random() < 0.08
                slip = timedelta(days=rng.randint(1, 3) if late else 0)
                promised: date | None = max(t.date(), nxt.date() - slip)
            else:
                promised = (t + gap).date() if rng.random() < 0.5 else None
            events.append((t, lead_id, owner, promised))
            t = nxt
    events.sort(key=lambda e: e[0])
    for r, (when, lead_id, owner, promised) in enumerate(events, start=1):
        method = rng.choice(METHODS)
        if rng.random() < 0.002:
            lead_id = f"L{n_leads + rng.randint(1, 999):07d}"  # no such lead: flagged
        ws.write_number(r, 0, _serial(when), dt)
        ws.write_string(r, 1, lead_id)
        ws.write_string(r, 2, method)
        ws.write_string(r, 3, person())
        ws.write_string(r, 4, f"沟通{rng.choice(products)}方案细节")
        feedback = rng.choice(FEEDBACK)
        if feedback:
            ws.write_string(r, 5, feedback)
        if promised is not None:
            ws.write_string(r, 6, rng.choice(NEXT_STEPS))
            ws.write_number(r, 7, _serial(promised), day)
        ws.write_string(r, 8, owner)
        if method in ("拜访", "会议"):
            hours = rng.choices((2, 4, 8, 20, 70, None), weights=(30, 30, 20, 10, 6, 4))[0]
            if hours is not None and when + timedelta(hours=hours) < AS_OF:
                ws.write_number(r, 9, _serial(when + timedelta(hours=hours)), dt)

    # Contracts, collections, tickets -----------------------------------------------------
    ws = sheet(
        "合同订单",
        [
            "合同编号",
            "线索编号",
            "客户名称",
            "负责人",
            "签约日期",
            "合同金额",
            "交付期限",
            "交付日期",
            "验收日期",
            "付款账期",
            "首次回访",
        ],
    )
    contracts: list[tuple[str, str, float, date]] = []
    for i in range(n_contracts):
        r = i + 1
        which = rng.randrange(n_leads)
        lead_id, owner, created, _ = lead_rows[which]
        signed = min(created + timedelta(days=rng.randint(20, 120)), AS_OF - timedelta(days=3))
        amount = float(rng.randrange(100_000, 2_000_000, 10_000))
        cid = f"HT{i + 1:06d}"
        due = signed.date() + timedelta(days=rng.randint(20, 60))
        ws.write_string(r, 0, cid)
        ws.write_string(r, 1, lead_id)
        ws.write_string(r, 2, customers[which])
        ws.write_string(r, 3, owner)
        ws.write_number(r, 4, _serial(signed.date()), day)
        ws.write_number(r, 5, amount, money)
        ws.write_number(r, 6, _serial(due), day)
        delivered = due + timedelta(days=rng.randint(-10, 10))
        if delivered < AS_OF.date():
            ws.write_number(r, 7, _serial(delivered), day)
            accepted = delivered + timedelta(days=rng.randint(3, 15))
            if accepted < AS_OF.date():
                ws.write_number(r, 8, _serial(accepted), day)
            visit = datetime.combine(delivered, datetime.min.time()) + timedelta(
                days=rng.randint(2, 12), hours=10
            )
            if visit < AS_OF:
                ws.write_number(r, 10, _serial(visit), dt)
        ws.write_number(r, 9, rng.choice((30, 45, 60)))
        contracts.append((cid, customers[which], amount, signed.date()))

    ws = sheet(
        "回款", ["发票号", "合同编号", "开票日期", "发票金额", "到期日", "回款日期", "回款金额"]
    )
    for i in range(n_collections):
        r = i + 1
        cid, _, amount, signed = contracts[i % n_contracts]
        invoiced = signed + timedelta(days=rng.randint(5, 40))
        part = amount / 2
        ws.write_string(r, 0, f"FP{i + 1:07d}")
        ws.write_string(r, 1, cid)
        ws.write_number(r, 2, _serial(invoiced), day)
        ws.write_number(r, 3, part, money)
        ws.write_number(r, 4, _serial(invoiced + timedelta(days=30)), day)
        received = invoiced + timedelta(days=rng.randint(10, 60))
        if received < AS_OF.date() and rng.random() < 0.85:
            ws.write_number(r, 5, _serial(received), day)
            ws.write_number(r, 6, part if rng.random() < 0.9 else part * 0.8, money)

    ws = sheet(
        "售后问题",
        ["问题编号", "客户名称", "合同编号", "提出时间", "复杂度", "解决时间", "方案时间"],
    )
    for i in range(n_tickets):
        r = i + 1
        cid, customer, _, signed = contracts[rng.randrange(n_contracts)]
        opened = datetime.combine(signed, datetime.min.time()) + timedelta(
            days=rng.randint(30, 200), hours=rng.randint(9, 17)
        )
        opened = min(opened, AS_OF - timedelta(days=1))
        complex_ = rng.random() < 0.3
        ws.write_string(r, 0, f"WT{i + 1:06d}")
        ws.write_string(r, 1, customer)
        ws.write_string(r, 2, cid)
        ws.write_number(r, 3, _serial(opened), dt)
        ws.write_string(r, 4, "复杂" if complex_ else "一般")
        done = opened + timedelta(hours=rng.choice((4, 20, 30, 60)))
        ws.write_number(r, 6 if complex_ else 5, _serial(done), dt)

    # Reps and targets --------------------------------------------------------------------
    ws = sheet("销售人员", ["姓名", "团队", "区域", "主管", "邮箱", "在职"])
    for i, (name, login, region) in enumerate(REPS, start=1):
        ws.write_row(i, 0, [name, f"{region}组", region, "周总", f"{login}@example.com", "是"])
    ws = sheet("目标", ["销售员", "周期", "目标销售额", "目标新签客户数", "目标回款率"])
    r = 1
    for name in reps:
        for month in range(12):
            period = date(2025, 12, 1) + timedelta(days=31 * month)
            ws.write_row(r, 0, [name, f"{period.year}-{period.month:02d}", 1_500_000, 3])
            ws.write_number(r, 4, 0.9, pct)
            r += 1
    wb.close()
    return counts


# --------------------------------------------------------------------------- measurements


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MiB: the high-water mark of its own memory
    (Linux `VmHWM`). Linux's `ru_maxrss` would not do: it keeps, across exec, the resident size
    of the process that started this one at that moment, so a measurement started right after
    the driver had edited a 573 MB sheet in memory reported the driver's 2.5 GB as its peak."""
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii") as fh,
    ):
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sheet_parts(path: Path) -> dict[str, str]:
    from sync.backends.xlsx_package import load_package as _load_package

    with zipfile.ZipFile(path) as zf:
        return {s.name: s.part for s in _load_package(zf).sheets}


def measure(kind: str, path: Path, extra: str) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    result: dict[str, Any] = {}
    if kind in ("check", "run", "later"):
        from sync.backends.xlsx import XlsxBackend
        from sync.job import sync_workbook

        as_of = AS_OF + timedelta(days=1) if kind == "later" else AS_OF
        started = time.perf_counter()
        res = sync_workbook(XlsxBackend(path), write=kind != "check", as_of=as_of)
        result["seconds"] = time.perf_counter() - started
        result["steps"] = {k: round(v, 3) for k, v in res.seconds.items()}
        result["issues"] = sum(res.counts().values())
        result["cells_written"] = sum(len(c) for c in res.plan.cells.values())
        parts = _sheet_parts(path)
        result["changed_sheets"] = [parts[name] for name, cells in res.plan.cells.items() if cells]
    elif kind in ("command-check", "command-run"):
        # the command as a user types it, from the interpreter's start to its exit: imports,
        # the sync, the report (to a pipe), freeing the workbook's objects
        command = kind.removeprefix("command-")
        argv = ["-m", "sync.cli", command, str(path), "--as-of", AS_OF.isoformat()]
        # modules compiled once and cached, as an installed package has them (a source tree
        # run with PYTHONDONTWRITEBYTECODE would compile ~70 of them on every start)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        warm = "import sync.cli, sync.job, sync.report, sync.backends.xlsx"
        subprocess.run([sys.executable, "-c", warm], check=True, env=env)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, *argv, "--fail-on", "never"],
            check=True,
            stdout=subprocess.PIPE,
            env=env,
        )
        result["seconds"] = time.perf_counter() - started
        # the command's peak (or this small process's resident size when it started it, which
        # ru_maxrss keeps across exec: far below any command's)
        result["peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        )
        return result
    elif kind in ("read", "read-sequential", "read-calamine"):
        threads = 1 if kind == "read-sequential" else min(8, os.cpu_count() or 1)
        reader = "calamine" if kind == "read-calamine" else None
        _loaded("fastexcel", "python_calamine")
        started = time.perf_counter()
        result["reader"], result["cells"] = _read_all(path, threads, reader)
        result["seconds"] = time.perf_counter() - started
        result["threads"] = threads
    elif kind == "rezip":
        changed = set(json.loads(extra))
        out = path.with_name(path.stem + ".rezip.xlsx")
        _loaded("zlib_ng.zlib_ng", "sync.backends.xlsx", "sync.backends.xlsx_package")
        started = time.perf_counter()
        _rezip(path, out, changed)
        result["seconds"] = time.perf_counter() - started
        out.unlink()
    elif kind == "google":
        result = _google(path)
    else:
        raise SystemExit(f"unknown measurement {kind}")
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return result


def _loaded(*modules: str) -> None:
    """Import `modules` before a floor is timed, as `check` and `run` import the sync before
    theirs: a floor is the file's cost, not the interpreter's. (Until 2026-11-25 the rezip
    timed the import of the sync's zip settings, which loaded pandas through the core: 0.15 s,
    most of the floor at 10,000 follow-ups.)"""
    for name in modules:
        with contextlib.suppress(ImportError):  # a reader not installed: the floor says so
            importlib.import_module(name)


# --------------------------------------------------------------------------- Google

GOOGLE_CELLS = 10_000_000  # a Google spreadsheet's limit, every tab's grid counted
GOOGLE_ID = "1SaLeSyNcBeNcHmArK0123456789abcdefGHIJ"
GOOGLE_EMAIL = "salesync-bench@sales-team.iam.gserviceaccount.com"


def _google(path: Path) -> dict[str, Any]:
    """`salesync run` against the loopback Sheets API v4 server of the tests, the workbook's
    tabs loaded into it as people would have typed them (dates with a date format): HTTP
    requests and body bytes each way, as the real gspread and google-auth send them. The
    server runs in a process of its own (`_serve_google`), so that this process's peak memory
    is the sync's alone, as against Google's servers; the server's is recorded beside it."""
    import multiprocessing

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.auth import credentials as google_credentials

    from sync.backends.gsheets import GoogleSheetsBackend
    from sync.job import sync_workbook

    # google-auth ≥ 2.60 looks up a service account's allowed locations at
    # iamcredentials.googleapis.com after a token refresh; stay on the loopback server.
    boundary = getattr(google_credentials, "CredentialsWithRegionalAccessBoundary", None)
    if boundary is not None and hasattr(boundary, "_is_regional_access_boundary_lookup_required"):
        boundary._is_regional_access_boundary_lookup_required = lambda self: False

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # forked while this process holds nothing big and runs no thread; spawned elsewhere
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    ours, theirs = context.Pipe()
    server = context.Process(
        target=_serve_google, args=(theirs, str(path), public), name="sheets-server"
    )
    server.start()
    try:
        url, token_uri, before = ours.recv()
        key_file = json.dumps(
            {
                "type": "service_account",
                "project_id": "sales-team",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": GOOGLE_EMAIL,
                "client_id": "1234567890",
                "token_uri": token_uri,
            }
        )
        backend = GoogleSheetsBackend(GOOGLE_ID, key_file, endpoint=url)
        received = [0]

        def count(response: Any, *args: Any, **kwargs: Any) -> None:
            received[0] += len(response.content)

        backend._client().session.hooks["response"].append(count)
        started = time.perf_counter()
        res = sync_workbook(backend, write=True, as_of=AS_OF)
        seconds = time.perf_counter() - started
        ours.send("done")
        after, token_requests, server_peak = ours.recv()
    finally:
        server.join(timeout=60)
        if server.is_alive():
            server.kill()
    calls: dict[str, int] = {}  # "get", "values:batchGet", "batchUpdate"
    for line in backend.traffic.log:
        call = line.split(GOOGLE_ID, 1)[-1].lstrip("/:") or "get"
        calls[call] = calls.get(call, 0) + 1
    return {
        "seconds": seconds,
        "steps": {k: round(v, 3) for k, v in res.seconds.items()},
        "requests": backend.requests,
        "calls": calls,
        "retries": backend.retries,
        "token_requests": token_requests,
        "bytes_sent": backend.bytes_sent,
        "bytes_received": received[0],
        "cells_written": sum(len(c) for c in res.plan.cells.values()),
        "cells_before": sum(r * c for r, c in before.values()),
        "cells_after": sum(r * c for r, c in after.values()),
        "tabs_before": before,
        "tabs_after": after,
        "server_peak_rss_mb": round(server_peak, 1),
    }


def _serve_google(conn: Any, path: str, public_pem: bytes) -> None:
    """The loopback Sheets API server, in a process of its own: it loads the workbook's tabs,
    sends its address, token URI and the tabs' shapes, serves until told the sync is done, then
    sends the shapes after, the token requests it answered and its own peak memory."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.backends
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from sync.backends.xlsx import XlsxBackend
    from tests.backends.sheets_server import SheetsServer

    # The cyclic collector would walk the server's ten million cells again and again as it
    # builds its responses (the sync pauses it for its own work, which covered the server
    # when it ran in the same process): a cost of this Python server, not of the sync.
    gc.disable()
    tabs: dict[str, Any] = {s.name: s.rows for s in XlsxBackend(Path(path)).read().sheets}
    with SheetsServer() as server:
        server.add_service_account(GOOGLE_EMAIL, load_pem_public_key(public_pem))
        book = server.create(GOOGLE_ID, tabs, rows=1, cols=1)  # grids exactly the data
        del tabs

        def shape() -> dict[str, list[int]]:
            return {s.title: [s.rows, s.cols] for s in book.sheets}

        conn.send((server.url, server.token_uri, shape()))
        conn.recv()  # the sync is done
        conn.send((shape(), server.token_requests, _peak_rss_mb()))


def google_cells(n: int, reference: dict[str, Any]) -> int:
    """The cells of the spreadsheet after a sync at `n` follow-ups: each tab as wide as after
    the `reference` sync (the generated columns plus the job's ⚙ columns), the generated tabs
    as long as `row_counts(n)` says, the tabs the job adds scaled with the follow-ups (the
    Issues tab grows a little faster than that, the reports slower)."""
    counts = row_counts(n)
    ref_n = reference["follow_ups"]
    total = 0
    for title, (rows, cols) in reference["google"]["tabs_after"].items():
        if title in TABS:
            rows = counts[TABS[title]] + 1
        elif title in reference["google"]["tabs_before"]:
            pass  # reps and targets: a fixed size
        else:
            rows = -(-rows * n // ref_n)  # rounded up
        total += rows * cols
    return total


def google_max(reference: dict[str, Any], margin: float = 0.002) -> int:
    """The most follow-ups whose synced spreadsheet fits in Google's 10 million cells, less
    `margin` (the flagged rows, hence the Issues tab, vary from one size to the next)."""
    lo, hi = 1, 1_048_575
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if google_cells(mid, reference) <= GOOGLE_CELLS * (1 - margin):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _read_all(path: Path, threads: int, reader: str | None = None) -> tuple[str, int]:
    """Every tab on `threads` threads, with `reader` ("fastexcel" or "calamine"), by default
    the fastest installed (both parse in native code without the GIL, so tabs read side by
    side on several cores)."""
    if reader is None:
        reader = "fastexcel" if importlib.util.find_spec("fastexcel") else "calamine"
    if reader == "fastexcel":
        import fastexcel

        names = fastexcel.read_excel(str(path)).sheet_names

        def one(name: str) -> int:
            sheet = fastexcel.read_excel(str(path)).load_sheet_by_name(name, header_row=None)
            return int(sheet.height * sheet.width)

        label = f"fastexcel {fastexcel.__version__}"
    else:
        from python_calamine import CalamineWorkbook

        names = CalamineWorkbook.from_path(str(path)).sheet_names

        def one(name: str) -> int:
            book = CalamineWorkbook.from_path(str(path))
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return sum(len(r) for r in rows)

        label = f"python-calamine {metadata.version('python-calamine')}"
    if threads <= 1:
        return label, sum(map(one, names))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return label, sum(pool.map(one, names))


def _rezip(src: Path, dst: Path, changed: set[str]) -> None:
    """The package rewritten: `changed` members decompressed and recompressed, the rest copied
    as raw bytes — the zip work any lossless write of those sheets must do."""
    from zlib_ng import zlib_ng

    from sync.backends.xlsx import DEFLATE_LEVEL
    from sync.backends.xlsx_package import CHUNK as _CHUNK
    from sync.backends.xlsx_package import copy_member as _copy_member

    # zipfile with the zlib the sync inflates and deflates with (zlib-ng, at the sync's level):
    # the floor is the same zip work done the simplest way, not the same work done by a slower
    # library or at a slower level
    zipfile.zlib, zipfile.crc32 = zlib_ng, zlib_ng.crc32  # type: ignore[attr-defined]
    with (
        zipfile.ZipFile(src) as zin,
        open(src, "rb") as src_fh,
        open(dst, "wb") as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, True, DEFLATE_LEVEL) as zout,
    ):
        for info in zin.infolist():
            if info.filename in changed:
                # by name: zipfile gives the entry the archive's method and level
                with zin.open(info) as r, zout.open(info.filename, "w", force_zip64=True) as w:
                    while block := r.read(_CHUNK):
                        w.write(block)
            else:
                _copy_member(zin, src_fh, info, zout)
        zout.close()
        fh.flush()
        os.fsync(fh.fileno())


def _subprocess(kind: str, path: Path, extra: str = "") -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", kind, "--path", str(path), "--extra", extra]
    before = CpuSample.now()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    contention = before.contention(CpuSample.now())
    if contention is not None:
        result["contention"] = contention
    return result


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class CpuSample(NamedTuple):
    """The machine's CPU time so far (Linux `/proc/stat`: busy and stolen, in seconds), this
    process's and its waited-for children's, and the wall clock: two samples tell how much of
    the machine other processes took meanwhile. The machine is shared: a measurement taken
    while something else ran (another benchmark, a test suite) is slower for it, and the
    figures must say so rather than pass for the code's."""

    wall: float
    busy: float | None  # every CPU's non-idle time, stolen time apart
    steal: float | None  # time the hypervisor gave the machine's CPUs to someone else
    own: float  # this process's and its children's user + system time

    @staticmethod
    def now() -> CpuSample:
        busy = steal = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open("/proc/stat", encoding="ascii") as fh:
                fields = [int(x) for x in fh.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
            # counted in user already
            idle = fields[3] + fields[4]
            steal_ticks = fields[7] if len(fields) > 7 else 0
            busy = (sum(fields[:8]) - idle - steal_ticks) / _CLOCK_TICKS
            steal = steal_ticks / _CLOCK_TICKS
        me, children = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        own = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
        return CpuSample(time.perf_counter(), busy, steal, own)

    def contention(self, after: CpuSample, cores: int | None = None) -> dict[str, float] | None:
        """Of the machine's CPU time between the two samples (wall × `cores`, the machine's by
        default), the shares other processes used and the hypervisor stole; None off Linux."""
        if self.busy is None or after.busy is None or self.steal is None or after.steal is None:
            return None
        capacity = (after.wall - self.wall) * (cores or os.cpu_count() or 1)
        if capacity <= 0:
            return None
        others = (after.busy - self.busy) - (after.own - self.own)
        return {
            "others": round(min(max(others / capacity, 0.0), 1.0), 3),
            "steal": round(min(max((after.steal - self.steal) / capacity, 0.0), 1.0), 3),
        }


BUSY_SHARE = 0.05
"""A measurement during which other processes took more of the machine than this, or the
hypervisor stole more, is reported as disturbed."""


def disturbed(report: Any, where: str = "") -> list[str]:
    """The measurements in a benchmark report (or part of one) taken while the machine was
    busy with something else, as `where: others N %, stolen M %`."""
    found: list[str] = []
    if isinstance(report, dict):
        share = report.get("contention")
        if isinstance(share, dict) and max(share.values(), default=0) > BUSY_SHARE:
            found.append(
                f"{where or 'measurement'}: others {share['others']:.0%}, "
                f"stolen {share['steal']:.0%}"
            )
        for key, value in report.items():
            if key != "contention":
                found += disturbed(value, f"{where}.{key}" if where else str(key))
    elif isinstance(report, list):
        for i, value in enumerate(report):
            found += disturbed(value, f"{where}[{i}]")
    return found


# --------------------------------------------------------------------------- the run


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for pkg in ("python-calamine", "fastexcel", "zlib-ng", "pandas", "xlsxwriter"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[pkg] = metadata.version(pkg)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def workbook(n: int, work: Path, say: Any) -> tuple[Path, dict[str, int], float | None]:
    """The generated workbook at `n` follow-ups (cached), its rows, the seconds it took."""
    book = work / f"bench-{n}-v{GENERATOR_VERSION}.xlsx"
    rows_file = book.with_suffix(".json")
    if book.exists() and rows_file.exists():
        return book, json.loads(rows_file.read_text()), None
    say(f"[{n:,}] generating {book.name} …")
    started = time.perf_counter()
    rows = generate(book, n)
    gen_seconds = round(time.perf_counter() - started, 1)
    rows_file.write_text(json.dumps(rows))
    return book, rows, gen_seconds


def resaved(book: Path, say: Any) -> Path:
    """`book` as LibreOffice saves it (cached beside it): the text in a shared-strings table,
    as Excel and LibreOffice write workbooks."""
    out = book.with_name(f"{book.stem}-libreoffice.xlsx")
    if out.exists():
        return out
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit(
            "--saved-by-libreoffice needs LibreOffice (apt-get install libreoffice-calc-nogui)"
        )
    say(f"saving {book.name} with LibreOffice …")
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp, "profile").as_uri()  # its own profile: no clash with one running
        convert = ["--headless", "--calc", "--convert-to", "xlsx", "--outdir", tmp, str(book)]
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", *convert],
            check=True,
            capture_output=True,
            timeout=3600,
        )
        shutil.move(Path(tmp, book.name), out)
    return out


STRAY = "待定"  # what people type in a date they cannot give yet
FOLLOW_UPS_TAB = next(tab for tab, table in TABS.items() if table == "follow_ups")
STRAY_COL = 8  # the follow-ups' next-step date


def with_stray_text(book: Path, row: int) -> Path:
    """`book` with `STRAY` typed into the follow-ups' next-step date at `row` (cached beside
    it), edited by the sync's own lossless writer."""
    from sync.backends.xlsx import apply_plan
    from sync.core.model import CellWrite, WritePlan

    out = book.with_name(f"{book.stem}-stray-{row}.xlsx")
    if not out.exists():
        plan = WritePlan(cells={FOLLOW_UPS_TAB: [CellWrite(row, STRAY_COL, STRAY)]})
        apply_plan(book, plan, out=out)
    return out


FORMULA_HEADER = "备注长度"  # a column a team adds to its log, under a header salesync does not own


FORMULA_KINDS = ("formulas", "lookups", "spill")
FORMULA_KEYS = ("check", "lookups", "spill")  # their measurements in a result's "formulas"


def with_formula_column(book: Path, kind: str = "formulas") -> Path:
    """`book` with a column of formulas beside the follow-ups (cached beside it), in the first
    column past the tab's cells, as a team adds one to its log: `formulas`, `=LEN(B2)` and its
    cached value on every row after the header; `lookups`, every third row's formula a
    `=VLOOKUP(…)` that finds nothing and shows #N/A instead; `spill`, one `=SEQUENCE(3)` half
    way down showing #SPILL! (a code calamine refuses a sheet for) and nothing else. The
    sheet's XML is edited as text, every other part copied as it is (salesync's writer writes
    values, never formulas)."""
    from sync.backends.xlsx import DEFLATE_LEVEL
    from sync.backends.xlsx_package import col_letters, letters_col

    assert kind in FORMULA_KINDS, kind
    out = book.with_name(f"{book.stem}-{kind}.xlsx")
    if out.exists():
        return out
    part = _sheet_parts(book)[FOLLOW_UPS_TAB]
    with zipfile.ZipFile(book) as zin:
        xml = zin.read(part)
        dimension = re.search(rb'<dimension ref="([A-Z]+\d+):([A-Z]+)(\d+)"', xml)
        assert dimension is not None, "the generator writes the dimension"
        first, last, height = dimension.groups()
        col = col_letters(letters_col(last) + 1).encode()
        middle = str(int(height) // 2 + 1).encode()

        def add(row: re.Match[bytes]) -> bytes:
            r = row.group(1)
            if r == b"1":
                cell = b'<c r="' + col + b'1" t="inlineStr"><is><t>'
                cell += FORMULA_HEADER.encode() + b"</t></is></c>"
            elif kind == "spill":
                if r != middle:
                    return row.group(0)
                cell = b'<c r="' + col + r + b'" t="e"><f>SEQUENCE(3)</f><v>#SPILL!</v></c>'
            elif kind == "lookups" and int(r) % 3 == 0:
                cell = b'<c r="' + col + r + b'" t="e"><f>VLOOKUP(B' + r + b",Z:Z,1,FALSE)</f>"
                cell += b"<v>#N/A</v></c>"
            else:
                cell = b'<c r="' + col + r + b'"><f>LEN(B' + r + b")</f><v>8</v></c>"
            return row.group(0)[:-6] + cell + b"</row>"

        xml = re.sub(rb'<row r="(\d+)"[^>]*>.*?</row>', add, xml, flags=re.S)
        grown = b'<dimension ref="' + first + b":" + col + height + b'"'
        xml = xml.replace(dimension.group(0), grown, 1)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as zout:
            for info in zin.infolist():
                zout.writestr(info, xml if info.filename == part else zin.read(info.filename))
    return out


def stray_rows(n: int) -> dict[str, int]:
    """Where the stray text goes: near the top, and nine tenths of the way down."""
    return {"near": min(100, n + 1), "far": n * 9 // 10 + 1}


def bench_size(
    n: int, work: Path, say: Any, libreoffice: bool = False, repeat: int = 1
) -> dict[str, Any]:
    book, rows, gen_seconds = workbook(n, work, say)
    if libreoffice:
        book = resaved(book, say)
    target = work / f"run-{n}.xlsx"
    say(f"[{n:,}] the commands: salesync check, salesync run …")
    check_command = _subprocess("command-check", book)
    shutil.copy(book, target)
    run_command = _subprocess("command-run", target)
    rounds = []
    for i in range(repeat):
        step = f" (round {i + 1} of {repeat})" if repeat > 1 else ""
        say(f"[{n:,}] check, run, floor: read, rezip{step} …")
        rounds.append(_round(book, target))
    check, run, read, rezip = (
        _median([r[k] for r in rounds]) for k in ("check", "run", "read", "rezip")
    )
    floor = read["seconds"] + rezip["seconds"]
    say(f"[{n:,}] later: the next day's sync of that workbook …")
    later = _subprocess("later", target)
    later_read = _subprocess("read", target)
    later_rezip = _subprocess("rezip", target, json.dumps(later["changed_sheets"]))
    later_floor = later_read["seconds"] + later_rezip["seconds"]
    target.unlink()
    say(f"[{n:,}] floor: the reads for reference …")
    sequential = _subprocess("read-sequential", book)
    # the library the sync itself reads with, when the floor's reader is another
    calamine = None if "calamine" in read["reader"] else _subprocess("read-calamine", book)
    say(f"[{n:,}] check with a stray text in a date column …")
    stray = {
        where: {"row": row, "check": _subprocess("check", with_stray_text(book, row))}
        for where, row in stray_rows(n).items()
    }
    say(f"[{n:,}] check with a column of formulas in the follow-ups …")
    formulas = {"check": _subprocess("check", with_formula_column(book))}
    say(f"[{n:,}] check with lookups showing #N/A on a third of them …")
    formulas["lookups"] = _subprocess("check", with_formula_column(book, "lookups"))
    say(f"[{n:,}] check with a #SPILL! half way down the follow-ups …")
    formulas["spill"] = _subprocess("check", with_formula_column(book, "spill"))
    return {
        "follow_ups": n,
        "saved_by": "LibreOffice" if libreoffice else "the generator (inline text)",
        "rows": rows,
        "file_mb": round(book.stat().st_size / 1e6, 1),
        "generate_seconds": gen_seconds,
        "check": check,
        "run": run,
        "commands": {"check": check_command, "run": run_command},
        "floor": {
            "read": read,
            "read_sequential": sequential,  # for reference: one tab after the other
            **({"read_calamine": calamine} if calamine else {}),
            "rezip": rezip,
            "seconds": floor,
            "peak_rss_mb": max(read["peak_rss_mb"], rezip["peak_rss_mb"]),
        },
        "ratios": {
            **_ratios(check, run, read, rezip),
            # the write step alone (patching the changed sheets, the Issues tab, the copy)
            # against the zip work of recompressing those sheets
            "write_to_rezip": round(run["steps"].get("write", 0.0) / rezip["seconds"], 2),
        },
        **({"rounds": [_round_summary(r) for r in rounds]} if repeat > 1 else {}),
        "later": {
            "run": later,
            "floor": {"read": later_read, "rezip": later_rezip, "seconds": later_floor},
            "run_to_floor": round(later["seconds"] / later_floor, 2),
        },
        "stray": stray,
        "formulas": formulas,
    }


def _round(book: Path, target: Path) -> dict[str, dict[str, Any]]:
    """One round of the measurements the targets compare: `check`, `run` on a fresh copy (left
    in `target`, synced), and the floor's `read` and `rezip` of the sheets `run` changed, one
    right after the other so that the machine's mood of the moment weighs on all four."""
    check = _subprocess("check", book)
    shutil.copy(book, target)
    run = _subprocess("run", target)
    read = _subprocess("read", book)
    rezip = _subprocess("rezip", book, json.dumps(run["changed_sheets"]))
    return {"check": check, "run": run, "read": read, "rezip": rezip}


def _median(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The measurement of median time among `found` (of an even count, the faster of the two
    in the middle): a measurement as it was taken, peak and steps included, not a blend."""
    ranked = sorted(found, key=lambda m: float(m["seconds"]))
    return ranked[(len(ranked) - 1) // 2]


def _ratios(*measured: dict[str, Any]) -> dict[str, float]:
    """The targets' ratios of `check`, `run`, `read` and `rezip` measurements: run / (read +
    rezip) and check / read."""
    check, run, read, rezip = (float(m["seconds"]) for m in measured)
    return {
        "run_to_floor": round(run / (read + rezip), 2),
        "check_to_read": round(check / read, 2),
    }


def _round_summary(r: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A round's times and its own ratios."""
    return {
        **{k: round(float(m["seconds"]), 3) for k, m in r.items()},
        **_ratios(r["check"], r["run"], r["read"], r["rezip"]),
    }


def bench_google(sizes: list[int | str], work: Path, say: Any) -> list[dict[str, Any]]:
    """`run` against the loopback Sheets API at each size; "max" is the most follow-ups whose
    synced spreadsheet fits in 10 million cells, computed from the tabs' shapes after the
    largest sync so far (10,000 follow-ups when none precedes it). The Issues tab grows faster
    than the rows, so when the synced spreadsheet turns out larger than that, the size is
    computed again from it, which errs on the safe side (a few minutes more, once)."""
    results: list[dict[str, Any]] = []
    for size in sizes:
        if size != "max":
            results.append(google_size(int(size), work, say))
            continue
        reference = max(results, key=lambda r: r["follow_ups"], default=None)
        if reference is None:
            reference = google_size(10_000, work, say)
        for _ in range(3):
            n = google_max(reference)
            say(f"[google] {n:,} follow-ups fit in {GOOGLE_CELLS:,} cells")
            reference = google_size(n, work, say)
            if reference["google"]["cells_after"] <= GOOGLE_CELLS:
                break
            say(f"[google] {reference['google']['cells_after']:,} cells after the sync: again")
        results.append(reference)
    return results


def google_size(n: int, work: Path, say: Any) -> dict[str, Any]:
    book, rows, _ = workbook(n, work, say)
    say(f"[{n:,}] google run …")
    google = _subprocess("google", book)
    return {"follow_ups": n, "rows": rows, "google": google}


def print_google(results: list[dict[str, Any]], info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"salesync google (loopback Sheets API) · {info['cpu']} · {info['cores']} cores"
    )
    for col in (
        "follow-ups",
        "cells before/after",
        "requests",
        "calls",
        "MB sent",
        "MB received",
        "run s",
        "peak MB sync/server",
    ):
        table.add_column(col, justify="right")
    for r in results:
        g = r["google"]
        table.add_row(
            f"{r['follow_ups']:,}",
            f"{g['cells_before']:,}/{g['cells_after']:,}",
            f"{g['requests']}",
            " ".join(f"{k}×{v}" for k, v in g["calls"].items()),
            f"{g['bytes_sent'] / 1e6:.1f}",
            f"{g['bytes_received'] / 1e6:.1f}",
            f"{g['seconds']:.2f}",
            f"{g['peak_rss_mb']:.0f}/{g['server_peak_rss_mb']:.0f}"
            if "server_peak_rss_mb" in g
            else f"{g['peak_rss_mb']:.0f}",
        )
    Console(width=160).print(table)


def _commands(r: dict[str, Any]) -> str:
    """`salesync check` / `salesync run` as typed (results from before they were measured: –)."""
    commands = r.get("commands")
    if not commands:
        return "–"
    return f"{commands['check']['seconds']:.2f}/{commands['run']['seconds']:.2f}"


def _rounds_line(r: dict[str, Any]) -> str:
    """The spread of a size's rounds: the table shows each measurement's median."""
    rounds = r["rounds"]

    def spread(key: str, unit: str) -> str:
        values = sorted(x[key] for x in rounds)
        return f"{key} {values[0]:.2f}–{values[-1]:.2f}{unit}"

    parts = [spread(k, " s") for k in ("check", "run", "read", "rezip")]
    parts += [spread(k, "×") for k in ("run_to_floor", "check_to_read")]
    return f"{r['follow_ups']:,} follow-ups, {len(rounds)} rounds: " + ", ".join(parts)


def print_table(results: list[dict[str, Any]], info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    saved = (
        " · saved by LibreOffice" if results and results[0].get("saved_by") == "LibreOffice" else ""
    )
    table = Table(title=f"salesync xlsx · {info['cpu']} · {info['cores']} cores{saved}")
    for col in (
        "follow-ups",
        "leads",
        "MB",
        "check s",
        "run s",
        "commands s",
        "read s",
        "rezip s",
        "run/floor",
        "check/read",
        "write/rezip",
        "peak MB check/run/floor",
    ):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(
            f"{r['follow_ups']:,}",
            f"{r['rows']['leads']:,}",
            f"{r['file_mb']}",
            f"{r['check']['seconds']:.2f}",
            f"{r['run']['seconds']:.2f}",
            _commands(r),
            f"{r['floor']['read']['seconds']:.2f}",
            f"{r['floor']['rezip']['seconds']:.2f}",
            f"{r['ratios']['run_to_floor']:.2f}×",
            f"{r['ratios']['check_to_read']:.2f}×",
            f"{r['ratios']['write_to_rezip']:.2f}×",
            f"{r['check']['peak_rss_mb']:.0f}/{r['run']['peak_rss_mb']:.0f}/"
            f"{r['floor']['peak_rss_mb']:.0f}",
        )
    console = Console(width=160)
    if results:
        console.print(table)
    for r in results:
        if "rounds" in r:
            console.print(_rounds_line(r))
    later = Table(title="the next day's sync of the synced workbook")
    columns = ("follow-ups", "cells written", "run s", "read/check/write s", "floor s", "run/floor")
    for col in columns:
        later.add_column(col, justify="right")
    for r in results:
        if "later" not in r:
            continue
        steps = r["later"]["run"]["steps"]
        later.add_row(
            f"{r['follow_ups']:,}",
            f"{r['later']['run']['cells_written']:,}",
            f"{r['later']['run']['seconds']:.2f}",
            "/".join(f"{steps.get(k, 0.0):.2f}" for k in ("read", "check", "write")),
            f"{r['later']['floor']['seconds']:.2f}",
            f"{r['later']['run_to_floor']:.2f}×",
        )
    if any("later" in r for r in results):
        console.print(later)
    stray = Table(title=f"check with {STRAY} typed into a date column of the follow-ups")
    for col in ("follow-ups", "check s", "near the top s", "far down s", "peak MB far down"):
        stray.add_column(col, justify="right")
    for r in results:
        if "stray" not in r:
            continue
        near, far = r["stray"]["near"]["check"], r["stray"]["far"]["check"]
        stray.add_row(
            f"{r['follow_ups']:,}",
            f"{r['check']['seconds']:.2f}",
            f"{near['seconds']:.2f}",
            f"{far['seconds']:.2f}",
            f"{far['peak_rss_mb']:.0f}",
        )
    if any("stray" in r for r in results):
        console.print(stray)
    formulas = Table(title="check with a column of formulas (=LEN(B2) …) beside the follow-ups")
    for col in ("follow-ups", "check s", "with formulas s", "a third #N/A s", "a #SPILL! s"):
        formulas.add_column(col, justify="right")
    formulas.add_column("peak MB", justify="right")
    for r in results:
        if "formulas" in r:
            found = r["formulas"]
            formulas.add_row(
                f"{r['follow_ups']:,}",
                f"{r['check']['seconds']:.2f}",
                *(f"{found[k]['seconds']:.2f}" if k in found else "" for k in FORMULA_KEYS),
                f"{max(found[k]['peak_rss_mb'] for k in FORMULA_KEYS if k in found):.0f}",
            )
    if any("formulas" in r for r in results):
        console.print(formulas)
    if results:
        floor = results[0]["floor"]
        console.print(f"floor reader: {floor['read']['reader']}")
        if "read_calamine" in floor:
            seconds = ", ".join(f"{r['floor']['read_calamine']['seconds']:.2f} s" for r in results)
            console.print(f"python-calamine, the sync's reader, on the same tabs: {seconds}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="follow-up rows, comma-separated")
    parser.add_argument("--out", default="benchmarks/out/latest.json", help="JSON results")
    parser.add_argument(
        "--google",
        action="store_true",
        help="also sync each --google-sizes workbook through the loopback Sheets API",
    )
    parser.add_argument(
        "--google-sizes",
        default="10000,max",
        help='follow-up rows for --google; "max": the most that fit in 10 million cells',
    )
    parser.add_argument(
        "--saved-by-libreoffice",
        action="store_true",
        help="measure each workbook as LibreOffice saves it (text in a shared-strings table)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure check, run and the floor this many times over, one round after the "
        "other, and report each one's median (and every round's ratios)",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--extra", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, Path(args.path), args.extra)))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if any(not 1 <= s <= 1_048_575 for s in sizes):
        parser.error("sizes must be between 1 and 1,048,575 follow-up rows")
    google_sizes: list[int | str] = [
        s.strip() if s.strip() == "max" else int(s.replace("_", ""))
        for s in args.google_sizes.split(",")
        if s.strip()
    ]
    out = Path(args.out)
    work = out.parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    info = machine()

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    results = [bench_size(n, work, say, args.saved_by_libreoffice, args.repeat) for n in sizes]
    report: dict[str, Any] = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "results": results,
    }
    if args.google:
        report["google"] = bench_google(google_sizes, work, say)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(results, info)
    if args.google:
        print_google(report["google"], info)
    busy = disturbed(report)
    if busy:
        say(
            f"warning: {len(busy)} measurement(s) ran while other processes used the machine "
            f"(more than {BUSY_SHARE:.0%} of it); their times are slower than the code's:"
        )
        for line in busy:
            say(f"  {line}")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
